//! What a value means, from its key and its parents' keys, as far as the fuzzer needs to know to
//! make it wrong: Kubernetes quantities, nginx sizes, ports, shares, and the strings with a
//! meaning (URLs, names, CIDR ranges, ...) whose nonsense values no reading can make right.

use super::overlay::Path;

/// Nonsense for a Kubernetes quantity: a unit Kubernetes does not know, two decimal points, a
/// negative size, a word.
pub const KUBE_QUANTITY_NONSENSE: &[&str] = &["768MB", "1.5.0Gi", "-1Gi", "lots"];

/// Nonsense for an nginx size (`client_max_body_size`): a unit nginx does not know, a fraction
/// (nginx takes whole numbers), a negative size, a word.
pub const NGINX_SIZE_NONSENSE: &[&str] = &["10GB", "1.5g", "-1g", "lots"];

/// A CPU, memory or storage amount as Kubernetes reads it.
pub fn is_kube_quantity(path: &Path) -> bool {
    let resource = ["cpu", "memory"].contains(&path.key())
        && ["requests", "limits"].contains(&path.key_back(1));
    resource || path.key() == "size"
}

/// The nonsense quantities for a leaf, if it is a quantity at all.
pub fn quantity_nonsense(path: &Path) -> &'static [&'static str] {
    if is_kube_quantity(path) {
        KUBE_QUANTITY_NONSENSE
    } else if path.key() == "maxBodySize" {
        NGINX_SIZE_NONSENSE
    } else {
        &[]
    }
}

/// Integers that may be negative. None of the chart's may: counts, ports, seconds, sizes, user
/// and group ids, percentages.
const MAY_BE_NEGATIVE: &[&str] = &[];

pub fn may_be_negative(path: &Path) -> bool {
    MAY_BE_NEGATIVE.contains(&path.key())
}

/// Values outside the range an integer's meaning allows.
pub fn out_of_range(path: &Path) -> &'static [i64] {
    let key = path.key();
    if key == "port" || key.ends_with("Port") {
        &[0, 65536]
    } else if (key.ends_with("Percent") || key.ends_with("Percentage"))
        // A utilisation target is a percentage of the request, and may exceed 100.
        && !key.ends_with("UtilizationPercentage")
    {
        &[101]
    } else {
        &[]
    }
}

/// What the leaf is, for matching the rules below.
pub struct Leaf<'p> {
    pub path: &'p Path,
    /// The schema gives the value an enum (on it or one of its branches).
    pub enumerated: bool,
}

/// A string meaning and the values that cannot have it.
pub struct Rule {
    pub meaning: &'static str,
    applies: fn(&Leaf) -> bool,
    pub nonsense: &'static [&'static str],
    /// An empty string is a valid value of this meaning.
    pub may_be_empty: bool,
}

const KUBE_NAMES: &[&str] = &[
    "existingSecret",
    "secretName",
    "existingClaim",
    "storageClass",
    "className",
    "certManagerIssuer",
];
const CIDR_LISTS: &[&str] = &["except", "networkCidrs", "trustedProxies"];
/// Kubernetes enumerations the chart passes through without a schema of its own.
const PASSED_THROUGH_ENUMS: &[(&str, &str)] = &[
    ("podSecurityContext", "fsGroupChangePolicy"),
    ("seccompProfile", "type"),
];

