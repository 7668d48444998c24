{{/*
Network policies (networkPolicy.*): each component's pods accept only the connections GeoNode
needs and reach only their peers, DNS and, where networkPolicy.outside allows it, addresses
outside the cluster; never the cloud metadata address. Each component's folder has its
networkpolicy.yaml: it starts a policy as a dict, the allow* helpers below add rules to the
dict's ingress and egress lists (in place, so no rule goes through YAML and back), and
geonode.networkPolicy writes it with toYaml.
*/}}

{{/*
An IP address as its bits ("0101..."; 32 for IPv4, 128 for IPv6), for the metadata address checks.
Templates have no address arithmetic: IPv4's octets are printed in binary, IPv6's hex digits looked up.
*/}}
{{- define "geonode.ipBits" -}}
{{- $address := toString . }}
{{- if contains ":" $address }}
{{- $halves := splitList "::" $address }}
{{- $head := (first $halves) | splitList ":" | compact }}
{{- $tail := ((len $halves) | eq 2 | ternary (last $halves) "") | splitList ":" | compact }}
{{- $hextets := $head }}
{{- range until (sub 8 (add (len $head) (len $tail)) | int) }}{{ $hextets = append $hextets "0" }}{{ end }}
{{- $hextets = concat $hextets $tail }}
{{- $nibbles := dict "0" "0000" "1" "0001" "2" "0010" "3" "0011" "4" "0100" "5" "0101" "6" "0110" "7" "0111"
  "8" "1000" "9" "1001" "a" "1010" "b" "1011" "c" "1100" "d" "1101" "e" "1110" "f" "1111" }}
{{- range $hextets }}
{{- range splitList "" (printf "%4s" (lower .) | replace " " "0") }}{{ get $nibbles . }}{{ end }}
{{- end }}
{{- else }}
{{- range splitList "." $address }}{{ printf "%08b" (atoi .) }}{{ end }}
{{- end }}
{{- end }}

{{/* "true" when the CIDR (dict "cidr" "10.0.0.0/8" "address" "10.1.2.3") holds the address. */}}
{{- define "geonode.cidrContains" -}}
{{- $cidr := splitList "/" (toString .cidr) }}
{{- $network := include "geonode.ipBits" (first $cidr) }}
{{- $address := include "geonode.ipBits" .address }}
{{- if eq (len $network) (len $address) }}
{{- $prefix := (len $cidr) | eq 2 | ternary (last $cidr) (len $network) | int }}
{{- if eq (substr 0 $prefix $network) (substr 0 $prefix $address) }}true{{ end }}
{{- end }}
{{- end }}

{{/*
Egress rules with every ipBlock that holds a cloud metadata address made to except it, whoever
wrote the rule (the chart, networkCidrs, extraEgress, apiServer.to); a rule without destinations
(every address) or a block that is nothing but such an address is refused. Replaces .rules with
the rules so checked. (dict "rules" (list ...) "component" "django")
*/}}
{{- define "geonode.networkPolicy.exceptMetadata" -}}
{{- $component := .component }}
{{- /* Where clouds serve instance metadata and credentials (AWS, GCP, Azure; Alibaba; AWS over IPv6). */}}
{{- $metadata := list "169.254.169.254" "100.100.100.200" "fd00:ec2::254" }}
{{- $rules := list }}
{{- range $rule := .rules }}
{{- if not $rule.to }}
{{- fail (print "networkPolicy: an egress rule of " $component " names no destinations (to), so it allows every "
  "address, the cloud metadata address too; list the peers it is for (networkPolicy.extraEgress)") }}
{{- end }}
{{- $peers := list }}
{{- range $peer := $rule.to }}
{{- with $peer.ipBlock }}
{{- $cidr := splitList "/" .cidr }}
{{- $bits := include "geonode.ipBits" (first $cidr) | len }}
{{- $except := .except | default list }}
{{- range $address := $metadata }}
{{- $excepted := false }}
{{- range $except }}
{{- if include "geonode.cidrContains" (dict "cidr" . "address" $address) }}{{ $excepted = true }}{{ end }}
{{- end }}
{{- if include "geonode.cidrContains" (dict "cidr" $peer.ipBlock.cidr "address" $address) }}
{{- if or (eq (len $cidr) 1) (eq (int (last $cidr)) $bits) }}
{{- fail (print "networkPolicy: an egress rule of " $component " leads to " $peer.ipBlock.cidr ", the cloud "
  "metadata address (instance credentials); give the service's own address (its host, networkCidrs, or the "
  "rule in networkPolicy.extraEgress or apiServer.to)") }}
{{- end }}
{{- if not $excepted }}
{{- $except = append $except (printf "%s/%d" $address (contains ":" $address | ternary 128 32)) }}
{{- end }}
{{- end }}
{{- end }}
{{- if $except }}
{{- $peer = merge (dict "ipBlock" (merge (dict "except" $except) (omit . "except"))) (omit $peer "ipBlock") }}
{{- end }}
{{- end }}
{{- $peers = append $peers $peer }}
{{- end }}
{{- $rules = append $rules (merge (dict "to" $peers) (omit $rule "to")) }}
{{- end }}
{{- $_ := set . "rules" $rules }}
{{- end }}

