{{- define "geonode.celery.validate" -}}
{{- if ne (int .Values.celery.beat.replicas) 1 }}
{{- fail (printf (print "celery.beat.replicas is %v; it must be 1: every beat schedules every periodic task, "
  "so two beats run each task twice (scale celery.worker.replicas instead)") .Values.celery.beat.replicas) }}
{{- end }}
{{- end }}

{{/* The worker's command, a YAML list (the app quoted: YAML would read an app named on or no as a boolean). */}}
{{- define "geonode.celery.workerCommand" -}}
{{- $values := .Values.celery.worker }}
- celery
- -A
- {{ .Values.geonode.project.celeryApp | quote }}
- worker
- --hostname=worker@%h
- --concurrency={{ $values.concurrency }}
- --without-gossip
- --without-mingle
- -Ofair
- --events
- --max-tasks-per-child=10
- --max-memory-per-child={{ $values.maxMemoryPerChildKB }}
- --statedb=/tmp/worker.state
- --loglevel=INFO
{{- end }}

{{/* Beat's command, a YAML list: its schedule in /tmp and no pid file (the root filesystem is read-only). */}}
{{- define "geonode.celery.beatCommand" -}}
- celery
- -A
- {{ .Values.geonode.project.celeryApp | quote }}
- beat
- --scheduler=celery.beat:PersistentScheduler
- --schedule=/tmp/celerybeat-schedule
- --pidfile=
- --loglevel=INFO
{{- end }}
