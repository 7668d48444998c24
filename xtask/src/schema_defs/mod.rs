//! `cargo xtask schema-defs`: the Kubernetes definitions inside `chart/values.schema.json`.
//!
//! Some values go to Kubernetes as they are: security contexts, affinity, tolerations, topology
//! spread, extra env, volumes and mounts, NetworkPolicy peers and rules. Helm validates values
//! against `values.schema.json` itself, offline, and does not fetch remote `$ref`s, so their
//! Kubernetes definitions must be inside that file. This command links each such value (the
//! [`PASS_THROUGH`] table) to `#/$defs/<Kubernetes definition name>` and copies, from the
//! pinned strict schemas (kubernetes-validate's `-local-strict` set, `additionalProperties:
//! false` everywhere), every definition those links need, transitively, into `$defs`. So a
//! misspelt key inside `affinity`, or a string where Kubernetes wants an integer, is refused by
//! `helm install` before anything is rendered, in the value's own terms.
//!
//! The definitions come from the OLDEST Kubernetes minor the chart supports
//! ([`tools::KUBE_MINORS`]`[0]`, which is also the floor of `kubeVersion` in Chart.yaml). Within
//! an API version Kubernetes only adds optional fields, so what 1.31 accepts every newer minor
//! accepts too, while a field added later would be dropped or refused by a 1.31 API server (and
//! fails the render step's 1.31 schema validation anyway); refusing it when the values are read
//! says so sooner. The cost: newer fields wait until the chart's oldest minor moves up, and then
//! this command is run again.
//!
//! The generated part is every `$defs` member whose name starts with `io.k8s.`, and the `$ref`
//! of each pass-through value; the rest of the file is people's, so it is edited as text
//! ([`json_text`]) and re-read right before writing. `cargo xtask check` (step `values-schema`)
//! fails when the file differs from what this command would make of it, and when any value in
//! the schema or in values.yaml is left without a type ([`typed`]).

mod json_text;
mod typed;

use crate::error::{Context, Error};
use crate::project::Project;
use crate::report::Step;
use crate::tools::{self, Tools};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// A value the chart passes to Kubernetes unchanged, and the Kubernetes definition it must meet:
/// `pointer` is the schema node (in values.schema.json) that gets `"$ref": "#/$defs/<definition>"`.
pub struct PassThrough {
    pub pointer: &'static str,
    pub definition: &'static str,
}

/// Every pass-through value of the chart. The `pod_*` definitions are shared by every component.
pub const PASS_THROUGH: &[PassThrough] = &[
    link(
        "/$defs/pod_podSecurityContext",
        "core.v1.PodSecurityContext",
    ),
    link(
        "/$defs/pod_containerSecurityContext",
        "core.v1.SecurityContext",
    ),
    link("/$defs/pod_affinity", "core.v1.Affinity"),
    link("/$defs/pod_tolerations/items", "core.v1.Toleration"),
    link(
        "/$defs/pod_topologySpreadConstraints/items",
        "core.v1.TopologySpreadConstraint",
    ),
    link("/$defs/pod_extraEnv/items", "core.v1.EnvVar"),
    link("/$defs/pod_extraVolumes/items", "core.v1.Volume"),
    link("/$defs/pod_extraVolumeMounts/items", "core.v1.VolumeMount"),
    link(
        "/properties/networkPolicy/properties/ingressFrom/items",
        "networking.v1.NetworkPolicyPeer",
    ),
    link(
        "/properties/networkPolicy/properties/dns/properties/to/items",
        "networking.v1.NetworkPolicyPeer",
    ),
    link(
        "/properties/networkPolicy/properties/apiServer/properties/to/items",
        "networking.v1.NetworkPolicyPeer",
    ),
    link(
        "/properties/networkPolicy/properties/extraIngress/additionalProperties/items",
        "networking.v1.NetworkPolicyIngressRule",
    ),
    link(
        "/properties/networkPolicy/properties/extraEgress/additionalProperties/items",
        "networking.v1.NetworkPolicyEgressRule",
    ),
];

const fn link(pointer: &'static str, api_type: &'static str) -> PassThrough {
    PassThrough {
        pointer,
        definition: api_type,
    }
}

/// Names of generated definitions start with this (`io.k8s.api.core.v1.Affinity`, ...).
pub const PREFIX: &str = "io.k8s.";
const DEFS_REF: &str = "#/$defs/";

