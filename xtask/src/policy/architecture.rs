//! Rule `image-architecture`: a pod running an image that is published for some CPU
//! architectures only must be kept on nodes of those, or it fails with "exec format error" on
//! the others (arm64 pools: Graviton, Ampere, T2A).

use super::{container_name, Render};
use crate::manifest::{containers, Object};
use serde_json::Value;
use std::collections::BTreeSet;

/// Images published for some architectures only: repository, architectures, and where that
/// was read.
pub const LIMITED: &[(&str, &[&str], &str)] = &[
    (
        "geonode/geonode",
        &["amd64"],
        "pushed by hand from single-platform builds (GeoNode/geonode#13178: no linux/arm64 manifest)",
    ),
    (
        "geonode/geoserver",
        &["amd64"],
        "geonode-docker's build_and_push action runs build-push-action without platforms",
    ),
    (
        "geonode/geoserver_data",
        &["amd64"],
        "geonode-docker's build_and_push action runs build-push-action without platforms",
    ),
    (
        "postgis/postgis",
        &["amd64"],
        "docker-postgis README: \"Supported architecture: amd64\"",
    ),
];

/// The architectures an image is published for and where that was read, if it is one of
/// `LIMITED`.
pub fn published_for(image: &str) -> Option<(&'static [&'static str], &'static str)> {
    LIMITED
        .iter()
        .find(|(r, _, _)| *r == repository(image))
        .map(|(_, published, source)| (*published, *source))
}

/// The repository of an image reference, without registry, tag or digest
/// (`registry.example:5000/geonode/geonode:5.1.1` -> `geonode/geonode`).
pub fn repository(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let name_start = without_digest.rfind('/').map_or(0, |i| i + 1);
    let without_tag = match without_digest[name_start..].find(':') {
        Some(i) => &without_digest[..name_start + i],
        None => without_digest,
    };
    let mut parts = without_tag.splitn(2, '/');
    let first = parts.next().unwrap_or("");
    let rest = parts.next();
    let path = match rest {
        Some(rest) if first.contains('.') || first.contains(':') || first == "localhost" => rest,
        _ => without_tag,
    };
    path.strip_prefix("library/").unwrap_or(path)
}

/// The architectures a pod may run on, if its spec limits them: the nodeSelector's
/// `kubernetes.io/arch`, or the values allowed in every required node selector term.
fn allowed_architectures(spec: &Value) -> Option<BTreeSet<String>> {
    if let Some(arch) = spec["nodeSelector"]["kubernetes.io/arch"].as_str() {
        return Some(BTreeSet::from([arch.to_string()]));
    }
    let terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"]
        .as_array()?;
    let mut allowed = BTreeSet::new();
    for term in terms {
        // Terms are alternatives: each must limit the architecture, or the pod may go anywhere.
        // Within a term the expressions all hold: the architecture is in each one's values.
        let mut in_term: Option<BTreeSet<String>> = None;
        for expression in term["matchExpressions"].as_array().into_iter().flatten() {
            if expression["key"] != "kubernetes.io/arch" || expression["operator"] != "In" {
                continue;
            }
            let values: BTreeSet<String> = expression["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            in_term = Some(match in_term {
                Some(before) => before.intersection(&values).cloned().collect(),
                None => values,
            });
        }
        allowed.extend(in_term?);
    }
    (!terms.is_empty()).then_some(allowed)
}

pub fn check(object: &Object, _: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    let allowed = allowed_architectures(spec);
    for (list, c) in containers(spec) {
        let image = c["image"].as_str().unwrap_or("");
        let Some((published, source)) = published_for(image) else {
            continue;
        };
        let stray: Vec<String> = match &allowed {
            None => vec!["any architecture".into()],
            Some(allowed) => allowed
                .iter()
                .filter(|a| !published.contains(&a.as_str()))
                .cloned()
                .collect(),
        };
        if !stray.is_empty() {
            out.push(format!(
                "{list} {} runs {image:?}, which is published for {} only ({source}), but the pod may run on nodes of {}; require kubernetes.io/arch In [{}] (the chart does so from the image's `architectures` value)",
                container_name(c),
                published.join(", "),
                stray.join(", "),
                published.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repositories_lose_registry_tag_and_digest() {
        assert_eq!(repository("geonode/geonode:5.1.1"), "geonode/geonode");
        assert_eq!(
            repository("registry.example:5000/geonode/geonode:5.1.1"),
            "geonode/geonode"
        );
        assert_eq!(repository("postgis/postgis@sha256:ab"), "postgis/postgis");
        assert_eq!(repository("docker.io/library/nginx:1.30.4"), "nginx");
        assert_eq!(repository("localhost/x/y"), "x/y");
    }

    #[test]
    fn every_term_must_limit_the_architecture() {
        let term = |e: Value| json!({"matchExpressions": e});
        let arch = |v: Value| json!({"key": "kubernetes.io/arch", "operator": "In", "values": v});
        let spec = |terms: Vec<Value>| json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}});
        assert_eq!(allowed_architectures(&json!({})), None);
        assert_eq!(
            allowed_architectures(&json!({"nodeSelector": {"kubernetes.io/arch": "amd64"}})),
            Some(BTreeSet::from(["amd64".to_string()]))
        );
        let zone = json!({"key": "zone", "operator": "In", "values": ["a"]});
        assert_eq!(
            allowed_architectures(&spec(vec![
                term(json!([arch(json!(["amd64"]))])),
                term(json!([zone]))
            ])),
            None
        );
        assert_eq!(
            allowed_architectures(&spec(vec![term(json!([
                arch(json!(["amd64", "arm64"])),
                arch(json!(["amd64"]))
            ]))])),
            Some(BTreeSet::from(["amd64".to_string()]))
        );
    }
}
