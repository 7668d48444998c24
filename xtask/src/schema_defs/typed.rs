//! Every value has a type: no node of values.schema.json leaves a value's type open, and every
//! value in values.yaml meets a typed node.
//!
//! A node is typed when it says `type`, `enum` or `const`, refers elsewhere (`$ref`), or is a
//! combination (`anyOf`, `oneOf`, `allOf`) of typed nodes. An object must also say what its
//! keys are (`additionalProperties: false` with its properties, or a typed schema for free-form
//! values), and an array what its items are. Kubernetes definitions (`$defs/io.k8s.*`) are not
//! walked: they are Kubernetes' own, checked against the pinned set by the `values-schema` step,
//! and a few of them are free-form by design (FieldsV1, RawExtension).

use super::PREFIX;
use serde_json::Value;
use std::collections::BTreeSet;

const COMBINATIONS: [&str; 3] = ["anyOf", "oneOf", "allOf"];

/// The pointers of nodes that leave a value's type open, each with why.
pub fn loose_nodes(root: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    visit(root, root, "", &mut seen, &mut found);
    found
}

fn visit(
    root: &Value,
    node: &Value,
    at: &str,
    seen: &mut BTreeSet<String>,
    found: &mut Vec<String>,
) {
    let here = if at.is_empty() { "/" } else { at };
    let Some(map) = node.as_object() else {
        if node != &Value::Bool(false) {
            found.push(format!("{here}: accepts anything"));
        }
        return;
    };
    if let Some(name) = local_ref(node) {
        if !name.starts_with(PREFIX) && seen.insert(name.to_string()) {
            let target = &root["$defs"][name];
            if target.is_null() {
                found.push(format!(
                    "{here}: refers to #/$defs/{name}, which is missing"
                ));
            } else {
                visit(root, target, &format!("/$defs/{name}"), seen, found);
            }
        }
    } else if map.contains_key("$ref") {
        found.push(format!(
            "{here}: refers outside this file, which Helm does not read"
        ));
    }
    let refers = map.contains_key("$ref");
    let combined = COMBINATIONS.iter().any(|k| map.contains_key(*k));
    if !(refers
        || combined
        || ["type", "enum", "const"]
            .iter()
            .any(|k| map.contains_key(*k)))
    {
        found.push(format!("{here}: has no type"));
    }
    for key in COMBINATIONS {
        for (i, branch) in map
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            visit(root, branch, &format!("{at}/{key}/{i}"), seen, found);
        }
    }
    if let Some(properties) = map.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            visit(
                root,
                property,
                &format!("{at}/properties/{}", escape(name)),
                seen,
                found,
            );
        }
    }
    if has_type(node, "object") && !refers {
        match map.get("additionalProperties") {
            None => found.push(format!(
                "{here}: an object that takes any key (say additionalProperties: false, or type its values)"
            )),
            Some(extra) => visit(root, extra, &format!("{at}/additionalProperties"), seen, found),
        }
    }
    if has_type(node, "array") && !refers {
        match map.get("items") {
            None => found.push(format!("{here}: an array whose items have no type")),
            Some(items) => visit(root, items, &format!("{at}/items"), seen, found),
        }
    }
}

/// Paths (as in `--set`) of values in `values` that meet no typed schema node.
pub fn untyped_values(root: &Value, values: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk_values(root, root, values, "", &mut found);
    found
}

fn walk_values(root: &Value, node: &Value, value: &Value, path: &str, found: &mut Vec<String>) {
    let shown = if path.is_empty() {
        "(the values)"
    } else {
        path
    };
    if !is_typed(node) {
        found.push(format!("{shown}: its schema gives no type"));
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match member_schema(root, node, key) {
                    Some(schema) => walk_values(root, schema, child, &child_path, found),
                    None => found.push(format!("{child_path}: not in the schema")),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                match item_schema(root, node) {
                    Some(schema) => walk_values(root, schema, item, &item_path, found),
                    None => found.push(format!("{item_path}: its schema gives no item type")),
                }
            }
        }
        _ => {}
    }
}

