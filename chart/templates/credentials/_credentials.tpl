{{/*
Credentials. Four groups of auth values (geonode.auth, postgresql.auth, redis.auth, backup.auth);
each key a pod uses is read from one of three Secrets:
- the group's existingSecret, when the user set one (every key of the group);
- else a value given explicitly: the group's "-given" Secret, which the chart renders;
- else a value left empty: the group's generated Secret, which the credentials Job creates once
  in the cluster and the chart never renders. No render (helm, Argo CD, Flux, `helm template |
  kubectl apply`) can therefore change a generated credential, and renders are the same with or
  without a cluster.
*/}}

{{- define "geonode.credentials.groups" -}}
{{- toYaml (list "geonode" "postgresql" "redis" "backup") }}
{{- end }}

{{/* The generated Secret of a group; chart 0.1.0 rendered its Secrets under these names. (dict "context" $ "group" "redis") */}}
{{- define "geonode.credentials.generatedName" -}}
{{- $component := get (dict "geonode" "secrets" "backup" "backup-key") .group | default .group }}
{{- include "geonode.componentName" (dict "context" .context "component" $component) }}
{{- end }}

{{- define "geonode.credentials.givenName" -}}
{{- printf "%s-given" (include "geonode.credentials.generatedName" .) }}
{{- end }}

{{/* The auth value keys of a group that the release uses, as a YAML list. (dict "context" $ "group" ...) */}}
{{- define "geonode.credentials.usedKeys" -}}
{{- $values := .context.Values }}
{{- if eq .group "geonode" }}
{{- toYaml (keys $values.geonode.auth.secretKeys | sortAlpha) }}
{{- else if eq .group "postgresql" }}
{{- /* An external server's superuser is not the chart's business. */}}
{{- toYaml (concat ($values.postgresql.enabled | ternary (list "postgresPassword") list) (list "geonodePassword" "geodataPassword")) }}
{{- else if eq .group "backup" }}
{{- toYaml ((or $values.backup.enabled $values.backup.restore.enabled) | ternary (list "key") list) }}
{{- else if include "geonode.redis.hasPassword" .context }}
{{- toYaml (list "password") }}
{{- else }}
{{- toYaml list }}
{{- end }}
{{- end }}

{{/* Where a pod reads one credential, as YAML {name, key}. (dict "context" $ "group" "postgresql" "key" "geonodePassword") */}}
{{- define "geonode.credentials.ref" -}}
{{- $auth := (index .context.Values .group).auth }}
{{- $name := include "geonode.credentials.generatedName" . }}
{{- if $auth.existingSecret }}
{{- $name = $auth.existingSecret }}
{{- else if get $auth .key }}
{{- $name = include "geonode.credentials.givenName" . }}
{{- end }}
{{- toYaml (dict "name" $name "key" (index $auth.secretKeys .key)) }}
{{- end }}

{{/* An env var read from a credential. (dict "context" $ "group" "geonode" "key" "secretKey" "env" "SECRET_KEY") */}}
{{- define "geonode.credentials.env" -}}
{{- $ref := include "geonode.credentials.ref" . | fromYaml }}
{{- toYaml (list (dict "name" .env "valueFrom" (dict "secretKeyRef" $ref))) }}
{{- end }}

{{/*
What the credentials Job must create, as a YAML list of {secret, keys: {<Secret key>: random|long|rsa}}
(32 random characters; 64 for Django's SECRET_KEY, which Django wants at least 50 long, and for the
backup key; an RSA key):
each group without an existingSecret whose used keys are not all given. Empty: no Job.
*/}}
{{- define "geonode.credentials.plan" -}}
{{- $plan := list }}
{{- range $group := include "geonode.credentials.groups" . | fromYamlArray }}
{{- $ctx := dict "context" $ "group" $group }}
{{- $auth := (index $.Values $group).auth }}
{{- if not $auth.existingSecret }}
{{- $generate := dict }}
{{- range $key := include "geonode.credentials.usedKeys" $ctx | fromYamlArray }}
{{- if not (get $auth $key) }}
{{- $kind := get (dict "oidcRsaPrivateKey" "rsa" "secretKey" "long" "key" "long") $key | default "random" }}
{{- $_ := set $generate (index $auth.secretKeys $key) $kind }}
{{- end }}
{{- end }}
{{- with $generate }}
{{- $plan = append $plan (dict "secret" (include "geonode.credentials.generatedName" $ctx) "keys" .) }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $plan }}
{{- end }}

