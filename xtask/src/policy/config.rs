//! Rules `config-checksum` and `no-secret-in-configmap`: ConfigMaps and Secrets the pods use.

use super::Render;
use crate::manifest::{containers, string_map, Object};
use serde_json::Value;
use std::collections::BTreeSet;

/// The annotation of a Secret of credentials given as values (the chart's "-given" Secrets).
pub(super) const ROTATION_ANNOTATION: &str = "geonode-k8s/rotation";
/// The pod annotation that rolls pods using such a Secret.
const CREDENTIALS_CHECKSUM: &str = "checksum/credentials";

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

pub fn check_config_checksum(object: &Object, context: &Render, out: &mut Vec<String>) {
    // Job templates are immutable and their pods run once: only long-running workloads roll.
    let (Some(template), true) = (object.pod_template(), object.is_long_running()) else {
        return;
    };
    let annotations = &template["metadata"]["annotations"];
    for (kind, name) in referenced_config(&template["spec"]) {
        let Some(rendered) = context
            .objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
        else {
            continue;
        };
        // Credentials given as values roll pods by credentials.rotation: a hash of a password
        // in a pod annotation can be reversed by a dictionary.
        let (key, what) =
            if rendered.value["metadata"]["annotations"][ROTATION_ANNOTATION].is_string() {
                (
                    CREDENTIALS_CHECKSUM.to_string(),
                    "credentials.rotation and where each credential is read, never a credential",
                )
            } else {
                (format!("checksum/{name}"), "a hash of that object's data")
            };
        if annotations[&key].as_str().is_none_or(str::is_empty) {
            out.push(format!(
                "the pod template uses {kind} {name} but has no annotation {key}; add it ({what}) so the pods roll when it changes"
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
pub(super) fn has_password_url(text: &str) -> bool {
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

pub fn check_no_secret_in_configmap(object: &Object, context: &Render, out: &mut Vec<String>) {
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

/// Standard base64, padded, as Secrets' `data` holds it.
pub fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
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
