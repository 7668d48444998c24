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
{{- if and (not .Values.redis.enabled) (not .Values.redis.external.host) }}
{{- fail (print "redis.enabled is false, so Celery needs an external Redis: set redis.external.host (and port; its "
  "password in redis.auth.password or redis.auth.existingSecret)") }}
{{- end }}
{{- if and (eq (include "geonode.cache.backend" .) "external") (not .Values.redis.external.cache.host) }}
{{- fail (print "redis.enabled is false, and every GeoNode process needs one shared cache: set "
  "redis.external.cache.host to a Redis that evicts (maxmemory-policy allkeys-lru; not the broker, which must "
  "never evict a task), or memcached.enabled: true to run memcached as the cache") }}
{{- end }}
{{- if and (eq (include "geonode.cache.backend" .) "external")
  (eq .Values.redis.external.cache.host .Values.redis.external.host)
  (eq (int .Values.redis.external.cache.port) (int .Values.redis.external.port)) }}
{{- fail (print "redis.external.cache is the broker (" .Values.redis.external.host ":" .Values.redis.external.port
  "): a cache must evict and the broker must not (evicted keys are lost tasks); give the cache another Redis, "
  "or set memcached.enabled: true") }}
{{- end }}
{{- /* Directives that undo what the chart sets for access (a later one wins), or load code. */}}
{{- $owned := list "requirepass" "masterauth" "masteruser" "user" "aclfile" "include" "protected-mode" "bind"
  "port" "unixsocket" "rename-command" "loadmodule" "enable-debug-command" "enable-module-command"
  "enable-protected-configs" }}
{{- range splitList "\n" (toString .Values.redis.extraConfig) }}
{{- $directive := lower (first (splitList " " (trim .))) }}
{{- if eq $directive "maxmemory-policy" }}
{{- fail (print "redis.extraConfig sets maxmemory-policy: the broker must never evict a queued task "
  "(noeviction, the chart's); Django's cache evicts in an instance of its own (redis.cache). Take the line out") }}
{{- end }}
{{- if has $directive $owned }}
{{- fail (print "redis.extraConfig sets " $directive ", which decides who may reach Redis or what it runs: the "
  "chart sets it (the password from redis.auth, the port, the protected mode); take the line out") }}
{{- end }}
{{- end }}
{{- end }}

{{/*
redis.maxmemoryPercent of a container's memory limit, in bytes.
(dict "context" $ "resources" .Values.redis.resources)
*/}}
{{- define "geonode.redis.maxmemory" -}}
{{- $limit := include "geonode.quantityBytes" .resources.limits.memory | float64 }}
{{- divf (mulf $limit .context.Values.redis.maxmemoryPercent) 100 | floor | int64 }}
{{- end }}

{{/*
Where Django's cache is, shared by every GeoNode process: "memcached" (memcached.enabled), "redis"
(the cache's redis-server in Redis's pod) or "external" (redis.external.cache).
*/}}
{{- define "geonode.cache.backend" -}}
{{- if .Values.memcached.enabled }}memcached
{{- else if .Values.redis.enabled }}redis
{{- else }}external
{{- end }}
{{- end }}

{{/* The cache's Redis as a YAML map {host, port}: Redis's Service on its cache port, or redis.external.cache. */}}
{{- define "geonode.cache.server" -}}
{{- if .Values.redis.enabled }}
{{- toYaml (dict "host" (include "geonode.redis.host" .) "port" 6380) }}
{{- else }}
{{- toYaml .Values.redis.external.cache }}
{{- end }}
{{- end }}

{{/*
One redis-server of Redis's pod: the broker ("redis", its data volume, the user's extra env and
mounts) or Django's cache ("cache"), each with its own config file, password file and port.
(dict "context" $ "name" "redis"|"cache" "port" 6379 "resources" ... ["data" true])
*/}}
{{- define "geonode.redis.container" -}}
{{- $values := .context.Values.redis }}
{{- $ping := printf "test \"$(redis-cli -h 127.0.0.1 -p %d ping)\" = PONG" (int .port) }}
{{- $handler := dict "exec" (dict "command" (list "sh" "-c" $ping)) }}
- name: {{ .name }}
  image: {{ include "geonode.image" (dict "context" .context "path" "redis.image") }}
  imagePullPolicy: {{ $values.image.pullPolicy }}
  # chart/files/redis/start.sh: the password into a file, then redis-server with this config.
  command: ["sh", "/etc/redis/start.sh", "/etc/redis/{{ .name }}.conf"]
  env:
    {{- include "geonode.credentials.env" (dict "context" .context "group" "redis" "key" "password"
      "env" "REDIS_PASSWORD") | nindent 4 }}
    # redis-cli in the probes reads the password from here.
    {{- include "geonode.credentials.env" (dict "context" .context "group" "redis" "key" "password"
      "env" "REDISCLI_AUTH") | nindent 4 }}
    {{- if .data }}
    {{- with $values.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- end }}
  ports:
    - name: {{ .name }}
      containerPort: {{ .port }}
      protocol: TCP
  {{- include "geonode.probes" (dict "handler" $handler "probes" $values.probes) | trim | nindent 2 }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- toYaml $values.containerSecurityContext | nindent 4 }}
  volumeMounts:
    - name: config
      mountPath: /etc/redis
      readOnly: true
    - name: {{ ternary "run" "cache-run" (.data | default false) }}
      mountPath: /run/redis
    {{- if .data }}
    - name: data
      mountPath: /data
    {{- with $values.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- end }}
{{- end }}
