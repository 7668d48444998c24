//! Policy rules over rendered objects. Each rule has an id and a one-line reason; each finding
//! names the object, the rule and what to change. Exceptions come only from
//! `tests/policy-exceptions.yaml`, one entry per object and rule, each with its reason.

pub mod architecture;

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
        check: check_restricted,
    },
    Rule {
        id: "no-host-access",
        reason: "privileged containers, host namespaces, hostPath and the docker socket hand the node to the pod",
        check: check_host_access,
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
        check: check_config_checksum,
    },
    Rule {
        id: "no-secret-in-configmap",
        reason: "ConfigMaps are readable by anyone who can read the namespace's configuration; secrets belong in Secrets",
        check: check_no_secret_in_configmap,
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

const RESTRICTED_VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

fn check_restricted(object: &Object, _: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    let pod = &spec["securityContext"];
    let pod_non_root = pod["runAsNonRoot"] == true;
    let pod_seccomp = matches!(
        pod["seccompProfile"]["type"].as_str(),
        Some("RuntimeDefault" | "Localhost")
    );
    if pod["runAsUser"] == 0 {
        out.push("the pod's securityContext.runAsUser is 0; run as a non-zero uid".into());
    }
    if pod["seccompProfile"]["type"] == "Unconfined" {
        out.push("the pod's seccompProfile is Unconfined; use RuntimeDefault".into());
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        let name = volume["name"].as_str().unwrap_or("(unnamed)");
        let kinds: Vec<&str> = volume
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .filter(|k| *k != "name")
            .collect();
        for kind in kinds {
            if kind != "hostPath" && !RESTRICTED_VOLUME_TYPES.contains(&kind) {
                out.push(format!(
                    "volume {name} is a {kind} volume; restricted pods may only use {}",
                    RESTRICTED_VOLUME_TYPES.join(", ")
                ));
            }
        }
    }
    for (list, c) in containers(spec) {
        let name = container_name(c);
        let sc = &c["securityContext"];
        let mut wrong = Vec::new();
        if sc["runAsNonRoot"] == false || (!pod_non_root && sc["runAsNonRoot"] != true) {
            wrong.push("runAsNonRoot: true (here or in the pod's securityContext)");
        }
        if sc["runAsUser"] == 0 {
            wrong.push("a non-zero runAsUser");
        }
        if sc["allowPrivilegeEscalation"] != false {
            wrong.push("allowPrivilegeEscalation: false");
        }
        let drops_all = sc["capabilities"]["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|c| c == "ALL"));
        if !drops_all {
            wrong.push("capabilities.drop: [ALL]");
        }
        let adds_more = sc["capabilities"]["add"]
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c != "NET_BIND_SERVICE"));
        if adds_more {
            wrong.push("no added capability other than NET_BIND_SERVICE");
        }
        let container_seccomp = sc["seccompProfile"]["type"].as_str();
        if container_seccomp == Some("Unconfined")
            || (!pod_seccomp && !matches!(container_seccomp, Some("RuntimeDefault" | "Localhost")))
        {
            wrong
                .push("seccompProfile.type: RuntimeDefault (here or in the pod's securityContext)");
        }
        if !wrong.is_empty() {
            out.push(format!(
                "{list} {name} needs securityContext {}",
                wrong.join(", ")
            ));
        }
    }
}

fn check_host_access(object: &Object, _: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    for ns in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[ns] == true {
            out.push(format!("the pod sets {ns}: true; remove it"));
        }
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        if let Some(path) = volume["hostPath"]["path"].as_str() {
            let what = if path.ends_with("docker.sock") {
                "the docker socket"
            } else {
                "a node directory"
            };
            out.push(format!(
                "volume {} mounts {what} ({path}) from the node; use a PersistentVolumeClaim or an emptyDir",
                volume["name"].as_str().unwrap_or("(unnamed)")
            ));
        }
    }
    for (list, c) in containers(spec) {
        let name = container_name(c);
        if c["securityContext"]["privileged"] == true {
            out.push(format!(
                "{list} {name} is privileged; remove securityContext.privileged"
            ));
        }
        for port in c["ports"].as_array().into_iter().flatten() {
            if !port["hostPort"].is_null() && port["hostPort"] != 0 {
                out.push(format!(
                    "{list} {name} binds hostPort {}; expose it through a Service",
                    port["hostPort"]
                ));
            }
        }
        for mount in c["volumeMounts"].as_array().into_iter().flatten() {
            if mount["mountPath"]
                .as_str()
                .is_some_and(|p| p.ends_with("docker.sock"))
            {
                out.push(format!(
                    "{list} {name} mounts a docker socket; GeoNode needs none on Kubernetes"
                ));
            }
        }
    }
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

