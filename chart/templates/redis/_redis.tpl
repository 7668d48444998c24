{{/* Redis: the Celery broker and result backend. */}}

{{- define "geonode.redis.fullname" -}}
{{- include "geonode.componentName" (dict "context" . "component" "redis") }}
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

{{/* "true" when Redis wants a password: the embedded one always; an external one when given. */}}
{{- define "geonode.redis.hasPassword" -}}
{{- if or .Values.redis.enabled .Values.redis.auth.password .Values.redis.auth.existingSecret }}true{{ end }}
{{- end }}

{{- define "geonode.redis.validate" -}}
{{- $name := include "geonode.redis.fullname" . }}
{{- /* Only where helm reads the cluster: a StatefulSet an earlier chart gave a claim template. */}}
{{- $existing := lookup "apps/v1" "StatefulSet" .Release.Namespace $name }}
{{- if and .Values.redis.enabled $existing $existing.spec.volumeClaimTemplates }}
{{- fail (printf "redis: StatefulSet %s keeps its queues in a claim template (redis.persistence was on before chart 0.2), which an upgrade cannot change. Once, run: kubectl -n %s delete statefulset %s --cascade=orphan (the pod and its data stay); then upgrade with redis.persistence.existingClaim=data-%s-0 to keep the queued tasks" $name .Release.Namespace $name $name) }}
{{- end }}
{{- if and (not .Values.redis.enabled) (not .Values.redis.external.host) }}
{{- fail "redis.enabled is false, so Celery needs an external Redis: set redis.external.host (and port; its password in redis.auth.password or redis.auth.existingSecret)" }}
{{- end }}
{{- /* Directives that undo what the chart sets for access (a later one wins), or load code. */}}
{{- $owned := list "requirepass" "masterauth" "masteruser" "user" "aclfile" "include" "protected-mode" "bind"
  "port" "unixsocket" "rename-command" "loadmodule" "enable-debug-command" "enable-module-command"
  "enable-protected-configs" }}
{{- range splitList "\n" (toString .Values.redis.extraConfig) }}
{{- $directive := lower (first (splitList " " (trim .))) }}
{{- if has $directive $owned }}
{{- fail (print "redis.extraConfig sets " $directive ", which decides who may reach Redis or what it runs: the "
  "chart sets it (the password from redis.auth, the port, the protected mode); take the line out") }}
{{- end }}
{{- end }}
{{- end }}

{{/* redis.maxmemoryPercent of the container's memory limit, in bytes. */}}
{{- define "geonode.redis.maxmemory" -}}
{{- $limit := include "geonode.quantityBytes" .Values.redis.resources.limits.memory | float64 }}
{{- divf (mulf $limit .Values.redis.maxmemoryPercent) 100 | floor | int64 }}
{{- end }}
