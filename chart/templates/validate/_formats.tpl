{{/*
The formats of values people type (addresses, sizes, names of things outside the chart), each
with its words. values.schema.json gives these values a type but no pattern: Helm would print a
schema pattern as a raw regular expression, so the chart checks them here and says what is wrong
in words. A YAML map: format name → {regex, words, empty (allowed blank)}.
*/}}
{{- define "geonode.formats" -}}
{{- $octet := "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])" }}
{{- $v4 := print $octet "([.]" $octet "){3}" }}
{{- $v6 := "[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}" }}
{{- $bits4 := "/([0-9]|[12][0-9]|3[0-2])" }}
{{- $bits6 := "/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])" }}
{{- $formats := dict
  "site" (dict "regex" "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$"
    "words" (print "a site's address: http:// or https://, the host (and port) and nothing after it, e.g. "
      "https://geonode.example.org/. A sub-path (https://example.org/geonode/) is not supported: GeoNode and "
      "GeoServer are served at the root of their host, so give the site a host of its own"))
  "quantity" (dict "regex" "^[0-9]+([.][0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
    "words" (print "a Kubernetes quantity: a number and a unit without a space, e.g. 10Gi or 512Mi (powers of "
      "1024), 10G (powers of 1000), or 500m for half a CPU; 10GB and 512MB are written 10G and 512M"))
  "nginxSize" (dict "regex" "^[0-9]+[kKmMgG]?$"
    "words" "a size as nginx writes it: a number and k, m or g without a space, e.g. 10g; 0 for no limit")
  "cidr" (dict "regex" (print "^(" $v4 $bits4 "|" $v6 $bits6 ")$")
    "words" "an address range in CIDR notation, e.g. 10.0.3.0/24 (one address: 10.0.3.7/32)")
  "address" (dict "regex" (print "^(" $v4 "(" $bits4 ")?|" $v6 "(" $bits6 ")?)$")
    "words" "an IP address or an address range in CIDR notation, e.g. 10.0.3.7 or 10.244.0.0/16")
  "url" (dict "regex" "^https?://[^\\s/?#]+[^\\s]*$" "empty" true
    "words" "a URL with its scheme, e.g. https://sso.example.org/realms/maps")
  "endpoint" (dict "regex" "^https?://[^\\s/?#]+/?$" "empty" true
    "words" "the service's URL, scheme and host only, e.g. https://s3.eu-central-1.amazonaws.com")
  "bucket" (dict "regex" "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$" "empty" true
    "words" (print "an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, beginning and "
      "ending with a letter or digit"))
  "region" (dict "regex" "^[a-z0-9-]+$" "words" "a region's name, e.g. eu-central-1 or us-east-1")
  "restoreSource" (dict "regex" "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$" "empty" true
    "words" (print "latest, a backup's name (the UTC time it began, e.g. 20261127T021700Z), or the folder of "
      "a site export: letters, digits, '.', '_' and '-', no path (see backup.restore.kind)"))
  "cron" (dict "regex" "^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\\S+\\s+){4}\\S+)$"
    "words" "a schedule in cron syntax (minute hour day month weekday, e.g. \"17 2 * * *\") or @daily")
  "timeZone" (dict "regex" "^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$" "empty" true
    "words" "an IANA time zone, e.g. Europe/Rome or Etc/UTC") }}
{{- toYaml $formats }}
{{- end }}

{{/* Which value has which format; a list value's every item has it. */}}
{{- define "geonode.formats.paths" -}}
siteUrl: site
storage.statics.size: quantity
storage.geoserverData.size: quantity
postgresql.persistence.size: quantity
redis.persistence.size: quantity
backup.target.pvc.size: quantity
backup.scratchSizeLimit: quantity
geonode.tmpSizeLimit: quantity
geoserver.tmpSizeLimit: quantity
geoserver.readReplicas.tileCacheSizeLimit: quantity
nginx.tmpSizeLimit: quantity
nginx.maxBodySize: nginxSize
nginx.trustedProxies: address
geoserver.adminAccess.allowFrom: address
networkPolicy.outside.except: cidr
geonode.email.networkCidrs: cidr
geonode.oidc.networkCidrs: cidr
geonode.oidc.issuer: url
geonode.oidc.endpoints.authorize: url
geonode.oidc.endpoints.token: url
geonode.oidc.endpoints.userinfo: url
postgresql.external.networkCidrs: cidr
redis.external.networkCidrs: cidr
backup.schedule: cron
backup.timeZone: timeZone
backup.restore.from: restoreSource
backup.target.s3.endpoint: endpoint
backup.target.s3.bucket: bucket
backup.target.s3.region: region
backup.target.s3.networkCidrs: cidr
{{- end }}

{{/*
Every value of geonode.formats.paths in its format (resources blocks: geonode.guards.limits).
(dict "context" $ "formats" (include "geonode.formats" $ | fromYaml))
*/}}
{{- define "geonode.guards.formats" -}}
{{- $formats := .formats }}
{{- range $path, $name := include "geonode.formats.paths" . | fromYaml }}
{{- $value := $.context.Values }}
{{- range splitList "." $path }}
{{- if and (kindIs "map" $value) (hasKey $value .) }}{{ $value = get $value . }}{{ else }}{{ $value = nil }}{{ end }}
{{- end }}
{{- $verb := kindIs "slice" $value | ternary "holds" "is" }}
{{- range kindIs "slice" $value | ternary $value (list $value) }}
{{- include "geonode.formats.check" (dict "format" (get $formats $name) "path" $path "verb" $verb "value" .) }}
{{- end }}
{{- end }}
{{- end }}

{{/* One value against one format: (dict "format" ... "path" "siteUrl" "value" ... ["verb" "holds"]). */}}
{{- define "geonode.formats.check" -}}
{{- if not (kindIs "invalid" .value) }}
{{- $text := toString .value }}
{{- if not (or (and .format.empty (eq $text "")) (regexMatch .format.regex $text)) }}
{{- fail (printf "%s %s %q, which is not %s" .path (.verb | default "is") $text .format.words) }}
{{- end }}
{{- end }}
{{- end }}