/// The ConfigMaps and Secrets a pod spec mounts or reads, as `(kind, name)`.
fn referenced_config(spec: &Value) -> BTreeSet<(&'static str, String)> {
    let mut refs = BTreeSet::new();
    let mut add = |kind: &'static str, name: &Value| {
        if let Some(n) = name.as_str() {
            refs.insert((kind, n.to_string()));
        }
    };
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        add("ConfigMap", &volume["configMap"]["name"]);
        add("Secret", &volume["secret"]["secretName"]);
        for source in volume["projected"]["sources"]
            .as_array()
            .into_iter()
            .flatten()
        {
            add("ConfigMap", &source["configMap"]["name"]);
            add("Secret", &source["secret"]["name"]);
        }
    }
    for (_, c) in containers(spec) {
        for env in c["env"].as_array().into_iter().flatten() {
            add("ConfigMap", &env["valueFrom"]["configMapKeyRef"]["name"]);
            add("Secret", &env["valueFrom"]["secretKeyRef"]["name"]);
        }
        for from in c["envFrom"].as_array().into_iter().flatten() {
            add("ConfigMap", &from["configMapRef"]["name"]);
            add("Secret", &from["secretRef"]["name"]);
        }
    }
    refs
}

fn check_config_checksum(object: &Object, context: &Render, out: &mut Vec<String>) {
    // Job templates are immutable and their pods run once: only long-running workloads roll.
    let (Some(template), true) = (object.pod_template(), object.is_long_running()) else {
        return;
    };
    let annotations = &template["metadata"]["annotations"];
    for (kind, name) in referenced_config(&template["spec"]) {
        let rendered = context
            .objects
            .iter()
            .any(|o| o.kind == kind && o.name == name);
        let key = format!("checksum/{name}");
        if rendered && annotations[&key].as_str().is_none_or(str::is_empty) {
            out.push(format!(
                "the pod template uses {kind} {name} but has no annotation {key}; add it (a hash of that object's data) so the pods roll when it changes"
            ));
        }
    }
}

/// Keys whose values are secrets by their name.
fn secret_like_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "private_key",
        "credential",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// `scheme://user:password@host`
fn has_password_url(text: &str) -> bool {
    text.match_indices("://").any(|(i, _)| {
        let rest = &text[i + 3..];
        let authority_end = rest.find(['/', ' ', '\n', '"', '\'']).unwrap_or(rest.len());
        rest[..authority_end]
            .rsplit_once('@')
            .is_some_and(|(userinfo, _)| {
                userinfo
                    .split_once(':')
                    .is_some_and(|(_, pw)| !pw.is_empty() && !pw.starts_with('$'))
            })
    })
}

fn secret_values(objects: &[Object]) -> BTreeSet<String> {
    let mut values = BTreeSet::new();
    for secret in objects.iter().filter(|o| o.kind == "Secret") {
        for (_, v) in string_map(&secret.value["stringData"]) {
            values.insert(v.to_string());
        }
        for (_, v) in string_map(&secret.value["data"]) {
            if let Some(decoded) = base64_decode(v) {
                values.insert(decoded);
            }
        }
    }
    // Short values ("true", "5432") are not secrets worth matching on.
    values.retain(|v| v.len() >= 8);
    values
}

