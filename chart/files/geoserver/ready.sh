#!/bin/sh
# GeoServer's readiness probe: the REST API answers GeoServer's admin with the password start.sh
# set, so GeoServer, its data directory and its security configuration work. The password
# reaches curl on its standard input (a curl config), never on a command line.
set -eu
escaped=$(printf '%s' "$GEOSERVER_ADMIN_PASSWORD" | sed 's/[\\"]/\\&/g')
printf 'user = "admin:%s"\n' "$escaped" |
  curl -fsS -o /dev/null --max-time 8 -K - http://127.0.0.1:8080/geoserver/rest/about/version.json
