{{/* GeoServer, with the data directory shared with GeoNode. */}}
{{- define "geonode.geoserver.configName" -}}
{{- printf "%s-scripts" (include "geonode.geoserver.fullname" .) }}
{{- end }}

{{/*
JVM options: upstream's (geonode-docker's image and geonode-project's GEOSERVER_JAVA_OPTS), except
where chart/README.md ("GeoServer as upstream runs it") says why not. The heap follows the
container's memory limit (MaxRAMPercentage), so a bigger limit means a bigger heap and the JVM
never outgrows its container; never a fixed -Xmx.
*/}}
{{- define "geonode.geoserver.javaOpts" -}}
{{- $values := .Values.geoserver }}
{{- if regexMatch "-Xm[sx]" $values.extraJavaOptions }}
{{- fail (print "geoserver.extraJavaOptions sets -Xms/-Xmx; size the heap with geoserver.heapPercentage (a "
  "share of the container's memory limit) instead") }}
{{- end }}
{{- /* user.home: the container's HOME (the image's user has no home directory), where the JDBC
driver looks for PostgreSQL's root certificate (see files/geoserver/start.sh). */}}
{{- $opts := list "-Djava.awt.headless=true" "-Duser.home=/tmp"
  (printf "-XX:MaxRAMPercentage=%v" $values.heapPercentage) "-XX:InitialRAMPercentage=25"
  "-XX:+ExitOnOutOfMemoryError" "-Dgwc.context.suffix=gwc"
  "-Dfile.encoding=UTF8" "-Djavax.servlet.request.encoding=UTF-8" "-Djavax.servlet.response.encoding=UTF-8"
  "-Duser.timezone=GMT" "-Dorg.geotools.shapefile.datetime=false" "-DGS-SHAPEFILE-CHARSET=UTF-8"
  "-DALLOW_ENV_PARAMETRIZATION=true"
  (printf "-DPRINT_BASE_URL=%sgeoserver/pdf" (include "geonode.siteUrl" .))
  (printf "-DPROXY_BASE_URL=%s/geoserver" (include "geonode.siteBase" .))
  (printf "-DGEOSERVER_CSRF_WHITELIST=%s" (include "geonode.siteHost" .)) }}
{{- join " " (compact (append $opts $values.extraJavaOptions)) }}
{{- end }}

{{- define "geonode.geoserver.validate" -}}
{{- if regexMatch "[`$;|&<>\\\\]" (toString .Values.geoserver.extraJavaOptions) }}
{{- fail (print "geoserver.extraJavaOptions holds a shell character ($ ` ; | & < > \\): catalina.sh "
  "evaluates the options, so it would run as a command; give plain -D and -X options") }}
{{- end }}
{{- /* Only where helm reads the cluster: a GeoServer Deployment of an earlier chart, with rolling
updates, whose defaulted rollingUpdate a server-side apply cannot drop for Recreate. */}}
{{- $name := include "geonode.geoserver.fullname" . }}
{{- $existing := lookup "apps/v1" "Deployment" .Release.Namespace $name }}
{{- if and $existing (ne (toString (dig "spec" "strategy" "type" "" $existing)) "Recreate") }}
{{- $format := print "geoserver: Deployment %s was made by an earlier chart with rolling updates, which Kubernetes "
  "cannot turn into Recreate in place (one GeoServer owns the data directory: docs/scaling.md). Once, run: "
  "kubectl -n %s delete deployment %s (GeoServer stops; its data directory stays on its claim); then upgrade again" }}
{{- fail (printf $format $name .Release.Namespace $name) }}
{{- end }}
{{- if gt (int .Values.geoserver.replicas) 1 }}
{{- fail (printf "geoserver.replicas is %v: GeoServer keeps its catalog in memory, so a layer, store or style %s"
  .Values.geoserver.replicas (print "GeoNode publishes through one GeoServer stays unknown to the others "
  "(uploads fail or half-publish, new layers answer on some requests only), and GeoFence's rule cache "
  "and GeoWebCache's quota database are per process. Keep geoserver.replicas: 1 and scale maps and tiles "
  "with geoserver.readReplicas (docs/scaling.md)")) }}
{{- end }}
{{- end }}

{{/*
Startup and liveness of GeoServer: a request its OWS dispatcher answers at once, without the
catalog (a WMS GetCapabilities asking for a newer updateSequence than any, refused with
InvalidUpdateSequence, HTTP 200, logged at INFO), so a GeoServer whose request threads hang fails
it while Tomcat still serves static pages. A YAML map.
*/}}
{{- define "geonode.geoserver.dispatcherProbe" -}}
httpGet:
  path: /geoserver/ows?service=WMS&version=1.1.1&request=GetCapabilities&updateSequence=9223372036854775807
  port: http
{{- end }}

