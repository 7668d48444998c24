"""The migrations gate: the init container of Django and Celery pods. Waits until the init Job of
this release's configuration (GEONODE_K8S_INIT_JOB, a name carrying a hash of the image, scripts,
settings and environment) has recorded in GeoNode's database that it finished: both databases
migrated, so no replica serves or works on a schema the Job has not migrated (the Job, never a
replica, migrates). A query with psycopg2 (libpq reads PGSSLMODE/PGSSLROOTCERT itself), not a
Django start: a new pod's gate takes a fraction of a second once the Job is done."""

import os
import time

import psycopg2

job = os.environ["GEONODE_K8S_INIT_JOB"]
while True:
    try:
        with psycopg2.connect(
            host=os.environ["DATABASE_HOST"],
            port=os.environ["DATABASE_PORT"],
            dbname=os.environ["GEONODE_DATABASE"],
            user=os.environ["GEONODE_DATABASE_USER"],
            password=os.environ["GEONODE_DATABASE_PASSWORD"],
            connect_timeout=10,
        ) as connection, connection.cursor() as cursor:
            cursor.execute("select to_regclass('public.geonode_k8s_init_jobs') is not null")
            if cursor.fetchone()[0]:
                cursor.execute("select 1 from geonode_k8s_init_jobs where job = %s", [job])
                if cursor.fetchone():
                    print("wait-for-migrations: {} has finished; both databases are migrated".format(job), flush=True)
                    break
        print("wait-for-migrations: waiting for the init Job {}".format(job), flush=True)
    except psycopg2.Error as error:  # database not reachable yet
        print("wait-for-migrations: {}".format(str(error).strip().splitlines()[0]), flush=True)
    time.sleep(2)
