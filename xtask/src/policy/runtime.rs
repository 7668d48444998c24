//! Rules `emptydir-size-limit` and `no-secret-in-args`: what a running pod may take from its node
//! and show to it.

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
    use super::expands;

    #[test]
    fn expansions_of_a_variable_are_found() {
        for text in ["$(PW)", "x $PW y", "${PW}", "\"$PW\""] {
            assert!(expands(text, "PW"), "{text}");
        }
        for text in ["$PWD", "PW", "$(PWX)"] {
            assert!(!expands(text, "PW"), "{text}");
        }
    }
}