{{/*
Where a reader's GeoServer and its follower meet (an emptyDir): the follower's `ready` file and
the catalog's updateSequence the start script noted.
*/}}
{{- define "geonode.geoserver.followDir" -}}/run/geonode-k8s/follow{{- end }}

{{/* A reader's GeoWebCache tiles (an emptyDir of its own). */}}
{{- define "geonode.geoserver.tileCacheDir" -}}/var/cache/geowebcache{{- end }}

{{/*
The readers' readiness: every 5 seconds, one failure enough, so a reader leaves the Service
within seconds of its follower starting a reload (the follower waits drainSeconds before it
reloads). A YAML map of probe timings.
*/}}
{{- define "geonode.geoserver.readerReadiness" -}}
{{- toYaml (merge (dict "periodSeconds" 5 "failureThreshold" 1 "timeoutSeconds" 4)
  (deepCopy .Values.geoserver.probes.readiness)) }}
{{- end }}

{{/* How long a follower waits between making its reader unready and reloading. */}}
{{- define "geonode.geoserver.drainSeconds" -}}
{{- $readiness := include "geonode.geoserver.readerReadiness" . | fromYaml }}
{{- add $readiness.periodSeconds $readiness.timeoutSeconds 3 }}
{{- end }}

{{/*
The environment both GeoServers share: the data directory, Tomcat's base, JVM options, where
GeoNode and the site are, the credentials and databases the start script writes into the data
directory (a reader hashes them to know the writer configured it so: files/geoserver/start.sh),
CORS and extraEnv. A YAML list. (dict "context" $ "reader" <bool>)
*/}}
{{- define "geonode.geoserver.env" -}}
{{- $ := .context }}
{{- $values := $.Values.geoserver }}
- name: GEOSERVER_DATA_DIR
  value: /geoserver_data/data
- name: HOME
  value: /tmp
# Tomcat's writable base (conf copies, logs, temp, work), in the tmp emptyDir.
- name: CATALINA_BASE
  value: /tmp/catalina-base
- name: JAVA_OPTS
  value: {{ include "geonode.geoserver.javaOpts" $ | quote }}
- name: SITE_BASE_URL
  value: {{ include "geonode.siteBase" $ | quote }}
- name: GEONODE_LOCATION
  value: {{ printf "http://%s:8000" (include "geonode.django.internalHost" $) | quote }}
{{- range list "geoserverAdminPassword:GEOSERVER_ADMIN_PASSWORD" "oauth2ClientId:OAUTH2_CLIENT_ID"
  "oauth2ClientSecret:OAUTH2_CLIENT_SECRET" "oauth2ApiKey:OAUTH2_API_KEY" }}
{{- $key := splitList ":" . }}
{{ include "geonode.credentials.env" (dict "context" $ "group" "geonode" "key" (first $key) "env" (last $key)) }}
{{- end }}
{{ include "geonode.geoserver.databaseEnv" $ }}
- name: GEOSERVER_CORS_ENABLED
  value: {{ $values.cors.enabled | quote }}
{{- if $values.cors.enabled }}
- name: GEOSERVER_CORS_ALLOWED_ORIGINS
  value: {{ $values.cors.allowedOrigins | quote }}
- name: GEOSERVER_CORS_ALLOWED_METHODS
  value: {{ $values.cors.allowedMethods | quote }}
- name: GEOSERVER_CORS_ALLOWED_HEADERS
  value: {{ $values.cors.allowedHeaders | quote }}
{{- end }}
{{- if .reader }}
- name: GEOSERVER_ROLE
  value: reader
- name: FOLLOW_DIR
  value: {{ include "geonode.geoserver.followDir" $ }}
# Read from the environment by GeoServer and GeoWebCache: tiles and GeoWebCache's configuration
# in the reader's own folders, its disk quota off (its database would live in the cache), its
# log outside the data directory.
- name: GEOWEBCACHE_CACHE_DIR
  value: {{ include "geonode.geoserver.tileCacheDir" $ }}
- name: GEOWEBCACHE_CONFIG_DIR
  value: /tmp/geowebcache-config
- name: GWC_DISKQUOTA_DISABLED
  value: "true"
- name: GEOSERVER_LOG_LOCATION
  value: /tmp/geoserver.log
{{- end }}
{{- with $values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
GeoNode's data database, as GeoServer's start script and a reader's follower reach it (GeoFence's
rules and GeoNode's PostGIS store live there). A YAML list.
*/}}
{{- define "geonode.geoserver.databaseEnv" -}}
- name: DATABASE_HOST
  value: {{ include "geonode.database.host" . | quote }}
