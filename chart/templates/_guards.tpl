{{/*
Guards against values that contradict each other or Kubernetes, which only the API server or the
running software would otherwise notice (mid-install, or never). Each fails with what to change.
These are the general ones; the others live beside what they guard (geonode.guards.credentials
in credentials/, geonode.guards.site in _site.tpl, geonode.guards.sharedVolumeGroups in storage/,
each component's geonode.<component>.validate in its folder); validate/guards.yaml calls them all.
*/}}

{{/* CPU in millicores: "500m" → 500, "2" → 2000. */}}
{{- define "geonode.millicores" -}}
{{- $q := toString . }}
{{- if hasSuffix "m" $q }}{{ trimSuffix "m" $q | float64 }}{{ else }}{{ mulf ($q | float64) 1000 }}{{ end }}
{{- end }}

{{/*
Every `resources` block (and `<x>Resources`) under .values, walked recursively; .path is where it
sits, .quantity the format of its amounts (geonode.formats).
*/}}
{{- define "geonode.guards.resources" -}}
{{- range $key, $value := .values }}
{{- if kindIs "map" $value }}
{{- $path := empty $.path | ternary $key (printf "%s.%s" $.path $key) }}
{{- if or (eq $key "resources") (hasSuffix "Resources" $key) }}
{{- include "geonode.guards.limits" (dict "resources" $value "path" $path "quantity" $.quantity) }}
{{- else }}
{{- include "geonode.guards.resources" (dict "values" $value "path" $path "quantity" $.quantity) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
One `resources` block: every amount a Kubernetes quantity (in the format .quantity), and no limit
below its request, which the API server refuses.
*/}}
{{- define "geonode.guards.limits" -}}
{{- $limits := .resources.limits | default dict }}
{{- $requests := .resources.requests | default dict }}
{{- range $kind, $amounts := dict "limits" $limits "requests" $requests }}
{{- range $resource, $amount := $amounts }}
{{- $path := print $.path "." $kind "." $resource }}
{{- include "geonode.formats.check" (dict "format" $.quantity "path" $path "value" $amount) }}
{{- end }}
{{- end }}
{{- range $resource := list "memory" "cpu" }}
{{- $limit := get $limits $resource }}
{{- $request := get $requests $resource }}
{{- $amount := eq $resource "memory" | ternary "geonode.quantityBytes" "geonode.millicores" }}
{{- if and $limit $request (lt (include $amount $limit | float64) (include $amount $request | float64)) }}
{{- fail (printf "%s.limits.%s %v is below %s.requests.%s %v: Kubernetes refuses a limit under its request; %s"
  $.path $resource $limit $.path $resource $request "raise the limit or lower the request") }}
{{- end }}
{{- end }}
{{- end }}

{{/* Autoscalers and disruption budgets of the scalable components. */}}
{{- define "geonode.guards.scaling" -}}
{{- $scalable := dict "django" .Values.django "nginx" .Values.nginx "celery.worker" .Values.celery.worker
  "geoserver.readReplicas" .Values.geoserver.readReplicas }}
{{- range $path, $values := $scalable }}
{{- $hpa := $values.autoscaling }}
{{- if and $hpa.enabled (gt (int $hpa.minReplicas) (int $hpa.maxReplicas)) }}
{{- fail (printf "%s.autoscaling.minReplicas %v is above maxReplicas %v; make minReplicas at most maxReplicas"
  $path $hpa.minReplicas $hpa.maxReplicas) }}
{{- end }}
{{- $pdb := $values.podDisruptionBudget }}
{{- if and $pdb.enabled (has (toString $pdb.maxUnavailable) (list "0" "0%")) }}
{{- fail (printf "%s.podDisruptionBudget.maxUnavailable is %v: no pod could ever be evicted, so node drains %s"
  $path $pdb.maxUnavailable "and cluster upgrades would hang; allow at least 1 (or disable the budget)") }}
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
{{- $format := print "the StatefulSet name %s is %d characters; Kubernetes labels its pods with it plus 11 more, "
  "63 at most: make the release name, nameOverride or fullnameOverride at least %d characters shorter" }}
{{- fail (printf $format $name (len $name) (sub (len $name) 52)) }}
{{- end }}
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
{{- fail (print "geonode.email: tls (STARTTLS, port 587) and ssl (implicit TLS, port 465) are exclusive; "
  "set one of them to false") }}
{{- end }}
{{- if and $email.user (not $email.passwordSecret.name) }}
{{- fail (print "geonode.email.user is set but geonode.email.passwordSecret.name is empty: create a Secret "
  "with the SMTP password and name it there (the chart never generates or takes it as a value)") }}
{{- end }}
{{- if and $email.passwordSecret.name (not $email.user) }}
{{- fail (print "geonode.email.passwordSecret is set but geonode.email.user is empty: Django logs in to the "
  "SMTP server only with both") }}
{{- end }}
{{- end }}
{{- end }}
