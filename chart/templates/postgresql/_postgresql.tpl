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

{{- define "geonode.postgresql.validate" -}}
{{- $auth := .Values.postgresql.auth }}
{{- if not .Values.postgresql.enabled }}
{{- if not .Values.postgresql.external.host }}
{{- fail "postgresql.enabled is false, so GeoNode needs an external database: set postgresql.external.host (and port), and the passwords in postgresql.auth (existingSecret, or geonodePassword and geodataPassword)" }}
{{- end }}
{{- if not (or $auth.existingSecret (and $auth.geonodePassword $auth.geodataPassword)) }}
{{- fail "postgresql.external: an external database has passwords of its own; set postgresql.auth.existingSecret, or both postgresql.auth.geonodePassword and geodataPassword (generated ones would not match)" }}
{{- end }}
{{- end }}
{{- $dbs := .Values.postgresql.databases }}
{{- if eq $dbs.geonode.user $dbs.geodata.user }}
{{- fail (printf "postgresql.databases: geonode.user and geodata.user are both %q; give each database its own owner (GeoNode's site and the uploaded layers are kept apart, and one password change would otherwise lock out both)" $dbs.geonode.user) }}
{{- end }}
{{- if eq $dbs.geonode.name $dbs.geodata.name }}
{{- fail "postgresql.databases: geonode.name and geodata.name must differ (GeoNode keeps its site and its uploaded layers in separate databases)" }}
{{- end }}
{{- end }}
