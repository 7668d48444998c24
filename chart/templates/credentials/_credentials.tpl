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

{{/* The groups, as a YAML list. */}}
{{- define "geonode.credentials.groups" -}}
- geonode
- postgresql
- redis
- backup
{{- end }}

{{/*
The generated Secret of a group; chart 0.1.0 rendered its Secrets under these names.
(dict "context" $ "group" "redis")
*/}}
{{- define "geonode.credentials.generatedName" -}}
{{- $component := get (dict "geonode" "secrets" "backup" "backup-key") .group | default .group }}
{{- include "geonode.componentName" (dict "context" .context "component" $component) }}
{{- end }}

{{- define "geonode.credentials.givenName" -}}
{{- printf "%s-given" (include "geonode.credentials.generatedName" .) }}
{{- end }}

{{/*
The auth value keys of each group that the release uses: fills the dict given as "into" with
<group>: (list <key>...) (renders nothing). (dict "context" $ "into" $used)
*/}}
{{- define "geonode.credentials.collectUsedKeys" -}}
{{- $values := .context.Values }}
{{- $_ := set .into "geonode" (keys $values.geonode.auth.secretKeys | sortAlpha) }}
{{- /* An external server's superuser is not the chart's business. */}}
{{- $superuser := $values.postgresql.enabled | ternary (list "postgresPassword") list }}
{{- $_ := set .into "postgresql" (concat $superuser (list "geonodePassword" "geodataPassword")) }}
{{- $_ := set .into "redis" list }}
{{- if include "geonode.redis.hasPassword" .context }}
{{- $_ := set .into "redis" (list "password") }}
{{- end }}
{{- $backup := or $values.backup.enabled $values.backup.restore.enabled }}
{{- $_ := set .into "backup" ($backup | ternary (list "key") list) }}
{{- end }}

{{/*
Where pods read some credentials of a group: fills the dict given as "into" with <key>: {name,
key}, the Secret and its key, for each of "keys" (renders nothing).
(dict "context" $ "group" "postgresql" "keys" (list "geonodePassword") "into" $refs)
*/}}
{{- define "geonode.credentials.collectRefs" -}}
{{- $auth := (index .context.Values .group).auth }}
{{- $generated := include "geonode.credentials.generatedName" . }}
{{- range $key := .keys }}
{{- $name := $generated }}
{{- if $auth.existingSecret }}
{{- $name = $auth.existingSecret }}
{{- else if get $auth $key }}
{{- $name = include "geonode.credentials.givenName" $ }}
{{- end }}
{{- $_ := set $.into $key (dict "name" $name "key" (index $auth.secretKeys $key)) }}
{{- end }}
{{- end }}

{{/*
Where a pod reads one credential, as YAML {name, key}.
(dict "context" $ "group" "postgresql" "key" "geonodePassword")
*/}}
{{- define "geonode.credentials.ref" -}}
{{- $refs := dict }}
{{- include "geonode.credentials.collectRefs" (dict "context" .context "group" .group "keys" (list .key)
  "into" $refs) }}
{{- toYaml (get $refs .key) }}
{{- end }}

{{/*
An env var read from a credential, as a YAML list.
(dict "context" $ "group" "geonode" "key" "secretKey" "env" "SECRET_KEY")
*/}}
{{- define "geonode.credentials.env" -}}
{{- $refs := dict }}
{{- include "geonode.credentials.collectRefs" (dict "context" .context "group" .group "keys" (list .key)
  "into" $refs) }}
{{- toYaml (list (dict "name" .env "valueFrom" (dict "secretKeyRef" (get $refs .key)))) }}
{{- end }}