{{/*
The pod-template annotation that restarts every pod using credentials when credentials.rotation
changes, or when a credential moves between Secrets. It hashes where each credential is read,
never a credential: a hash of a password in a pod annotation can be reversed by a dictionary.
The backup key is read only by the pods of a backup or a restore, each a new pod.
*/}}
{{- define "geonode.credentials.checksumAnnotation" -}}
{{- $refs := dict "rotation" (toString .Values.credentials.rotation) }}
{{- range $group := without (include "geonode.credentials.groups" . | fromYamlArray) "backup" }}
{{- range $key := include "geonode.credentials.usedKeys" (dict "context" $ "group" $group) | fromYamlArray }}
{{- $_ := set $refs (printf "%s.%s" $group $key) (include "geonode.credentials.ref" (dict "context" $ "group" $group "key" $key) | fromYaml) }}
{{- end }}
{{- end }}
checksum/credentials: {{ toYaml $refs | sha256sum }}
{{- end }}

{{/*
The "-given" Secret of a group, with the credentials given explicitly, when it has any. Where a
cluster can be read (helm install/upgrade), a changed value with an unchanged
credentials.rotation is refused: without a restart, PostgreSQL or Redis would keep the old
password while the next pod to start brought the new one.
(dict "context" $ "group" "postgresql")
*/}}
{{- define "geonode.credentials.givenSecret" -}}
{{- $auth := (index .context.Values .group).auth }}
{{- $data := dict }}
{{- if not $auth.existingSecret }}
{{- range $key := include "geonode.credentials.usedKeys" . | fromYamlArray }}
{{- with get $auth $key }}{{ $_ := set $data (index $auth.secretKeys $key) (toString . | b64enc) }}{{ end }}
{{- end }}
{{- end }}
{{- if $data }}
{{- $name := include "geonode.credentials.givenName" . }}
{{- $rotation := toString .context.Values.credentials.rotation }}
{{- $stored := lookup "v1" "Secret" .context.Release.Namespace $name }}
{{- if and $stored (eq (index ($stored.metadata.annotations | default dict) "geonode-k8s/rotation" | default "") $rotation) }}
{{- range $key, $value := $data }}
{{- $old := index ($stored.data | default dict) $key | default "" }}
{{- if and $old (ne $old $value) }}
{{- fail (printf "%s.auth: the credential stored as %q changed but credentials.rotation did not; set credentials.rotation to a new value (any text, e.g. today's date) so the servers and every pod that uses it restart with it" $.group $key) }}
{{- end }}
{{- end }}
{{- end }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ $name }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- include "geonode.labels" (dict "context" .context "component" "credentials") | nindent 4 }}
  annotations:
    geonode-k8s/rotation: {{ $rotation | quote }}
type: Opaque
data:
  {{- toYaml $data | nindent 2 }}
{{- end }}
{{- end }}

{{/* Credentials contradicting each other. */}}
{{- define "geonode.credentials.validate" -}}
{{- range $group := include "geonode.credentials.groups" . | fromYamlArray }}
{{- $auth := (index $.Values $group).auth }}
{{- if $auth.existingSecret }}
{{- $given := list }}
{{- range $key := keys $auth.secretKeys | sortAlpha }}
{{- if get $auth $key }}{{ $given = append $given $key }}{{ end }}
{{- end }}
{{- with $given }}
{{- fail (printf "%s.auth: with %s.auth.existingSecret set, leave these empty (the Secret holds them): %s; or unset existingSecret to give the values here" $group $group (join ", " .)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
