{{/*
Backups (backup.*): a CronJob runs files/backup/dump-databases.sh in PostgreSQL's image, then
files/backup/backup.py in GeoNode's image; a restore runs restore.py prepare, restore-databases.sh
and restore.py files as init containers of the init Job, before its own steps. The scripts share
a scratch emptyDir; the backups live on the backup volume or in an S3 bucket.
*/}}
{{- define "geonode.backup.configName" -}}
{{- include "geonode.componentName" (dict "context" . "component" "backup-scripts") }}
{{- end }}

{{/* Where the containers that encrypt, sign or check find the backup key (backup_seal.py). */}}
{{- define "geonode.backup.keyFile" -}}/etc/geonode-k8s-backup-key/key{{- end }}

{{/* On the statics volume: which backup.restore.from the init Job has restored (restore.py). */}}
{{- define "geonode.backup.restoreRecord" -}}/mnt/volumes/statics/.geonode-k8s-restored.json{{- end }}

{{- define "geonode.backup.claimName" -}}
{{- $own := include "geonode.componentName" (dict "context" . "component" "backups") }}
{{- .Values.backup.target.pvc.existingClaim | default $own }}
{{- end }}

{{/* The backup volume is in use: backups or a restore to or from a claim. */}}
{{- define "geonode.backup.usesVolume" -}}
{{- $backup := .Values.backup }}
{{- if and (eq $backup.target.type "pvc") (or $backup.enabled $backup.restore.enabled) }}true{{ end }}
{{- end }}

{{/* pg_dump's and pg_restore's image: backup.postgresqlImage, or the embedded server's. */}}
{{- define "geonode.backup.postgresqlImage" -}}
{{- $image := .Values.backup.postgresqlImage }}
{{- if $image.repository }}
{{- include "geonode.image" (dict "context" . "path" "backup.postgresqlImage") }}
{{- else }}
{{- include "geonode.image" (dict "context" . "path" "postgresql.image") }}
{{- end }}
{{- end }}

{{/* Where backups are made and kept, for every backup and restore container. */}}
{{- define "geonode.backup.env" -}}
{{- $target := .Values.backup.target -}}
- name: BACKUP_TARGET
  value: {{ $target.type | quote }}
- name: BACKUP_SCRATCH
  value: /scratch
# The work folder of a backup in progress: on the backup volume itself, or in scratch for S3.
- name: BACKUP_ROOT
  value: {{ eq $target.type "pvc" | ternary "/backups" "/scratch" }}
- name: BACKUP_KEEP
  value: {{ .Values.backup.keep | quote }}
- name: BACKUP_KEY_FILE
  value: {{ include "geonode.backup.keyFile" . }}
{{- if eq $target.type "pvc" }}
- name: BACKUP_VOLUME
  value: /backups
{{- else }}
- name: BACKUP_S3_ENDPOINT
  value: {{ $target.s3.endpoint | quote }}
- name: BACKUP_S3_BUCKET
  value: {{ $target.s3.bucket | quote }}
- name: BACKUP_S3_PREFIX
  value: {{ $target.s3.prefix | quote }}
- name: BACKUP_S3_REGION
  value: {{ $target.s3.region | quote }}
{{- /* Without an access key, boto3 takes the pod's cloud identity (backup.serviceAccount). */}}
{{- if $target.s3.credentialsSecret.name }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $target.s3.credentialsSecret.name }}
      key: {{ $target.s3.credentialsSecret.accessKeyIdKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $target.s3.credentialsSecret.name }}
      key: {{ $target.s3.credentialsSecret.secretAccessKeyKey }}
{{- end }}
{{- end }}
- name: BACKUP_CHART
  value: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
- name: BACKUP_GEONODE_VERSION
  value: {{ .Chart.AppVersion | quote }}
- name: BACKUP_GEONODE_IMAGE
  value: {{ include "geonode.image" (dict "context" . "path" "geonode.image") | quote }}
- name: BACKUP_RESTORE_FROM
  value: {{ .Values.backup.restore.from | quote }}
- name: BACKUP_RESTORE_KIND
  value: {{ .Values.backup.restore.kind | quote }}
