{{/* Redis: the Celery broker and result backend. */}}

{{- define "geonode.redis.fullname" -}}
{{- include "geonode.componentName" (dict "context" . "component" "redis") }}
{{- end }}

{{/* The Secret holding the Redis password: the user's existing one, or the chart's. */}}
{{- define "geonode.redis.secretName" -}}
{{- .Values.redis.auth.existingSecret | default (include "geonode.redis.fullname" .) }}
{{- end }}

{{- define "geonode.redis.secretKey" -}}
{{- .Values.redis.auth.secretKeys.password }}
{{- end }}

{{/* Where Celery finds Redis: the embedded Service, or the external server. */}}
{{- define "geonode.redis.host" -}}
{{- if .Values.redis.enabled }}
{{- printf "%s.%s.svc" (include "geonode.redis.fullname" .) .Release.Namespace }}
{{- else }}
{{- .Values.redis.external.host }}
{{- end }}
{{- end }}

{{- define "geonode.redis.port" -}}
{{- .Values.redis.enabled | ternary .Values.redis.service.port .Values.redis.external.port }}
{{- end }}

{{/* "true" when the chart renders the Redis Secret: embedded Redis, or an external one whose password is given as a value. */}}
{{- define "geonode.redis.chartSecret" -}}
{{- if and (not .Values.redis.auth.existingSecret) (or .Values.redis.enabled .Values.redis.auth.password) }}true{{ end }}
{{- end }}

{{/* "true" when Redis wants a password (an external Redis may have none). */}}
{{- define "geonode.redis.hasPassword" -}}
{{- if or (include "geonode.redis.chartSecret" .) .Values.redis.auth.existingSecret }}true{{ end }}
{{- end }}

{{- define "geonode.redis.validate" -}}
{{- if and .Values.redis.auth.password .Values.redis.auth.existingSecret }}
{{- fail "redis.auth: set either redis.auth.password or redis.auth.existingSecret, not both" }}
{{- end }}
{{- if and (not .Values.redis.enabled) (not .Values.redis.external.host) }}
{{- fail "redis.enabled is false, so Celery needs an external Redis: set redis.external.host (and port; its password in redis.auth.password or redis.auth.existingSecret)" }}
{{- end }}
{{- end }}

{{/* redis.maxmemoryPercent of the container's memory limit, in bytes. */}}
{{- define "geonode.redis.maxmemory" -}}
{{- $limit := include "geonode.quantityBytes" .Values.redis.resources.limits.memory | float64 }}
{{- divf (mulf $limit .Values.redis.maxmemoryPercent) 100 | floor | int64 }}
{{- end }}