pub const RULES: &[Rule] = &[
    rule(
        "site URL",
        |l| l.path.key() == "siteUrl",
        &["not a url", "ftp://geonode.example.org/"],
    ),
    rule(
        "name prefix (DNS label)",
        |l| ["nameOverride", "fullnameOverride"].contains(&l.path.key()),
        &["Not_A_DNS_Label!"],
    ),
    rule(
        "image digest",
        |l| l.path.key() == "digest",
        &["sha256:not-a-digest"],
    ),
    rule("image tag", |l| l.path.key() == "tag", &["not a tag!"]),
    rule(
        "image repository",
        |l| l.path.key() == "repository",
        &["Not A Repository!"],
    ),
    rule(
        "image registry",
        |l| l.path.key() == "registry",
        &["not a registry!"],
    ),
    rule(
        "Kubernetes object name",
        |l| KUBE_NAMES.contains(&l.path.key()),
        &["Not A Name!"],
    ),
    rule(
        "key in a Secret",
        |l| l.path.key_back(1) == "secretKeys",
        &["not/a key"],
    ),
    rule("host name", |l| l.path.key() == "host", &["not a host!"]),
    rule(
        "CIDR range",
        |l| (l.path.is_item() && CIDR_LISTS.contains(&l.path.key())) || l.path.key() == "cidr",
        &["not-a-cidr", "10.0.0.0/99", "300.1.2.3/8"],
    ),
    rule(
        "PostgreSQL identifier",
        |l| ["name", "user"].contains(&l.path.key()) && l.path.key_back(2) == "databases",
        &["not a name!"],
    ),
    rule(
        "e-mail address",
        |l| l.path.key() == "adminEmail",
        &["not-an-email"],
    ),
    rule(
        "HTTP method list",
        |l| l.path.key() == "allowedMethods",
        &["GET;POST"],
    ),
    rule(
        "CORS origin list",
        |l| l.path.key() == "allowedOrigins",
        &["not an origin"],
    ),
    rule(
        "HTTP header list",
        |l| l.path.key() == "allowedHeaders",
        &["bad header: value"],
    ),
    rule(
        "PEM private key",
        |l| l.path.key() == "oidcRsaPrivateKey",
        &["not a PEM key"],
    ),
    Rule {
        meaning: "label value",
        applies: |l| {
            ["matchLabels", "commonLabels", "podLabels", "nodeSelector"]
                .contains(&l.path.key_back(1))
        },
        nonsense: &["not a label value!"],
        may_be_empty: true,
    },
    rule(
        "enumeration",
        |l| {
            l.enumerated
                || PASSED_THROUGH_ENUMS
                    .iter()
                    .any(|(parent, key)| l.path.key() == *key && l.path.key_back(1) == *parent)
        },
        &["NotAChoice"],
    ),
];

const fn rule(
    meaning: &'static str,
    applies: fn(&Leaf) -> bool,
    nonsense: &'static [&'static str],
) -> Rule {
    Rule {
        meaning,
        applies,
        nonsense,
        may_be_empty: false,
    }
}

/// The first rule that knows what this string means.
pub fn rule_for(leaf: &Leaf) -> Option<&'static Rule> {
    RULES.iter().find(|r| (r.applies)(leaf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(dotted: &str) -> Path {
        Path::dotted(dotted)
    }

    fn meaning(dotted: &str, enumerated: bool) -> Option<&'static str> {
        rule_for(&Leaf {
            path: &path(dotted),
            enumerated,
        })
        .map(|r| r.meaning)
    }

    #[test]
    fn quantities_ports_and_shares_are_told_apart() {
        assert!(is_kube_quantity(&path("django.resources.requests.memory")));
        assert!(is_kube_quantity(&path("geonode.initResources.limits.cpu")));
        assert!(is_kube_quantity(&path("storage.statics.size")));
        assert!(!is_kube_quantity(&path("django.replicas")));
        assert_eq!(
            quantity_nonsense(&path("nginx.maxBodySize")),
            NGINX_SIZE_NONSENSE
        );
        assert_eq!(
            out_of_range(&path("networkPolicy.dns.ports.0.port")),
            &[0, 65536]
        );
        assert_eq!(out_of_range(&path("redis.maxmemoryPercent")), &[101]);
        assert!(
            out_of_range(&path("django.autoscaling.targetCPUUtilizationPercentage")).is_empty()
        );
        assert!(!may_be_negative(&path("django.uwsgi.processes")));
    }

    #[test]
    fn strings_get_the_meaning_of_their_key() {
        assert_eq!(meaning("siteUrl", false), Some("site URL"));
        assert_eq!(meaning("nginx.trustedProxies.0", false), Some("CIDR range"));
        assert_eq!(meaning("nginx.trustedProxies", false), None);
        assert_eq!(
            meaning("networkPolicy.apiServer.to.0.ipBlock.cidr", false),
            Some("CIDR range")
        );
        assert_eq!(
            meaning("postgresql.databases.geonode.user", false),
            Some("PostgreSQL identifier")
        );
        assert_eq!(
            meaning("redis.auth.secretKeys.password", false),
            Some("key in a Secret")
        );
        assert_eq!(meaning("redis.auth.password", false), None);
        assert_eq!(meaning("storage.accessMode", true), Some("enumeration"));
        assert_eq!(
            meaning("django.podSecurityContext.seccompProfile.type", false),
            Some("enumeration")
        );
        let label = rule_for(&Leaf {
            path: &path("networkPolicy.dns.to.0.podSelector.matchLabels.k8s-app"),
            enumerated: false,
        })
        .unwrap();
        assert!(label.may_be_empty);
    }
}