- name: BACKUP_RESTORE_OVERWRITE
  value: {{ .Values.backup.restore.overwrite | quote }}
- name: BACKUP_RESTORE_RECORD
  value: {{ include "geonode.backup.restoreRecord" . }}
# What is backed up besides the databases, where the pods mount it.
- name: BACKUP_GEOSERVER_DATA
  value: /geoserver_data/data
- name: BACKUP_UPLOADS
  value: /mnt/volumes/statics/uploaded
- name: BACKUP_ASSETS
  value: /mnt/volumes/statics/assets
{{ include "geonode.database.env" . }}
{{- end }}

{{/*
The scripts, scratch space and the backup volume, as a YAML list of volumes; with the database's
CA bundle unless the pod has it already (GeoNode's pods do). (dict "context" $ "databaseCA" true|false)
*/}}
{{- define "geonode.backup.volumes" -}}
{{- $root := .context }}
{{- $scripts := dict "name" (include "geonode.backup.configName" $root) "defaultMode" 0555 }}
{{- $volumes := list
  (dict "name" "backup-scripts" "configMap" $scripts)
  (dict "name" "backup-scratch" "emptyDir" (dict "sizeLimit" $root.Values.backup.scratchSizeLimit)) }}
{{- if eq $root.Values.backup.target.type "pvc" }}
{{- $claim := dict "claimName" (include "geonode.backup.claimName" $root) }}
{{- $volumes = append $volumes (dict "name" "backups" "persistentVolumeClaim" $claim) }}
{{- end }}
{{- /* The backup key as a file, for the containers that encrypt, sign or check (backup_seal.py). */}}
{{- $key := include "geonode.credentials.ref" (dict "context" $root "group" "backup" "key" "key") | fromYaml }}
{{- $keyItems := list (dict "key" $key.key "path" "key") }}
{{- $keySecret := dict "secretName" $key.name "items" $keyItems "defaultMode" 0440 }}
{{- $volumes = append $volumes (dict "name" "backup-key" "secret" $keySecret) }}
{{- if .databaseCA }}
{{- $volumes = concat $volumes (include "geonode.database.caVolumes" $root | fromYamlArray) }}
{{- end }}
{{- toYaml $volumes }}
{{- end }}

{{/* Their mounts; the shared volumes (data directory, uploads) come with GeoNode's own mounts. */}}
{{- define "geonode.backup.volumeMounts" -}}
{{- $mounts := list
  (dict "name" "backup-scripts" "mountPath" "/etc/geonode-k8s-backup" "readOnly" true)
  (dict "name" "backup-scratch" "mountPath" "/scratch") }}
{{- if eq .Values.backup.target.type "pvc" }}
{{- $mounts = append $mounts (dict "name" "backups" "mountPath" "/backups") }}
{{- end }}
{{- toYaml (concat $mounts (include "geonode.database.caVolumeMounts" . | fromYamlArray)) }}
{{- end }}

{{/*
A container of a backup or restore pod. (dict "context" $ "name" ... "image" "postgresql"|"geonode"
"command" (list ...) ["sharedVolumes" "read-only"|"read-write"] ["key" true]): PostgreSQL's image
runs the shell scripts, GeoNode's the Python ones, both with the backup's environment and mounts;
with "key", the backup key too.
*/}}
{{- define "geonode.backup.container" -}}
{{- $root := .context }}
{{- $values := $root.Values.backup }}
{{- $images := dict
  "postgresql" (include "geonode.backup.postgresqlImage" $root)
  "geonode" (include "geonode.image" (dict "context" $root "path" "geonode.image")) -}}
