#!/bin/sh
# GeoNode's two databases, each with its owner and PostGIS, and the metrics exporter's role. The
# image's entrypoint runs this on an empty data directory; start.sh runs it again at every start,
# so a changed password reaches the server and a missing role or database is made again.
# Idempotent. Names and passwords come in as the names of environment variables, read by psql
# itself (\getenv) and quoted by PostgreSQL (%I, %L): no password on a command line, no shell or
# SQL injection, nothing printed.
#
# This runs as the superuser, and each database's owner may create functions, operators and
# schemas in it (a restored dump may bring them too). A superuser session that resolves a name
# there runs the owner's code with the superuser's rights: an owner's public.format(text, text)
# beats pg_catalog.format(text, VARIADIC "any"). So every session here searches pg_catalog and
# its own temporary schema only (set by the client, which ALTER DATABASE ... SET cannot
# override, and again in the session), names are qualified, and the superuser enters an owner's
# database only right after creating it, before the owner has ever logged in: PostGIS is
# installed then, never later into a schema the owner has had.
set -eu
export PGOPTIONS='-c client_min_messages=warning -c search_path=pg_catalog,pg_temp'
# create_database <variable: database> <variable: owner> <variable: owner's password>
create_database() {
  psql -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --dbname postgres \
    -v db_variable="$1" -v user_variable="$2" -v password_variable="$3" <<'SQL'
SET search_path = pg_catalog, pg_temp;
\getenv db :db_variable
\getenv user :user_variable
\getenv password :password_variable
SELECT pg_catalog.format('CREATE ROLE %I LOGIN', :'user')
  WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'user') \gexec
SELECT pg_catalog.format('ALTER ROLE %I PASSWORD %L', :'user', :'password') \gexec
SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = :'db') AS new_database \gset
\if :new_database
SELECT pg_catalog.format('CREATE DATABASE %I OWNER %I', :'db', :'user') \gexec
\connect :"db"
SET search_path = pg_catalog, pg_temp;
CREATE EXTENSION postgis SCHEMA public;
-- PostgreSQL 15 gives the owner the public schema; older servers need the grant.
SELECT pg_catalog.format('GRANT ALL ON SCHEMA public TO %I', :'user') \gexec
\else
\connect :"db"
SET search_path = pg_catalog, pg_temp;
SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'postgis') AS without_postgis \gset
\if :without_postgis
\warn 'postgresql: database' :"db" 'has no PostGIS, which GeoNode needs. The chart installs it only in a database it has just made:'
\warn 'a superuser must not run extension scripts in a schema the owner could write. Check the database, then run'
\warn 'CREATE EXTENSION postgis SCHEMA public in it as the superuser.'
\endif
\endif
SQL
}
create_database GEONODE_DATABASE GEONODE_DATABASE_USER GEONODE_DATABASE_PASSWORD
create_database GEONODE_GEODATABASE GEONODE_GEODATABASE_USER GEONODE_GEODATABASE_PASSWORD

# The metrics exporter's role: pg_monitor's reading rights and nothing else, no password, so it
# can log in only over the server's socket, which only the pod's own containers reach. It may
# log in only while metrics are on (GEONODE_K8S_MONITOR_LOGIN); turned off, the role stays,
# unable to log in.
psql -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --dbname postgres \
  -v login="${GEONODE_K8S_MONITOR_LOGIN:-false}" <<'SQL'
SET search_path = pg_catalog, pg_temp;
SELECT :'login' = 'true' AS login \gset
\if :login
SELECT 'CREATE ROLE geonode_k8s_monitor'
  WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'geonode_k8s_monitor') \gexec
ALTER ROLE geonode_k8s_monitor LOGIN PASSWORD NULL;
GRANT pg_monitor TO geonode_k8s_monitor;
\else
SELECT 'ALTER ROLE geonode_k8s_monitor NOLOGIN'
  WHERE EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'geonode_k8s_monitor') \gexec
\endif
SQL