{{/* The GeoNode workloads: Django, the Celery worker and beat, the init Job. */}}
{{- define "geonode.networkPolicy.geonodeComponents" -}}
{{- toYaml (list "django" "celery-worker" "celery-beat" "init") }}
{{- end }}

{{/*
The GeoServers that reach PostgreSQL and Django as GeoServer: the writer, and the read replicas
when there are any.
*/}}
{{- define "geonode.networkPolicy.geoservers" -}}
{{- $readers := .Values.geoserver.readReplicas.enabled | ternary (list "geoserver-reader") list }}
{{- toYaml (prepend $readers "geoserver") }}
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

{{/*
Adds rules to a policy (see geonode.networkPolicy), after those it has.
(dict "policy" $policy ["ingress" (list ...)] ["egress" (list ...)])
*/}}
{{- define "geonode.networkPolicy.allow" -}}
{{- range $direction := list "ingress" "egress" }}
{{- with index $ $direction }}
{{- $_ := set $.policy $direction (concat (index $.policy $direction | default list) .) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Adds a rule to a policy: from (ingress) or to (egress) the release's pods of these components, on
one port. (dict "policy" $policy "from"|"to" (list "django" ...) "port" N)
*/}}
{{- define "geonode.networkPolicy.allowPods" -}}
{{- $direction := hasKey . "from" | ternary "from" "to" }}
{{- $peer := include "geonode.networkPolicy.pods" (dict "context" .policy.context "components" (index . $direction)) }}
{{- $rule := dict $direction (list ($peer | fromYaml)) "ports" (list (dict "port" (int .port) "protocol" "TCP")) }}
{{- $rules := dict "policy" .policy (eq $direction "from" | ternary "ingress" "egress") (list $rule) }}
{{- include "geonode.networkPolicy.allow" $rules }}
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
{{- $schemePort := eq $url.scheme "https" | ternary "443" "80" }}
{{- $port := regexFind ":[0-9]+$" $url.host | trimPrefix ":" | default $schemePort }}
{{- $server := dict "host" (regexReplaceAll ":[0-9]+$" $url.host "") "networkCidrs" .networkCidrs }}
{{- include "geonode.networkPolicy.addressEgress" (dict "server" $server "port" $port) }}
{{- end }}

{{/*
Adds the egress to an embedded service (its pods) or its external counterpart to a policy: its
pods by their labels when it runs in the cluster (external.podSelector; pod addresses are not
reliably matched by address ranges), else its address ranges (nothing when they are unknown).
(dict "policy" $policy "service" "postgresql"|"redis" "port" <embedded port>), and "server" (a
map with host and port) for another server on the external one's network (Redis's cache).
*/}}
{{- define "geonode.networkPolicy.allowService" -}}
{{- $values := index .policy.context.Values .service }}
{{- $external := merge (deepCopy (.server | default dict)) $values.external }}
{{- if $values.enabled }}
{{- include "geonode.networkPolicy.allowPods" (dict "policy" .policy "to" (list .service) "port" .port) }}
{{- else if $external.podSelector }}
{{- $peer := dict "podSelector" (dict "matchLabels" $external.podSelector) }}
{{- with $external.namespaceSelector }}
{{- $_ := set $peer "namespaceSelector" (dict "matchLabels" .) }}
{{- end }}
{{- $rule := dict "to" (list $peer) "ports" (list (dict "port" (int $external.port) "protocol" "TCP")) }}
{{- include "geonode.networkPolicy.allow" (dict "policy" .policy "egress" (list $rule)) }}
{{- else }}
{{- $rules := include "geonode.networkPolicy.addressEgress" (dict "server" $external "port" $external.port) }}
{{- include "geonode.networkPolicy.allow" (dict "policy" .policy "egress" ($rules | fromYamlArray)) }}
{{- end }}
{{- end }}

