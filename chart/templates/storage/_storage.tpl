{{/*
The two volumes GeoNode's pods share: statics (static files, uploads, assets) and the GeoServer
data directory. With ReadWriteOnce storage (the default, what every cluster has) all pods that
mount them must run on the node the volumes are attached to; geonode.storage.addAffinity puts
them there. With ReadWriteMany they may spread across nodes.
*/}}
{{- define "geonode.storage.claimName" -}}
{{- $volume := index .context.Values.storage .volume }}
{{- $volume.existingClaim | default (include "geonode.componentName" .) }}
{{- end }}

{{- define "geonode.storage.staticsClaim" -}}
{{- include "geonode.storage.claimName" (dict "context" . "volume" "statics" "component" "statics") }}
{{- end }}

{{- define "geonode.storage.geoserverDataClaim" -}}
{{- include "geonode.storage.claimName" (dict "context" . "volume" "geoserverData" "component" "geoserver-data") }}
{{- end }}

{{- define "geonode.storage.readWriteMany" -}}
{{- if eq .Values.storage.accessMode "ReadWriteMany" }}true{{ end }}
{{- end }}

{{/* The label that marks pods mounting the shared volumes. */}}
{{- define "geonode.storage.groupLabel" -}}
geonode.org/shared-volumes: {{ .Release.Name | quote }}
{{- end }}

{{/*
Adds to the affinity of a pod that mounts the shared volumes (a dict, changed in place; renders
nothing): with ReadWriteOnce, required co-location with the other such pods of the release (the
first one may go anywhere, the rest follow it). (dict "context" $ "affinity" <dict>)
*/}}
{{- define "geonode.storage.addAffinity" -}}
{{- $affinity := .affinity }}
{{- if not (include "geonode.storage.readWriteMany" .context) }}
{{- $group := include "geonode.storage.groupLabel" .context | fromYaml }}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" $group) }}
{{- $podAffinity := $affinity.podAffinity | default dict }}
{{- $required := $podAffinity.requiredDuringSchedulingIgnoredDuringExecution | default list }}
{{- $_ := set $podAffinity "requiredDuringSchedulingIgnoredDuringExecution" (append $required $term) }}
{{- $_ := set $affinity "podAffinity" $podAffinity }}
{{- end }}
{{- end }}

{{/* The images of every pod that mounts the shared volumes, as a YAML list. */}}
{{- define "geonode.storage.sharedImages" -}}
{{- $geoserver := .Values.geoserver }}
{{- $images := list .Values.geonode.image $geoserver.image .Values.nginx.image }}
{{- if $geoserver.seed.dataImage.enabled }}{{ $images = append $images $geoserver.seed.dataImage }}{{ end }}
{{- toYaml $images }}
{{- end }}

{{/*
With ReadWriteOnce storage every pod mounting the shared volumes must share one node, so a
spread across nodes cannot be scheduled: refuse it with what to change.
*/}}
{{- define "geonode.storage.validate" -}}
{{- if not (include "geonode.storage.readWriteMany" .) }}
{{- range $component := list "django" "nginx" "geoserver" }}
{{- range (index $.Values $component).topologySpreadConstraints }}
{{- $strict := eq (.whenUnsatisfiable | default "DoNotSchedule") "DoNotSchedule" }}
{{- if and (eq .topologyKey "kubernetes.io/hostname") $strict }}
{{- $format := print "%s.topologySpreadConstraints spreads pods across nodes (kubernetes.io/hostname, "
  "DoNotSchedule), but storage.accessMode is ReadWriteOnce, which keeps every pod mounting the shared volumes "
  "on one node: use storage.accessMode ReadWriteMany, or whenUnsatisfiable: ScheduleAnyway" }}
{{- fail (printf $format $component) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A PersistentVolumeClaim of the release that Helm never deletes (uninstall, rename, a value
turned off); an empty storageClass is global.storageClass's. (dict "context" $ "component" ...
"accessModes" (list ...) "storageClass" ... "size" ... "why" <comment>)
*/}}
{{- define "geonode.keptClaim" -}}
{{- $ctx := dict "context" .context "component" .component }}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ include "geonode.componentName" $ctx }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- include "geonode.labels" $ctx | nindent 4 }}
  annotations:
    # {{ .why }}
    helm.sh/resource-policy: keep
spec:
  accessModes:
    {{- toYaml .accessModes | nindent 4 }}
  {{- with .storageClass | default .context.Values.global.storageClass }}
  storageClassName: {{ . | quote }}
  {{- end }}
  resources:
    requests:
      storage: {{ .size | quote }}
{{- end }}

{{/*
The pods that share the statics and GeoServer data volumes must name one fsGroup (or none):
kubelet gives a volume the group of the pod that mounts it — a local volume only at its first
mount — so a second group would take GeoNode's write access away, depending on which pod
started first (seen on a real node: the init Job could not create static/).
*/}}
{{- define "geonode.guards.sharedVolumeGroups" -}}
{{- $pods := dict }}
{{- include "geonode.collectPodValues" (dict "context" . "into" $pods) }}
{{- $sharing := list "celery.beat" "celery.worker" "django" "geoserver" "initJob" "nginx" }}
{{- if .Values.backup.enabled }}
{{- $sharing = append $sharing "backup" }}
{{- end }}
{{- $first := "" }}
{{- $firstGroup := "" }}
{{- range $path := sortAlpha $sharing }}
{{- $group := ((get $pods $path).podSecurityContext | default dict).fsGroup }}
{{- if not (kindIs "invalid" $group) }}
{{- if not $first }}
{{- $first = $path }}
{{- $firstGroup = $group }}
{{- else if ne (toString $group) (toString $firstGroup) }}
{{- $format := print "%s.podSecurityContext.fsGroup %v differs from %s.podSecurityContext.fsGroup %v: these "
  "pods share the statics and GeoServer data volumes, and kubelet gives a volume the group of whichever pod "
  "mounts it (a local volume only at its first mount), so GeoNode could lose write access; give them one "
  "fsGroup (GeoNode's 1000 by default), or none" }}
{{- fail (printf $format $path $group $first $firstGroup) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
