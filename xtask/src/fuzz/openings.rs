//! Openings: values of the right kind that leave the site less safe than its defaults (a moving
//! image tag, every address as a trusted proxy, a root container, the login provider over http,
//! the cloud metadata address as a service's address). The chart refuses each, or takes it only
//! when `acceptedRisks` names it, which no mutation does: every one must be refused. Where a
//! value counts only while a part of the chart is on (the login provider, e-mail, backups, an
//! external database), the mutation turns that part on with values the chart takes, so that only
//! the opening can be refused.

use super::overlay::Path;
use serde_json::{json, Value};

/// One opening: the wrong value at the mutation's path, and the settings that make it count.
pub struct Opening {
    pub value: Value,
    pub companions: Vec<(Path, Value)>,
}

/// What the legend says of the kind.
pub const RULE: &str = "values that open the site (a tag naming no version, every address as a \
    trusted proxy or GeoServer admin, root or privileged security contexts, the metadata address \
    as a service's or policy's address, rules without peers, Redis directives that undo its \
    password, settings naming the chart's own variables or a credential, shell in Java options, \
    http to the login provider or S3, an unchecked database certificate, open sign-up, policies \
    off, the superuser as an owner, backups on the site's own volumes), each with what turns on \
    the part it affects";

fn set(pairs: &[(&str, Value)]) -> Vec<(Path, Value)> {
    pairs
        .iter()
        .map(|(p, v)| (Path::dotted(p), v.clone()))
        .collect()
}

/// What turns on the part of the chart under `at` (none for parts that are always on).
fn switched_on(at: &Path) -> Vec<(Path, Value)> {
    let keys = at.keys();
    let under = |prefix: &[&str]| keys.len() >= prefix.len() && keys[..prefix.len()] == *prefix;
    if under(&["geonode", "oidc"]) {
        set(&[
            ("geonode.oidc.enabled", json!(true)),
            ("geonode.oidc.clientId", json!("geonode")),
            (
                "geonode.oidc.clientSecret.name",
                json!("geonode-oidc-client"),
            ),
            (
                "geonode.oidc.issuer",
                json!("https://sso.example.org/realms/example"),
            ),
            ("geonode.oidc.networkCidrs", json!(["10.0.7.0/24"])),
        ])
    } else if under(&["geonode", "email"]) {
        set(&[
            ("geonode.email.enabled", json!(true)),
            ("geonode.email.host", json!("10.0.9.25")),
        ])
    } else if under(&["backup", "target", "s3"]) {
        set(&[
            ("backup.enabled", json!(true)),
            ("backup.target.type", json!("s3")),
            ("backup.target.s3.endpoint", json!("https://10.0.5.9:9000")),
            ("backup.target.s3.bucket", json!("geonode-backups")),
            (
                "backup.target.s3.credentialsSecret.name",
                json!("geonode-backup-s3"),
            ),
        ])
    } else if under(&["backup"]) {
        set(&[("backup.enabled", json!(true))])
    } else if under(&["postgresql", "external"]) {
        set(&[
            ("postgresql.enabled", json!(false)),
            ("postgresql.external.host", json!("10.0.3.7")),
            (
                "postgresql.external.tls.caBundle.configMap",
                json!("geonode-db-ca"),
            ),
        ])
    } else if under(&["redis", "external"]) {
        set(&[
            ("redis.enabled", json!(false)),
            ("redis.external.host", json!("10.0.4.7")),
        ])
    } else if under(&["memcached"]) {
        set(&[("memcached.enabled", json!(true))])
    } else if under(&["geoserver", "seed", "dataImage"]) {
        set(&[("geoserver.seed.dataImage.enabled", json!(true))])
    } else if under(&["networkPolicy", "apiServer"]) {
        // The credentials Job (and its policy) exists only for a generated credential.
        set(&[("geonode.auth.secretKey", json!(""))])
    } else {
        Vec::new()
    }
}

