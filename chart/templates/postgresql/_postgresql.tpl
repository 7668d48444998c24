{{/* PostgreSQL + PostGIS: GeoNode's database (geonode) and its datastore (geonode_data). */}}
{{- define "geonode.postgresql.fullname" -}}
{{- include "geonode.componentName" (dict "context" . "component" "postgresql") }}
{{- end }}

{{/* The Secret holding the database passwords: the user's existing one, or the chart's. */}}
{{- define "geonode.postgresql.secretName" -}}
{{- .Values.postgresql.auth.existingSecret | default (include "geonode.postgresql.fullname" .) }}
{{- end }}

{{/* An env var read from that Secret: (dict "context" $ "env" "POSTGRES_PASSWORD" "key" "postgresPassword") */}}
{{- define "geonode.postgresql.secretEnv" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ include "geonode.postgresql.secretName" .context }}
      key: {{ index .context.Values.postgresql.auth.secretKeys .key }}
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
{{- if and $auth.existingSecret (or $auth.postgresPassword $auth.geonodePassword $auth.geodataPassword) }}
{{- fail "postgresql.auth: with postgresql.auth.existingSecret set, leave postgresPassword, geonodePassword and geodataPassword empty (the Secret holds them)" }}
{{- end }}
{{- $dbs := .Values.postgresql.databases }}
{{- if eq $dbs.geonode.name $dbs.geodata.name }}
{{- fail "postgresql.databases: geonode.name and geodata.name must differ (GeoNode keeps its site and its uploaded layers in separate databases)" }}
{{- end }}
{{- end }}
