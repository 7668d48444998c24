{{/*
Weakenings of the chart's defaults that an operator may mean (a site on a closed network, a
provider without PKCE, a database whose certificate cannot be checked): each is refused unless
named in acceptedRisks, and the notes printed after every install and upgrade warn of each one in
use. Everything else that opens the site is refused outright, beside its component.
*/}}

{{/* Host names that never leave the machine or the network they are used on. */}}
{{- define "geonode.risks.localHost" -}}
{{- $host := . }}
{{- $local := or (eq $host "localhost") (hasPrefix "127." $host) (eq $host "[::1]") }}
{{- range list ".localhost" ".local" ".test" }}{{ if hasSuffix . $host }}{{ $local = true }}{{ end }}{{ end }}
{{- if $local }}true{{ end }}
{{- end }}

{{/*
A security context (pod's or container's) that gives up what "restricted" asks: root, privilege,
escalation, added capabilities, no seccomp profile. Its problems, joined with ", " (none: empty).
*/}}
{{- define "geonode.risks.privileges" -}}
{{- $context := . | default dict }}
{{- $found := list }}
{{- if $context.privileged }}{{ $found = append $found "privileged" }}{{ end }}
{{- if $context.allowPrivilegeEscalation }}{{ $found = append $found "allowPrivilegeEscalation" }}{{ end }}
{{- if and (hasKey $context "runAsUser") (eq (toString $context.runAsUser) "0") }}
{{- $found = append $found "runAsUser 0" }}
{{- end }}
{{- if and (hasKey $context "runAsNonRoot") (not $context.runAsNonRoot) }}
{{- $found = append $found "runAsNonRoot false" }}
{{- end }}
{{- with ($context.capabilities | default dict).add }}
{{- $found = append $found (printf "capabilities %s" (join "," .)) }}
{{- end }}
{{- if eq (toString ($context.seccompProfile | default dict).type) "Unconfined" }}
{{- $found = append $found "seccompProfile Unconfined" }}
{{- end }}
{{- join ", " $found }}
{{- end }}

{{/* The risks these values take, as a YAML list of {name, what}; what names the values. */}}
{{- define "geonode.risks" -}}
{{- $risks := list }}
{{- $v := .Values }}
{{- if not $v.networkPolicy.enabled }}
{{- $risks = append $risks (dict "name" "network-policies-off" "what" (print "networkPolicy.enabled is false: "
  "any pod may reach the databases, Redis and GeoServer, and the release's pods may reach any address, "
  "the cloud metadata address too")) }}
{{- end }}
{{- if $v.geonode.accounts.openSignup }}
{{- $risks = append $risks (dict "name" "open-signup" "what" (print "geonode.accounts.openSignup is true: "
  "anyone on the internet may make an account" ($v.geonode.accounts.approvalRequired | ternary
  " (it waits for an administrator's approval)" ", and use it at once"))) }}
{{- end }}
{{- $oidc := $v.geonode.oidc }}
{{- if and $oidc.enabled (not $oidc.pkce) }}
{{- $risks = append $risks (dict "name" "oidc-without-pkce" "what" (print "geonode.oidc.pkce is false: an "
  "authorization code caught on its way back (a log, a redirect) can be exchanged for a login")) }}
{{- end }}
{{- if $oidc.enabled }}
{{- $plain := list }}
{{- range $name := list "authorize" "token" "userinfo" }}
{{- $url := include "geonode.oidc.endpoint" (dict "context" $ "name" $name) }}
{{- if hasPrefix "http://" $url }}{{ $plain = append $plain $url }}{{ end }}
{{- end }}
{{- if or (hasPrefix "http://" $oidc.issuer) $plain }}
{{- $urls := join ", " (uniq (prepend $plain $oidc.issuer)) }}
{{- $risks = append $risks (dict "name" "oidc-over-http" "what" (print "geonode.oidc.issuer or endpoints: the "
  "provider is reached over plain http (" $urls "): tokens and the client secret travel in clear, and GeoNode "
  "does not check the ID token's signature")) }}
{{- end }}
{{- end }}
{{- if and (eq (include "geonode.siteScheme" .) "http") (or $v.ingress.enabled $v.httpRoute.enabled) }}
{{- if not (include "geonode.risks.localHost" (include "geonode.siteHost" .)) }}
{{- $risks = append $risks (dict "name" "public-http-site" "what" (print "siteUrl " $v.siteUrl " is served "
  "over plain http: passwords, sessions and tokens travel in clear (make it https://, with ingress.tls)")) }}
{{- end }}
{{- end }}
{{- if and (not $v.postgresql.enabled) (ne $v.postgresql.external.tls.sslmode "verify-full") }}
{{- $risks = append $risks (dict "name" "database-tls-unverified" "what" (print
  "postgresql.external.tls.sslmode is " (quote $v.postgresql.external.tls.sslmode) ": the database's "
  "certificate is not checked, so a machine in between can read and change every query (verify-full, "
  "with the server's CA in caBundle, checks it)")) }}
{{- end }}
{{- $email := $v.geonode.email }}
{{- if and $email.enabled $email.user (not $email.tls) (not $email.ssl) }}
{{- $risks = append $risks (dict "name" "smtp-login-without-tls" "what" (print "geonode.email logs in as "
  $email.user " without tls or ssl: the SMTP password travels in clear")) }}
{{- end }}
{{- $backup := $v.backup }}
{{- if and (or $backup.enabled $backup.restore.enabled) (eq $backup.target.type "s3") }}
{{- if hasPrefix "http://" $backup.target.s3.endpoint }}
{{- $risks = append $risks (dict "name" "backup-s3-over-http" "what" (print "backup.target.s3.endpoint "
  $backup.target.s3.endpoint " is plain http: the access key's signatures and the (encrypted) backups "
  "travel in clear")) }}
{{- end }}
{{- end }}
{{- $privileged := list }}
{{- $pods := dict }}
{{- include "geonode.collectPodValues" (dict "context" . "into" $pods) }}
{{- range $path, $values := $pods }}
{{- range $kind := list "podSecurityContext" "containerSecurityContext" }}
{{- with include "geonode.risks.privileges" (get $values $kind) }}
{{- $privileged = append $privileged (printf "%s.%s (%s)" $path $kind .) }}
{{- end }}
{{- end }}
{{- end }}
{{- with $privileged }}
{{- $risks = append $risks (dict "name" "privileged-containers" "what" (print "these security contexts give "
  "up what Pod Security \"restricted\" asks, so a compromised process has more to escape with: " (join "; " .))) }}
{{- end }}
{{- toYaml $risks }}
{{- end }}

{{/*
Each risk in use must be named in acceptedRisks. The names it may hold are values.schema.json's
enum, which refuses any other (check's accepted-risks step holds each to its case).
*/}}
{{- define "geonode.risks.validate" -}}
{{- range include "geonode.risks" . | fromYamlArray }}
{{- if not (has .name $.Values.acceptedRisks) }}
{{- fail (print .what ". If you mean it, add " .name " to acceptedRisks (the notes after every install and "
  "upgrade then warn of it)") }}
{{- end }}
{{- end }}
{{- end }}
