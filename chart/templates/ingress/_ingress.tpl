{{/* What the Ingress and the HTTPRoute need of the values; validate/guards.yaml calls it first. */}}
{{- define "geonode.ingress.validate" -}}
{{- $ingress := .Values.ingress }}
{{- if and $ingress.enabled $ingress.tls.enabled (ne (include "geonode.siteScheme" .) "https") }}
{{- fail (printf "ingress.tls.enabled is true but siteUrl %q is http: %s" .Values.siteUrl
  (printf "set siteUrl to https://%s/ so links, cookies and GeoServer's login use https"
  (include "geonode.siteHost" .))) }}
{{- end }}
{{- if and .Values.httpRoute.enabled (not .Values.httpRoute.parentRefs) }}
{{- fail (print "httpRoute.enabled needs httpRoute.parentRefs: the Gateway(s) to attach to, "
  "e.g. [{name: my-gateway, namespace: gateway-system}]") }}
{{- end }}
{{- end }}
