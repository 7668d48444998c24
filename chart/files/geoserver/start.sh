#!/bin/sh
# GeoServer's start on Kubernetes, from the geonode Helm chart. It does at every start what the
# image's entrypoint (geonode-docker docker/geoserver/scripts/entrypoint.sh) does, without its
# root-only steps (writing /root, editing files of the image), so the container runs as a
# non-root user on a read-only root filesystem:
#  - GeoNode's OAuth2 login, role service (with the key GeoNode's role endpoints require) and
#    proxy base URL, from the chart's values;
#  - the GeoFence database connection, and that of GeoNode's PostGIS store for uploads;
#  - the admin password, written into the user database before GeoServer reads it (no REST call
#    racing Tomcat's start-up, and a changed value takes effect at the next start);
#  - GeoServer's log on stdout as well as in the data directory;
#  - file locking between processes (GeoServer's and GeoWebCache's), and no second-level cache
#    in GeoFence, where GeoNode's data directory assumes one GeoServer alone;
#  - Tomcat from a base folder of its own ($CATALINA_BASE, in an emptyDir), where the two edits
#    upstream makes to the image's Tomcat are made to copies: CORS, and no jar scan of bcprov;
# then Tomcat in the foreground. Secrets come from the environment and are never printed; every
# file this script writes is readable by its owner only.
#
# A read replica (GEOSERVER_ROLE=reader: geoserver.readReplicas) has the data directory mounted
# read-only and edits none of it: it waits until the writer has configured the directory as its
# own release configures it (the stamp below), notes for its follower the catalog's updateSequence
# it is about to load (chart/files/geoserver/follow_catalog.py), and prepares Tomcat's base only.
set -eu
umask 077
data="$GEOSERVER_DATA_DIR"
role=${GEOSERVER_ROLE:-writer}
lock="$data/.geonode-k8s-start.lock"
# What the writer's edits are made from, hashed: a reader of the same release computes the same
# stamp from the same environment, and starts only on a directory the writer configured so.
stamp_file="$data/.geonode-k8s-configured"
stamp=$(printf '%s\n' "$GEONODE_LOCATION" "$SITE_BASE_URL" "$OAUTH2_CLIENT_ID" "$OAUTH2_CLIENT_SECRET" \
  "$OAUTH2_API_KEY" "$DATABASE_HOST" "$DATABASE_PORT" "$GEONODE_GEODATABASE" "$GEONODE_GEODATABASE_USER" \
  "$GEONODE_GEODATABASE_PASSWORD" "$GEONODE_GEODATABASE_SCHEMA" "${PGSSLMODE:-}" "${PGSSLROOTCERT:-}" \
  "$GEOSERVER_ADMIN_PASSWORD" | sha256sum | cut -c1-64)

# xml(s), XML-escaped s: the start of every awk program below (values reach awk through the
# environment, so no character in them is special).
XML_ESCAPE='function xml(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s); return s }'

# edit_xml <mode> <file> <open> <close> <value> [<parent>]: sets the text between <open> and
# <close> in <file> to <value> (mode "text"), or replaces the scheme://host:port part of the URL
# in it (mode "url"); mode "insert" sets the text like "text" and adds the element when the file
# has none: before the line closing <parent>, or else before the root element's end. Values reach
# awk through the environment, so no character in them is special.
edit_xml() {
  [ -f "$2" ] || return 0
  tmp=$(mktemp "$2.XXXXXX")
  MODE=$1 OTAG=$3 CTAG=$4 VALUE=$5 PARENT=${6:-} awk "$XML_ESCAPE"'
    BEGIN { otag = ENVIRON["OTAG"]; ctag = ENVIRON["CTAG"]; parent = ENVIRON["PARENT"] }
    {
      line[++n] = $0
      i = index($0, otag); j = index($0, ctag)
      if (i > 0 && j > i) {
        found = 1
        old = substr($0, i + length(otag), j - i - length(otag))
        if (ENVIRON["MODE"] == "url") { sub(/^[A-Za-z]+:\/\/[^\/]*/, "", old); text = xml(ENVIRON["VALUE"]) old }
        else { text = xml(ENVIRON["VALUE"]) }
        line[n] = substr($0, 1, i + length(otag) - 1) text substr($0, j)
      }
      if (parent != "" ? index($0, "</" parent ">") > 0 && !anchor : $0 ~ /^[ \t]*<\/[A-Za-z]/) { anchor = n }
    }
    END {
      for (k = 1; k <= n; k++) {
        if (!found && ENVIRON["MODE"] == "insert" && k == anchor) {
          indent = line[k]; sub(/[^ \t].*$/, "", indent)
          print indent "  " otag xml(ENVIRON["VALUE"]) ctag
        }
        print line[k]
      }
    }' "$2" > "$tmp"
  mv "$tmp" "$2"
}