impl PassThrough {
    pub fn name(&self) -> String {
        format!("{PREFIX}api.{}", self.definition)
    }
}

/// The Kubernetes minor whose definitions are copied.
pub fn oldest_minor() -> u32 {
    tools::KUBE_MINORS[0]
}

/// The definitions of one strict schema set (`_definitions.json`), by name.
pub fn kubernetes_definitions(dir: &Path) -> Result<Map<String, Value>, Error> {
    let path = dir.join("_definitions.json");
    let text = fs::read_to_string(&path).context(format!(
        "reading {}; run `cargo xtask setup` to install the schemas",
        path.display()
    ))?;
    let mut file: Value =
        serde_json::from_str(&text).context(format!("parsing {}", path.display()))?;
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(defs)) = file.get_mut(key).map(Value::take) {
            return Ok(defs);
        }
    }
    Err(Error::msg(format!(
        "{} has neither $defs nor definitions",
        path.display()
    )))
}

/// The schema as the command leaves it: pass-through values linked, and exactly the Kubernetes
/// definitions the schema refers to (transitively) in `$defs`.
pub fn expected(schema: &Value, kubernetes: &Map<String, Value>) -> Result<Value, Error> {
    let mut out = schema.clone();
    for pass in PASS_THROUGH {
        if let Some(node) = out.pointer_mut(pass.pointer).and_then(Value::as_object_mut) {
            node.insert("$ref".into(), Value::String(defs_ref(&pass.name())));
        }
    }
    let definitions = closure(kubernetes, roots(&out))?;
    if let Some(defs) = out.get_mut("$defs").and_then(Value::as_object_mut) {
        defs.retain(|name, _| !name.starts_with(PREFIX));
        defs.extend(definitions);
    } else if !definitions.is_empty() {
        out.as_object_mut()
            .ok_or_else(|| Error::msg("the schema is not a JSON object"))?
            .insert(
                "$defs".into(),
                Value::Object(definitions.into_iter().collect()),
            );
    }
    Ok(out)
}

/// `text` (values.schema.json) with the generated parts replaced, everything else as it was.
pub fn rewrite(text: &str, kubernetes: &Map<String, Value>) -> Result<String, Error> {
    let schema: Value = serde_json::from_str(text).context("parsing the schema")?;
    let want = expected(&schema, kubernetes)?;
    let mut out = text.to_string();
    for pass in PASS_THROUGH {
        let wanted = Value::String(defs_ref(&pass.name()));
        match schema.pointer(pass.pointer) {
            Some(node) if node.is_object() && node.get("$ref") != Some(&wanted) => {
                let value = serde_json::to_string(&wanted).context("quoting")?;
                out = json_text::set_member(&out, pass.pointer, "$ref", &value)?;
            }
            _ => {}
        }
    }
    let generated: Vec<(String, String)> = want["$defs"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| name.starts_with(PREFIX))
        .map(|(name, def)| Ok((name.clone(), serde_json::to_string_pretty(def)?)))
        .collect::<Result<_, serde_json::Error>>()
        .context("printing the definitions")?;
    if schema.get("$defs").is_none() && !generated.is_empty() {
        out = json_text::set_member(&out, "", "$defs", "{}")?;
    }
    if schema.get("$defs").is_some() || !generated.is_empty() {
        out = json_text::rebuild_object(&out, "/$defs", |k| !k.starts_with(PREFIX), &generated)?;
    }
    let written: Value = serde_json::from_str(&out).context("re-reading the edited schema")?;
    if written != want {
        return Err(Error::msg(
            "the text edit of values.schema.json does not give the expected schema (a harness bug)",
        ));
    }
    Ok(out)
}

