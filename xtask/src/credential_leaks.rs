//! Step `credential-leaks`: no credential value shows anywhere but in the Secrets that hold it.
//!
//! The defaults are rendered with the render pins, and again with every pinned credential
//! changed (credentials.rotation unchanged). Only the data of the Secrets that hold given
//! credentials may differ: a credential that reaches a pod annotation (a checksum), a Job name
//! or a ConfigMap shows up as another difference. A hash of a password in a pod annotation can
//! be reversed by a dictionary by anyone who may read Deployments.

use crate::manifest::Object;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The render pins with every credential value changed, as YAML.
pub fn changed_pins(pins: &Value) -> Value {
    match pins {
        // A PEM key stays one: its lines in reverse order.
        Value::String(s) if s.starts_with("-----BEGIN") => {
            let lines: Vec<&str> = s.lines().collect();
            let (first, rest) = lines.split_first().expect("a PEM has lines");
            let (last, body) = rest.split_last().expect("a PEM has an end line");
            let body: Vec<&str> = body.iter().rev().copied().collect();
            Value::String(format!("{first}\n{}\n{last}\n", body.join("\n")))
        }
        Value::String(s) => Value::String(format!("changed-{s}")),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), changed_pins(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The objects of two renders compared with the data of every Secret blanked: Err names the
/// objects that still differ.
pub fn differences_outside_secret_data(a: &[Object], b: &[Object]) -> Result<(), Vec<String>> {
    let masked = |objects: &[Object]| -> BTreeMap<String, Value> {
        objects
            .iter()
            .map(|o| {
                let mut value = o.value.clone();
                if o.kind == "Secret" {
                    for field in ["data", "stringData"] {
                        if let Some(map) = value[field].as_object_mut() {
                            map.values_mut().for_each(|v| *v = Value::Null);
                        }
                    }
                }
                (format!("{}/{}", o.kind, o.name), value)
            })
            .collect()
    };
    let (ma, mb) = (masked(a), masked(b));
    let differing: Vec<String> = ma
        .keys()
        .chain(mb.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| ma.get(*k) != mb.get(*k))
        .cloned()
        .collect();
    if differing.is_empty() {
        Ok(())
    } else {
        Err(differing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(secret: &str, annotation: &str) -> Vec<Object> {
        crate::manifest::parse(&format!(
            "---\n# Source: s\napiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata: {{k: {secret}}}\n---\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec:\n  template:\n    metadata:\n      annotations: {{checksum/credentials: {annotation}}}\n"
        ))
        .unwrap()
    }

    #[test]
    fn only_secret_data_may_differ() {
        assert!(
            differences_outside_secret_data(&render("YQ==", "r1"), &render("Yg==", "r1")).is_ok()
        );
        assert_eq!(
            differences_outside_secret_data(&render("YQ==", "r1"), &render("Yg==", "r2")),
            Err(vec!["Deployment/d".to_string()])
        );
    }

    #[test]
    fn every_pinned_string_changes() {
        let pins = serde_json::json!({"redis": {"auth": {"password": "p"}}, "n": 1,
            "key": "-----BEGIN RSA PRIVATE KEY-----\na\nb\n-----END RSA PRIVATE KEY-----\n"});
        assert_eq!(
            changed_pins(&pins),
            serde_json::json!({"redis": {"auth": {"password": "changed-p"}}, "n": 1,
                "key": "-----BEGIN RSA PRIVATE KEY-----\nb\na\n-----END RSA PRIVATE KEY-----\n"})
        );
    }
}
