#!/bin/sh
# GeoNode's two databases, each with its owner and PostGIS. The image's entrypoint runs this on an
# empty data directory; start.sh runs it again at every start, so a changed password reaches the
# server and a missing piece is made again. Idempotent. Names and passwords come in as the names
# of environment variables, read by psql itself (\getenv) and quoted by PostgreSQL (%I, %L): no
# password on a command line, no shell or SQL injection, nothing printed.
set -eu
# create_database <variable: database> <variable: owner> <variable: owner's password>
create_database() {
  PGOPTIONS='-c client_min_messages=warning' psql -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --dbname postgres \
    -v db_variable="$1" -v user_variable="$2" -v password_variable="$3" <<'SQL'
\getenv db :db_variable
\getenv user :user_variable
\getenv password :password_variable
SELECT format('CREATE ROLE %I LOGIN', :'user')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'user', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
\connect :"db"
CREATE EXTENSION IF NOT EXISTS postgis;
SELECT format('GRANT ALL ON SCHEMA public TO %I', :'user') \gexec
SQL
}
create_database GEONODE_DATABASE GEONODE_DATABASE_USER GEONODE_DATABASE_PASSWORD
create_database GEONODE_GEODATABASE GEONODE_GEODATABASE_USER GEONODE_GEODATABASE_PASSWORD
