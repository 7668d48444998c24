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

{{- define "geonode.redis.validate" -}}
{{- if and .Values.redis.auth.password .Values.redis.auth.existingSecret }}
{{- fail "redis.auth: set either redis.auth.password or redis.auth.existingSecret, not both" }}
{{- end }}
{{- end }}
