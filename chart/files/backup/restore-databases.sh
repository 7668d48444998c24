#!/bin/sh
# A restore's databases, in PostgreSQL's image, after restore.py prepare has checked the backup:
# each database gets its dump back as its owner. What the owner has there is dropped first (DROP
# OWNED: tables, sequences, views; the PostGIS extension belongs to the server's administrator and
# stays), then the dump but the extension itself is loaded: all in one transaction, so a failed
# restore leaves the database as it was.
set -eu

folder_file="${BACKUP_SCRATCH:?}/restore-folder"
if [ ! -f "$folder_file" ]; then
  echo "no restore planned"
  exit 0
fi
folder=$(cat "$folder_file")
export PGHOST="$DATABASE_HOST" PGPORT="$DATABASE_PORT" PGCONNECT_TIMEOUT=30

# restore <database> <owner> <variable with the owner's password> <dump>
restore() {
  started=$(date +%s)
  list="$BACKUP_SCRATCH/$4.list"
  sql="$BACKUP_SCRATCH/$4.sql"
  pg_restore --list "$folder/$4" > "$list.all"
  # Everything but what belongs to the server's administrator: the extension, its comment, and
  # the rows of PostGIS's spatial_ref_sys (its own table; a new server has the standard ones).
  grep -v -e ' EXTENSION - ' -e ' COMMENT - EXTENSION ' -e ' TABLE DATA public spatial_ref_sys ' \
    "$list.all" > "$list"
  # As SQL in a file first: psql then sees all of it or nothing (a pipe could end early).
  echo "DROP OWNED BY CURRENT_USER;" > "$sql"
  pg_restore --no-owner --no-privileges --use-list="$list" --file=- "$folder/$4" >> "$sql"
  PGPASSWORD=$(printenv "$3") psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 \
    --single-transaction --file="$sql" --dbname="$1" --username="$2" > /dev/null
  rm -f "$sql" "$list" "$list.all"
  echo "restored database $1 from $4 ($(( $(date +%s) - started )) s)"
}

restore "$GEONODE_DATABASE" "$GEONODE_DATABASE_USER" GEONODE_DATABASE_PASSWORD geonode.dump
restore "$GEONODE_GEODATABASE" "$GEONODE_GEODATABASE_USER" GEONODE_GEODATABASE_PASSWORD geodata.dump
