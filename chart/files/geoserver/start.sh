#!/bin/sh
# GeoServer's start on Kubernetes, from the geonode Helm chart. It does at every start what the
# image's entrypoint does, without its root-only steps (writing /root, editing Tomcat's files),
# so the container runs as a non-root user on a read-only root filesystem:
#  - GeoNode's OAuth2 login, role service and proxy base URL, from the chart's values;
#  - the GeoFence database connection;
#  - the admin password, written into the user database before GeoServer reads it (no REST call
#    racing Tomcat's start-up, and a changed value takes effect at the next start);
# then Tomcat in the foreground. Secrets come from the environment and are never printed.
set -eu
data="$GEOSERVER_DATA_DIR"
if [ ! -f "$data/global.xml" ]; then
  echo "start: $data holds no GeoServer data directory (the seed init container fills it)" >&2
  exit 1
fi

# edit <mode> <file> <tag> <value>: sets the text of <tag> in <file> to <value> (mode "text"),
# or replaces the scheme://host:port part of the URL in it (mode "url"). Values reach awk
# through the environment, so no character in them is special.
edit() {
  [ -f "$2" ] || return 0
  MODE=$1 TAG=$3 VALUE=$4 awk '
    function xml(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s); return s }
    {
      otag = "<" ENVIRON["TAG"] ">"; ctag = "</" ENVIRON["TAG"] ">"
      i = index($0, otag); j = index($0, ctag)
      if (i > 0 && j > i) {
        old = substr($0, i + length(otag), j - i - length(otag))
        if (ENVIRON["MODE"] == "url") { sub(/^[A-Za-z]+:\/\/[^\/]*/, "", old); text = xml(ENVIRON["VALUE"]) old }
        else { text = xml(ENVIRON["VALUE"]) }
        $0 = substr($0, 1, i + length(otag) - 1) text substr($0, j)
      }
      print
    }' "$2" > "$2.tmp"
  mv "$2.tmp" "$2"
}

# set_admin_password <users.xml>: the admin user's password, as GeoServer's plain-text encoding
# (GeoServer re-encodes it when the user database is next saved).
set_admin_password() {
  [ -f "$1" ] || { echo "start: $1 is missing; the admin password was not set" >&2; return 0; }
  VALUE=$GEOSERVER_ADMIN_PASSWORD awk '
    function xml(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s); return s }
    /<user / && / name="admin"/ {
      k = index($0, " password=\"")
      if (k > 0) {
        rest = substr($0, k + 11); e = index(rest, "\"")
        $0 = substr($0, 1, k + 10) "plain:" xml(ENVIRON["VALUE"]) substr(rest, e)
      }
    }
    { print }' "$1" > "$1.tmp"
  mv "$1.tmp" "$1"
}

geonode="$GEONODE_LOCATION"   # GeoNode inside the cluster: token checks, roles
public="$SITE_BASE_URL"       # the site as browsers see it: login redirects, proxy base URL

for service in "security/role/geonode REST role service/config.xml" "security/auth/geonodeAuthProvider/config.xml"; do
  edit url "$data/$service" baseUrl "$geonode"
  edit text "$data/$service" authApiKey "$OAUTH2_API_KEY"
done
oauth="$data/security/filter/geonode-oauth2/config.xml"
edit text "$oauth" cliendId "$OAUTH2_CLIENT_ID"   # sic: GeoNode's filter spells it so
edit text "$oauth" clientId "$OAUTH2_CLIENT_ID"
edit text "$oauth" clientSecret "$OAUTH2_CLIENT_SECRET"
edit url "$oauth" accessTokenUri "$geonode"
edit url "$oauth" checkTokenEndpointUrl "$geonode"
edit url "$oauth" userAuthorizationUri "$public"
edit url "$oauth" redirectUri "$public"
edit url "$oauth" logoutUri "$public"
# Also passed as -DPROXY_BASE_URL, which wins where global.xml has no proxyBaseUrl element.
edit text "$data/global.xml" proxyBaseUrl "$public/geoserver"

mkdir -p "$data/geofence"
umask 077
cat > "$data/geofence/geofence-datasource-ovr.properties" <<PROPERTIES
geofenceVendorAdapter.databasePlatform=org.hibernate.spatial.dialect.postgis.PostgisDialect
geofenceDataSource.driverClassName=org.postgresql.Driver
geofenceDataSource.url=jdbc:postgresql://$DATABASE_HOST:$DATABASE_PORT/$GEONODE_GEODATABASE
geofenceDataSource.username=$GEONODE_GEODATABASE_USER
geofenceDataSource.password=$GEONODE_GEODATABASE_PASSWORD
geofenceEntityManagerFactory.jpaPropertyMap[hibernate.default_schema]=$GEONODE_GEODATABASE_SCHEMA
geofenceDataSource.testOnBorrow=true
geofenceDataSource.validationQuery=SELECT 1
geofenceEntityManagerFactory.jpaPropertyMap[hibernate.testOnBorrow]=true
geofenceEntityManagerFactory.jpaPropertyMap[hibernate.validationQuery]=SELECT 1
geofenceDataSource.removeAbandoned=true
geofenceDataSource.removeAbandonedTimeout=60
geofenceDataSource.connectionProperties=ApplicationName=GeoFence;
PROPERTIES
umask 022

set_admin_password "$data/security/usergroup/default/users.xml"
echo "start: GeoNode login, GeoFence and admin password configured; starting Tomcat"
exec catalina.sh run
