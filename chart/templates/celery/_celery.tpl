{{- define "geonode.celery.validate" -}}
{{- if ne (int .Values.celery.beat.replicas) 1 }}
{{- fail (printf "celery.beat.replicas is %v; it must be 1: every beat schedules every periodic task, so two beats run each task twice (scale celery.worker.replicas instead)" .Values.celery.beat.replicas) }}
{{- end }}
{{- end }}
