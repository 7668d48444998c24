//! Policy rules over rendered objects. Each rule has an id and a one-line reason; each finding
//! names the object, the rule and what to change. Exceptions come only from
//! `tests/policy-exceptions.yaml`, one entry per object and rule, each with its reason.

pub mod architecture;
mod config;
mod one_site;
mod pod_security;
mod runtime;

pub use config::{base64_decode, base64_encode};

use crate::error::{Context, Error};
use crate::manifest::{containers, string_map, Object};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

pub struct Rule {
    pub id: &'static str,
    pub reason: &'static str,
    check: fn(&Object, &Render, &mut Vec<String>),
}

/// What some rules need to know about the whole render.
pub struct Render<'a> {
    objects: &'a [Object],
}

pub const RULES: &[Rule] = &[
    Rule {
        id: "probes",
        reason: "Kubernetes can only route around and restart containers that say when they are ready and alive",
        check: check_probes,
    },
    Rule {
        id: "resources",
        reason: "without requests the scheduler overpacks nodes; without a memory limit one leak takes the node down",
        check: check_resources,
    },
    Rule {
        id: "pod-security-restricted",
        reason: "the chart must be admitted in namespaces that enforce Pod Security Standards \"restricted\"",
        check: pod_security::check_restricted,
    },
    Rule {
        id: "no-host-access",
        reason: "privileged containers, host namespaces, hostPath and the docker socket hand the node to the pod",
        check: pod_security::check_host_access,
    },
    Rule {
        id: "pinned-image",
        reason: "a moving tag changes what runs without a change to the chart; pin a version tag or a digest",
        check: check_pinned_image,
    },
    Rule {
        id: "selector-labels",
        reason: "selectors are immutable: they must match the pod labels and use only labels that never change",
        check: check_selector_labels,
    },
    Rule {
        id: "config-checksum",
        reason: "pods only pick up a changed ConfigMap or Secret if a checksum annotation rolls them",
        check: config::check_config_checksum,
    },
    Rule {
        id: "no-secret-in-configmap",
        reason: "ConfigMaps are readable by anyone who can read the namespace's configuration; secrets belong in Secrets",
        check: config::check_no_secret_in_configmap,
    },
    Rule {
        id: "pvc-keep",
        reason: "an uninstall or a rename must never delete the data of a GeoNode site",
        check: check_pvc_keep,
    },
    Rule {
        id: "service-selects-pods",
        reason: "a Service that selects no pod of the release sends its traffic nowhere",
        check: check_service_selects_pods,
    },
    Rule {
        id: "file-mode",
        reason: "Kubernetes rejects file modes above 0777 (511); a decimal 644 where octal 0644 was meant is the usual slip",
        check: check_file_mode,
    },
    Rule {
        id: "image-architecture",
        reason: "an image published for some CPU architectures only fails with \"exec format error\" on nodes of the others",
        check: architecture::check,
    },
    Rule {
        id: "emptydir-size-limit",
        reason: "an emptyDir without a limit can fill the node's disk and take every pod on it down",
        check: runtime::check_emptydir_size_limit,
    },
    Rule {
        id: "no-secret-in-args",
        reason: "a process's command line is readable by anything on the node (ps, /proc); a Secret expanded into it is disclosed",
        check: runtime::check_no_secret_in_args,
    },
    Rule {
        id: "one-geoserver",
        reason: "GeoServer keeps its catalog in memory: two on one data directory (replicas, a rolling update) disagree on what is published",
        check: one_site::check_one_geoserver,
    },
    Rule {
        id: "shared-cache",
        reason: "GeoNode caches permissions in Django's cache: kept in each process, a change reaches only the process that made it",
        check: one_site::check_shared_cache,
    },
    Rule {
        id: "shared-claim-groups",
        reason: "kubelet gives a shared volume the group of whichever pod mounts it; pods that disagree take each other's write access away",
        check: runtime::check_shared_claim_groups,
    },
];

/// Labels that may appear in selectors: they never change over a release's life.
pub const STABLE_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    /// `Kind/name`, the key exceptions use.
    pub object: String,
    pub source: String,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (from {}) breaks [{}]: {}",
            self.object.replacen('/', " ", 1),
            self.source,
            self.rule,
            self.message
        )
    }
}

/// Runs every rule over one render.
pub fn check(objects: &[Object]) -> Vec<Finding> {
    let context = Render { objects };
    let mut findings = Vec::new();
    for object in objects {
        for rule in RULES {
            let mut messages = Vec::new();
            (rule.check)(object, &context, &mut messages);
            findings.extend(messages.into_iter().map(|message| Finding {
                rule: rule.id,
                object: format!("{}/{}", object.kind, object.name),
                source: object.source.clone(),
                message,
            }));
        }
    }
    findings
}

