//! Rules `emptydir-size-limit`, `no-secret-in-args` and `shared-claim-groups`: what a running
//! pod may take from its node and show to it, and how pods share a volume.

use super::Render;
use crate::manifest::{containers, Object};
use serde_json::Value;
use std::collections::BTreeSet;

pub fn check_emptydir_size_limit(object: &Object, _: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        let empty_dir = &volume["emptyDir"];
        if empty_dir.is_object() && empty_dir["sizeLimit"].is_null() {
            out.push(format!(
                "emptyDir volume {} has no sizeLimit; give it one (the kubelet then evicts the pod that overfills it, instead of the node's disk filling up)",
                volume["name"].as_str().unwrap_or("(unnamed)")
            ));
        }
    }
}

/// The claims a pod mounts: claim name → (read-only at the volume, the pod's fsGroup).
fn claims(spec: &Value) -> Vec<(&str, bool, Option<i64>)> {
    let group = spec["securityContext"]["fsGroup"].as_i64();
    spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let claim = &v["persistentVolumeClaim"];
            Some((
                claim["claimName"].as_str()?,
                claim["readOnly"] == true,
                group,
            ))
        })
        .collect()
}

/// Pods sharing a claim (the statics and GeoServer data volumes) must agree on its group:
/// kubelet gives a volume the fsGroup of the pod that mounts it (a `local` volume only at its
/// first mount, and none to a pod that mounts it read-only), so a second group, or a read-only
/// first mount, can take the others' write access away depending on which pod starts first.
pub fn check_shared_claim_groups(object: &Object, render: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    for (claim, read_only, group) in claims(spec) {
        let others: Vec<(String, Option<i64>)> = render
            .objects
            .iter()
            .filter(|o| !(o.kind == object.kind && o.name == object.name))
            .filter_map(|o| {
                let shared = claims(o.pod_spec()?).into_iter().find(|c| c.0 == claim)?;
                Some((format!("{}/{}", o.kind, o.name), shared.2))
            })
            .collect();
        if others.is_empty() {
            continue;
        }
        if read_only {
            out.push(format!(
                "mounts the shared claim {claim} read-only at the volume; make only the container's mount read-only (a volume mounted read-only gets no fsGroup, and a local volume gets one only at its first mount, which this pod may win)"
            ));
        }
        for (other, other_group) in others {
            if let (Some(mine), Some(theirs)) = (group, other_group) {
                if mine != theirs {
                    out.push(format!(
                        "its fsGroup {mine} differs from {other}'s {theirs}, which shares the claim {claim}; give every pod sharing it one fsGroup"
                    ));
                }
            }
        }
    }
}

/// The names of a container's environment variables read from Secrets.
fn secret_env(container: &Value) -> BTreeSet<&str> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["valueFrom"]["secretKeyRef"].is_object())
        .filter_map(|e| e["name"].as_str())
        .collect()
}

/// The command lines a container's process and its probes and hooks run with.
fn command_lines(container: &Value) -> Vec<(String, &Value)> {
    let mut lines = vec![
        ("command".to_string(), &container["command"]),
        ("args".to_string(), &container["args"]),
    ];
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        lines.push((
            format!("{probe}.exec"),
            &container[probe]["exec"]["command"],
        ));
    }
    for hook in ["postStart", "preStop"] {
        lines.push((
            format!("lifecycle.{hook}.exec"),
            &container["lifecycle"][hook]["exec"]["command"],
        ));
    }
    lines
}

/// Whether `text` expands variable `name`: `$(name)` (Kubernetes), `$name` or `${name}` (a shell).
fn expands(text: &str, name: &str) -> bool {
    [format!("$({name})"), format!("${{{name}}}")]
        .iter()
        .any(|form| text.contains(form.as_str()))
        || text.match_indices(&format!("${name}")).any(|(i, m)| {
            !text[i + m.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

pub fn check_no_secret_in_args(object: &Object, _: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    for (_, container) in containers(spec) {
        let secrets = secret_env(container);
        for (place, line) in command_lines(container) {
            let text = line.to_string();
            for name in secrets.iter().filter(|n| expands(&text, n)) {
                out.push(format!(
                    "container {}: {place} expands ${name}, a Secret's value: it would be on the process's command line, which anything on the node can read; let the program read it from its environment or a file",
                    container["name"].as_str().unwrap_or("?")
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{check_shared_claim_groups, expands, Object, Render};

    #[test]
    fn expansions_of_a_variable_are_found() {
        for text in ["$(PW)", "x $PW y", "${PW}", "\"$PW\""] {
            assert!(expands(text, "PW"), "{text}");
        }
        for text in ["$PWD", "PW", "$(PWX)"] {
            assert!(!expands(text, "PW"), "{text}");
        }
    }

    #[test]
    fn pods_sharing_a_claim_agree_on_its_group() {
        let render = |nginx_group: &str, read_only: &str| {
            let pod = |name: &str, group: &str, ro: &str| {
                format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  template:\n    spec:\n      securityContext: {{fsGroup: {group}}}\n      containers: [{{name: c, image: i}}]\n      volumes: [{{name: s, persistentVolumeClaim: {{claimName: statics{ro}}}}}]\n")
            };
            let text = format!(
                "{}---\n{}",
                pod("django", "1000", ""),
                pod("nginx", nginx_group, read_only)
            );
            crate::manifest::parse(&text).unwrap()
        };
        let findings = |objects: &[Object]| {
            let context = Render { objects };
            let mut out = Vec::new();
            for object in objects {
                check_shared_claim_groups(object, &context, &mut out);
            }
            out
        };
        assert_eq!(findings(&render("1000", "")), Vec::<String>::new());
        let differ = findings(&render("101", ""));
        assert_eq!(differ.len(), 2, "{differ:?}");
        assert!(
            differ[0].contains("differs from Deployment/nginx's 101"),
            "{differ:?}"
        );
        let read_only = findings(&render("1000", ", readOnly: true"));
        assert_eq!(read_only.len(), 1, "{read_only:?}");
        assert!(
            read_only[0].contains("read-only at the volume"),
            "{read_only:?}"
        );
    }
}
