//! A CustomResourceDefinition's schema made as strict as the core kinds': every object that lists
//! its properties refuses others (unless the CRD keeps unknown fields there), `metadata` is
//! Kubernetes's ObjectMeta, and `apiVersion` and `kind` are the CRD's own.

use serde_json::{json, Value};

const OBJECT_META: &str =
    "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The strict JSON schema of `kind` in `group`/`version` when `crd` (a CRD as JSON values)
/// defines it, served or not; `None` when it defines another kind or not that version.
pub fn strict_schema(crd: &Value, group: &str, version: &str, kind: &str) -> Option<Value> {
    let spec = &crd["spec"];
    if crd["kind"] != "CustomResourceDefinition"
        || spec["group"] != group
        || spec["names"]["kind"] != kind
    {
        return None;
    }
    let defined = spec["versions"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == version)?;
    let mut schema = defined["schema"]["openAPIV3Schema"].clone();
    if !schema.is_object() {
        return None;
    }
    make_strict(&mut schema);
    let properties = &mut schema["properties"];
    properties["apiVersion"] = json!({"const": format!("{group}/{version}")});
    properties["kind"] = json!({"const": kind});
    properties["metadata"] = json!({"$ref": OBJECT_META});
    Some(schema)
}

/// `additionalProperties: false` on every object schema that lists properties and says nothing
/// of others, unless it keeps unknown fields; the same below, in properties, items and choices.
fn make_strict(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    let keeps_unknown = map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if map.contains_key("properties") && !map.contains_key("additionalProperties") && !keeps_unknown
    {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(make_strict);
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(inner) = map.get_mut(key) {
            make_strict(inner);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(choices)) = map.get_mut(key) {
            choices.iter_mut().for_each(make_strict);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Value {
        json!({
            "kind": "CustomResourceDefinition",
            "spec": {
                "group": "example.org",
                "names": {"kind": "Widget"},
                "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "metadata": {"type": "object"},
                        "spec": {"type": "object", "properties": {
                            "size": {"type": "integer"},
                            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                                     "properties": {"a": {"type": "string"}}},
                            "parts": {"type": "array", "items": {"type": "object",
                                      "properties": {"name": {"type": "string"}}}}
                        }}
                    }
                }}}]
            }
        })
    }

    #[test]
    fn strict_where_the_crd_lists_properties_and_free_where_it_keeps_unknown_fields() {
        let schema = strict_schema(&crd(), "example.org", "v1", "Widget").unwrap();
        let spec = &schema["properties"]["spec"];
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(spec["additionalProperties"], false);
        assert_eq!(
            spec["properties"]["parts"]["items"]["additionalProperties"],
            false
        );
        assert_eq!(
            spec["properties"]["labels"]["additionalProperties"],
            json!({"type": "string"})
        );
        assert_eq!(spec["properties"]["free"].get("additionalProperties"), None);
        assert_eq!(schema["properties"]["metadata"]["$ref"], OBJECT_META);
        assert_eq!(
            schema["properties"]["apiVersion"]["const"],
            "example.org/v1"
        );
    }

    #[test]
    fn another_kind_group_or_version_is_not_this_crd() {
        assert!(strict_schema(&crd(), "example.org", "v2", "Widget").is_none());
        assert!(strict_schema(&crd(), "example.com", "v1", "Widget").is_none());
        assert!(strict_schema(&crd(), "example.org", "v1", "Gadget").is_none());
    }
}
