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
