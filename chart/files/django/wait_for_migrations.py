"""Waits until both GeoNode databases have no unapplied migration: the init container of the
Django and Celery pods, so that no replica serves or works on a schema the init Job has not
migrated yet (the Job, never a replica, migrates)."""

import time

import django
from django.core.management import call_command

django.setup()
while True:
    try:
        for database in ("default", "datastore"):
            call_command("migrate", check_unapplied=True, database=database, interactive=False, verbosity=0)
        print("wait-for-migrations: both databases are migrated", flush=True)
        break
    except SystemExit:
        print("wait-for-migrations: unapplied migrations; waiting for the init Job", flush=True)
    except Exception as error:  # database not reachable yet
        print("wait-for-migrations: {}".format(str(error).strip().splitlines()[0]), flush=True)
    time.sleep(10)