{{/* Adds the egress to Django's shared cache (see geonode.cache.backend) to a policy. */}}
{{- define "geonode.networkPolicy.allowCache" -}}
{{- $backend := include "geonode.cache.backend" .context }}
{{- if eq $backend "memcached" }}
{{- include "geonode.networkPolicy.allowPods" (dict "policy" . "to" (list "memcached") "port" 11211) }}
{{- else }}
{{- $server := eq $backend "external" | ternary .context.Values.redis.external.cache dict }}
{{- include "geonode.networkPolicy.allowService" (dict "policy" . "service" "redis" "port" 6380 "server" $server) }}
{{- end }}
{{- end }}

{{/*
Peers and rules that would open more than they seem to: an extra ingress rule without sources
(every source), a peer of every pod of every namespace, DNS servers that any pod can pose as
(any namespace, or labels the release's own pods carry).
*/}}
{{- define "geonode.networkPolicy.validatePeers" -}}
{{- $np := .Values.networkPolicy }}
{{- range $component, $rules := $np.extraIngress }}
{{- range $rule := $rules }}
{{- if not $rule.from }}
{{- fail (print "networkPolicy.extraIngress." $component ": a rule without from allows every source (any pod, "
  "any address); list the peers it is for") }}
{{- end }}
{{- range $peer := $rule.from }}
{{- if and (hasKey $peer "namespaceSelector") (empty $peer.namespaceSelector) (empty $peer.podSelector) }}
{{- fail (print "networkPolicy.extraIngress." $component ": a peer with an empty namespaceSelector and no "
  "podSelector is every pod of every namespace; name the namespaces (matchLabels: "
  "{kubernetes.io/metadata.name: <namespace>}) and pods it is for") }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- range $peer := $np.dns.to }}
{{- $pods := $peer.podSelector | default dict }}
{{- range $selector := list $pods ($peer.namespaceSelector | default dict) }}
{{- range $key, $value := $selector.matchLabels }}
{{- if not (regexMatch "^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$" (toString $value)) }}
{{- fail (printf "networkPolicy.dns.to: the label value %q of %s is not one Kubernetes takes (up to 63 %s"
  (toString $value) $key "letters, digits, '-', '_' or '.', starting and ending with a letter or digit)") }}
{{- end }}
{{- end }}
{{- end }}
{{- if not (or $pods.matchLabels $pods.matchExpressions) }}
{{- fail (print "networkPolicy.dns.to: a DNS peer without pod labels lets the pods query any pod of its "
  "namespaces as DNS; select the DNS pods (podSelector.matchLabels, e.g. k8s-app: kube-dns)") }}
{{- end }}
{{- if and (hasKey $peer "namespaceSelector") (empty $peer.namespaceSelector) }}
{{- fail (print "networkPolicy.dns.to: an empty namespaceSelector takes DNS pods of every namespace, so a pod "
  "anyone labels k8s-app: kube-dns could answer; name the DNS namespace (matchLabels: "
  "{kubernetes.io/metadata.name: kube-system} on most distributions)") }}
{{- end }}
{{- /* Pod labels alone, without a namespace, select DNS pods in the release's own namespace. */}}
{{- if and $pods.matchLabels (not $pods.matchExpressions) (not $peer.namespaceSelector) }}
{{- $labels := list (list "commonLabels" $.Values.commonLabels) }}
{{- $podValues := dict }}
{{- include "geonode.collectPodValues" (dict "context" $ "into" $podValues) }}
{{- range $path, $values := $podValues }}
{{- $merged := merge dict ($values.podLabels | default dict) $.Values.commonLabels }}
{{- $labels = append $labels (list (printf "%s.podLabels (with commonLabels)" $path) $merged) }}
{{- end }}
{{- range $labelled := $labels }}
{{- $carried := last $labelled }}
{{- $all := true }}
{{- range $key, $value := $pods.matchLabels }}
{{- if ne (toString (get $carried $key)) (toString $value) }}{{ $all = false }}{{ end }}
{{- end }}
{{- if $all }}
{{- fail (printf "%s carries the labels of networkPolicy.dns.to's DNS pods (%s): %s" (first $labelled)
  (toJson $pods.matchLabels) "those pods would pass for DNS servers; remove them") }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* External services need addresses for their egress rules; names cannot be allowed. */}}
{{- define "geonode.networkPolicy.validate" -}}
{{- if .Values.networkPolicy.enabled }}
{{- include "geonode.networkPolicy.validatePeers" . }}
{{- range $service := list "postgresql" "redis" }}
{{- $values := index $.Values $service }}
{{- if not $values.enabled }}
{{- $reached := dict "context" $ }}
{{- include "geonode.networkPolicy.allowService" (dict "policy" $reached "service" $service "port" 0) }}
{{- if not $reached.egress }}
{{- $format := print "%s.external.host %q is a name, and network policies allow addresses: set "
  "%s.external.networkCidrs to the address ranges it resolves to (e.g. [10.0.3.0/24]), %s.external.podSelector "
  "to its pods' labels when it runs in the cluster, or networkPolicy.enabled: false" }}
{{- fail (printf $format $service (toString $values.external.host) $service $service) }}
{{- end }}
{{- end }}
{{- end }}
{{- $cache := dict "context" . }}
{{- include "geonode.networkPolicy.allowCache" $cache }}
{{- if not $cache.egress }}
{{- fail (printf "redis.external.cache.host %q is a name, and network policies allow addresses: %s"
  (toString .Values.redis.external.cache.host) (print "put its address ranges in redis.external.networkCidrs "
  "(with the broker's), or set redis.external.podSelector to its pods' labels")) }}
{{- end }}
{{- $email := .Values.geonode.email }}
{{- if and $email.enabled $email.host (not .Values.networkPolicy.outside.enabled)
  (not (include "geonode.networkPolicy.emailEgress" . | fromYamlArray)) }}
{{- $format := print "geonode.email.host %q is a name, and network policies allow addresses: set "
  "geonode.email.networkCidrs to the SMTP server's address ranges (e.g. [10.0.9.25/32]), or "
  "networkPolicy.outside.enabled: true for a server on the internet" }}
{{- fail (printf $format (toString $email.host)) }}
{{- end }}
{{- $oidc := .Values.geonode.oidc }}
{{- if and $oidc.enabled (not .Values.networkPolicy.outside.enabled)
  (not (include "geonode.networkPolicy.oidcEgress" . | fromYamlArray)) }}
{{- $format := print "geonode.oidc: the provider's token endpoint %q has a host name, and network policies "
  "allow addresses: set geonode.oidc.networkCidrs to the provider's address ranges, or "
  "networkPolicy.outside.enabled: true for a provider on the internet" }}
{{- fail (printf $format (include "geonode.oidc.endpoint" (dict "context" . "name" "token"))) }}
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

