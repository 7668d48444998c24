#!/bin/sh
# The node's GeoServer model image: Tomcat's catalina.sh where the official image has it
# (GeoServer is on no registry reachable here). The chart's start script prepares CATALINA_BASE
# from the image's Tomcat configuration and ends with `exec catalina.sh run`; this checks that
# base as Tomcat would read it, then starts the GeoServer model (geoserver-model.py).
set -eu
[ "${1:-}" = run ] || { echo "catalina.sh (model): only 'run' is known, not '$*'" >&2; exit 1; }
base=${CATALINA_BASE:?CATALINA_BASE is not set}
for file in conf/server.xml conf/web.xml conf/catalina.properties; do
  [ -r "$base/$file" ] || { echo "catalina.sh (model): $base/$file is missing or unreadable" >&2; exit 1; }
done
for folder in logs temp work webapps; do
  [ -d "$base/$folder" ] || { echo "catalina.sh (model): $base/$folder is missing" >&2; exit 1; }
done
echo "catalina.sh (model): $base is a Tomcat base; starting the GeoServer model on :8080"
exec python3 "$(dirname "$0")/geoserver-model.py"
