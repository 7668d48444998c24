{{/*
nginx.maxBodySize (nginx's size syntax: a number with an optional k, m or g) in bytes, which
GeoNode's upload limits take. "0" means no limit in nginx; GeoNode's limits are then the largest
number they can hold.
*/}}
{{/*
A tmp emptyDir that an upload of nginx.maxBodySize would overfill gets its pod evicted; GeoServer's
admin surfaces are either public or open to address ranges.
*/}}
{{- define "geonode.nginx.validate" -}}
{{- $access := .Values.geoserver.adminAccess }}
{{- if and $access.public $access.allowFrom }}
{{- fail "geoserver.adminAccess: public: true opens GeoServer's admin surfaces to everyone, so allowFrom would restrict nothing; set public: false to open them to allowFrom only, or empty allowFrom" }}
{{- end }}
{{- $body := include "geonode.nginx.maxBodyBytes" . | float64 }}
{{- if ne (toString .Values.nginx.maxBodySize) "0" }}
{{- range $path, $limit := dict "geonode.tmpSizeLimit" .Values.geonode.tmpSizeLimit "nginx.tmpSizeLimit" .Values.nginx.tmpSizeLimit }}
{{- if lt (include "geonode.quantityBytes" $limit | float64) $body }}
{{- fail (printf "%s %v is smaller than nginx.maxBodySize %v: an upload that large would get the pod evicted; raise %s or lower nginx.maxBodySize" $path $limit $.Values.nginx.maxBodySize $path) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "geonode.nginx.maxBodyBytes" -}}
{{- $size := toString .Values.nginx.maxBodySize | lower }}
{{- $unit := regexFind "[kmg]$" $size }}
{{- /* Leading zeros off: a number starting with 0 would be read as octal. */}}
{{- $number := regexReplaceAll "^0+([0-9])" (trimSuffix $unit $size) "${1}" | int64 }}
{{- if eq $number 0 }}
{{- 9223372036854775807 }}
{{- else }}
{{- mul $number (get (dict "" 1 "k" 1024 "m" 1048576 "g" 1073741824) $unit) }}
{{- end }}
{{- end }}

{{/*
Who asked, and how, for Django and GeoServer alike. Set, never appended: GeoNode takes the first
X-Forwarded-For entry as the client. A location with a proxy_set_header of its own inherits none
of the server's, so the locations that set more include these again.
*/}}
{{- define "geonode.nginx.forwardedHeaders" -}}
proxy_set_header Host $http_host;
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header X-Forwarded-For $remote_addr;
proxy_set_header X-Forwarded-Proto $forwarded_proto;
proxy_set_header X-Forwarded-Host $host;
{{- end }}

{{/* What every location that passes on to GeoServer does: WebSocket upgrades pass through. */}}
{{- define "geonode.nginx.geoserverProxy" -}}
{{- include "geonode.nginx.forwardedHeaders" . }}
proxy_pass http://geoserver;
proxy_set_header Upgrade $http_upgrade;
proxy_set_header Connection "upgrade";
client_max_body_size 0;
{{- end }}

{{/* The access rules of GeoServer's admin surfaces (geoserver.adminAccess): none when public. */}}
{{- define "geonode.nginx.geoserverAdminOnly" -}}
{{- $access := .Values.geoserver.adminAccess }}
{{- if not $access.public }}
{{- $rules := list }}
{{- range $access.allowFrom }}{{ $rules = append $rules (printf "allow %s;" .) }}{{ end }}
{{- join "\n" (append $rules "deny all;") }}
{{- end }}
{{- end }}
