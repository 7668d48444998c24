{{/* PostgreSQL + PostGIS: GeoNode's database (geonode) and its datastore (geonode_data). */}}
{{- define "geonode.postgresql.fullname" -}}
{{- include "geonode.componentName" (dict "context" . "component" "postgresql") }}
{{- end }}

{{/* Where GeoNode and GeoServer find PostgreSQL: the embedded Service, or the external server. */}}
{{- define "geonode.database.host" -}}
{{- if .Values.postgresql.enabled }}
{{- printf "%s.%s.svc" (include "geonode.postgresql.fullname" .) .Release.Namespace }}
{{- else }}
{{- .Values.postgresql.external.host }}
{{- end }}
{{- end }}

{{- define "geonode.database.port" -}}
{{- .Values.postgresql.enabled | ternary .Values.postgresql.service.port .Values.postgresql.external.port }}
{{- end }}

{{/* Where a database client finds both databases, as whom, and how (GeoNode's pods, backups). */}}
{{- define "geonode.database.env" -}}
- name: DATABASE_HOST
  value: {{ include "geonode.database.host" . | quote }}
- name: DATABASE_PORT
  value: {{ include "geonode.database.port" . | quote }}
{{- with include "geonode.database.tlsEnv" . }}
{{ . }}
{{- end }}
{{ include "geonode.database.ownerEnv" (dict "context" . "database" "geonode") }}
{{ include "geonode.database.ownerEnv" (dict "context" . "database" "geodata") }}
{{- end }}

{{/*
One database's name, owner and owner's password as env entries: GEONODE_DATABASE* for GeoNode's
own ("geonode"), GEONODE_GEODATABASE* for the datastore of uploaded layers ("geodata").
(dict "context" $ "database" "geonode"|"geodata")
*/}}
{{- define "geonode.database.ownerEnv" -}}
{{- $db := index .context.Values.postgresql.databases .database }}
{{- $env := eq .database "geonode" | ternary "GEONODE_DATABASE" "GEONODE_GEODATABASE" -}}
- name: {{ $env }}
  value: {{ $db.name | quote }}
- name: {{ $env }}_USER
  value: {{ $db.user | quote }}
{{ include "geonode.credentials.env" (dict "context" .context "group" "postgresql" "key" (print .database "Password")
  "env" (print $env "_PASSWORD")) }}
{{- end }}

{{- define "geonode.database.caDir" -}}/etc/geonode-k8s-postgresql-ca{{- end }}

{{/*
TLS to an external server (postgresql.external.tls): libpq's PGSSLMODE and PGSSLROOTCERT, which
Django, Celery, the init Job and GDAL read as they are, and GeoServer's start script copies into
GeoFence's JDBC URL, as env entries (none for the embedded server). The CA bundle is mounted
read-only beside the chart's config.
*/}}
{{- define "geonode.database.tlsEnv" -}}
{{- $tls := .Values.postgresql.external.tls }}
{{- if and (not .Values.postgresql.enabled) $tls.sslmode -}}
- name: PGSSLMODE
  value: {{ $tls.sslmode }}
{{- if or $tls.caBundle.configMap $tls.caBundle.secret }}
- name: PGSSLROOTCERT
  value: {{ include "geonode.database.caDir" . }}/{{ $tls.caBundle.key }}
{{- end }}
{{- end }}
{{- end }}

{{/* The CA bundle's volume and mount, as YAML lists (empty without a bundle). */}}
{{- define "geonode.database.caVolumes" -}}
{{- $bundle := .Values.postgresql.external.tls.caBundle }}
{{- $volumes := list }}
{{- if and (not .Values.postgresql.enabled) $bundle.configMap }}
{{- $configMap := dict "name" $bundle.configMap "defaultMode" 0444 }}
{{- $volumes = append $volumes (dict "name" "postgresql-ca" "configMap" $configMap) }}
{{- else if and (not .Values.postgresql.enabled) $bundle.secret }}
{{- $secret := dict "secretName" $bundle.secret "defaultMode" 0444 }}
{{- $volumes = append $volumes (dict "name" "postgresql-ca" "secret" $secret) }}
{{- end }}
{{- toYaml $volumes }}
{{- end }}

