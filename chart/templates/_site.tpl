{{/*
The site's public address. One value, siteUrl, drives SITEURL, ALLOWED_HOSTS, GeoServer's public
URLs, the OAuth2 redirect URI, cookie security and the Ingress host, so they cannot disagree.
*/}}

{{/* siteUrl with exactly one trailing slash, as GeoNode's SITEURL wants it. */}}
{{- define "geonode.siteUrl" -}}
{{- printf "%s/" (trimSuffix "/" .Values.siteUrl) }}
{{- end }}

{{/* siteUrl without the trailing slash (GeoServer's NGINX_BASE_URL breaks with one). */}}
{{- define "geonode.siteBase" -}}
{{- trimSuffix "/" .Values.siteUrl }}
{{- end }}

{{- define "geonode.siteScheme" -}}
{{- (urlParse .Values.siteUrl).scheme }}
{{- end }}

{{/* The host name, without port. */}}
{{- define "geonode.siteHost" -}}
{{- (split ":" (urlParse .Values.siteUrl).host)._0 }}
{{- end }}

{{/* "True" when the site is served over https: cookies are then marked Secure. */}}
{{- define "geonode.siteSecure" -}}
{{- if eq (include "geonode.siteScheme" .) "https" }}True{{ else }}False{{ end }}
{{- end }}

{{/* siteUrl's port; empty when it names none. */}}
{{- define "geonode.sitePort" -}}
{{- (urlParse .Values.siteUrl).host | splitList ":" | rest | join ":" }}
{{- end }}

{{/* "true" when siteUrl's host is this machine (a port-forward's address); empty otherwise. */}}
{{- define "geonode.siteIsLocal" -}}
{{- $host := include "geonode.siteHost" . }}
{{- if or (eq $host "localhost") (hasPrefix "127." $host) (hasSuffix ".localhost" $host) }}true{{ end }}
{{- end }}

{{/*
An Ingress or HTTPRoute serves ports 80 and 443 for siteUrl's host. A local siteUrl on another
port (the defaults' port-forward address) with either of them on is a siteUrl left unset: the
route would answer only for that host, and GeoNode would send every browser to that port.
(http://localhost/ with kind's port mapping is fine.)
*/}}
{{- define "geonode.guards.site" -}}
{{- $port := include "geonode.sitePort" . }}
{{- $local := include "geonode.siteIsLocal" . }}
{{- $routed := or .Values.ingress.enabled .Values.httpRoute.enabled }}
{{- if and $routed $local $port (not (has $port (list "80" "443"))) }}
{{- $route := .Values.ingress.enabled | ternary "ingress" "httpRoute" }}
{{- $kind := .Values.ingress.enabled | ternary "Ingress" "HTTPRoute" }}
{{- $format := print "siteUrl %s is a local port-forward address, but %s is enabled: it serves ports 80 and 443 "
  "only for the siteUrl's host, and GeoNode would send browsers to port %s; set siteUrl to the address the %s "
  "serves (e.g. https://geonode.example.org/, or http://localhost/ on kind)" }}
{{- fail (printf $format .Values.siteUrl $route $port $kind) }}
{{- end }}
{{- end }}
