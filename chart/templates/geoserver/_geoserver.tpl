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
  "and GeoWebCache's quota database are per process. Keep geoserver.replicas: 1 (docs/scaling.md)")) }}
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