pub fn rule_reason(id: &str) -> Option<&'static str> {
    RULES.iter().find(|r| r.id == id).map(|r| r.reason)
}

/// One allowed exception from `tests/policy-exceptions.yaml`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub rule: String,
    /// `Kind/name` of the rendered object.
    pub object: String,
    pub reason: String,
}

pub fn load_exceptions(path: &Path) -> Result<Vec<Exception>, Error> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path).context(format!("reading {}", path.display()))?;
    let exceptions: Option<Vec<Exception>> = yaml_serde::from_str(&text).context(format!(
        "parsing {} (a list of {{rule, object: Kind/name, reason}})",
        path.display()
    ))?;
    let exceptions = exceptions.unwrap_or_default();
    let mut seen = BTreeSet::new();
    for e in &exceptions {
        if rule_reason(&e.rule).is_none() {
            let ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
            return Err(Error::msg(format!(
                "{}: exception for {} names the unknown rule {:?}; rules are {}",
                path.display(),
                e.object,
                e.rule,
                ids.join(", ")
            )));
        }
        if e.reason.trim().len() < 10 {
            return Err(Error::msg(format!(
                "{}: exception {} for {} needs a reason that says why the rule cannot hold",
                path.display(),
                e.rule,
                e.object
            )));
        }
        if !seen.insert((&e.rule, &e.object)) {
            return Err(Error::msg(format!(
                "{}: exception {} for {} is listed twice",
                path.display(),
                e.rule,
                e.object
            )));
        }
    }
    Ok(exceptions)
}

/// Findings split by whether an exception allows them.
pub struct Judged<'a> {
    pub failures: Vec<Finding>,
    pub excepted: Vec<(Finding, &'a Exception)>,
}

pub fn judge(findings: Vec<Finding>, exceptions: &[Exception]) -> Judged<'_> {
    let mut judged = Judged {
        failures: Vec::new(),
        excepted: Vec::new(),
    };
    for finding in findings {
        match exceptions
            .iter()
            .find(|e| e.rule == finding.rule && e.object == finding.object)
        {
            Some(e) => judged.excepted.push((finding, e)),
            None => judged.failures.push(finding),
        }
    }
    judged
}

// ---------------------------------------------------------------------------------------------
// The rules

pub(crate) fn container_name(c: &Value) -> &str {
    c["name"].as_str().unwrap_or("(unnamed)")
}

fn check_probes(object: &Object, _: &Render, out: &mut Vec<String>) {
    let (Some(spec), true) = (object.pod_spec(), object.is_long_running()) else {
        return;
    };
    for (list, c) in containers(spec).filter(|(list, _)| *list == "containers") {
        let missing: Vec<_> = ["readinessProbe", "livenessProbe"]
            .into_iter()
            .filter(|p| c[*p].is_null())
            .collect();
        if !missing.is_empty() {
            out.push(format!(
                "{list} {} has no {}; add them (and a startupProbe if it starts slowly)",
                container_name(c),
                missing.join(" and ")
            ));
        }
    }
}

fn check_resources(object: &Object, _: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    for (list, c) in containers(spec).filter(|(list, _)| *list != "ephemeralContainers") {
        let r = &c["resources"];
        let missing: Vec<_> = [
            ("requests", "cpu"),
            ("requests", "memory"),
            ("limits", "memory"),
        ]
        .into_iter()
        .filter(|(k, res)| r[*k][*res].is_null())
        .map(|(k, res)| format!("resources.{k}.{res}"))
        .collect();
        if !missing.is_empty() {
            out.push(format!(
                "{list} {} sets no {}; set them in the component's values",
                container_name(c),
                missing.join(", ")
            ));
        }
    }
}

/// A tag naming a version down to its minor release (`1.30.4-alpine`, `15-3.5-alpine`).
fn has_minor_version(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    (1..bytes.len().saturating_sub(1))
        .any(|i| bytes[i] == b'.' && bytes[i - 1].is_ascii_digit() && bytes[i + 1].is_ascii_digit())
}