/// How `schema` differs from what the command would make of it, one line per difference.
pub fn stale(schema: &Value, kubernetes: &Map<String, Value>) -> Result<Vec<String>, Error> {
    let want = expected(schema, kubernetes)?;
    let mut found = Vec::new();
    for pass in PASS_THROUGH {
        let (Some(have), Some(wanted)) = (schema.pointer(pass.pointer), want.pointer(pass.pointer))
        else {
            continue;
        };
        if have["$ref"] != wanted["$ref"] {
            found.push(format!(
                "{} does not refer to {}",
                pass.pointer,
                wanted["$ref"].as_str().unwrap_or_default()
            ));
        }
    }
    let generated = |s: &Value| -> BTreeMap<String, Value> {
        s["$defs"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(name, _)| name.starts_with(PREFIX))
            .map(|(n, d)| (n.clone(), d.clone()))
            .collect()
    };
    let (have, wanted) = (generated(schema), generated(&want));
    for name in have.keys().chain(wanted.keys()).collect::<BTreeSet<_>>() {
        match (have.get(name), wanted.get(name)) {
            (None, _) => found.push(format!("$defs lacks {name}")),
            (_, None) => found.push(format!("$defs has {name}, which nothing refers to")),
            (Some(a), Some(b)) if a != b => found.push(format!(
                "$defs/{name} differs from Kubernetes 1.{}'s",
                oldest_minor()
            )),
            _ => {}
        }
    }
    Ok(found)
}

/// Kubernetes definitions the schema refers to outside the generated ones.
fn roots(schema: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut outside = schema.clone();
    if let Some(defs) = outside.get_mut("$defs").and_then(Value::as_object_mut) {
        defs.retain(|name, _| !name.starts_with(PREFIX));
    }
    collect_refs(&outside, &mut names);
    names.retain(|n| n.starts_with(PREFIX));
    names
}

fn collect_refs(node: &Value, names: &mut BTreeSet<String>) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value.as_str().and_then(definition_name)) {
                    ("$ref", Some(name)) => {
                        names.insert(name.to_string());
                    }
                    _ => collect_refs(value, names),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, names)),
        _ => {}
    }
}

/// The definition a `$ref` names, in any of the spellings the schema sets use:
/// `#/$defs/X`, `#/definitions/X`, `/api/_definitions.json#/$defs/X`, `_definitions.json#/definitions/X`.
fn definition_name(reference: &str) -> Option<&str> {
    let (file, fragment) = reference.split_once('#')?;
    if !(file.is_empty() || file.ends_with("_definitions.json")) {
        return None;
    }
    fragment
        .strip_prefix("/$defs/")
        .or_else(|| fragment.strip_prefix("/definitions/"))
}

fn defs_ref(name: &str) -> String {
    format!("{DEFS_REF}{name}")
}

/// `roots` and every definition they refer to, transitively, as they go into our `$defs`.
fn closure(
    kubernetes: &Map<String, Value>,
    roots: BTreeSet<String>,
) -> Result<BTreeMap<String, Value>, Error> {
    let mut out = BTreeMap::new();
    let mut pending: Vec<String> = roots.into_iter().collect();
    while let Some(name) = pending.pop() {
        if out.contains_key(&name) {
            continue;
        }
        let definition = kubernetes.get(&name).ok_or_else(|| {
            Error::msg(format!(
                "#/$defs/{name} is not a definition of Kubernetes 1.{}; use one of its names (e.g. io.k8s.api.core.v1.Affinity)",
                oldest_minor()
            ))
        })?;
        let copied = copy_definition(definition)?;
        let mut refs = BTreeSet::new();
        collect_refs(&copied, &mut refs);
        pending.extend(refs);
        out.insert(name, copied);
    }
    Ok(out)
}

