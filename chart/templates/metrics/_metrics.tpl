{{/*
Metrics (metrics.*): an exporter container beside nginx, the embedded PostgreSQL and the embedded
Redis, each on its pod's "metrics" port; the PodMonitors, the PrometheusRule and the dashboard
read what they export. An external database or Redis is the operator's to monitor.
*/}}

{{/* Where nginx serves stub_status for its exporter: the pod's loopback only. */}}
{{- define "geonode.metrics.stubStatusPort" -}}8081{{- end }}

{{/*
The exporters that run, as a YAML list of {component, port}: none unless metrics.enabled; the
database's and the broker's only when the chart runs them.
*/}}
{{- define "geonode.metrics.exporters" -}}
{{- $exporters := list }}
{{- if .Values.metrics.enabled }}
{{- $exporters = append $exporters (dict "component" "nginx" "port" 9113) }}
{{- if .Values.postgresql.enabled }}
{{- $exporters = append $exporters (dict "component" "postgresql" "port" 9187) }}
{{- end }}
{{- if .Values.redis.enabled }}
{{- $exporters = append $exporters (dict "component" "redis" "port" 9121) }}
{{- end }}
{{- end }}
{{- toYaml $exporters }}
{{- end }}

{{/* The port of a component's exporter, empty when it has none. (dict "context" $ "component" "nginx") */}}
{{- define "geonode.metrics.port" -}}
{{- range include "geonode.metrics.exporters" .context | fromYamlArray }}
{{- if eq .component $.component }}{{ .port }}{{ end }}
{{- end }}
{{- end }}

{{/*
A component's exporter container, as a one-item YAML list for the pod's containers: the image
metrics.<component>.image, its arguments, env and mounts, the "metrics" port, an HTTP probe on
the exporter's landing page, no root and nothing writable. Renders nothing when the component
has no exporter. (dict "context" $ "component" "redis" ["args" (list ...)] ["env" (list ...)]
["volumeMounts" (list ...)])
*/}}
{{- define "geonode.metrics.exporter" -}}
{{- with include "geonode.metrics.port" . }}
{{- $metrics := $.context.Values.metrics }}
{{- $port := int . }}
{{- $handler := dict "httpGet" (dict "path" "/" "port" "metrics") -}}
- name: metrics
  image: {{ include "geonode.image" (dict "context" $.context "path" (printf "metrics.%s.image" $.component)) }}
  imagePullPolicy: {{ (index $metrics $.component).image.pullPolicy }}
  args:
    {{- toYaml (append ($.args | default list) (printf "--web.listen-address=:%d" $port)) | nindent 4 }}
  {{- with $.env }}
  env:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    - name: metrics
      containerPort: {{ $port }}
      protocol: TCP
  {{- include "geonode.probes" (dict "handler" $handler "probes" $metrics.probes) | trim | nindent 2 }}
  resources:
    {{- toYaml (index $metrics $.component).resources | nindent 4 }}
  securityContext:
    {{- toYaml $metrics.containerSecurityContext | nindent 4 }}
  {{- with $.volumeMounts }}
  volumeMounts:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
Adds to a component's policy the ingress of metrics.prometheus.from to its exporter, when it has
one. (dict "policy" $policy)
*/}}
{{- define "geonode.networkPolicy.allowMetrics" -}}
{{- $context := .policy.context }}
{{- with include "geonode.metrics.port" (dict "context" $context "component" .policy.component) }}
{{- $ports := list (dict "port" (int .) "protocol" "TCP") }}
{{- $rule := dict "from" $context.Values.metrics.prometheus.from "ports" $ports }}
{{- include "geonode.networkPolicy.allow" (dict "policy" $.policy "ingress" (list $rule)) }}
{{- end }}
{{- end }}

{{/*
The metadata of a Prometheus Operator or Grafana object of the chart: its name, the namespace
.values names (else the release's), the chart's labels and .values.labels.
(dict "context" $ "component" "nginx" "values" .Values.metrics.podMonitor)
*/}}
{{- define "geonode.metrics.metadata" -}}
metadata:
  name: {{ include "geonode.componentName" . }}
  namespace: {{ .values.namespace | default .context.Release.Namespace }}
  labels:
    {{- include "geonode.labels" . | nindent 4 }}
    {{- with .values.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .values.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
The exporters need someone to scrape them: with network policies on, only metrics.prometheus.from
may, and the monitors and rules have nothing to read without the exporters.
*/}}
{{- define "geonode.metrics.validate" -}}
{{- $metrics := .Values.metrics }}
{{- if and $metrics.enabled .Values.networkPolicy.enabled (not $metrics.prometheus.from) }}
{{- fail (print "metrics.enabled: the network policies let only metrics.prometheus.from reach the exporters, and it "
  "is empty; name your Prometheus's pods (docs/monitoring.md), or set networkPolicy.enabled: false") }}
{{- end }}
{{- range $switch := list "podMonitor" "prometheusRule" "dashboard" }}
{{- if and (index $metrics $switch).enabled (not $metrics.enabled) }}
{{- fail (print "metrics." $switch ".enabled needs metrics.enabled: true (the exporters it reads)") }}
{{- end }}
{{- end }}
{{- end }}