{{/*
What the credentials Job must create, as a YAML list of {secret, keys: {<Secret key>: random|long|rsa}}
(32 random characters; 64 for Django's SECRET_KEY, which Django wants at least 50 long, and for the
backup key; an RSA key):
each group without an existingSecret whose used keys are not all given. Empty: no Job.
*/}}
{{- define "geonode.credentials.plan" -}}
{{- $plan := list }}
{{- $used := dict }}
{{- include "geonode.credentials.collectUsedKeys" (dict "context" . "into" $used) }}
{{- range $group := include "geonode.credentials.groups" . | fromYamlArray }}
{{- $auth := (index $.Values $group).auth }}
{{- if not $auth.existingSecret }}
{{- $generate := dict }}
{{- range $key := get $used $group }}
{{- if not (get $auth $key) }}
{{- $kind := get (dict "oidcRsaPrivateKey" "rsa" "secretKey" "long" "key" "long") $key | default "random" }}
{{- $_ := set $generate (index $auth.secretKeys $key) $kind }}
{{- end }}
{{- end }}
{{- with $generate }}
{{- $secret := include "geonode.credentials.generatedName" (dict "context" $ "group" $group) }}
{{- $plan = append $plan (dict "secret" $secret "keys" .) }}
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
{{- $used := dict }}
{{- include "geonode.credentials.collectUsedKeys" (dict "context" . "into" $used) }}
{{- $refs := dict "rotation" (toString .Values.credentials.rotation) }}
{{- range $group, $keys := omit $used "backup" }}
{{- $groupRefs := dict }}
{{- include "geonode.credentials.collectRefs" (dict "context" $ "group" $group "keys" $keys "into" $groupRefs) }}
{{- range $key, $ref := $groupRefs }}
{{- $_ := set $refs (printf "%s.%s" $group $key) $ref }}
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
{{- $used := dict }}
{{- include "geonode.credentials.collectUsedKeys" (dict "context" .context "into" $used) }}
{{- range $key := get $used .group }}
{{- with get $auth $key }}
{{- $_ := set $data (index $auth.secretKeys $key) (toString . | b64enc) }}
{{- end }}
{{- end }}
{{- end }}
{{- if $data }}
{{- $name := include "geonode.credentials.givenName" . }}
{{- $rotation := toString .context.Values.credentials.rotation }}
{{- $stored := lookup "v1" "Secret" .context.Release.Namespace $name }}
{{- if $stored }}
{{- $storedRotation := index ($stored.metadata.annotations | default dict) "geonode-k8s/rotation" | default "" }}
{{- if eq $storedRotation $rotation }}
{{- range $key, $value := $data }}
{{- $old := index ($stored.data | default dict) $key | default "" }}
{{- if and $old (ne $old $value) }}
{{- fail (printf "%s.auth: the credential stored as %q changed but credentials.rotation did not; %s"
  $.group $key (print "set credentials.rotation to a new value (any text, e.g. today's date) so the servers "
  "and every pod that uses it restart with it")) }}
{{- end }}
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
{{- fail (printf "%s.auth: with %s.auth.existingSecret set, leave these empty (the Secret holds them): %s; %s"
  $group $group (join ", " .) "or unset existingSecret to give the values here") }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Passwords anyone would try first, as a YAML list. */}}
{{- define "geonode.guards.wellKnownPasswords" -}}
{{- toYaml (list "admin" "geonode" "geoserver" "password" "changeme" "change-me" "secret" "postgres" "redis"
  "root" "test" "default" "letmein" "welcome" "qwerty" "123456" "12345678" "123456789" "1234567890" "admin123"
  "geonode123" "password1") }}
{{- end }}

{{/*
Credentials given as values that are as good as none: only blanks, a well-known password
(compared lower-cased and trimmed), an administrator's password too short to resist guessing.
*/}}
{{- define "geonode.guards.credentials" -}}
{{- $known := include "geonode.guards.wellKnownPasswords" . | fromYamlArray }}
{{- range $group := include "geonode.credentials.groups" . | fromYamlArray }}
{{- $auth := (index $.Values $group).auth }}
{{- range $key := keys $auth.secretKeys | sortAlpha }}
{{- $value := get $auth $key | toString }}
{{- if and $value (not (trim $value)) }}
{{- fail (printf "%s.auth.%s is only blanks; give a real value, or leave it empty (\"\") to have one generated"
  $group $key) }}
{{- end }}
{{- if has (lower (trim $value)) $known }}
{{- fail (printf "%s.auth.%s is a well-known password that is tried first; choose another, or leave it %s"
  $group $key "empty (\"\") to have one generated") }}
{{- end }}
{{- end }}
{{- end }}
{{- range $key := list "adminPassword" "geoserverAdminPassword" }}
{{- $value := get $.Values.geonode.auth $key | toString }}
{{- if and $value (lt (len $value) 12) }}
{{- fail (printf "geonode.auth.%s has %d characters; an administrator's password needs at least 12, or %s"
  $key (len $value) "leave it empty (\"\") to have one generated") }}
{{- end }}
{{- end }}
{{- end }}
