{{/*
geonode.oidc: log in with an OpenID Connect provider through GeoNode's social login (allauth and
GeoNode's geonode_openid_connect provider). The chart's settings module builds the provider's
SOCIALACCOUNT_PROVIDERS entry from the GEONODE_K8S_OIDC_* variables below.
*/}}

{{/*
One of the provider's endpoints: the value, or Keycloak's under the issuer.
(dict "context" $ "name" "authorize"|"token"|"userinfo")
*/}}
{{- define "geonode.oidc.endpoint" -}}
{{- $oidc := .context.Values.geonode.oidc }}
{{- $paths := dict "authorize" "auth" "token" "token" "userinfo" "userinfo" }}
{{- $keycloak := printf "%s/protocol/openid-connect/%s" (trimSuffix "/" $oidc.issuer) (index $paths .name) }}
{{- index $oidc.endpoints .name | default $keycloak }}
{{- end }}

{{/* The provider's settings, the same in every GeoNode container (its app is in INSTALLED_APPS everywhere). */}}
{{- define "geonode.oidc.env" -}}
{{- $oidc := .Values.geonode.oidc }}
{{- if $oidc.enabled }}
- name: SOCIALACCOUNT_OIDC_PROVIDER_ENABLED
  value: "True"
# GeoNode's adapter, but new accounts wait for approval when geonode.accounts.approvalRequired
# says so (files/django/geonode_k8s_accounts.py).
- name: SOCIALACCOUNT_ADAPTER
  value: geonode_k8s_accounts.ApprovingOpenIDConnectAdapter
- name: ACCOUNT_OPEN_SOCIALSIGNUP
  value: {{ ternary "True" "False" $oidc.autoSignup | quote }}
- name: SOCIALACCOUNT_AUTO_SIGNUP
  value: {{ ternary "True" "False" $oidc.autoSignup | quote }}
- name: SOCIALACCOUNT_SYNC_USER_GROUPS_ON_LOGIN
  value: {{ $oidc.groupSync | quote }}
- name: GEONODE_K8S_OIDC_NAME
  value: {{ $oidc.name | quote }}
- name: GEONODE_K8S_OIDC_CLIENT_ID
  value: {{ $oidc.clientId | quote }}
- name: GEONODE_K8S_OIDC_ISSUER
  value: {{ $oidc.issuer | quote }}
{{- range $name := list "authorize" "token" "userinfo" }}
- name: {{ printf "GEONODE_K8S_OIDC_%s_URL" (upper $name) }}
  value: {{ include "geonode.oidc.endpoint" (dict "context" $ "name" $name) | quote }}
{{- end }}
- name: GEONODE_K8S_OIDC_SCOPE
  value: {{ join " " $oidc.scope | quote }}
- name: GEONODE_K8S_OIDC_PKCE
  value: {{ ternary "True" "False" $oidc.pkce | quote }}
{{- end }}
{{- end }}

{{/* The client's secret: only Django's container exchanges codes for tokens. A YAML list. */}}
{{- define "geonode.oidc.secretEnv" -}}
{{- $oidc := .Values.geonode.oidc }}
{{- $env := list }}
{{- if $oidc.enabled }}
{{- $ref := dict "name" $oidc.clientSecret.name "key" $oidc.clientSecret.key }}
{{- $env = append $env (dict "name" "GEONODE_K8S_OIDC_CLIENT_SECRET" "valueFrom" (dict "secretKeyRef" $ref)) }}
{{- end }}
{{- toYaml $env }}
{{- end }}

{{/* Django's egress to the token and userinfo endpoints, as a YAML list of rules; none when off. */}}
{{- define "geonode.networkPolicy.oidcEgress" -}}
{{- $oidc := .Values.geonode.oidc }}
{{- $rules := list }}
{{- if $oidc.enabled }}
{{- range $name := list "token" "userinfo" }}
{{- $url := include "geonode.oidc.endpoint" (dict "context" $ "name" $name) }}
{{- $egress := dict "url" $url "networkCidrs" $oidc.networkCidrs }}
{{- $rules = concat $rules (include "geonode.networkPolicy.urlEgress" $egress | fromYamlArray) }}
{{- end }}
{{- end }}
{{- toYaml (uniq $rules) }}
{{- end }}

{{/* A client with its secret, an issuer, and endpoints a browser and Django can reach. */}}
{{- define "geonode.oidc.validate" -}}
{{- $oidc := .Values.geonode.oidc }}
{{- if $oidc.enabled }}
{{- if not $oidc.clientId }}
{{- fail "geonode.oidc.enabled is true but geonode.oidc.clientId is empty: set the client's ID at the provider" }}
{{- end }}
{{- if not $oidc.clientSecret.name }}
{{- fail (print "geonode.oidc.clientSecret.name is empty: create a Secret with the client's secret (key "
  "geonode.oidc.clientSecret.key) and name it there; the chart never generates it or takes it as a value") }}
{{- end }}
{{- $own := list }}
{{- range $group := include "geonode.credentials.groups" . | fromYamlArray }}
{{- $ctx := dict "context" $ "group" $group }}
{{- $names := list (include "geonode.credentials.generatedName" $ctx) (include "geonode.credentials.givenName" $ctx) }}
{{- $own = concat $own $names }}
{{- end }}
{{- if has $oidc.clientSecret.name $own }}
{{- fail (print "geonode.oidc.clientSecret.name is " $oidc.clientSecret.name ", a Secret of the chart's own "
  "credentials: the provider would be sent one of them (Django's SECRET_KEY, say); create a Secret with the "
  "client's secret and name it there") }}
{{- end }}
{{- if not $oidc.issuer }}
{{- fail (print "geonode.oidc.issuer is empty: set the ID tokens' issuer (Keycloak: https://<host>/realms/<realm>); "
  "GeoNode refuses tokens of any other") }}
{{- end }}
{{- range $name := list "authorize" "token" "userinfo" }}
{{- $url := include "geonode.oidc.endpoint" (dict "context" $ "name" $name) }}
{{- if not (regexMatch "^https?://[^/?#]+" $url) }}
{{- fail (printf (print "geonode.oidc.endpoints.%s is %q, not an http(s) URL: set it, or geonode.oidc.issuer to "
  "a URL for Keycloak's endpoints") $name $url) }}
{{- end }}
{{- end }}
{{- if not (has "openid" $oidc.scope) }}
{{- fail "geonode.oidc.scope lacks openid: without it the provider sends no ID token" }}
{{- end }}
{{- end }}
{{- end }}
