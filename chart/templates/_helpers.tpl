{{/*
Names. Every resource name comes from these helpers; names are cut to 63 characters because
most Kubernetes names are DNS labels.
*/}}
{{- define "geonode.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "geonode.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The name of one component's objects: geonode.componentName (dict "context" $ "component" "redis") */}}
{{- define "geonode.componentName" -}}
{{- printf "%s-%s" (include "geonode.fullname" .context) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "geonode.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of a component. FROZEN: selectors are immutable, so these three labels may
never change, or upgrades fail. Never add a label here.
*/}}
{{- define "geonode.selectorLabels" -}}
app.kubernetes.io/name: {{ include "geonode.name" .context }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of a component's objects. */}}
{{- define "geonode.labels" -}}
{{ include "geonode.selectorLabels" . }}
app.kubernetes.io/part-of: geonode
app.kubernetes.io/version: {{ .context.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .context.Release.Service }}
helm.sh/chart: {{ include "geonode.chart" .context }}
{{- with .context.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
An image reference from the values at `path` ({registry, repository, tag, digest}): a digest wins
over the tag; an empty registry is global.imageRegistry's (a mirror), else the repository's own.
Moving tags are refused, since they change what runs without a change to the chart, except where
the template says upstream publishes nothing else ("movingTagAllowed": the GeoServer images).
Call with (dict "context" $ "path" "redis.image" ["movingTagAllowed" true]).
*/}}
{{- define "geonode.image" -}}
{{- $image := .context.Values }}
{{- range splitList "." .path }}{{ $image = index $image . }}{{ end }}
{{- $repo := $image.repository }}
{{- with $image.registry | default .context.Values.global.imageRegistry }}
{{- $repo = printf "%s/%s" . $image.repository }}
{{- end }}
{{- if $image.digest }}
{{- printf "%s@%s" $repo $image.digest }}
{{- else }}
{{- $tag := toString $image.tag }}
{{- if or (eq $tag "latest") (and (hasSuffix "-latest" $tag) (not .movingTagAllowed)) }}
{{- fail (printf "%s.tag %q moves; set a fixed version tag or %s.digest" .path $tag .path) }}
{{- end }}
{{- if not (regexMatch "[0-9][.][0-9]" $tag) }}
{{- fail (printf "%s.tag %q names no major.minor version, so it follows whatever is newest; %s"
  .path $tag (printf "set a version tag (e.g. 1.30.4-alpine) or %s.digest" .path)) }}
{{- end }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}
{{- end }}

{{/*
The pod-template annotation that rolls pods when a ConfigMap or Secret of the chart changes.
The key is checksum/<object name>, which the harness's config-checksum rule looks for.
Call with (dict "context" $ "name" <object name> "template" "/redis/configmap.yaml").
*/}}
{{- define "geonode.checksumAnnotation" -}}
checksum/{{ .name }}: {{ include (print .context.Template.BasePath .template) .context | sha256sum }}
{{- end }}

{{/*
Scheduling fields of a pod. Call with (dict "context" $ "component" <name> "values" .Values.<component>
["sharedVolumes" true] ["images" (list <image values>...)]): pods that mount the shared volumes
get the storage affinity; the images (by default the component's own .values.image), and its
metrics exporter's when it runs one, keep the pod on nodes of their architectures.
*/}}
{{- define "geonode.scheduling" -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $affinity := deepCopy (.values.affinity | default dict) }}
{{- if .sharedVolumes }}
{{- include "geonode.storage.addAffinity" (dict "context" .context "affinity" $affinity) }}
{{- end }}
{{- $images := .images | default (compact (list .values.image)) }}
{{- /* The component's metrics exporter runs in the pod too. */}}
{{- if include "geonode.metrics.port" (dict "context" .context "component" .component) }}
{{- $images = append $images (index .context.Values.metrics .component).image }}
{{- end }}
{{- if and .sharedVolumes (not (include "geonode.storage.readWriteMany" .context)) }}
{{- /* Co-located on one node: the first pod decides the node, so each must fit every image. */}}
{{- $images = concat $images (include "geonode.storage.sharedImages" .context | fromYamlArray) }}
{{- end }}
{{- include "geonode.addArchitectureAffinity" (dict "affinity" $affinity "images" $images) }}
{{- with $affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
{{- /* A constraint without a labelSelector counts the component's own pods. */}}
{{- $own := dict "matchLabels" (include "geonode.selectorLabels" $ | fromYaml) }}
{{- $spread := list }}
{{- range . }}
{{- if hasKey . "labelSelector" }}
{{- $spread = append $spread . }}
{{- else }}
{{- $spread = append $spread (merge (dict "labelSelector" $own) .) }}
{{- end }}
{{- end }}
topologySpreadConstraints:
  {{- toYaml $spread | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Adds to the affinity given (a dict, changed in place) every image's architectures as required of
the node: one `kubernetes.io/arch In [...]` expression per image that names architectures, added
to each of the user's node selector terms (terms are alternatives, so each must carry it) or as
the only term. Renders nothing. (dict "affinity" <dict> "images" (list <image values>...))
*/}}
{{- define "geonode.addArchitectureAffinity" -}}
{{- $affinity := .affinity }}
{{- $expressions := list }}
{{- range .images }}
{{- with .architectures }}
{{- $expressions = append $expressions (dict "key" "kubernetes.io/arch" "operator" "In" "values" .) }}
{{- end }}
{{- end }}
{{- $expressions = uniq $expressions }}
{{- if $expressions }}
{{- $nodeAffinity := $affinity.nodeAffinity | default dict }}
{{- $required := $nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution | default dict }}
{{- $terms := list }}
{{- range ($required.nodeSelectorTerms | default (list dict)) }}
{{- $matchExpressions := concat (.matchExpressions | default list) $expressions }}
{{- $terms = append $terms (merge (dict "matchExpressions" $matchExpressions) (omit . "matchExpressions")) }}
{{- end }}
{{- $_ := set $required "nodeSelectorTerms" $terms }}
{{- $_ := set $nodeAffinity "requiredDuringSchedulingIgnoredDuringExecution" $required }}
{{- $_ := set $affinity "nodeAffinity" $nodeAffinity }}
{{- end }}
{{- end }}

{{/*
A probe: the component's fixed handler (how to ask) merged with the timing from values (how
often, how patient). Call with (dict "handler" (dict ...) "timing" .Values.x.probes.readiness).
*/}}
{{- define "geonode.probe" -}}
{{- toYaml (merge (deepCopy .handler) (omit .timing "enabled")) }}
{{- end }}

{{/*
The parts every pod spec of the chart shares. Call with (dict "context" $ "component" <name>
"values" .Values.<component> ["sharedVolumes" true] ["images" (list ...)] ["serviceAccountName" ...]
["stop" (include "geonode.gracefulStop" ... | fromYaml)]; see geonode.scheduling). No
service-account token is mounted (the one pod given a service account, the credentials Job,
mounts a short-lived one of its own), and no service-link env vars.
*/}}
{{- define "geonode.podSpecCommon" -}}
automountServiceAccountToken: false
{{- with .serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
enableServiceLinks: false
{{- with .stop }}
terminationGracePeriodSeconds: {{ .terminationGracePeriodSeconds }}
{{- end }}
{{- with .context.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .values.podSecurityContext | nindent 2 }}
{{- include "geonode.scheduling" . }}
{{- end }}

{{/*
Pod template labels: the component's labels plus its podLabels.
Call with (dict "context" $ "component" "redis" "values" .Values.redis).
*/}}
{{- define "geonode.podLabels" -}}
{{ include "geonode.labels" . }}
{{- with .values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The `data` volume of a StatefulSet: a claim template when persistence is enabled without an
existing claim (kept when the StatefulSet is deleted or scaled); otherwise geonode.dataVolume.
Call with (dict "context" $ "component" "redis" "values" .Values.redis), at the spec's indentation.
*/}}
{{- define "geonode.dataVolumeClaim" -}}
{{- $persistence := .values.persistence }}
{{- if and $persistence.enabled (not $persistence.existingClaim) }}
persistentVolumeClaimRetentionPolicy:
  whenDeleted: Retain
  whenScaled: Retain
volumeClaimTemplates:
  - metadata:
      name: data
      labels:
        {{- include "geonode.selectorLabels" . | nindent 8 }}
    spec:
      accessModes:
        {{- toYaml $persistence.accessModes | nindent 8 }}
      {{- with $persistence.storageClass | default .context.Values.global.storageClass }}
      storageClassName: {{ . | quote }}
      {{- end }}
      resources:
        requests:
          storage: {{ $persistence.size | quote }}
{{- end }}
{{- end }}

{{/*
The `data` volume when no claim template provides it: the existing claim named in values, or an
emptyDir when persistence is off. An entry of `volumes`; pass the component's values.
*/}}
{{- define "geonode.dataVolume" -}}
{{- if not .persistence.enabled }}
- name: data
  emptyDir:
    sizeLimit: {{ .persistence.size }}
{{- else if .persistence.existingClaim }}
- name: data
  persistentVolumeClaim:
    claimName: {{ .persistence.existingClaim }}
{{- end }}
{{- end }}

{{/*
A Service (ClusterIP unless "type" says otherwise, with "annotations" if given) in front of one
component's pods, with one named port.
Call with (dict "context" $ "component" "redis" "portName" "redis" "port" 6379), and "more" (list (dict
"name" "cache" "port" 6380)) for more ports.
*/}}
{{- define "geonode.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "geonode.componentName" . }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- include "geonode.labels" . | nindent 4 }}
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .type | default "ClusterIP" }}
  selector:
    {{- include "geonode.selectorLabels" . | nindent 4 }}
  ports:
    {{- range $port := prepend (.more | default list) (dict "name" .portName "port" .port) }}
    - name: {{ $port.name }}
      port: {{ $port.port }}
      targetPort: {{ $port.name }}
      protocol: TCP
    {{- end }}
{{- end }}

{{/*
A PodDisruptionBudget for a scalable component, when its values enable one.
Call with (dict "context" $ "component" "django" "values" .Values.django).
*/}}
{{- define "geonode.pdb" -}}
{{- if .values.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "geonode.componentName" . }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- include "geonode.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "geonode.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/*
A HorizontalPodAutoscaler on CPU for a scalable Deployment, when its values enable one.
Call with (dict "context" $ "component" "django" "values" .Values.django).
*/}}
{{- define "geonode.hpa" -}}
{{- $autoscaling := .values.autoscaling }}
{{- if $autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "geonode.componentName" . }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- include "geonode.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "geonode.componentName" . }}
  minReplicas: {{ $autoscaling.minReplicas }}
  maxReplicas: {{ $autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end }}

{{/*
A Kubernetes memory quantity (256Mi, 1Gi, 512M, 1e9, 1000000) in bytes, as an integer.
*/}}
{{- define "geonode.quantityBytes" -}}
{{- $q := toString . }}
{{- $unit := regexFind "(Ki|Mi|Gi|Ti|k|M|G|T)$" $q }}
{{- $factors := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000
  "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 }}
{{- mulf (trimSuffix $unit $q | float64) (get $factors $unit) | floor | int64 }}
{{- end }}

{{/*
A graceful stop for a pod that serves requests, as YAML {terminationGracePeriodSeconds,
lifecycle}: preStop sleeps drainSeconds while the pod leaves the Service's endpoints (new
requests go elsewhere), then the server's stop signal lets it finish the requests it has (an
upload among them) for up to the longest one may take, before Kubernetes kills it.
(dict "drainSeconds" N "longestRequestSeconds" N)
*/}}
{{- define "geonode.gracefulStop" -}}
{{- $grace := add .drainSeconds .longestRequestSeconds 5 }}
{{- $preStop := dict "sleep" (dict "seconds" .drainSeconds) }}
{{- toYaml (dict "terminationGracePeriodSeconds" $grace "lifecycle" (dict "preStop" $preStop)) }}
{{- end }}

{{/*
The values of every part of the chart that makes pods, by their path in the values: for the
checks that read each one's security contexts or pod labels. Fills the dict given as "into"
(renders nothing): (dict "context" $ "into" $pods).
*/}}
{{- define "geonode.collectPodValues" -}}
{{- $v := .context.Values }}
{{- $pods := dict "django" $v.django "celery.worker" $v.celery.worker "celery.beat" $v.celery.beat
  "initJob" $v.initJob "geoserver" $v.geoserver "nginx" $v.nginx "postgresql" $v.postgresql
  "redis" $v.redis "memcached" $v.memcached "credentials" $v.credentials "backup" $v.backup
  "tests" $v.tests }}
{{- range $path, $values := $pods }}
{{- $_ := set $.into $path $values }}
{{- end }}
{{- end }}