{{/*
Adds to a policy what every GeoNode workload reaches: both databases, Redis, GeoServer and the
shared cache.
*/}}
{{- define "geonode.networkPolicy.allowGeonodeEgress" -}}
{{- include "geonode.networkPolicy.allowService" (dict "policy" . "service" "postgresql" "port" 5432) }}
{{- include "geonode.networkPolicy.allowService" (dict "policy" . "service" "redis" "port" 6379) }}
{{- include "geonode.networkPolicy.allowPods" (dict "policy" . "to" (list "geoserver") "port" 8080) }}
{{- include "geonode.networkPolicy.allowCache" . }}
{{- end }}

{{/*
A NetworkPolicy for one component's pods: only the ingress and egress rules given (none: all
denied), plus DNS when "dns" is true, addresses outside the cluster when "outside" is true and
networkPolicy.outside.enabled, and the user's extra rules for the component.
(dict "context" $ "component" "django" ["ingress" (list ...)] ["egress" (list ...)] ["dns" true]
["outside" true]), its rules given or added by the allow* helpers.
*/}}
{{- define "geonode.networkPolicy" -}}
{{- $np := .context.Values.networkPolicy }}
{{- if $np.enabled }}
{{- $egress := .egress | default list }}
{{- if .dns }}
{{- $egress = append $egress (dict "to" $np.dns.to "ports" $np.dns.ports) }}
{{- end }}
{{- if and .outside $np.outside.enabled }}
{{- $outside := dict "ipBlock" (dict "cidr" "0.0.0.0/0" "except" $np.outside.except) }}
{{- $egress = append $egress (dict "to" (list $outside)) }}
{{- end }}
{{- $egress = concat $egress (index $np.extraEgress .component | default list) }}
{{- /* The cloud metadata addresses are never reachable, whatever a rule or an except list says. */}}
{{- $checked := dict "rules" $egress "component" .component }}
{{- include "geonode.networkPolicy.exceptMetadata" $checked }}
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
  {{- with $checked.rules }}
  egress:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