/// A definition as it goes into our `$defs`: `$ref`s pointed at our `$defs`, and the
/// `x-kubernetes-*` annotations (server-side merge and list hints that validate nothing) left out.
fn copy_definition(node: &Value) -> Result<Value, Error> {
    Ok(match node {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                if key.starts_with("x-kubernetes-") {
                    continue;
                }
                let copied = if key == "$ref" {
                    let reference = value.as_str().unwrap_or_default();
                    let name = definition_name(reference).ok_or_else(|| {
                        Error::msg(format!(
                            "the Kubernetes schemas refer to {reference:?}, outside their definitions"
                        ))
                    })?;
                    Value::String(defs_ref(name))
                } else if key == "properties" {
                    // Property names are names, not keywords: copy each property's schema.
                    let props = value.as_object().cloned().unwrap_or_default();
                    let mut copied = Map::new();
                    for (name, schema) in props {
                        copied.insert(name, copy_definition(&schema)?);
                    }
                    Value::Object(copied)
                } else {
                    copy_definition(value)?
                };
                out.insert(key.clone(), copied);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(copy_definition)
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// `cargo xtask schema-defs`: rewrites the generated parts of the chart's values.schema.json.
pub fn run(project: &Project) -> Result<(), Error> {
    let tools = tools::ensure()?;
    let kubernetes = kubernetes_definitions(&tools.schema_dir(oldest_minor()))?;
    let path = project.chart.join("values.schema.json");
    let rel = project.rel(&path);
    let text = fs::read_to_string(&path).context(format!("reading {rel}"))?;
    for pass in PASS_THROUGH {
        if json_text::value_at(&text, pass.pointer).is_err() {
            eprintln!(
                "note: {rel} has no {}; update PASS_THROUGH in xtask/src/schema_defs/mod.rs",
                pass.pointer
            );
        }
    }
    // Others edit the file too: write only over the very text we edited, else start again.
    for _ in 0..5 {
        let before = fs::read_to_string(&path).context(format!("reading {rel}"))?;
        let after = rewrite(&before, &kubernetes).context(format!("updating {rel}"))?;
        if after == before {
            println!("{rel} is up to date");
            return Ok(());
        }
        if fs::read_to_string(&path).context(format!("reading {rel}"))? != before {
            continue;
        }
        write_in_place(&path, &after).context(format!("writing {rel}"))?;
        let schema: Value = serde_json::from_str(&after).context("parsing the result")?;
        let count = schema["$defs"]
            .as_object()
            .map_or(0, |d| d.keys().filter(|k| k.starts_with(PREFIX)).count());
        println!(
            "{rel}: {} pass-through values refer to {count} definitions of Kubernetes 1.{} ({} bytes); review `git diff` and commit it",
            PASS_THROUGH.len(),
            oldest_minor(),
            after.len()
        );
        return Ok(());
    }
    Err(Error::msg(format!(
        "{rel} kept changing while it was being updated; run `cargo xtask schema-defs` again"
    )))
}

/// Replaces the file by renaming a finished copy over it, keeping its permissions.
fn write_in_place(path: &Path, text: &str) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let temp = tempfile::NamedTempFile::new_in(dir).context("creating a temporary file")?;
    fs::write(temp.path(), text).context("writing the temporary file")?;
    let permissions = fs::metadata(path)
        .context("reading permissions")?
        .permissions();
    fs::set_permissions(temp.path(), permissions).context("setting permissions")?;
    temp.persist(path).context("renaming into place")?;
    Ok(())
}

/// The `values-schema` step of `cargo xtask check`.
pub fn check_step(project: &Project, tools: &Tools, step: &mut Step) {
    let read = crate::data_file::read_json_or_yaml;
    let schema_path = project.chart.join("values.schema.json");
    let rel = project.rel(&schema_path);
    let (schema, defaults) = match (read(&schema_path), read(&project.chart.join("values.yaml"))) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(e), _) | (_, Err(e)) => return step.fail(e),
    };
    let minor = oldest_minor();
    step.record(
        kubernetes_definitions(&tools.schema_dir(minor))
            .and_then(|k| stale(&schema, &k))
            .map_err(|e| e.to_string())
            .and_then(|found| match found.as_slice() {
                [] => Ok(()),
                _ => Err(format!(
                    "{rel}: its Kubernetes definitions are not what `cargo xtask schema-defs` copies from Kubernetes 1.{minor}; run it and commit the file:\n{}",
                    found.join("\n")
                )),
            }),
    );
    let loose = typed::loose_nodes(&schema);
    step.record(match loose.as_slice() {
        [] => Ok(()),
        _ => Err(format!(
            "{rel}: these schema nodes leave a value's type open; give each a type (objects: their properties and additionalProperties: false, or typed additionalProperties; arrays: typed items; values passed to Kubernetes: a $ref to its definition, see PASS_THROUGH in xtask/src/schema_defs/mod.rs):\n{}",
            loose.join("\n")
        )),
    });
    let untyped = typed::untyped_values(&schema, &defaults);
    step.record(match untyped.as_slice() {
        [] => Ok(()),
        _ => Err(format!(
            "chart/values.yaml: these values have no type in {rel}; describe them there:\n{}",
            untyped.join("\n")
        )),
    });
    let count = schema["$defs"]
        .as_object()
        .map_or(0, |d| d.keys().filter(|k| k.starts_with(PREFIX)).count());
    step.detail = format!(
        "{count} Kubernetes 1.{minor} definitions for pass-through values; every schema node and value typed"
    );
}

#[cfg(test)]
mod tests;
