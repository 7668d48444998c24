#!/bin/sh
# A restore's databases, in PostgreSQL's image, after restore.py prepare has checked the backup
# or the site export: both dumps are read first (a dump this pg_restore cannot read, or one of a
# newer PostgreSQL than the server, stops the restore before anything changes), then each database
# gets its dump back as its owner, whatever the database was called where it was dumped. What the owner has there is dropped first (DROP
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

# readable <database> <owner> <variable with the owner's password> <dump>: the dump's table of
# contents into $BACKUP_SCRATCH/<dump>.list.all, and its PostgreSQL no newer than the server's.
readable() {
  list="$BACKUP_SCRATCH/$4.list"
  if ! pg_restore --list "$folder/$4" > "$list.all" 2> "$list.error"; then
    echo "$4 cannot be read by $(pg_restore --version): $(head -c 300 "$list.error")." \
      "A dump by a newer pg_dump needs a newer PostgreSQL: see backup.postgresqlImage and" \
      "docs/migrate-from-docker-compose.md; nothing was restored" >&2
    exit 1
  fi
  dumped=$(sed -n 's/^;[[:space:]]*Dumped from database version: \([0-9]*\).*/\1/p' "$list.all" | head -n 1)
  server=$(PGPASSWORD=$(printenv "$3") psql --no-psqlrc --tuples-only --no-align \
    --command='show server_version_num' --dbname="$1" --username="$2")
  if [ -n "$dumped" ] && [ "$dumped" -gt $((server / 10000)) ]; then
    echo "$4 was dumped from PostgreSQL $dumped, newer than this server's $((server / 10000)):" \
      "a database cannot move to an older PostgreSQL; run PostgreSQL $dumped or newer" \
      "(postgresql.image, or an external server); nothing was restored" >&2
    exit 1
  fi
  echo "$4: dumped from PostgreSQL ${dumped:-?} for a PostgreSQL $((server / 10000)) server"
}

# restore <database> <owner> <variable with the owner's password> <dump>
restore() {
  started=$(date +%s)
  list="$BACKUP_SCRATCH/$4.list"
  sql="$BACKUP_SCRATCH/$4.sql"
  # Everything but what belongs to the server's administrator: the extension, its comment, and
  # the rows of PostGIS's spatial_ref_sys (its own table; a new server has the standard ones).
  grep -v -e ' EXTENSION - ' -e ' COMMENT - EXTENSION ' -e ' TABLE DATA public spatial_ref_sys ' \
    "$list.all" > "$list"
  # As SQL in a file first: psql then sees all of it or nothing (a pipe could end early).
  echo "DROP OWNED BY CURRENT_USER;" > "$sql"
  pg_restore --no-owner --no-privileges --use-list="$list" --file=- "$folder/$4" >> "$sql"
  PGPASSWORD=$(printenv "$3") psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 \
    --single-transaction --file="$sql" --dbname="$1" --username="$2" > /dev/null
  rm -f "$sql" "$list" "$list.all" "$list.error"
  echo "restored database $1 from $4 ($(( $(date +%s) - started )) s)"
}

readable "$GEONODE_DATABASE" "$GEONODE_DATABASE_USER" GEONODE_DATABASE_PASSWORD geonode.dump
readable "$GEONODE_GEODATABASE" "$GEONODE_GEODATABASE_USER" GEONODE_GEODATABASE_PASSWORD geodata.dump
restore "$GEONODE_DATABASE" "$GEONODE_DATABASE_USER" GEONODE_DATABASE_PASSWORD geonode.dump
restore "$GEONODE_GEODATABASE" "$GEONODE_GEODATABASE_USER" GEONODE_GEODATABASE_PASSWORD geodata.dump
