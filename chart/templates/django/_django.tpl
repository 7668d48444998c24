{{/*
What Django, the Celery worker and beat, and the init Job share: one image, one environment,
the same volumes. Everything here is used by all of them, so they cannot drift apart.
*/}}
{{- define "geonode.django.fullname" -}}
{{- include "geonode.componentName" (dict "context" . "component" "django") }}
{{- end }}

{{- define "geonode.django.configName" -}}
{{- printf "%s-config" (include "geonode.django.fullname" .) }}
{{- end }}

{{- define "geonode.geoserver.fullname" -}}
{{- include "geonode.componentName" (dict "context" . "component" "geoserver") }}
{{- end }}

{{/* GeoServer as GeoNode reaches it inside the cluster. */}}
{{- define "geonode.geoserver.internalUrl" -}}
{{- printf "http://%s.%s.svc:8080/geoserver/" (include "geonode.geoserver.fullname" .) .Release.Namespace }}
{{- end }}

{{/* Django as GeoServer and nginx reach it inside the cluster. */}}
{{- define "geonode.django.internalHost" -}}
{{- printf "%s.%s.svc" (include "geonode.django.fullname" .) .Release.Namespace }}
{{- end }}

{{/* Python-list text of the host names Django answers to: the site, and the in-cluster names. */}}
{{- define "geonode.django.allowedHosts" -}}
{{- $hosts := list (include "geonode.siteHost" .) (include "geonode.django.fullname" .)
  (include "geonode.django.internalHost" .) "localhost" "127.0.0.1" }}
{{- $quoted := list }}
{{- range uniq $hosts }}{{ $quoted = append $quoted (printf "'%s'" .) }}{{ end }}
{{- printf "[%s]" (join ", " $quoted) }}
{{- end }}

{{/* The environment of every GeoNode container (Django, Celery, the init Job). */}}
{{- define "geonode.django.env" -}}
{{- $site := include "geonode.siteUrl" . }}
{{- $secure := include "geonode.siteSecure" . -}}
- name: DJANGO_SETTINGS_MODULE
  value: geonode_k8s_settings
# The chart's settings module (files/django/geonode_k8s_settings.py) loads the project's.
- name: GEONODE_K8S_PROJECT_SETTINGS
  value: {{ .Values.geonode.project.settingsModule | quote }}
- name: GEONODE_K8S_CELERY_APP
  value: {{ .Values.geonode.project.celeryApp | quote }}
- name: PYTHONPATH
  value: {{ printf "/etc/geonode-k8s:%s" .Values.geonode.project.dir | quote }}
# The root filesystem is read-only: no bytecode files, a writable HOME.
- name: PYTHONDONTWRITEBYTECODE
  value: "1"
- name: HOME
  value: /tmp
- name: SITEURL
  value: {{ $site | quote }}
- name: ALLOWED_HOSTS
  value: {{ include "geonode.django.allowedHosts" . | quote }}
- name: SESSION_COOKIE_SECURE
  value: {{ $secure | quote }}
- name: CSRF_COOKIE_SECURE
  value: {{ $secure | quote }}
- name: DEBUG
  value: "False"
- name: ASYNC_SIGNALS
  value: "True"
- name: DEFAULT_BACKEND_DATASTORE
  value: datastore
- name: GEONODE_DB_CONN_MAX_AGE
  value: {{ .Values.geonode.databaseConnectionMaxAge | quote }}
{{ include "geonode.database.env" . }}
- name: REDIS_HOST
  value: {{ include "geonode.redis.host" . | quote }}
- name: REDIS_PORT
  value: {{ include "geonode.redis.port" . | quote }}
{{- if include "geonode.redis.hasPassword" . }}
{{ include "geonode.credentials.env" (dict "context" . "group" "redis" "key" "password" "env" "REDIS_PASSWORD") }}
{{- end }}
- name: GEOSERVER_LOCATION
  value: {{ include "geonode.geoserver.internalUrl" . | quote }}
- name: GEOSERVER_PUBLIC_LOCATION
  value: {{ printf "%sgeoserver/" $site | quote }}
- name: GEOSERVER_WEB_UI_LOCATION
  value: {{ printf "%sgeoserver/" $site | quote }}
- name: GEOSERVER_ADMIN_USER
  value: admin
- name: ADMIN_EMAIL
  value: {{ .Values.geonode.adminEmail | quote }}
{{- with .Values.geonode.email }}
- name: EMAIL_ENABLE
  value: {{ .enabled | ternary "True" "False" | quote }}
{{- if not .enabled }}
# Not GeoNode's console backend, which prints every mail (password-reset links too) into the log.
- name: DJANGO_EMAIL_BACKEND
  value: geonode_k8s_mail.DroppingEmailBackend
{{- else }}
- name: DJANGO_EMAIL_HOST
  value: {{ .host | quote }}
