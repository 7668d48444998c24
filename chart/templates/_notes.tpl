{{/*
How to reach a site that has no Ingress, HTTPRoute or load balancer: a port-forward to nginx on a
local port above 1024 (no root needed). Only a siteUrl of http://localhost:<port>/ can be browsed
that way; for any other address the notes say what exposes it. (dict "context" $ "service" <name>)
*/}}
{{- define "geonode.notes.portForward" -}}
{{- $ns := .context.Release.Namespace }}
{{- $host := include "geonode.siteHost" .context }}
{{- $port := include "geonode.sitePort" .context }}
{{- $local := include "geonode.siteIsLocal" .context }}
{{- $plain := eq (include "geonode.siteScheme" .context) "http" }}
{{- if and $local $plain $port (ge (atoi $port) 1024) }}
  after forwarding that local port to nginx:
  kubectl -n {{ $ns }} port-forward svc/{{ .service }} {{ $port }}:80
{{- else if $local }}
  after forwarding a local port to nginx, which speaks plain http, from a port anyone may open: set
  siteUrl to http://localhost:8080/ for that, then
  kubectl -n {{ $ns }} port-forward svc/{{ .service }} 8080:80
{{- else }}
  once something sends {{ $host }} there: ingress.enabled, httpRoute.enabled (docs/gateway-api.md)
  or nginx.service.type LoadBalancer. Until then, a look through a local port (links and logins
  follow siteUrl, so they lead to {{ $host }}):
  kubectl -n {{ $ns }} port-forward svc/{{ .service }} 8080:80
  curl -H 'Host: {{ $host }}' http://localhost:8080/
{{- end }}
{{- end }}

{{/*
Values still holding the example files' placeholders (hosts of example.org and the like, the
sample cluster names, account numbers and "replace-me"), as a YAML list of what holds them.
*/}}
{{- define "geonode.notes.placeholders" -}}
{{- $found := list }}
{{- $placeholder := "(^|[.])example([.](org|com|net))?$|mycluster|replace-me|123456789012" }}
{{- $host := include "geonode.siteHost" . }}
{{- if regexMatch $placeholder $host }}
{{- $found = append $found (printf "siteUrl's host %s" $host) }}
{{- end }}
{{- range $key, $value := .Values.ingress.annotations }}
{{- if regexMatch $placeholder (toString $value) }}
{{- $found = append $found (printf "the Ingress annotation %s" $key) }}
{{- end }}
{{- end }}
{{- if regexMatch $placeholder .Values.ingress.tls.secretName }}
{{- $found = append $found (printf "ingress.tls.secretName %s" .Values.ingress.tls.secretName) }}
{{- end }}
{{- toYaml $found }}
{{- end }}