fn check_no_secret_in_configmap(object: &Object, context: &Render, out: &mut Vec<String>) {
    if object.kind != "ConfigMap" {
        return;
    }
    let secrets = secret_values(context.objects);
    for (key, value) in string_map(&object.value["data"]) {
        if has_password_url(value) {
            out.push(format!(
                "data.{key} holds a URL with a password; build it at runtime from a Secret-sourced environment variable"
            ));
        } else if secret_like_key(key) && !value.trim().is_empty() {
            out.push(format!(
                "data.{key} looks like a credential; move it into a Secret"
            ));
        } else if secrets.iter().any(|s| value.contains(s.as_str())) {
            out.push(format!(
                "data.{key} contains a value of a rendered Secret; reference the Secret instead"
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

/// Standard base64 as Secrets' `data` uses it; None if it is not valid UTF-8 text.
pub fn base64_decode(text: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut bytes = Vec::new();
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse;

    fn findings(yaml: &str) -> Vec<Finding> {
        check(&parse(yaml).unwrap())
    }

    const GOOD_DEPLOYMENT: &str = r#"---
# Source: t/templates/d.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: web}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: web, app.kubernetes.io/version: "1"}
      annotations: {checksum/web-config: abc}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      volumes: [{name: conf, configMap: {name: web-config, defaultMode: 0644}}]
      containers:
        - name: web
          image: nginx:1.27.3
          readinessProbe: {tcpSocket: {port: 80}}
          livenessProbe: {tcpSocket: {port: 80}}
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
# Source: t/templates/c.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {nginx.conf: "server {}"}
---
# Source: t/templates/s.yaml
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app.kubernetes.io/name: web}, ports: [{port: 80}]}
"#;

    fn broken(from: &str, to: &str) -> Vec<Finding> {
        assert!(GOOD_DEPLOYMENT.contains(from), "{from}");
        findings(&GOOD_DEPLOYMENT.replacen(from, to, 1))
    }

    fn only_rule(found: &[Finding]) -> &'static str {
        let rules: BTreeSet<_> = found.iter().map(|f| f.rule).collect();
        assert_eq!(rules.len(), 1, "expected one rule broken, got {found:#?}");
        found[0].rule
    }

    #[test]
    fn a_good_render_has_no_findings() {
        assert_eq!(findings(GOOD_DEPLOYMENT), vec![]);
    }

    #[test]
    fn each_rule_is_caught_alone() {
        let cases = [
            ("readinessProbe: {tcpSocket: {port: 80}}", "", "probes"),
            ("limits: {memory: 32Mi}", "limits: {}", "resources"),
            ("capabilities: {drop: [ALL]}", "capabilities: {}", "pod-security-restricted"),
            ("runAsNonRoot: true, ", "", "pod-security-restricted"),
            ("nginx:1.27.3", "nginx:1.27-latest", "pinned-image"),
            ("nginx:1.27.3", "nginx", "pinned-image"),
            ("checksum/web-config: abc", "other: abc", "config-checksum"),
            ("nginx.conf: \"server {}\"", "url: \"postgis://u:pw@db:5432/x\"", "no-secret-in-configmap"),
            ("defaultMode: 0644", "defaultMode: 644", "file-mode"),
            ("spec: {selector: {app.kubernetes.io/name: web}", "spec: {selector: {app.kubernetes.io/name: wbe}", "service-selects-pods"),
            ("selector: {matchLabels: {app.kubernetes.io/name: web}}", "selector: {matchLabels: {app.kubernetes.io/name: web, app.kubernetes.io/version: \"1\"}}", "selector-labels"),
            ("allowPrivilegeEscalation: false,", "allowPrivilegeEscalation: false, privileged: false,", ""),
        ];
        for (from, to, rule) in cases {
            let found = broken(from, to);
            if rule.is_empty() {
                assert_eq!(found, vec![], "{to}");
            } else {
                assert_eq!(only_rule(&found), rule, "{to}");
            }
        }
    }

    #[test]
    fn findings_name_object_rule_and_fix() {
        let found = broken("nginx:1.27.3", "nginx:latest");
        let text = found[0].to_string();
        assert!(
            text.starts_with("Deployment web (from t/templates/d.yaml) breaks [pinned-image]"),
            "{text}"
        );
        assert!(
            text.contains("set a fixed version tag or a digest"),
            "{text}"
        );
    }

    #[test]
    fn host_access_is_its_own_rule() {
        let found = broken(
            "volumes: [{name: conf,",
            "volumes: [{name: sock, hostPath: {path: /var/run/docker.sock}}, {name: conf,",
        );
        assert_eq!(only_rule(&found), "no-host-access");
        assert!(found[0].message.contains("docker socket"));
    }

    #[test]
    fn secrets_copied_into_configmaps_are_found() {
        let extra = "---\n# Source: t/templates/x.yaml\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {pw: c3VwZXJzZWNyZXQxMjM=}\n";
        let found = findings(&format!(
            "{}{extra}",
            GOOD_DEPLOYMENT.replace("server {}", "auth supersecret123;")
        ));
        assert_eq!(only_rule(&found), "no-secret-in-configmap");
    }

    #[test]
    fn password_urls() {
        assert!(has_password_url("redis://:hunter22@redis:6379/0"));
        assert!(has_password_url("x postgis://geonode:pw@db/geonode"));
        assert!(!has_password_url(
            "postgis://geonode:$(DB_PASSWORD)@db/geonode"
        ));
        assert!(!has_password_url("http://geoserver:8080/geoserver/"));
        assert!(!has_password_url("mailto:x@y"));
    }

    #[test]
    fn image_pins() {
        assert_eq!(unpinned("docker.io/library/redis:7.4.2-alpine"), None);
        assert_eq!(unpinned(&format!("redis@sha256:{}", "a".repeat(64))), None);
        assert!(unpinned("localhost:5000/redis").is_some());
        assert!(unpinned("geonode/geoserver:2.28.4-latest").is_some());
        assert!(unpinned("redis@sha256:abc").is_some());
    }

    #[test]
    fn base64() {
        assert_eq!(
            base64_decode("c3VwZXJzZWNyZXQxMjM=").as_deref(),
            Some("supersecret123")
        );
        assert_eq!(base64_decode("YQ==").as_deref(), Some("a"));
    }

    #[test]
    fn exceptions_need_known_rules_and_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.yaml");
        std::fs::write(
            &path,
            "- {rule: probes, object: Deployment/x, reason: the image has no shell nor port}\n",
        )
        .unwrap();
        assert_eq!(load_exceptions(&path).unwrap().len(), 1);
        std::fs::write(
            &path,
            "- {rule: probez, object: Deployment/x, reason: the image has no shell nor port}\n",
        )
        .unwrap();
        assert!(load_exceptions(&path)
            .unwrap_err()
            .to_string()
            .contains("unknown rule \"probez\""));
        std::fs::write(&path, "- {rule: probes, object: Deployment/x, reason: x}\n").unwrap();
        assert!(load_exceptions(&path)
            .unwrap_err()
            .to_string()
            .contains("needs a reason"));
    }
}
