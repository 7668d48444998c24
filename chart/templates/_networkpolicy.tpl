{{/*
Network policies (networkPolicy.*): each component's pods accept only the connections GeoNode
needs and reach only their peers, DNS and, where networkPolicy.outside allows it, addresses
outside the cluster; never the cloud metadata address. Rules are built as dicts and written with
toYaml; each component's folder has its networkpolicy.yaml.
*/}}

{{/* The GeoNode workloads: Django, the Celery worker and beat, the init Job. */}}
{{- define "geonode.networkPolicy.geonodeComponents" -}}
{{- toYaml (list "django" "celery-worker" "celery-beat" "init") }}
{{- end }}

{{/* A peer: the release's pods of these components. (dict "context" $ "components" (list ...)) */}}
{{- define "geonode.networkPolicy.pods" -}}
podSelector:
  matchLabels:
    app.kubernetes.io/name: {{ include "geonode.name" .context }}
    app.kubernetes.io/instance: {{ .context.Release.Name }}
  matchExpressions:
    - key: app.kubernetes.io/component
      operator: In
      values:
        {{- toYaml .components | nindent 8 }}
{{- end }}

{{/* A rule to or from the release's pods of these components on one port. (dict "context" $ "components" (list ...) "port" N "direction" "from"|"to") */}}
{{- define "geonode.networkPolicy.podsRule" -}}
{{- $peer := include "geonode.networkPolicy.pods" . | fromYaml }}
{{- toYaml (dict .direction (list $peer) "ports" (list (dict "port" (int .port) "protocol" "TCP"))) }}
{{- end }}

{{/*
A server outside the release, reached by address: its egress rule as a YAML list, none when its
address ranges are unknown (networkPolicy.validate refuses that), never a rule without
destinations, which would allow every one. The ranges are .server's networkCidrs, or its host
when that is an IPv4 address. (dict "server" <values with host, networkCidrs> "port" N)
*/}}
{{- define "geonode.networkPolicy.addressEgress" -}}
{{- $cidrs := .server.networkCidrs }}
{{- if and (not $cidrs) (regexMatch "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$" (toString .server.host)) }}
{{- $cidrs = list (printf "%s/32" .server.host) }}
{{- end }}
{{- $peers := list }}
{{- range $cidrs }}{{ $peers = append $peers (dict "ipBlock" (dict "cidr" .)) }}{{ end }}
{{- $rules := list }}
{{- with $peers }}
{{- $rules = append $rules (dict "to" . "ports" (list (dict "port" (int $.port) "protocol" "TCP"))) }}
{{- end }}
{{- toYaml $rules }}
{{- end }}

{{/*
Egress to a service named by an http(s) URL: its host (an address, or networkCidrs) on the URL's
port or its scheme's. (dict "url" ... "networkCidrs" (list ...)); a YAML list of rules.
*/}}
{{- define "geonode.networkPolicy.urlEgress" -}}
{{- $url := urlParse .url }}
{{- $port := regexFind ":[0-9]+$" $url.host | trimPrefix ":" | default (eq $url.scheme "https" | ternary "443" "80") }}
{{- $host := regexReplaceAll ":[0-9]+$" $url.host "" }}
{{- include "geonode.networkPolicy.addressEgress" (dict "server" (dict "host" $host "networkCidrs" .networkCidrs) "port" $port) }}
{{- end }}

{{/*
Egress to an embedded service (its pods) or its external counterpart: its pods by their labels
when it runs in the cluster (external.podSelector; pod addresses are not reliably matched by
address ranges), else its address ranges; as a YAML list of rules.
(dict "context" $ "service" "postgresql"|"redis" "port" <embedded port>)
*/}}
{{- define "geonode.networkPolicy.serviceEgress" -}}
{{- $values := index .context.Values .service }}
{{- if $values.enabled }}
{{- toYaml (list (include "geonode.networkPolicy.podsRule" (dict "context" .context "components" (list .service) "port" .port "direction" "to") | fromYaml)) }}
{{- else if $values.external.podSelector }}
{{- $peer := dict "podSelector" (dict "matchLabels" $values.external.podSelector) }}
{{- with $values.external.namespaceSelector }}
{{- $_ := set $peer "namespaceSelector" (dict "matchLabels" .) }}
{{- end }}
{{- toYaml (list (dict "to" (list $peer) "ports" (list (dict "port" (int $values.external.port) "protocol" "TCP")))) }}
{{- else }}
{{- include "geonode.networkPolicy.addressEgress" (dict "server" $values.external "port" $values.external.port) }}
{{- end }}
{{- end }}