/// The schema of member `key` of an object that `node` describes.
fn member_schema<'a>(root: &'a Value, node: &'a Value, key: &str) -> Option<&'a Value> {
    if let Some(schema) = node["properties"].get(key) {
        return Some(schema);
    }
    if node["additionalProperties"].is_object() {
        return Some(&node["additionalProperties"]);
    }
    related(root, node).find_map(|other| member_schema(root, other, key))
}

/// The schema of the items of an array that `node` describes.
fn item_schema<'a>(root: &'a Value, node: &'a Value) -> Option<&'a Value> {
    if node["items"].is_object() {
        return Some(&node["items"]);
    }
    related(root, node).find_map(|other| item_schema(root, other))
}

/// The nodes `node` defers to: its `$ref` target and its combinations' branches.
fn related<'a>(root: &'a Value, node: &'a Value) -> impl Iterator<Item = &'a Value> {
    let target = local_ref(node).map(|name| &root["$defs"][name]);
    let branches = COMBINATIONS
        .iter()
        .filter_map(|k| node[*k].as_array())
        .flatten();
    target.into_iter().chain(branches)
}

fn is_typed(node: &Value) -> bool {
    node.as_object().is_some_and(|map| {
        ["type", "enum", "const", "$ref"]
            .iter()
            .chain(COMBINATIONS.iter())
            .any(|k| map.contains_key(*k))
    })
}

fn has_type(node: &Value, wanted: &str) -> bool {
    match &node["type"] {
        Value::String(t) => t == wanted,
        Value::Array(ts) => ts.iter().any(|t| t == wanted),
        _ => false,
    }
}

fn local_ref(node: &Value) -> Option<&str> {
    node["$ref"].as_str()?.strip_prefix("#/$defs/")
}

fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "name": {"type": "string"},
                "size": {"anyOf": [{"type": "string"}, {"type": "number"}]},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "affinity": {"type": "object", "$ref": "#/$defs/io.k8s.api.core.v1.Affinity"},
                "env": {"$ref": "#/$defs/env"}
            },
            "$defs": {
                "env": {"type": "array", "items": {"$ref": "#/$defs/io.k8s.api.core.v1.EnvVar"}},
                "io.k8s.api.core.v1.Affinity": {"type": ["object", "null"], "additionalProperties": false,
                    "properties": {"nodeAffinity": {"type": "object", "properties": {}}}},
                "io.k8s.api.core.v1.EnvVar": {"type": "object", "additionalProperties": false,
                    "properties": {"name": {"type": "string"}}}
            }
        })
    }

    #[test]
    fn a_typed_schema_has_no_loose_nodes() {
        assert_eq!(loose_nodes(&schema()), Vec::<String>::new());
    }

    #[test]
    fn bare_objects_arrays_and_untyped_nodes_are_named() {
        let mut s = schema();
        s["properties"]["peers"] = json!({"type": "array", "items": {"type": "object"}});
        s["properties"]["loose"] = json!({"type": "array"});
        s["properties"]["what"] = json!({"description": "anything"});
        s["$defs"]["env"]["items"] = json!(true);
        assert_eq!(
            loose_nodes(&s),
            vec![
                "/$defs/env/items: accepts anything",
                "/properties/loose: an array whose items have no type",
                "/properties/peers/items: an object that takes any key (say additionalProperties: false, or type its values)",
                "/properties/what: has no type",
            ]
        );
    }

    #[test]
    fn every_default_value_meets_a_typed_node() {
        let values = json!({
            "name": "x", "size": 3, "labels": {"a": "b"},
            "affinity": {"nodeAffinity": {}},
            "env": [{"name": "A"}]
        });
        assert_eq!(untyped_values(&schema(), &values), Vec::<String>::new());
        let mut s = schema();
        s["properties"]["name"] = json!({"description": "no type"});
        let values = json!({"name": "x", "stray": 1, "env": [{"name": "A", "valu": "b"}]});
        assert_eq!(
            untyped_values(&s, &values),
            vec![
                "env[0].valu: not in the schema",
                "name: its schema gives no type",
                "stray: not in the schema",
            ]
        );
    }
}
