{{/*
GeoNode's own credentials, in one Secret (or the user's existingSecret): Django's SECRET_KEY, the
admin password, the OAuth2 client GeoServer logs in through, and GeoServer's admin password.
Each one not given explicitly is generated once and kept (see geonode.secretValue).
*/}}
{{- define "geonode.secrets.name" -}}
{{- .Values.geonode.auth.existingSecret | default (include "geonode.componentName" (dict "context" . "component" "secrets")) }}
{{- end }}

{{/* An env var read from that Secret: (dict "context" $ "env" "SECRET_KEY" "key" "secretKey") */}}
{{- define "geonode.secrets.env" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ include "geonode.secrets.name" .context }}
      key: {{ index .context.Values.geonode.auth.secretKeys .key }}
{{- end }}