{{/* External services need addresses for their egress rules; names cannot be allowed. */}}
{{- define "geonode.networkPolicy.validate" -}}
{{- if .Values.networkPolicy.enabled }}
{{- range $service := list "postgresql" "redis" }}
{{- $values := index $.Values $service }}
{{- if and (not $values.enabled) (not (include "geonode.networkPolicy.serviceEgress" (dict "context" $ "service" $service "port" 0) | fromYamlArray)) }}
{{- fail (printf "%s.external.host %q is a name, and network policies allow addresses: set %s.external.networkCidrs to the address ranges it resolves to (e.g. [10.0.3.0/24]), %s.external.podSelector to its pods' labels when it runs in the cluster, or networkPolicy.enabled: false" $service (toString $values.external.host) $service $service) }}
{{- end }}
{{- end }}
{{- $email := .Values.geonode.email }}
{{- if and $email.enabled $email.host (not .Values.networkPolicy.outside.enabled) (not (include "geonode.networkPolicy.emailEgress" . | fromYamlArray)) }}
{{- fail (printf "geonode.email.host %q is a name, and network policies allow addresses: set geonode.email.networkCidrs to the SMTP server's address ranges (e.g. [10.0.9.25/32]), or networkPolicy.outside.enabled: true for a server on the internet" (toString $email.host)) }}
{{- end }}
{{- $oidc := .Values.geonode.oidc }}
{{- if and $oidc.enabled (not .Values.networkPolicy.outside.enabled) (not (include "geonode.networkPolicy.oidcEgress" . | fromYamlArray)) }}
{{- fail (printf "geonode.oidc: the provider's token endpoint %q has a host name, and network policies allow addresses: set geonode.oidc.networkCidrs to the provider's address ranges, or networkPolicy.outside.enabled: true for a provider on the internet" (include "geonode.oidc.endpoint" (dict "context" . "name" "token"))) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Egress to the SMTP server (geonode.email) of the pods that send mail (Django, the Celery worker),
as a YAML list of rules; none when e-mail is off.
*/}}
{{- define "geonode.networkPolicy.emailEgress" -}}
{{- $email := .Values.geonode.email }}
{{- if $email.enabled }}
{{- include "geonode.networkPolicy.addressEgress" (dict "server" $email "port" $email.port) }}
{{- else }}
{{- toYaml list }}
{{- end }}
{{- end }}

{{/* What every GeoNode workload reaches: both databases, Redis, GeoServer and memcached. */}}
{{- define "geonode.networkPolicy.geonodeEgress" -}}
{{- $rules := include "geonode.networkPolicy.serviceEgress" (dict "context" . "service" "postgresql" "port" 5432) | fromYamlArray }}
{{- $rules = concat $rules (include "geonode.networkPolicy.serviceEgress" (dict "context" . "service" "redis" "port" 6379) | fromYamlArray) }}
{{- $rules = append $rules (include "geonode.networkPolicy.podsRule" (dict "context" . "components" (list "geoserver") "port" 8080 "direction" "to") | fromYaml) }}
{{- if .Values.memcached.enabled }}
{{- $rules = append $rules (include "geonode.networkPolicy.podsRule" (dict "context" . "components" (list "memcached") "port" 11211 "direction" "to") | fromYaml) }}
{{- end }}
{{- toYaml $rules }}
{{- end }}

{{/*
A NetworkPolicy for one component's pods: only the ingress and egress rules given (none: all
denied), plus DNS when "dns" is true, addresses outside the cluster when "outside" is true and
networkPolicy.outside.enabled, and the user's extra rules for the component.
(dict "context" $ "component" "django" "ingress" (list ...) "egress" (list ...) ["dns" true] ["outside" true])
*/}}
{{- define "geonode.networkPolicy" -}}
{{- $np := .context.Values.networkPolicy }}
{{- if $np.enabled }}
{{- $egress := .egress | default list }}
{{- if .dns }}
{{- $egress = append $egress (dict "to" $np.dns.to "ports" $np.dns.ports) }}
{{- end }}
{{- if and .outside $np.outside.enabled }}
{{- /* The cloud metadata address is never reachable, whatever the except list says. */}}
{{- $except := uniq (append $np.outside.except "169.254.169.254/32") }}
{{- $egress = append $egress (dict "to" (list (dict "ipBlock" (dict "cidr" "0.0.0.0/0" "except" $except)))) }}
{{- end }}
{{- $egress = concat $egress (index $np.extraEgress .component | default list) }}
{{- $ingress := concat (.ingress | default list) (index $np.extraIngress .component | default list) }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "geonode.componentName" . }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- include "geonode.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "geonode.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  {{- with $ingress }}
  ingress:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $egress }}
  egress:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