/// The wrong values at `at` itself.
fn values_at(at: &Path) -> Vec<Value> {
    let dotted = at.to_string();
    let key = at.key();
    let in_context = ["podSecurityContext", "containerSecurityContext"].contains(&key);
    match () {
        _ if key == "tag" => {
            vec![json!("latest"), json!("stable-alpine"), json!("7")]
        }
        _ if dotted == "nginx.trustedProxies" => vec![json!(["0.0.0.0/0"]), json!(["::/0"])],
        _ if dotted == "geoserver.adminAccess.allowFrom" => vec![json!(["0.0.0.0/0"])],
        _ if key == "networkCidrs" && !at.is_item() => vec![json!(["169.254.169.254/32"])],
        _ if key == "cidr" => vec![json!("169.254.169.254/32")],
        _ if in_context => vec![
            json!({"privileged": true}),
            json!({"allowPrivilegeEscalation": true}),
            json!({"runAsUser": 0}),
            json!({"capabilities": {"add": ["SYS_ADMIN"]}}),
        ],
        _ if dotted == "geonode.settings" => {
            vec![json!({"DEBUG": "True"}), json!({"SECRET_KEY": "x"})]
        }
        _ if dotted == "redis.extraConfig" => vec![json!("requirepass \"\"")],
        _ if dotted == "geoserver.extraJavaOptions" => vec![json!("-Dx=$(id)")],
        _ if dotted == "networkPolicy.extraIngress" => vec![json!({"postgresql": [{}]})],
        _ if dotted == "networkPolicy.extraEgress" => {
            vec![json!({"django": [{"ports": [{"port": 443}]}]})]
        }
        _ if dotted == "networkPolicy.dns.to[0].namespaceSelector" => vec![json!({})],
        _ if dotted == "networkPolicy.enabled" => vec![json!(false)],
        _ if dotted == "geonode.accounts.openSignup" => vec![json!(true)],
        _ if dotted == "geonode.oidc.pkce" => vec![json!(false)],
        _ if dotted == "geonode.oidc.issuer" => {
            vec![json!("http://sso.example.org/realms/example")]
        }
        _ if dotted == "geonode.oidc.clientSecret.name" => vec![json!("geonode-secrets")],
        _ if dotted == "backup.target.s3.endpoint" => vec![json!("http://10.0.5.9:9000")],
        _ if dotted == "backup.target.pvc.existingClaim" => vec![json!("geonode-statics")],
        _ if dotted == "postgresql.external.tls.sslmode" => vec![json!("require")],
        _ if dotted == "postgresql.external.host" => vec![json!("169.254.169.254")],
        _ if key == "user" && at.key_back(2) == "databases" => vec![json!("postgres")],
        _ if key == "name" && at.key_back(2) == "databases" => vec![json!("template1")],
        _ => Vec::new(),
    }
}

/// The openings at a path of the values, each with what turns its part of the chart on.
pub fn at(at: &Path) -> Vec<Opening> {
    let mut companions = switched_on(at);
    // A public site over http needs a route to the internet to be public.
    if at.to_string() == "siteUrl" {
        companions = set(&[("ingress.enabled", json!(true))]);
        return vec![Opening {
            value: json!("http://geonode.example.org/"),
            companions,
        }];
    }
    // A tag of an optional image (the backup's pg_dump image) counts once a repository is named.
    if at.to_string() == "backup.postgresqlImage.tag" {
        companions.push((
            Path::dotted("backup.postgresqlImage.repository"),
            json!("postgis/postgis"),
        ));
    }
    // The mutation's own path is the mutation's, not a companion's.
    companions.retain(|(p, _)| p != at);
    // An SMTP login needs its password's Secret; without TLS it travels in clear.
    if at.to_string() == "geonode.email.tls" {
        companions.extend(set(&[
            ("geonode.email.user", json!("geonode")),
            ("geonode.email.passwordSecret.name", json!("geonode-smtp")),
        ]));
        return vec![Opening {
            value: json!(false),
            companions,
        }];
    }
    values_at(at)
        .into_iter()
        .map(|value| Opening {
            value,
            companions: companions.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openings_come_with_what_turns_their_part_on() {
        let issuer = at(&Path::dotted("geonode.oidc.issuer"));
        assert_eq!(issuer.len(), 1);
        assert!(issuer[0].value.as_str().unwrap().starts_with("http://"));
        assert!(issuer[0]
            .companions
            .iter()
            .any(|(p, v)| p.to_string() == "geonode.oidc.enabled" && v == &json!(true)));
        let context = at(&Path::dotted("nginx.containerSecurityContext"));
        assert_eq!(context.len(), 4);
        assert!(context.iter().all(|o| o.companions.is_empty()));
        assert_eq!(at(&Path::dotted("nginx.image.tag")).len(), 3);
        assert!(at(&Path::dotted("nginx.replicas")).is_empty());
        let site = at(&Path::dotted("siteUrl"));
        assert_eq!(site[0].companions[0].0.to_string(), "ingress.enabled");
    }
}
