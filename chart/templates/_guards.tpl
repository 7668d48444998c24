{{/*
Guards against values that contradict each other or Kubernetes, which only the API server or the
running software would otherwise notice (mid-install, or never). Each fails with what to change.
The component-specific ones live beside their component; validate/guards.yaml calls them all.
*/}}

{{/* CPU in millicores: "500m" → 500, "2" → 2000. */}}
{{- define "geonode.millicores" -}}
{{- $q := toString . }}
{{- if hasSuffix "m" $q }}{{ trimSuffix "m" $q | float64 }}{{ else }}{{ mulf ($q | float64) 1000 }}{{ end }}
{{- end }}

{{/*
Every `resources` block under .values (walked recursively; .path is where it sits): a limit
below its request is refused by the API server.
*/}}
{{- define "geonode.guards.resources" -}}
{{- range $key, $value := .values }}
{{- $path := empty $.path | ternary $key (printf "%s.%s" $.path $key) }}
{{- if kindIs "map" $value }}
{{- if and (eq $key "resources") (hasKey $value "limits") (hasKey $value "requests") }}
{{- $limits := $value.limits | default dict }}
{{- $requests := $value.requests | default dict }}
{{- if and $limits.memory $requests.memory (lt (include "geonode.quantityBytes" $limits.memory | float64) (include "geonode.quantityBytes" $requests.memory | float64)) }}
{{- fail (printf "%s.limits.memory %v is below %s.requests.memory %v: Kubernetes refuses a limit under its request; raise the limit or lower the request" $path $limits.memory $path $requests.memory) }}
{{- end }}
{{- if and $limits.cpu $requests.cpu (lt (include "geonode.millicores" $limits.cpu | float64) (include "geonode.millicores" $requests.cpu | float64)) }}
{{- fail (printf "%s.limits.cpu %v is below %s.requests.cpu %v: Kubernetes refuses a limit under its request; raise the limit or lower the request" $path $limits.cpu $path $requests.cpu) }}
{{- end }}
{{- else }}
{{- include "geonode.guards.resources" (dict "values" $value "path" $path) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Autoscalers and disruption budgets of the scalable components. */}}
{{- define "geonode.guards.scaling" -}}
{{- range $path, $values := dict "django" .Values.django "nginx" .Values.nginx "celery.worker" .Values.celery.worker }}
{{- $hpa := $values.autoscaling }}
{{- if and $hpa.enabled (gt (int $hpa.minReplicas) (int $hpa.maxReplicas)) }}
{{- fail (printf "%s.autoscaling.minReplicas %v is above maxReplicas %v; make minReplicas at most maxReplicas" $path $hpa.minReplicas $hpa.maxReplicas) }}
{{- end }}
{{- $pdb := $values.podDisruptionBudget }}
{{- if and $pdb.enabled (has (toString $pdb.maxUnavailable) (list "0" "0%")) }}
{{- fail (printf "%s.podDisruptionBudget.maxUnavailable is %v: no pod could ever be evicted, so node drains and cluster upgrades would hang; allow at least 1 (or disable the budget)" $path $pdb.maxUnavailable) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
StatefulSet pods carry the label controller-revision-hash: <StatefulSet name>-<up to 10
characters>, and label values stop at 63: longer StatefulSet names install, then never start a pod.
*/}}
{{- define "geonode.guards.names" -}}
{{- range $component := list "postgresql" "redis" }}
{{- $name := printf "%s-%s" (include "geonode.fullname" $) $component }}
{{- if gt (len $name) 52 }}
{{- fail (printf "the StatefulSet name %s is %d characters; Kubernetes labels its pods with it plus 11 more, 63 at most: make the release name, nameOverride or fullnameOverride at least %d characters shorter" $name (len $name) (sub (len $name) 52)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Passwords anyone would try first. Compared lower-cased; a value that is only blanks counts too.
*/}}
{{- define "geonode.guards.wellKnownPasswords" -}}
{{- toYaml (list "admin" "geonode" "geoserver" "password" "changeme" "change-me" "secret" "postgres" "redis" "root" "test" "default" "letmein" "welcome" "qwerty" "123456" "12345678" "123456789" "1234567890" "admin123" "geonode123" "password1") }}
{{- end }}

{{- define "geonode.guards.credentials" -}}
{{- $known := include "geonode.guards.wellKnownPasswords" . | fromYamlArray }}
{{- range $group := include "geonode.credentials.groups" . | fromYamlArray }}
{{- $auth := (index $.Values $group).auth }}
{{- range $key := keys $auth.secretKeys | sortAlpha }}
{{- $value := get $auth $key | toString }}
{{- if and $value (not (trim $value)) }}
{{- fail (printf "%s.auth.%s is only blanks; give a real value, or leave it empty (\"\") to have one generated" $group $key) }}
{{- end }}
{{- if has (lower (trim $value)) $known }}
{{- fail (printf "%s.auth.%s is a well-known password that is tried first; choose another, or leave it empty (\"\") to have one generated" $group $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- range $key := list "adminPassword" "geoserverAdminPassword" }}
{{- $value := get $.Values.geonode.auth $key | toString }}
{{- if and $value (lt (len $value) 12) }}
{{- fail (printf "geonode.auth.%s has %d characters; an administrator's password needs at least 12, or leave it empty (\"\") to have one generated" $key (len $value)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
An Ingress or HTTPRoute serves ports 80 and 443 for siteUrl's host. A local siteUrl on another
port (the defaults' port-forward address) with either of them on is a siteUrl left unset: the
route would answer only for that host, and GeoNode would send every browser to that port.
(http://localhost/ with kind's port mapping is fine.)
*/}}
{{- define "geonode.guards.site" -}}
{{- $host := include "geonode.siteHost" . }}
{{- $port := (urlParse .Values.siteUrl).host | splitList ":" | rest | join ":" }}
{{- $local := or (eq $host "localhost") (hasPrefix "127." $host) (hasSuffix ".localhost" $host) }}
{{- if and (or .Values.ingress.enabled .Values.httpRoute.enabled) $local $port (not (has $port (list "80" "443"))) }}
{{- fail (printf "siteUrl %s is a local port-forward address, but %s is enabled: it serves ports 80 and 443 only for the siteUrl's host, and GeoNode would send browsers to port %s; set siteUrl to the address the %s serves (e.g. https://geonode.example.org/, or http://localhost/ on kind)" .Values.siteUrl (.Values.ingress.enabled | ternary "ingress" "httpRoute") $port (.Values.ingress.enabled | ternary "Ingress" "HTTPRoute")) }}
{{- end }}
{{- end }}

{{/* geonode.email: a server to send to, one kind of TLS, a login with its password. */}}
{{- define "geonode.guards.email" -}}
{{- $email := .Values.geonode.email }}
{{- if $email.enabled }}
{{- if not $email.host }}
{{- fail "geonode.email.enabled is true but geonode.email.host is empty: set the SMTP server's host name or address" }}
{{- end }}
{{- if and $email.tls $email.ssl }}
{{- fail "geonode.email: tls (STARTTLS, port 587) and ssl (implicit TLS, port 465) are exclusive; set one of them to false" }}
{{- end }}
{{- if and $email.user (not $email.passwordSecret.name) }}
{{- fail "geonode.email.user is set but geonode.email.passwordSecret.name is empty: create a Secret with the SMTP password and name it there (the chart never generates or takes it as a value)" }}
{{- end }}
{{- if and $email.passwordSecret.name (not $email.user) }}
{{- fail "geonode.email.passwordSecret is set but geonode.email.user is empty: Django logs in to the SMTP server only with both" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The pods that share the statics and GeoServer data volumes must name one fsGroup (or none):
kubelet gives a volume the group of the pod that mounts it — a local volume only at its first
mount — so a second group would take GeoNode's write access away, depending on which pod
started first (seen on a real node: the init Job could not create static/).
*/}}
{{- define "geonode.guards.sharedVolumeGroups" -}}
{{- $pods := dict "django" .Values.django.podSecurityContext "celery.worker" .Values.celery.worker.podSecurityContext "celery.beat" .Values.celery.beat.podSecurityContext "initJob" .Values.initJob.podSecurityContext "geoserver" .Values.geoserver.podSecurityContext "nginx" .Values.nginx.podSecurityContext }}
{{- if .Values.backup.enabled }}
{{- $_ := set $pods "backup" .Values.backup.podSecurityContext }}
{{- end }}
{{- $first := "" }}
{{- range $path := keys $pods | sortAlpha }}
{{- $group := (get $pods $path | default dict).fsGroup }}
{{- if not (kindIs "invalid" $group) }}
{{- if not $first }}
{{- $first = $path }}
{{- else if ne (toString $group) (toString (get $pods $first).fsGroup) }}
{{- fail (printf "%s.podSecurityContext.fsGroup %v differs from %s.podSecurityContext.fsGroup %v: these pods share the statics and GeoServer data volumes, and kubelet gives a volume the group of whichever pod mounts it (a local volume only at its first mount), so GeoNode could lose write access; give them one fsGroup (GeoNode's 1000 by default), or none" $path $group $first (get $pods $first).fsGroup) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
