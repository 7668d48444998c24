#!/bin/sh
# GeoServer's readiness probe: the REST API answers GeoServer's admin with the password start.sh
# set, so GeoServer, its data directory and its security configuration work. The password
# reaches curl on its standard input (a curl config), never on a command line. A read replica
# (FOLLOW_DIR set) is ready only while its follower says so: not while it reloads its catalog.
set -eu
if [ -n "${FOLLOW_DIR:-}" ] && [ ! -f "$FOLLOW_DIR/ready" ]; then
  echo "the follower is reloading this reader's catalog" >&2
  exit 1
fi
escaped=$(printf '%s' "$GEOSERVER_ADMIN_PASSWORD" | sed 's/[\\"]/\\&/g')
printf 'user = "admin:%s"\n' "$escaped" |
  curl -fsS -o /dev/null --max-time 8 -K - http://127.0.0.1:8080/geoserver/rest/about/version.json