- name: DJANGO_EMAIL_PORT
  value: {{ .port | quote }}
- name: DJANGO_EMAIL_USE_TLS
  value: {{ .tls | ternary "True" "False" | quote }}
- name: DJANGO_EMAIL_USE_SSL
  value: {{ .ssl | ternary "True" "False" | quote }}
- name: DJANGO_EMAIL_HOST_USER
  value: {{ .user | quote }}
- name: DEFAULT_FROM_EMAIL
  value: {{ .from | quote }}
{{- with .passwordSecret.name }}
- name: DJANGO_EMAIL_HOST_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.geonode.email.passwordSecret.key }}
{{- end }}
{{- end }}
{{- end }}
{{- include "geonode.oidc.env" . }}
{{- $accounts := .Values.geonode.accounts }}
# Who may join and publish (geonode.accounts, geonode.moderateUploads); GeoNode reads Python literals.
- name: ACCOUNT_OPEN_SIGNUP
  value: {{ ternary "True" "False" $accounts.openSignup | quote }}
- name: ACCOUNT_APPROVAL_REQUIRED
  value: {{ ternary "True" "False" $accounts.approvalRequired | quote }}
- name: ACCOUNT_EMAIL_VERIFICATION
  value: {{ $accounts.emailVerification | quote }}
- name: AUTO_ASSIGN_REGISTERED_MEMBERS_TO_CONTRIBUTORS
  value: {{ ternary "True" "False" $accounts.contributorsByDefault | quote }}
- name: ADMIN_MODERATE_UPLOADS
  value: {{ ternary "True" "False" .Values.geonode.moderateUploads | quote }}
- name: STATIC_ROOT
  value: /mnt/volumes/statics/static/
- name: MEDIA_ROOT
  value: /mnt/volumes/statics/uploaded/
- name: ASSETS_ROOT
  value: /mnt/volumes/statics/assets/
# GeoNode's upload limits follow nginx's (the init Job keeps the stored ones in line).
- name: DEFAULT_MAX_UPLOAD_SIZE
  value: {{ include "geonode.nginx.maxBodyBytes" . | quote }}
{{ include "geonode.django.cacheEnv" . }}
{{- end }}

{{/*
Django's cache, one for every GeoNode process (GeoNode's own default keeps one in each process, so a
permission change reaches only the process that made it): memcached through GeoNode's own settings,
or a Redis of its own, which geonode_k8s_settings.py makes the default cache (see geonode.cache.backend).
*/}}
{{- define "geonode.django.cacheEnv" -}}
- name: PERMISSION_CACHE_EXPIRATION_TIME
  value: {{ .Values.geonode.permissionCacheSeconds | quote }}
{{- if .Values.memcached.enabled }}
- name: MEMCACHED_ENABLED
  value: "True"
- name: MEMCACHED_LOCATION
  value: {{ printf "%s.%s.svc:11211" (include "geonode.componentName" (dict "context" . "component" "memcached"))
    .Release.Namespace | quote }}
{{- else }}
{{- $server := include "geonode.cache.server" . | fromYaml }}
- name: GEONODE_K8S_CACHE_HOST
  value: {{ $server.host | quote }}
- name: GEONODE_K8S_CACHE_PORT
  value: {{ $server.port | quote }}
{{- end }}
{{- end }}

{{/* geonode.settings, after the chart's own variables (which they may not name: see validate). */}}
{{- define "geonode.django.settingsEnv" -}}
{{- $env := list }}
{{- range $name, $value := .Values.geonode.settings }}
{{- $env = append $env (dict "name" $name "value" (toString $value)) }}
{{- end }}
{{- toYaml $env }}
{{- end }}

{{/*
geonode.settings are plain values in the pod spec: none may name a variable the chart sets (a
later duplicate wins: DEBUG, ALLOWED_HOSTS, SECRET_KEY...), nor look like a credential.
*/}}
{{- define "geonode.django.validate" -}}
{{- $chart := values (include "geonode.django.credentialVars" . | fromYaml) }}
{{- range include "geonode.django.env" . | fromYamlArray }}{{ $chart = append $chart .name }}{{ end }}
{{- $chart = concat $chart (list "DATABASE_URL" "GEODATABASE_URL" "BROKER_URL" "CELERY_RESULT_BACKEND") }}
{{- range $name, $_ := .Values.geonode.settings }}
{{- if has $name $chart }}
{{- fail (print "geonode.settings." $name " names a variable the chart sets itself (from other values, or from "
  "a Secret); set the value it comes from, or, for a credential, extraEnv with secretKeyRef") }}
{{- end }}
{{- if regexMatch "(?i)(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL)" $name }}
{{- fail (print "geonode.settings." $name " looks like a credential, and settings are plain values in the pod "
  "spec; give it with extraEnv from a Secret (valueFrom.secretKeyRef)") }}
{{- end }}
{{- end }}
{{- end }}

