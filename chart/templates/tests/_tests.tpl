{{/*
A `helm test` pod: runs chart/files/tests/smoke.py against nginx's Service with the site's Host.
Call with (dict "context" $ "check" "api" "path" "/api/v2/" "expect" "resources").
*/}}
{{- define "geonode.testPod" -}}
{{- $root := .context }}
{{- $ctx := dict "context" $root "component" (printf "test-%s" .check) }}
{{- $values := $root.Values.tests }}
{{- $nginx := include "geonode.componentName" (dict "context" $root "component" "nginx") }}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "geonode.componentName" $ctx }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "geonode.labels" $ctx | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  restartPolicy: Never
  {{- $podSpec := merge (dict "values" $values "images" (list $root.Values.geonode.image)) $ctx }}
  {{- include "geonode.podSpecCommon" $podSpec | nindent 2 }}
  containers:
    - name: smoke
      image: {{ include "geonode.image" (dict "context" $root "path" "geonode.image") }}
      imagePullPolicy: {{ $root.Values.geonode.image.pullPolicy }}
      command:
        - python
        - -c
        - {{ $root.Files.Get "files/tests/smoke.py" | quote }}
        - {{ printf "http://%s.%s.svc%s" $nginx $root.Release.Namespace .path | quote }}
        - {{ .expect | quote }}
      env:
        - name: SITE_HOST
          value: {{ include "geonode.siteHost" $root | quote }}
        - name: SITE_SCHEME
          value: {{ include "geonode.siteScheme" $root | quote }}
        - name: PYTHONDONTWRITEBYTECODE
          value: "1"
      resources:
        {{- toYaml $values.resources | nindent 8 }}
      securityContext:
        {{- toYaml $values.containerSecurityContext | nindent 8 }}
{{- end }}
