{{/*
A tmp emptyDir that an upload of nginx.maxBodySize would overfill gets its pod evicted; GeoServer's
admin surfaces are either public or open to address ranges.
*/}}
{{- define "geonode.nginx.validate" -}}
{{- $access := .Values.geoserver.adminAccess }}
{{- $allowed := dict "nginx.trustedProxies" .Values.nginx.trustedProxies
  "geoserver.adminAccess.allowFrom" $access.allowFrom }}
{{- range $path, $ranges := $allowed }}
{{- range $ranges }}
{{- if hasSuffix "/0" (toString .) }}
{{- fail (print $path " holds " . ", every address: " (eq $path "nginx.trustedProxies" | ternary
  "any client could claim any address (past login limits and geoserver.adminAccess); name your proxies' ranges"
  "use geoserver.adminAccess.public: true if everyone is meant, or name the ranges")) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and $access.public $access.allowFrom }}
{{- fail (print "geoserver.adminAccess: public: true opens GeoServer's admin surfaces to everyone, so allowFrom "
  "would restrict nothing; set public: false to open them to allowFrom only, or empty allowFrom") }}
{{- end }}
{{- $body := include "geonode.nginx.maxBodyBytes" . | float64 }}
{{- if ne (toString .Values.nginx.maxBodySize) "0" }}
{{- $limits := dict "geonode.tmpSizeLimit" .Values.geonode.tmpSizeLimit
  "nginx.tmpSizeLimit" .Values.nginx.tmpSizeLimit }}
{{- range $path, $limit := $limits }}
{{- if lt (include "geonode.quantityBytes" $limit | float64) $body }}
{{- $format := print "%s %v is smaller than nginx.maxBodySize %v: an upload that large would get the pod evicted; "
  "raise %s or lower nginx.maxBodySize" }}
{{- fail (printf $format $path $limit $.Values.nginx.maxBodySize $path) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
nginx.maxBodySize (nginx's size syntax: a number with an optional k, m or g) in bytes, which
GeoNode's upload limits take. "0" means no limit in nginx; GeoNode's limits are then the largest
number they can hold.
*/}}
{{- define "geonode.nginx.maxBodyBytes" -}}
{{- $size := toString .Values.nginx.maxBodySize | lower }}
{{- $unit := trimAll "0123456789" $size }}
{{- /* atoi reads the number as decimal, leading zeros and all (int64 would take 010 for octal). */}}
{{- $number := trimSuffix $unit $size | atoi }}
{{- if eq $number 0 }}
{{- 9223372036854775807 }}
{{- else }}
{{- mul $number (get (dict "" 1 "k" 1024 "m" 1048576 "g" 1073741824) $unit) }}
{{- end }}
{{- end }}

{{/*
Who asked, and how, for Django and GeoServer alike. Set, never appended: GeoNode takes the first
X-Forwarded-For entry as the client, allauth the last. The scheme is siteUrl's. A location with a
proxy_set_header of its own inherits none of the server's, so the locations that set more include
these again.
*/}}
{{- define "geonode.nginx.forwardedHeaders" -}}
proxy_set_header Host $http_host;
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header X-Forwarded-For $remote_addr;
proxy_set_header X-Forwarded-Proto {{ include "geonode.siteScheme" . }};
proxy_set_header X-Forwarded-Host $host;
{{- end }}

{{/*
What every location that passes on to GeoServer does: WebSocket upgrades pass through. To the
writer, or to "upstream" (an upstream or a variable naming one). (dict "context" $ ["upstream" ...])
*/}}
{{- define "geonode.nginx.geoserverProxy" -}}
{{- include "geonode.nginx.forwardedHeaders" .context }}
proxy_pass http://{{ .upstream | default "geoserver" }};
proxy_set_header Upgrade $http_upgrade;
proxy_set_header Connection "upgrade";
client_max_body_size 0;
{{- end }}

{{/*
GeoServer's read replicas (geoserver.readReplicas): the upstream of the map and tile requests
(the writer when no reader is ready: their Service then has no endpoints, so the connection is
refused at once and nginx asks the backup), and which requests go there: GETs, never WPS (a
process may write the catalog); POSTs (a WFS transaction, a WPS request in the body) go to the
writer. Renders nothing without readers.
*/}}
{{- define "geonode.nginx.geoserverReaders" -}}
{{- if .Values.geoserver.readReplicas.enabled }}
{{- $readers := include "geonode.componentName" (dict "context" . "component" "geoserver-reader") }}
upstream geoserver-readers {
  server {{ $readers }}.{{ .Release.Namespace }}.svc:8080;
  server {{ include "geonode.geoserver.fullname" . }}.{{ .Release.Namespace }}.svc:8080 backup;
}
map "$request_method:$arg_service" $geoserver_maps {
  default geoserver;
  "~*^(GET|HEAD):(?!wps$)" geoserver-readers;
}
{{- end }}
{{- end }}

{{/*
The locations of map and tile requests, which go to the read replicas when there are any: OGC
services at GeoServer's root, in a workspace or a layer (virtual services), and GeoWebCache's
services (WMTS, TMS, WMS-C). Everything else, WPS and the REST API among it, stays on the writer.
*/}}
{{- define "geonode.nginx.mapLocations" -}}
{{- if .Values.geoserver.readReplicas.enabled }}
{{- /* Quoted: nginx reads a bare { as the start of a block. */}}
{{- range list "~ \"^/geoserver/([^/]+/){0,2}(ows|wms|wfs|wcs)$\"" "^~ /geoserver/gwc/service/" }}
location {{ . }} {
  # A reader that does not answer is skipped within seconds (the writer is the backup).
  proxy_connect_timeout 5s;
  {{- include "geonode.nginx.geoserverProxy" (dict "context" $ "upstream" "$geoserver_maps") | nindent 2 }}
}
{{- end }}
{{- end }}
{{- end }}

{{/*
An admin surface of GeoServer: passed on only to the clients geoserver.adminAccess names (every
client when public).
*/}}
{{- define "geonode.nginx.geoserverAdmin" -}}
{{- $access := .Values.geoserver.adminAccess }}
{{- if not $access.public }}
{{- range $access.allowFrom }}{{ printf "allow %s;\n" . }}{{ end }}
{{- print "deny all;\n" }}
{{- end }}
{{- include "geonode.nginx.geoserverProxy" (dict "context" .) }}
{{- end }}

{{/*
The REST calls of GeoNode's map client (django-geonode-mapstore-client 5.1.1: MapStore's style
editor, its style service and classification), path by path with the methods it sends there, as a
YAML map. It calls /geoserver/rest directly with the user's access token: a new style is a POST
to the styles collection; a style is read, written and deleted by its name; a layer's styles are
read and written in its .json; the rest is read. Never a layer's DELETE (that removes the layer).
*/}}
{{- define "geonode.nginx.mapClientCalls" -}}
{{- $workspace := "^/geoserver/rest/(workspaces/[^/]+/)?" }}
{{- toYaml (dict
  (print $workspace "styles\\.json$") (list "POST")
  (print $workspace "styles/[^/]+$") (list "GET" "PUT" "DELETE")
  (print $workspace "layers/[^/]+\\.json$") (list "GET" "PUT")
  "^/geoserver/rest/(sldservice/|fonts(\\.json)?$|about/(version|manifest)(\\.json|\\.xml)?$)" (list "GET")) }}
{{- end }}

{{/*
The REST calls of GeoNode's map client, open to every client: GeoServer authorises them itself
(GeoNode's REST rules and GeoFence). Each path takes only the methods the client sends on it.
*/}}
{{- define "geonode.nginx.mapClientRest" -}}
{{- range $path, $methods := include "geonode.nginx.mapClientCalls" . | fromYaml }}
location ~ {{ $path }} {
  # Its own access rules: a nested location would take the admin surface's "deny all".
  allow all;
  limit_except {{ join " " $methods }} {
    deny all;
  }
  {{- include "geonode.nginx.geoserverProxy" (dict "context" $) | nindent 2 }}
}
{{- end }}
{{- end }}