{{- define "geonode.database.caVolumeMounts" -}}
{{- $mounts := list }}
{{- if include "geonode.database.caVolumes" . | fromYamlArray }}
{{- $mount := dict "name" "postgresql-ca" "mountPath" (include "geonode.database.caDir" .) "readOnly" true }}
{{- $mounts = append $mounts $mount }}
{{- end }}
{{- toYaml $mounts }}
{{- end }}

{{- define "geonode.postgresql.validate" -}}
{{- $auth := .Values.postgresql.auth }}
{{- if not .Values.postgresql.enabled }}
{{- if not .Values.postgresql.external.host }}
{{- fail (print "postgresql.enabled is false, so GeoNode needs an external database: set postgresql.external.host "
  "(and port), and the passwords in postgresql.auth (existingSecret, or geonodePassword and geodataPassword)") }}
{{- end }}
{{- if not (or $auth.existingSecret (and $auth.geonodePassword $auth.geodataPassword)) }}
{{- fail (print "postgresql.external: an external database has passwords of its own; set "
  "postgresql.auth.existingSecret, or both postgresql.auth.geonodePassword and geodataPassword (generated ones "
  "would not match)") }}
{{- end }}
{{- end }}
{{- $tls := .Values.postgresql.external.tls }}
{{- $tlsChanged := or (ne $tls.sslmode "verify-full") $tls.caBundle.configMap $tls.caBundle.secret }}
{{- if and .Values.postgresql.enabled $tlsChanged }}
{{- fail (print "postgresql.external.tls is set, but postgresql.enabled is true: the embedded PostgreSQL serves "
  "without TLS inside the cluster; set postgresql.enabled: false for an external server, or leave "
  "postgresql.external.tls as it is by default") }}
{{- end }}
{{- if and $tls.caBundle.configMap $tls.caBundle.secret }}
{{- fail "postgresql.external.tls.caBundle: set configMap or secret, not both" }}
{{- end }}
{{- $bundle := or $tls.caBundle.configMap $tls.caBundle.secret }}
{{- if and (not .Values.postgresql.enabled) (has $tls.sslmode (list "verify-ca" "verify-full")) (not $bundle) }}
{{- $format := print "postgresql.external.tls.sslmode is %s, which checks the server's certificate against a CA: "
  "set postgresql.external.tls.caBundle.configMap or .secret to the CA certificates (PEM) that signed it" }}
{{- fail (printf $format $tls.sslmode) }}
{{- end }}
{{- if and $bundle (not (has $tls.sslmode (list "verify-ca" "verify-full"))) }}
{{- $format := print "postgresql.external.tls.caBundle is set, but sslmode %q does not check the server's "
  "certificate with it: set postgresql.external.tls.sslmode to verify-full (or verify-ca)" }}
{{- fail (printf $format $tls.sslmode) }}
{{- end }}
{{- $dbs := .Values.postgresql.databases }}
{{- range $key := list "geonode" "geodata" }}
{{- $db := get $dbs $key }}
{{- if or (eq $db.user "postgres") (hasPrefix "pg_" $db.user) }}
{{- fail (print "postgresql.databases." $key ".user is " $db.user ", the server's superuser or a name PostgreSQL "
  "keeps for itself: GeoNode and GeoServer would hold a superuser's password. Give the database an owner of its "
  "own, e.g. " (get (dict "geonode" "geonode" "geodata" "geonode_data") $key)) }}
{{- end }}
{{- if has $db.name (list "postgres" "template0" "template1") }}
{{- fail (print "postgresql.databases." $key ".name is " $db.name ", a database the server keeps for itself "
  "(its superuser works there): give GeoNode a database of its own, e.g. "
  (get (dict "geonode" "geonode" "geodata" "geonode_data") $key)) }}
{{- end }}
{{- end }}
{{- if eq $dbs.geonode.user $dbs.geodata.user }}
{{- $format := print "postgresql.databases: geonode.user and geodata.user are both %q; give each database its "
  "own owner (GeoNode's site and the uploaded layers are kept apart, and one password change would otherwise "
  "lock out both)" }}
{{- fail (printf $format $dbs.geonode.user) }}
{{- end }}
{{- if eq $dbs.geonode.name $dbs.geodata.name }}
{{- fail (print "postgresql.databases: geonode.name and geodata.name must differ (GeoNode keeps its site and its "
  "uploaded layers in separate databases)") }}
{{- end }}
{{- end }}