- name: DATABASE_PORT
  value: {{ include "geonode.database.port" . | quote }}
{{ include "geonode.database.ownerEnv" (dict "context" . "database" "geodata") }}
- name: GEONODE_GEODATABASE_SCHEMA
  value: public
{{- with include "geonode.database.tlsEnv" . }}
{{ . }}
{{- end }}
{{- end }}

{{/*
The GeoServer container, the writer's or a reader's: the image's Tomcat started by the chart's
start script. (dict "context" $ "reader" <bool>). A YAML list of one container.
*/}}
{{- define "geonode.geoserver.container" -}}
{{- $ := .context }}
{{- $values := $.Values.geoserver }}
- name: geoserver
  image: {{ include "geonode.image" (dict "context" $ "path" "geoserver.image" "movingTagAllowed" true) }}
  imagePullPolicy: {{ $values.image.pullPolicy }}
  command: ["sh", "/etc/geonode-k8s/start.sh"]
  env:
    {{- include "geonode.geoserver.env" . | nindent 4 }}
  ports:
    - name: http
      containerPort: 8080
      protocol: TCP
  # Ready: the admin's REST login works (ready.sh), so GeoNode's calls get no 401s; a reader also
  # not while its follower reloads its catalog. Started and alive: GeoServer's OWS dispatcher
  # answers (geonode.geoserver.dispatcherProbe), not only Tomcat: a GeoServer whose request
  # threads hang is restarted.
  {{- $probes := $values.probes }}
  {{- if .reader }}
  {{- $probes = merge (dict "readiness" (include "geonode.geoserver.readerReadiness" $ | fromYaml)) $probes }}
  {{- end }}
  {{- $ready := dict "exec" (dict "command" (list "sh" "/etc/geonode-k8s/ready.sh")) }}
  {{- $dispatcher := include "geonode.geoserver.dispatcherProbe" $ | fromYaml }}
  {{- include "geonode.probes" (dict "handler" $ready "process" $dispatcher "probes" $probes) | trim | nindent 2 }}
  resources:
    {{- toYaml (.reader | ternary $values.readReplicas.resources $values.resources) | nindent 4 }}
  securityContext:
    {{- toYaml $values.containerSecurityContext | nindent 4 }}
  volumeMounts:
    - name: scripts
      mountPath: /etc/geonode-k8s
      readOnly: true
    # A reader never writes the data directory, nor the raster files in the assets.
    - name: geoserver-data
      mountPath: /geoserver_data/data
      {{- if .reader }}
      readOnly: true
      {{- end }}
    # Raster stores point at /mnt/volumes/statics/assets, as in GeoNode's pods. GeoServer
    # sees that folder alone: not the site's scripts in static/ nor the uploads.
    - name: statics
      mountPath: /mnt/volumes/statics/assets
      subPath: assets
      {{- if .reader }}
      readOnly: true
      {{- end }}
    # Scratch space and Tomcat's base (CATALINA_BASE), on a read-only root filesystem.
    - name: tmp
      mountPath: /tmp
    {{- if .reader }}
    - name: tile-cache
      mountPath: {{ include "geonode.geoserver.tileCacheDir" $ }}
    - name: follow
      mountPath: {{ include "geonode.geoserver.followDir" $ }}
    {{- end }}
    {{- with include "geonode.database.caVolumeMounts" $ | fromYamlArray }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $values.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/*
The volumes of a GeoServer pod, the writer's or a reader's (the writer's seed source is its own).
A reader's containers mount the claims read-only; the claims themselves are not made read-only,
which some CSI drivers would apply to the whole node's attachment, the writer's too.
(dict "context" $ "reader" <bool>). A YAML list.
*/}}
{{- define "geonode.geoserver.volumes" -}}
{{- $ := .context }}
{{- $values := $.Values.geoserver }}
- name: scripts
  configMap:
    name: {{ include "geonode.geoserver.configName" $ }}
    defaultMode: 0555
- name: geoserver-data
  persistentVolumeClaim:
    claimName: {{ include "geonode.storage.geoserverDataClaim" $ }}
- name: statics
  persistentVolumeClaim:
    claimName: {{ include "geonode.storage.staticsClaim" $ }}
- name: tmp
  emptyDir:
    sizeLimit: {{ $values.tmpSizeLimit }}
{{- if .reader }}
- name: tile-cache
  emptyDir:
    sizeLimit: {{ $values.readReplicas.tileCacheSizeLimit }}
# The follower's ready file and the loaded sequence: a few bytes, in memory.
- name: follow
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
{{- end }}
{{- with include "geonode.database.caVolumes" $ | fromYamlArray }}
{{ toYaml . }}
{{- end }}
{{- with $values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}
