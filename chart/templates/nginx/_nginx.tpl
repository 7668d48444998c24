{{/*
nginx.maxBodySize (nginx's size syntax: a number with an optional k, m or g) in bytes, which
GeoNode's upload limits take. "0" means no limit in nginx; GeoNode's limits are then the largest
number they can hold.
*/}}
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