- name: {{ .name }}
  image: {{ index $images .image }}
  imagePullPolicy: {{ (index $root.Values .image).image.pullPolicy }}
  command:
    {{- toYaml .command | nindent 4 }}
  env:
    {{- include "geonode.backup.env" $root | nindent 4 }}
    - name: HOME
      value: /scratch
  resources:
    {{- toYaml $values.resources | nindent 4 }}
  securityContext:
    {{- toYaml $values.containerSecurityContext | nindent 4 }}
  volumeMounts:
    {{- include "geonode.backup.volumeMounts" $root | nindent 4 }}
    {{- if .key }}
    - name: backup-key
      mountPath: {{ dir (include "geonode.backup.keyFile" $root) }}
      readOnly: true
    {{- end }}
    {{- with .sharedVolumes }}
    - name: statics
      mountPath: /mnt/volumes/statics
      readOnly: {{ eq . "read-only" }}
    - name: geoserver-data
      mountPath: /geoserver_data/data
      readOnly: {{ eq . "read-only" }}
    {{- end }}
{{- end }}

{{/* The restore's three steps, as init containers of the init Job (a YAML list; none when off). */}}
{{- define "geonode.backup.restoreContainers" -}}
{{- if .Values.backup.restore.enabled }}
{{- $prepare := list "python" "/etc/geonode-k8s-backup/restore.py" "prepare" }}
{{- include "geonode.backup.container" (dict "context" . "name" "restore-prepare" "image" "geonode"
  "command" $prepare "sharedVolumes" "read-only" "key" true) }}
{{ include "geonode.backup.container" (dict "context" . "name" "restore-databases" "image" "postgresql"
  "command" (list "sh" "/etc/geonode-k8s-backup/restore-databases.sh")) }}
{{ include "geonode.backup.container" (dict "context" . "name" "restore-files" "image" "geonode"
  "command" (list "python" "/etc/geonode-k8s-backup/restore.py" "files") "sharedVolumes" "read-write") }}
{{- else }}
{{- toYaml list }}
{{- end }}
{{- end }}

{{/* Egress of backup and restore pods to the S3 endpoint, as a YAML list of rules (none for pvc). */}}
{{- define "geonode.networkPolicy.backupEgress" -}}
{{- $s3 := .Values.backup.target.s3 }}
{{- $rules := list }}
{{- if and (eq .Values.backup.target.type "s3") (or .Values.backup.enabled .Values.backup.restore.enabled) }}
{{- $url := $s3.endpoint | default (printf "https://s3.%s.amazonaws.com" $s3.region) }}
{{- $egress := dict "url" $url "networkCidrs" $s3.networkCidrs }}
{{- $rules = include "geonode.networkPolicy.urlEgress" $egress | fromYamlArray }}
{{- end }}
{{- toYaml $rules }}
{{- end }}

{{/*
GeoServer's init container while a restore is asked for: it waits until the init Job has put
the data directory back (restore.py's record of backup.restore.from), so GeoServer neither seeds
nor reads a data directory that is about to be replaced.
*/}}
{{- define "geonode.backup.waitForRestore" -}}
{{- if .Values.backup.restore.enabled }}
{{- $geoserver := .Values.geoserver }}
- name: wait-for-restore
  image: {{ include "geonode.image" (dict "context" . "path" "geoserver.image" "movingTagAllowed" true) }}
  imagePullPolicy: {{ $geoserver.image.pullPolicy }}
  command:
    - sh
    - -c
    - >-
      until grep -qF "\"requested\": \"$BACKUP_RESTORE_FROM\"" "$BACKUP_RESTORE_RECORD" 2>/dev/null;
      do echo "waiting for the init Job to restore backup $BACKUP_RESTORE_FROM"; sleep 10; done
  env:
    - name: BACKUP_RESTORE_FROM
      value: {{ .Values.backup.restore.from | quote }}
    - name: BACKUP_RESTORE_RECORD
      value: {{ include "geonode.backup.restoreRecord" . }}
  resources:
    {{- toYaml $geoserver.seed.resources | nindent 4 }}
  securityContext:
    {{- toYaml $geoserver.containerSecurityContext | nindent 4 }}
  volumeMounts:
    - name: statics
      mountPath: /mnt/volumes/statics
      readOnly: true
{{- end }}
{{- end }}