{{/* The env var of each geonode.auth credential, as a YAML map. */}}
{{- define "geonode.django.credentialVars" -}}
secretKey: SECRET_KEY
geoserverAdminPassword: GEOSERVER_ADMIN_PASSWORD
oauth2ApiKey: OAUTH2_API_KEY
oidcRsaPrivateKey: OIDC_RSA_PRIVATE_KEY
adminPassword: ADMIN_PASSWORD
oauth2ClientId: OAUTH2_CLIENT_ID
oauth2ClientSecret: OAUTH2_CLIENT_SECRET
{{- end }}

{{/*
The credentials of geonode.auth a GeoNode container gets, and no others (a process that never
uses one cannot leak it): the web pages sign sessions and password-reset links (SECRET_KEY), call
GeoServer as its administrator, check GeoServer's key on the role endpoints and sign OpenID
Connect ID tokens; the worker's tasks call GeoServer and read the stored credentials of remote
services (encrypted with SECRET_KEY); the init Job sets the administrator's password and GeoServer's
OAuth2 client (and the site's own commands may call GeoServer); beat only schedules. A YAML list,
empty for beat. (dict "context" $ "component" "django"|"celery-worker"|"celery-beat"|"init")
*/}}
{{- define "geonode.django.credentialsEnv" -}}
{{- $keys := get (dict
  "django" (list "secretKey" "geoserverAdminPassword" "oauth2ApiKey" "oidcRsaPrivateKey")
  "celery-worker" (list "secretKey" "geoserverAdminPassword")
  "init" (list "secretKey" "geoserverAdminPassword" "adminPassword" "oauth2ClientId" "oauth2ClientSecret")
  ) .component | default list }}
{{- $vars := include "geonode.django.credentialVars" . | fromYaml }}
{{- $env := list }}
{{- range $key := $keys }}
{{- $var := dict "context" $.context "group" "geonode" "key" $key "env" (get $vars $key) }}
{{- $env = append $env (include "geonode.credentials.env" $var) }}
{{- end }}
{{- join "\n" $env }}
{{- end }}

{{/* Volumes of every GeoNode pod: its config, scratch space, and the two shared volumes. */}}
{{- define "geonode.django.volumes" -}}
- name: geonode-config
  configMap:
    name: {{ include "geonode.django.configName" . }}
    defaultMode: 0444
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.geonode.tmpSizeLimit }}
- name: statics
  persistentVolumeClaim:
    claimName: {{ include "geonode.storage.staticsClaim" . }}
- name: geoserver-data
  persistentVolumeClaim:
    claimName: {{ include "geonode.storage.geoserverDataClaim" . }}
{{- with include "geonode.database.caVolumes" . | fromYamlArray }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "geonode.django.volumeMounts" -}}
- name: geonode-config
  mountPath: /etc/geonode-k8s
  readOnly: true
- name: tmp
  mountPath: /tmp
- name: statics
  mountPath: /mnt/volumes/statics
- name: geoserver-data
  mountPath: /geoserver_data/data
{{- with include "geonode.database.caVolumeMounts" . | fromYamlArray }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
What every GeoNode pod shares with the init Job's name, which hashes it: the environment, the
geonode.settings, the credentials' checksum annotation, and the name itself. Each is costly to
render, so a template renders them once: fills the dict it is called with, (dict "context" $),
with env, settingsEnv, credentialsChecksum and initJobName.
*/}}
{{- define "geonode.django.shared" -}}
{{- $root := .context }}
{{- $_ := set . "env" (include "geonode.django.env" $root) }}
{{- $_ = set . "settingsEnv" (include "geonode.django.settingsEnv" $root) }}
{{- $_ = set . "credentialsChecksum" (include "geonode.credentials.checksumAnnotation" $root) }}
{{- $_ = set . "initJobName" (include "geonode.initJob.name" .) }}
{{- end }}