# set_element <mode> <file> <tag> <value>: edit_xml for the element <tag>.
set_element() { edit_xml "$1" "$2" "<$3>" "</$3>" "$4"; }

# set_entry <mode> <store.xml> <key> <value>: edit_xml for a store's connection parameter.
set_entry() { edit_xml "$1" "$2" "<entry key=\"$3\">" "</entry>" "$4" connectionParameters; }

# set_admin_password <users.xml>: the admin user's password, as GeoServer's plain-text encoding
# (GeoServer picks the decoder by the prefix, and re-encodes the password when the user database
# is next saved).
set_admin_password() {
  [ -f "$1" ] || { echo "start: $1 is missing; the admin password was not set" >&2; return 0; }
  tmp=$(mktemp "$1.XXXXXX")
  VALUE=$GEOSERVER_ADMIN_PASSWORD awk "$XML_ESCAPE"'
    /<user / && / name="admin"/ {
      k = index($0, " password=\"")
      if (k > 0) {
        rest = substr($0, k + 11); e = index(rest, "\"")
        $0 = substr($0, 1, k + 10) "plain:" xml(ENVIRON["VALUE"]) substr(rest, e)
      }
    }
    { print }' "$1" > "$tmp"
  mv "$tmp" "$1"
}

# configure_data_dir: the writer's edits of the shared data directory, then its stamp.
configure_data_dir() {
  if [ ! -f "$data/global.xml" ]; then
    echo "start: $data holds no GeoServer data directory (the seed init container fills it)" >&2
    exit 1
  fi

  # The edits below rewrite shared files of the data directory: one start at a time edits them
  # (the chart runs one writer, replaced with Recreate; this also holds for anything else that
  # starts on the same volume), each file through a temporary file of its own (mktemp), renamed into
  # place whole.
  exec 9>"$lock"
  if ! flock -w 300 9; then
    echo "start: another GeoServer start has held $lock for 5 minutes;" \
      "is a second GeoServer running on this data directory?" >&2
    exit 1
  fi

  geonode="$GEONODE_LOCATION"   # GeoNode inside the cluster: token checks, roles
  public="$SITE_BASE_URL"       # the site as browsers see it: login redirects, proxy base URL

  # GeoNode's data directory ships the role service without <authApiKey>: added, so GeoServer
  # sends the key GeoNode's /api/roles, /api/users and /api/adminRole require.
  roles="$data/security/role/geonode REST role service/config.xml"
  set_element url "$roles" baseUrl "$geonode"
  set_element insert "$roles" authApiKey "$OAUTH2_API_KEY"
  provider="$data/security/auth/geonodeAuthProvider/config.xml"   # only in older data directories
  set_element url "$provider" baseUrl "$geonode"
  set_element text "$provider" authApiKey "$OAUTH2_API_KEY"
  oauth="$data/security/filter/geonode-oauth2/config.xml"
  set_element text "$oauth" cliendId "$OAUTH2_CLIENT_ID"   # sic: the filter's Java field is spelt so
  set_element text "$oauth" clientSecret "$OAUTH2_CLIENT_SECRET"
  set_element url "$oauth" accessTokenUri "$geonode"
  set_element url "$oauth" checkTokenEndpointUrl "$geonode"
  set_element url "$oauth" userAuthorizationUri "$public"
  set_element url "$oauth" redirectUri "$public"
  set_element url "$oauth" logoutUri "$public"
  # Also passed as -DPROXY_BASE_URL, which wins where global.xml has no proxyBaseUrl element.
  set_element text "$data/global.xml" proxyBaseUrl "$public/geoserver"
  set_element text "$data/logging.xml" stdOutLogging true
  # GeoNode's data directory locks in memory (memoryLockProvider, memoryLock), which no other
  # process sees: file locks in the data directory instead ("NIO file locking", GeoServer's choice
  # for several processes on one directory), for GeoServer's configuration and GeoWebCache's tiles.
  set_element insert "$data/global.xml" lockProviderName fileLockProvider
  set_element insert "$data/gwc-gs.xml" lockProviderName nioLock

  # TLS to an external PostgreSQL (postgresql.external.tls): libpq's variables, in the JDBC URL.
  jdbc_tls=""
  if [ -n "${PGSSLMODE:-}" ]; then
    jdbc_tls="?sslmode=$PGSSLMODE"
    [ -z "${PGSSLROOTCERT:-}" ] || jdbc_tls="$jdbc_tls&sslrootcert=$PGSSLROOTCERT"
  fi
  # property <value>: the value as Java's Properties.load reads it back (a backslash starts an
  # escape there, leading blanks are dropped).
  property() { printf '%s' "$1" | sed 's/\\/\\\\/g; 1s/^\([ \t\f]\)/\\\1/'; }
  mkdir -p "$data/geofence"
  geofence="$data/geofence/geofence-datasource-ovr.properties"
  # Hibernate's second-level cache off (GeoFence 3.8's default; on in GeoFence 3.7 and earlier): rules
  # come from the database, not from a copy another process may have changed underneath.
  tmp=$(mktemp "$geofence.XXXXXX")
  cat > "$tmp" <<PROPERTIES
geofenceVendorAdapter.databasePlatform=org.hibernate.spatial.dialect.postgis.PostgisDialect
geofenceDataSource.driverClassName=org.postgresql.Driver
geofenceDataSource.url=jdbc:postgresql://$DATABASE_HOST:$DATABASE_PORT/$GEONODE_GEODATABASE$jdbc_tls
geofenceDataSource.username=$(property "$GEONODE_GEODATABASE_USER")
geofenceDataSource.password=$(property "$GEONODE_GEODATABASE_PASSWORD")
geofenceEntityManagerFactory.jpaPropertyMap[hibernate.default_schema]=$GEONODE_GEODATABASE_SCHEMA
geofenceDataSource.testOnBorrow=true
geofenceDataSource.validationQuery=SELECT 1
geofenceEntityManagerFactory.jpaPropertyMap[hibernate.testOnBorrow]=true
geofenceEntityManagerFactory.jpaPropertyMap[hibernate.validationQuery]=SELECT 1
geofenceDataSource.removeAbandoned=true
geofenceDataSource.removeAbandonedTimeout=60
geofenceDataSource.connectionProperties=ApplicationName=GeoFence;
geofenceEntityManagerFactory.jpaPropertyMap[hibernate.cache.use_second_level_cache]=false
PROPERTIES
  mv "$tmp" "$geofence"

  # GeoNode's PostGIS stores for uploaded layers: in workspace geonode, on the datastore database
  # (GeoNode's importer names the store after the database). GeoNode makes one once through
  # GeoServer's REST API with the database settings of that day and never updates it
  # (geonode/geoserver/helpers.py, create_geoserver_db_featurestore). Kept in line with the chart's
  # at every start, so a data directory restored into a new release (other passwords, another
  # namespace's host), a changed password and postgresql.external.tls reach it; an imported site's
  # store names the chart's database already (restore.py). The password is written with GeoServer's
  # "plain:" prefix, which it decodes as it reads and encrypts again when the store is next saved.
  # Every store's file holds its connection's password: the GeoServer user's alone, as GeoServer
  # writes its own (umask above); a restored or imported directory keeps the modes it was archived with.
  for store in "$data"/workspaces/*/*/datastore.xml; do
    [ -f "$store" ] || continue
    chmod 600 "$store" || echo "start: $store is not the GeoServer user's: others may read its password" >&2
  done
  for store in "$data"/workspaces/geonode/*/datastore.xml; do
    grep -q '<entry key="dbtype">postgis</entry>' "$store" 2>/dev/null || continue
    grep -qF "<entry key=\"database\">$GEONODE_GEODATABASE</entry>" "$store" || continue
    set_entry text "$store" host "$DATABASE_HOST"
    set_entry text "$store" port "$DATABASE_PORT"
    set_entry text "$store" user "$GEONODE_GEODATABASE_USER"
    set_entry text "$store" passwd "plain:$GEONODE_GEODATABASE_PASSWORD"
    if [ -n "${PGSSLMODE:-}" ]; then
      # GeoTools' name for libpq's mode (verify-full is VERIFY_FULL); the driver finds the CA
      # bundle in $HOME/.postgresql/root.crt (above).
      set_entry insert "$store" "SSL mode" "$(printf '%s' "$PGSSLMODE" | tr 'a-z-' 'A-Z_')"
    fi
  done

  set_admin_password "$data/security/usergroup/default/users.xml"

  # The stamp last, through a file of its own: a reader never sees the edits half made.
  tmp=$(mktemp "$stamp_file.XXXXXX")
  printf '%s\n' "$stamp" > "$tmp"
  mv "$tmp" "$stamp_file"
  # The edits are done: the next start may make its own (Tomcat does not inherit the lock).
  exec 9>&-
}

# wait_for_writer: a reader waits until the writer has configured the data directory with this
# release's configuration, and records the updateSequence of the catalog GeoServer will load.
wait_for_writer() {
  waited=0
  until [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; do
    if [ "$waited" -ge "${WRITER_WAIT_SECONDS:-600}" ]; then
      echo "start: after $waited s, the writer GeoServer has not configured $data" \
        "as this release does (see its log)" >&2
      exit 1
    fi
    [ "$waited" -gt 0 ] || echo "start: waiting for the writer GeoServer to configure $data"
    sleep 5
    waited=$((waited + 5))
  done
  # A shared lock: readers start together, and none while a writer's start edits.
  exec 9<"$lock"
  flock -s -w 300 9 || { echo "start: the writer's start has held $lock for 5 minutes" >&2; exit 1; }
  follow=${FOLLOW_DIR:?FOLLOW_DIR names the folder a reader shares with its follower}
  sed -n 's:.*<updateSequence>[[:space:]]*\(-\{0,1\}[0-9]\{1,\}\)[[:space:]]*</updateSequence>.*:\1:p' \
    "$data/global.xml" | head -n 1 > "$follow/loaded-sequence"
  # GeoWebCache's configuration as the writer keeps it, copied into this reader's own folder
  # (GEOWEBCACHE_CONFIG_DIR): GeoServer's GeoWebCache writes into its configuration folder as it
  # starts. Its tiles go to a cache of its own (GEOWEBCACHE_CACHE_DIR). A fresh copy at every
  # start, as Tomcat's base below.
  rm -rf "${GEOWEBCACHE_CONFIG_DIR:?GEOWEBCACHE_CONFIG_DIR names the reader's GeoWebCache configuration folder}"
  mkdir -p "$GEOWEBCACHE_CONFIG_DIR"
  for file in "$data"/gwc/*; do
    [ ! -f "$file" ] || cp "$file" "$GEOWEBCACHE_CONFIG_DIR/"
  done
  exec 9<&-
}

# Where the JDBC driver looks when a URL names no root certificate (postgresql.external.tls):
# PostGIS stores made in GeoServer (GeoNode's geonode_data) with their "SSL mode" set to
# VERIFY_FULL find it there.
if [ -n "${PGSSLMODE:-}" ] && [ -n "${PGSSLROOTCERT:-}" ]; then
  mkdir -p "$HOME/.postgresql"
  cp "$PGSSLROOTCERT" "$HOME/.postgresql/root.crt"
fi

if [ "$role" = reader ]; then
  wait_for_writer
else
  configure_data_dir
fi

# Tomcat's base: the image's conf/ copied (its own files stay untouched), logs, temp and work,
# and the image's webapps/.
home=${CATALINA_HOME:-/usr/local/tomcat}
base=${CATALINA_BASE:?CATALINA_BASE names a writable folder for Tomcat}
rm -rf "$base"
mkdir -p "$base/logs" "$base/temp" "$base/work"
cp -R "$home/conf" "$base/conf"
ln -s "$home/webapps" "$base/webapps"
# As upstream: the Bouncy Castle jars are not scanned for TLDs and fragments.
sed 's/xom-\*\.jar/xom-*.jar,bcprov*.jar/' "$home/conf/catalina.properties" > "$base/conf/catalina.properties"
if [ "${GEOSERVER_CORS_ENABLED:-false}" = true ]; then
  # Tomcat's CorsFilter for every path, as upstream adds it to GeoServer's web.xml; here in the
  # base's conf/web.xml, which Tomcat merges into every web application's.
  awk "$XML_ESCAPE"'
    function param(name, value) { return "      <init-param><param-name>" name "</param-name><param-value>" xml(value) "</param-value></init-param>\n" }
    /<\/web-app>/ {
      printf "  <filter>\n    <filter-name>GeoNodeK8sCorsFilter</filter-name>\n    <filter-class>org.apache.catalina.filters.CorsFilter</filter-class>\n%s%s%s  </filter>\n", param("cors.allowed.origins", ENVIRON["GEOSERVER_CORS_ALLOWED_ORIGINS"]), param("cors.allowed.methods", ENVIRON["GEOSERVER_CORS_ALLOWED_METHODS"]), param("cors.allowed.headers", ENVIRON["GEOSERVER_CORS_ALLOWED_HEADERS"])
      print "  <filter-mapping>\n    <filter-name>GeoNodeK8sCorsFilter</filter-name>\n    <url-pattern>/*</url-pattern>\n  </filter-mapping>"
    }
    { print }' "$home/conf/web.xml" > "$base/conf/web.xml"
fi

if [ "$role" = reader ]; then
  echo "start: a read replica on the writer's data directory (catalog at updateSequence $(cat "$FOLLOW_DIR/loaded-sequence")); starting Tomcat"
else
  echo "start: GeoNode login, role service key, GeoFence, the datastore, admin password and Tomcat configured; starting Tomcat"
fi
exec catalina.sh run
