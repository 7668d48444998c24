#!/bin/sh
# PostgreSQL's start. The image's entrypoint sets passwords only when it creates the data
# directory, so on one that exists this first brings them in line with the Secret: the
# superuser's, and through 10-geonode.sh the owners' of GeoNode's databases. It does so on a
# server that listens on a private socket only, where it alone may connect, and stops it again;
# then the image's entrypoint starts PostgreSQL as usual.
set -eu
if [ -s "$PGDATA/PG_VERSION" ]; then
  sync_dir=$(mktemp -d)
  printf 'local all all trust\n' > "$sync_dir/pg_hba.conf"
  echo "postgresql: setting the passwords from the Secret"
  pg_ctl -D "$PGDATA" -w -t 3600 \
    -o "-c listen_addresses='' -c unix_socket_directories='$sync_dir' -c hba_file='$sync_dir/pg_hba.conf'" start
  # A superuser session searches pg_catalog only (see 10-geonode.sh).
  PGHOST="$sync_dir" PGOPTIONS='-c search_path=pg_catalog,pg_temp' \
    psql -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --dbname postgres <<'SQL'
\getenv user POSTGRES_USER
\getenv password POSTGRES_PASSWORD
SELECT pg_catalog.format('ALTER ROLE %I PASSWORD %L', :'user', :'password') \gexec
SQL
  PGHOST="$sync_dir" sh "$(dirname "$0")/10-geonode.sh"
  pg_ctl -D "$PGDATA" -w -m fast stop
  rm -rf "$sync_dir"
fi
exec docker-entrypoint.sh "$@"
