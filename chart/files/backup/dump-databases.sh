#!/bin/sh
# A backup's first half, in PostgreSQL's image: GeoNode's database and the datastore, each dumped
# by its owner in pg_dump's custom format (compressed, restorable object by object) into the
# pod's scratch space, which only this pod sees; backup.py encrypts them into the backup. The
# passwords come from the environment, never from an argument; libpq reads
# PGSSLMODE/PGSSLROOTCERT itself for an external server over TLS.
set -eu

name=$(date -u +%Y%m%dT%H%M%SZ)
work="${BACKUP_SCRATCH:?}/dumps"
mkdir -p "$work"
# The name, for the containers after this one.
printf '%s\n' "$name" > "$BACKUP_SCRATCH/backup-name"

export PGHOST="$DATABASE_HOST" PGPORT="$DATABASE_PORT" PGCONNECT_TIMEOUT=30

# dump <database> <owner> <variable with the owner's password> <file>
dump() {
  started=$(date +%s)
  PGPASSWORD=$(printenv "$3") pg_dump --format=custom --no-owner --no-privileges \
    --dbname="$1" --username="$2" --file="$work/$4.incomplete"
  mv "$work/$4.incomplete" "$work/$4"
  echo "dumped database $1 into $4 ($(wc -c < "$work/$4") bytes, $(( $(date +%s) - started )) s)"
}

dump "$GEONODE_DATABASE" "$GEONODE_DATABASE_USER" GEONODE_DATABASE_PASSWORD geonode.dump
dump "$GEONODE_GEODATABASE" "$GEONODE_GEODATABASE_USER" GEONODE_GEODATABASE_PASSWORD geodata.dump