{{/*
The init Job's name: a hash of everything it depends on (the image, its scripts and settings, its
environment, where its credentials come from and credentials.rotation: never a credential), so a
change gives a new Job that runs once. Call with the dict geonode.django.shared fills.
*/}}
{{- define "geonode.initJob.name" -}}
{{- $root := .context }}
{{- $inputs := list
  (include "geonode.image" (dict "context" $root "path" "geonode.image"))
  (include (print $root.Template.BasePath "/django/configmap.yaml") $root)
  .env
  .settingsEnv
  .credentialsChecksum
  (toYaml $root.Values.initJob) }}
{{- if $root.Values.backup.restore.enabled }}
{{- $inputs = append $inputs (include "geonode.backup.restoreContainers" $root) }}
{{- end }}
{{- printf "%s-init-%s" (include "geonode.fullname" $root) (join "\n" $inputs | sha256sum | trunc 10) }}
{{- end }}

{{/*
The init container of Django and Celery pods: waits until the init Job of this release's
configuration has finished (migrated both databases and the rest), which the Job records in
GeoNode's database; a query, not a Django start.
(dict "context" $ "values" .Values.<component> "initJobName" <geonode.initJob.name>)
*/}}
{{- define "geonode.django.waitForMigrations" -}}
- name: wait-for-migrations
  image: {{ include "geonode.image" (dict "context" .context "path" "geonode.image") }}
  imagePullPolicy: {{ .context.Values.geonode.image.pullPolicy }}
  command: ["python", "/etc/geonode-k8s/wait_for_migrations.py"]
  workingDir: {{ .context.Values.geonode.project.dir }}
  # A query of the database, not a Django start: its connection and nothing else.
  env:
    - name: PYTHONDONTWRITEBYTECODE
      value: "1"
    {{- include "geonode.database.env" .context | nindent 4 }}
    - name: GEONODE_K8S_INIT_JOB
      value: {{ .initJobName }}
  resources:
    {{- toYaml .context.Values.geonode.initResources | nindent 4 }}
  securityContext:
    {{- toYaml .values.containerSecurityContext | nindent 4 }}
  volumeMounts:
    {{- include "geonode.django.volumeMounts" .context | nindent 4 }}
{{- end }}

{{/* Checksum annotations of every pod that runs GeoNode code. Call with geonode.django.shared's dict. */}}
{{- define "geonode.django.checksums" -}}
{{- $config := dict "context" .context "name" (include "geonode.django.configName" .context)
  "template" "/django/configmap.yaml" -}}
{{ include "geonode.checksumAnnotation" $config }}
{{ .credentialsChecksum }}
{{- end }}

{{/* uwsgi worker processes: the value, or 4 per requested CPU core (at least 4). */}}
{{- define "geonode.django.processes" -}}
{{- $uwsgi := .Values.django.uwsgi }}
{{- if $uwsgi.processes }}
{{- $uwsgi.processes }}
{{- else }}
{{- $cpu := toString .Values.django.resources.requests.cpu }}
{{- $millicores := hasSuffix "m" $cpu | ternary (trimSuffix "m" $cpu | float64) (mulf ($cpu | float64) 1000) }}
{{- max 4 (int (divf (mulf $millicores 4) 1000)) }}
{{- end }}
{{- end }}

{{/*
Django's uwsgi command, a YAML list. Workers are renewed hourly, each 5 minutes after the one
before, never all at once (a count of requests renewed them together under load: nothing served
meanwhile); no --max-requests. SIGTERM: uwsgi stops taking requests and waits for the running
ones (up to harakiri). Requests are logged by path, never with their query: GeoNode puts access
tokens there (/gs/); with the uwsgi process that served each, as uwsgi's own format has it.
*/}}
{{- define "geonode.django.command" -}}
{{- $project := .Values.geonode.project }}
{{- $uwsgi := .Values.django.uwsgi }}
- uwsgi
- --http-socket=0.0.0.0:8000
- --chdir={{ $project.dir }}
- --module={{ $project.wsgiModule }}:application
- --master
- --processes={{ include "geonode.django.processes" . }}
- --threads={{ $uwsgi.threads }}
- --enable-threads
- --single-interpreter
- --die-on-term
- --need-app
- --vacuum
- --buffer-size=32768
- --harakiri={{ $uwsgi.harakiriSeconds }}
- --max-worker-lifetime=3600
- --max-worker-lifetime-delta=300
- --hook-master-start=unix_signal:15 gracefully_kill_them_all
- --worker-reload-mercy={{ $uwsgi.harakiriSeconds }}
{{- if not $uwsgi.logRequests }}
- --disable-logging
{{- end }}
- '--log-format=%(var.HTTP_X_REAL_IP) [%(ltime)] pid %(pid) "%(method) %(var.PATH_INFO) %(proto)"
  %(status) %(size) B %(msecs) ms'
{{- end }}