{{- define "geonode.backup.validate" -}}
{{- $backup := .Values.backup }}
{{- $key := toString $backup.auth.key }}
{{- if and $key (lt (len $key) 32) }}
{{- fail (printf "backup.auth.key has %d characters; backups are encrypted and signed with it, so it needs %s"
  (len $key) "at least 32 (e.g. openssl rand -hex 32), or leave it empty (\"\") to have one generated") }}
{{- end }}
{{- if or $backup.enabled $backup.restore.enabled }}
{{- if eq $backup.target.type "s3" }}
{{- if not $backup.target.s3.bucket }}
{{- fail "backup.target.type is s3 but backup.target.s3.bucket is empty: name the bucket backups go to" }}
{{- end }}
{{- if not (or $backup.target.s3.credentialsSecret.name (include "geonode.backup.serviceAccountName" .)) }}
{{- fail (print "backup.target.s3.credentialsSecret.name is empty: create a Secret with the access key (keys "
  "backup.target.s3.credentialsSecret.accessKeyIdKey and .secretAccessKeyKey) and name it there (the chart "
  "never takes it as a value), or give the backups a cloud identity with backup.serviceAccount") }}
{{- end }}
{{- if and $backup.target.s3.prefix (not (hasSuffix "/" $backup.target.s3.prefix)) }}
{{- fail (printf "backup.target.s3.prefix %q must end with / (each backup is a folder under it)"
  $backup.target.s3.prefix) }}
{{- end }}
{{- $networkPolicy := .Values.networkPolicy }}
{{- if and $networkPolicy.enabled (not $networkPolicy.outside.enabled) }}
{{- if not (include "geonode.networkPolicy.backupEgress" . | fromYamlArray) }}
{{- fail (print "backup.target.s3: the endpoint has a host name, and network policies allow addresses: set "
  "backup.target.s3.networkCidrs to its address ranges, or networkPolicy.outside.enabled: true for a service on "
  "the internet") }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- $claim := include "geonode.backup.claimName" . }}
{{- if and (eq $backup.target.type "pvc") (or $backup.enabled $backup.restore.enabled) }}
{{- range $volume := list (include "geonode.storage.staticsClaim" .) (include "geonode.storage.geoserverDataClaim" .) }}
{{- if eq $claim $volume }}
{{- fail (print "backup.target.pvc.existingClaim is " $claim ", a volume Django, Celery and GeoServer write: "
  "whoever takes one of them could change or delete the backups; give backups a claim of their own") }}
{{- end }}
{{- end }}
{{- end }}
{{- if and $backup.restore.enabled (not $backup.restore.from) }}
{{- fail (print "backup.restore.enabled is true but backup.restore.from is empty: name the backup (the UTC time "
  "it began, e.g. 20261127T021700Z) or latest") }}
{{- end }}
{{- $from := $backup.restore.from | default "" | toString }}
{{- $backupName := or (eq $from "latest") (regexMatch "^[0-9]{8}T[0-9]{6}Z$" $from) }}
{{- if and $backup.restore.enabled (eq $backup.restore.kind "backup") (not $backupName) }}
{{- fail (print "backup.restore.from is " ($from | quote) ", which is not latest, or a backup's name: the UTC time "
  "it began, e.g. 20261127T021700Z (kubectl -n <namespace> logs of the backup Job, or the folders of the backup "
  "volume or bucket). To import a site exported from elsewhere, set backup.restore.kind: export") }}
{{- end }}
{{- if and $backup.restore.enabled (eq $backup.restore.kind "export") $backupName }}
{{- fail (print "backup.restore.kind is export but backup.restore.from is " ($from | quote) ": name the folder "
  "holding the site's export, not latest nor a backup's name such as 20261127T021700Z (the backups' pruning "
  "takes folders named so for its own)") }}
{{- end }}
{{- end }}

{{/*
The backup pods' service account (also the init Job's while it restores): a cloud identity for
the bucket instead of an access key. Empty: none (the namespace's default, with no token).
*/}}
{{- define "geonode.backup.serviceAccountName" -}}
{{- $account := .Values.backup.serviceAccount }}
{{- if $account.create }}
{{- $account.name | default (include "geonode.componentName" (dict "context" . "component" "backup")) }}
{{- else }}
{{- $account.name }}
{{- end }}
{{- end }}
