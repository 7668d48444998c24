{{/*
nginx.maxBodySize (nginx's size syntax: a number with an optional k, m or g) in bytes, which
GeoNode's upload limits take. "0" means no limit in nginx; GeoNode's limits are then the largest
number they can hold.
*/}}
{{/* A tmp emptyDir that an upload of nginx.maxBodySize would overfill gets its pod evicted. */}}
{{- define "geonode.nginx.validate" -}}
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