{{/*
The fields of Django's container after its environment: its port; its probes, readiness asking
for the home page (Django, its database and cache), startup and liveness only uwsgi's socket; the
preStop of its graceful stop. (dict "context" $ "stop" <geonode.gracefulStop, parsed>)
*/}}
{{- define "geonode.django.serving" -}}
{{- $root := .context }}
{{- $site := list (dict "name" "Host" "value" (include "geonode.siteHost" $root)) }}
{{- $home := dict "httpGet" (dict "path" "/" "port" "http" "httpHeaders" $site) }}
{{- $socket := dict "tcpSocket" (dict "port" "http") }}
{{- $probes := dict "handler" $home "process" $socket "probes" $root.Values.django.probes -}}
ports:
  - name: http
    containerPort: 8000
    protocol: TCP
{{ include "geonode.probes" $probes }}
{{ toYaml (pick .stop "lifecycle") }}
{{- end }}

{{/*
The pod template of every workload that runs GeoNode code (Django, Celery worker and beat, the
init Job). Call with (dict "context" $ "component" "celery-worker" "values" .Values.celery.worker
"name" "celery" "command" (list ...) "extra" <container fields: ports, probes>
"waitForMigrations" true "restartPolicy" "Never"|"" ["stop" (include "geonode.gracefulStop" ... | fromYaml)]
["env" (list <env vars of this container>)] ["initContainers" (list <containers after the migrations
gate>)] ["volumes" (list <their volumes>)] ["shared" <the dict geonode.django.shared filled>]).
*/}}
{{- define "geonode.django.podTemplate" -}}
{{- $root := .context }}
{{- $values := .values }}
{{- $shared := .shared }}
{{- if not $shared }}
{{- $shared = dict "context" $root }}
{{- $_ := include "geonode.django.shared" $shared }}
{{- end }}
metadata:
  labels:
    {{- include "geonode.podLabels" . | nindent 4 }}
    {{- include "geonode.storage.groupLabel" $root | nindent 4 }}
  annotations:
    {{- include "geonode.django.checksums" $shared | nindent 4 }}
    {{- with $values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- $common := dict "context" $root "component" .component "values" $values "sharedVolumes" true
    "images" (list $root.Values.geonode.image) "stop" .stop "serviceAccountName" .serviceAccountName }}
  {{- include "geonode.podSpecCommon" $common | nindent 2 }}
  {{- with .restartPolicy }}
  restartPolicy: {{ . }}
  {{- end }}
  {{- if or .waitForMigrations .initContainers }}
  initContainers:
    {{- if .waitForMigrations }}
    {{- $gate := dict "context" $root "values" $values "initJobName" $shared.initJobName }}
    {{- include "geonode.django.waitForMigrations" $gate | nindent 4 }}
    {{- end }}
    {{- with .initContainers }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  containers:
    - name: {{ .name }}
      image: {{ include "geonode.image" (dict "context" $root "path" "geonode.image") }}
      imagePullPolicy: {{ $root.Values.geonode.image.pullPolicy }}
      command:
        {{- toYaml .command | nindent 8 }}
      workingDir: {{ $root.Values.geonode.project.dir }}
      env:
        {{- $shared.env | nindent 8 }}
        {{- with include "geonode.django.credentialsEnv" (dict "context" $root "component" .component) }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- if $root.Values.geonode.settings }}
        {{- $shared.settingsEnv | nindent 8 }}
        {{- end }}
        {{- with .env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .extra }}
      {{- . | trim | nindent 6 }}
      {{- end }}
      resources:
        {{- toYaml $values.resources | nindent 8 }}
      securityContext:
        {{- toYaml $values.containerSecurityContext | nindent 8 }}
      volumeMounts:
        {{- include "geonode.django.volumeMounts" $root | nindent 8 }}
        {{- with $values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    {{- include "geonode.django.volumes" $root | nindent 4 }}
    {{- with .volumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/*
The startup, readiness and liveness probes whose timings .probes has (.Values.x.probes).
readiness runs "handler"; startup and liveness run "process" when given (else "handler"): a
check of the process itself, so that an outage of a database or of Redis takes the pods out of
service (readiness) without restarting them all (liveness).
(dict "handler" ... ["process" ...] "probes" .Values.x.probes)
*/}}
{{- define "geonode.probes" -}}
{{- range $kind := list "startup" "readiness" "liveness" }}
{{- with index $.probes $kind }}
{{- $handler := (eq $kind "readiness") | ternary $.handler ($.process | default $.handler) }}
{{ $kind }}Probe:
  {{- include "geonode.probe" (dict "handler" $handler "timing" .) | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}