/// Why an image reference is not pinned, if it is not.
pub fn unpinned(image: &str) -> Option<String> {
    if let Some((_, digest)) = image.split_once('@') {
        return (!digest.starts_with("sha256:") || digest.len() != 71)
            .then(|| format!("its digest {digest:?} is not a sha256 digest"));
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("it has no tag, which means latest".into()),
        Some((_, tag)) if tag == "latest" || tag.ends_with("-latest") => {
            Some(format!("its tag {tag:?} moves"))
        }
        Some((_, "")) => Some("its tag is empty".into()),
        // A tag without a major.minor version (stable-alpine, 7) follows whatever is newest.
        Some((_, tag)) if !has_minor_version(tag) => Some(format!(
            "its tag {tag:?} names no major.minor version, so it moves"
        )),
        Some(_) => None,
    }
}

fn check_pinned_image(object: &Object, _: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    for (list, c) in containers(spec) {
        let image = c["image"].as_str().unwrap_or("");
        if let Some(why) = unpinned(image) {
            out.push(format!(
                "{list} {} runs image {image:?}, which is not pinned: {why}; set a fixed version tag or a digest in the image values",
                container_name(c)
            ));
        }
    }
}

fn check_selector_labels(object: &Object, _: &Render, out: &mut Vec<String>) {
    let selector = match object.kind.as_str() {
        "Service" => &object.value["spec"]["selector"],
        "PodDisruptionBudget" => &object.value["spec"]["selector"]["matchLabels"],
        _ if object.pod_template().is_some()
            && object.kind != "Pod"
            && object.kind != "Job"
            && object.kind != "CronJob" =>
        {
            let selector = &object.value["spec"]["selector"];
            if !selector["matchExpressions"].is_null() {
                out.push("spec.selector uses matchExpressions; select with matchLabels on the stable labels only".into());
            }
            let labels: BTreeMap<&str, &str> =
                string_map(&object.pod_template().unwrap()["metadata"]["labels"]).collect();
            for (k, v) in string_map(&selector["matchLabels"]) {
                if labels.get(k) != Some(&v) {
                    out.push(format!("spec.selector.matchLabels {k}={v} is not a label of the pod template; the selector must select its own pods"));
                }
            }
            &selector["matchLabels"]
        }
        _ => return,
    };
    for (k, _) in string_map(selector) {
        if !STABLE_LABELS.contains(&k) {
            out.push(format!(
                "the selector uses the label {k}, which can change between releases; select only on {}",
                STABLE_LABELS.join(", ")
            ));
        }
    }
}

fn check_pvc_keep(object: &Object, _: &Render, out: &mut Vec<String>) {
    match object.kind.as_str() {
        "PersistentVolumeClaim" if object.annotation("helm.sh/resource-policy") != Some("keep") => out.push(
            "it holds data but lacks the annotation helm.sh/resource-policy: keep; add it so uninstalls keep the volume".into(),
        ),
        "StatefulSet" if object.value["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete" => out.push(
            "persistentVolumeClaimRetentionPolicy.whenDeleted is Delete; use Retain so deleting the StatefulSet keeps its data".into(),
        ),
        _ => {}
    }
}

fn check_service_selects_pods(object: &Object, context: &Render, out: &mut Vec<String>) {
    if object.kind != "Service" {
        return;
    }
    let selector: Vec<(&str, &str)> = string_map(&object.value["spec"]["selector"]).collect();
    if selector.is_empty() {
        return;
    }
    let selects = context
        .objects
        .iter()
        .filter_map(Object::pod_template)
        .any(|t| {
            let labels: BTreeMap<&str, &str> = string_map(&t["metadata"]["labels"]).collect();
            selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        });
    if !selects {
        let wanted: Vec<_> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push(format!(
            "its selector {} matches no pod template of the release; fix the selector or the workload's labels",
            wanted.join(",")
        ));
    }
}

fn check_file_mode(object: &Object, _: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    let mut check = |volume: &str, field: &str, mode: &Value| {
        if let Some(m) = mode.as_i64() {
            if !(0..=0o777).contains(&m) {
                out.push(format!(
                    "volume {volume} sets {field} {m}, above 0777 (511); write the mode in octal with a leading zero (0{m} is probably meant) or in decimal"
                ));
            }
        }
    };
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        let name = volume["name"].as_str().unwrap_or("(unnamed)");
        for source in ["configMap", "secret", "downwardAPI", "projected"] {
            let v = &volume[source];
            check(name, "defaultMode", &v["defaultMode"]);
            for item in v["items"].as_array().into_iter().flatten() {
                check(name, "items[].mode", &item["mode"]);
            }
            for projected in v["sources"].as_array().into_iter().flatten() {
                for inner in ["configMap", "secret", "downwardAPI"] {
                    for item in projected[inner]["items"].as_array().into_iter().flatten() {
                        check(name, "items[].mode", &item["mode"]);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
