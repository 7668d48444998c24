//! Reading `values.schema.json` alongside `values.yaml`: which schema a value falls under, whether
//! a map's keys are fixed, what shape a list's items take. The fuzzer asks the schema only where
//! a kind of mutation applies; whether the chart then refuses it is Helm's answer.

use serde_json::{json, Value};

pub struct ValuesSchema<'a> {
    root: &'a Value,
}

impl<'a> ValuesSchema<'a> {
    pub fn new(root: &'a Value) -> Self {
        ValuesSchema { root }
    }

    /// The node after its local `$ref`s (`#/$defs/...`, the Kubernetes definitions among them).
    pub fn resolve(&self, mut node: &'a Value) -> &'a Value {
        // A bound, in case a definition refers to itself.
        for _ in 0..64 {
            let Some(target) = node["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|pointer| self.root.pointer(pointer))
            else {
                break;
            };
            node = target;
        }
        node
    }

    /// The schema of `key` in a map: its property, or the schema of additional properties.
    pub fn property(&self, node: Option<&'a Value>, key: &str) -> Option<&'a Value> {
        let node = self.resolve(node?);
        node["properties"]
            .get(key)
            .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))
    }

    /// The schema of a list's items.
    pub fn items(&self, node: Option<&'a Value>) -> Option<&'a Value> {
        self.resolve(node?).get("items").filter(|i| i.is_object())
    }

    /// Keys the schema lists that the map does not set (probe fields, CPU limits, ...).
    pub fn unset_properties(
        &self,
        node: Option<&'a Value>,
        value: &Value,
    ) -> Vec<(&'a str, &'a Value)> {
        let Some(node) = node.map(|n| self.resolve(n)) else {
            return Vec::new();
        };
        let Some(properties) = node["properties"].as_object() else {
            return Vec::new();
        };
        properties
            .iter()
            .filter(|(key, _)| value.get(key.as_str()).is_none())
            .map(|(key, schema)| (key.as_str(), schema))
            .collect()
    }

    /// A map that takes keys of the user's choosing: no schema, or one that allows additional
    /// properties without fixing their names.
    pub fn is_free_form(&self, node: Option<&'a Value>) -> bool {
        let Some(node) = node.map(|n| self.resolve(n)) else {
            return true;
        };
        // Names are fixed when the unknown key's name is not one of them (a pattern for variable
        // names takes it: the map stays free-form).
        let unknown = json!(super::kinds::UNKNOWN_KEY);
        let names_fixed = node
            .get("propertyNames")
            .is_some_and(|names| self.accepts(names, &unknown) == Some(false));
        node["additionalProperties"] != false && !names_fixed
    }

    /// A value for an unknown key that is otherwise what the map's additional properties take,
    /// so that only the key can be wrong.
    pub fn unknown_key_value(&self, node: Option<&'a Value>) -> Value {
        let additional = node.map(|n| &self.resolve(n)["additionalProperties"]);
        match additional.map(|a| self.resolve(a)["type"].as_str()) {
            Some(Some("array")) => json!([]),
            Some(Some("object")) => json!({}),
            _ => json!("fuzz"),
        }
    }

    /// `object`, `string`, ... as the schema says a list's items are.
    pub fn item_type(&self, node: Option<&'a Value>) -> Option<&'a str> {
        self.items(node)
            .map(|i| self.resolve(i))
            .and_then(|i| i["type"].as_str())
    }

    /// Whether the node (or one of its anyOf/oneOf branches) carries an enum.
    pub fn has_enum(&self, node: Option<&'a Value>) -> bool {
        self.any_branch(node, &|n| n.get("enum").is_some())
    }

    /// Whether a string under this node must follow a pattern or an enum.
    pub fn constrains_strings(&self, node: Option<&'a Value>) -> bool {
        self.any_branch(node, &|n| {
            n.get("enum").is_some() || n.get("pattern").is_some()
        })
    }

    fn any_branch(&self, node: Option<&'a Value>, test: &dyn Fn(&Value) -> bool) -> bool {
        let Some(node) = node.map(|n| self.resolve(n)) else {
            return false;
        };
        test(node)
            || ["anyOf", "oneOf"].iter().any(|k| {
                node[*k]
                    .as_array()
                    .is_some_and(|bs| bs.iter().any(|b| test(self.resolve(b))))
            })
    }

    /// Whether the node accepts `value` (with the schema's `$defs` in reach); None if the node
    /// cannot be compiled on its own.
    pub fn accepts(&self, node: &'a Value, value: &Value) -> Option<bool> {
        let mut schema = self.resolve(node).clone();
        let object = schema.as_object_mut()?;
        if let Some(defs) = self.root.get("$defs") {
            object.insert("$defs".into(), defs.clone());
        }
        let validator = jsonschema::validator_for(&schema).ok()?;
        Some(validator.is_valid(value))
    }

    /// The schema's `minimum` for a number, if any.
    pub fn minimum(&self, node: &'a Value) -> Option<i64> {
        self.resolve(node)["minimum"].as_i64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "labels": {"$ref": "#/$defs/labels"},
                "ctx": {"type": "object", "$ref": "#/$defs/io.k8s.api.core.v1.SecurityContext"},
                "extra": {"type": "object", "propertyNames": {"enum": ["django"]},
                          "additionalProperties": {"type": "array"}},
                "mode": {"type": "string", "enum": ["A", "B"]},
                "name": {"type": "string", "pattern": "^[a-z0-9]*$"},
                "qty": {"$ref": "#/$defs/quantity"},
                "list": {"type": "array", "items": {"type": "object"}},
                "probe": {"type": "object", "properties": {"period": {"type": "integer", "minimum": 1}}}
            },
            "$defs": {
                "io.k8s.api.core.v1.SecurityContext": {"additionalProperties": false, "properties": {
                    "runAsUser": {"type": ["integer", "null"]}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "quantity": {"anyOf": [{"type": "string", "pattern": "^[0-9]+(Mi|Gi)?$"},
                                       {"type": "number", "minimum": 0}]}
            }
        })
    }

    #[test]
    fn maps_are_free_form_only_when_their_keys_are_open() {
        let root = schema();
        let s = ValuesSchema::new(&root);
        assert!(!s.is_free_form(Some(&root)));
        assert!(s.is_free_form(s.property(Some(&root), "labels")));
        assert!(!s.is_free_form(s.property(Some(&root), "extra")));
        assert!(s.is_free_form(None));
        let ctx = s.property(Some(&root), "ctx");
        assert!(!s.is_free_form(ctx));
        assert!(s.property(ctx, "runAsUser").is_some());
        assert_eq!(
            s.unknown_key_value(s.property(Some(&root), "extra")),
            json!([])
        );
        assert_eq!(s.unknown_key_value(Some(&root)), json!("fuzz"));
    }

    #[test]
    fn leaves_items_and_unset_keys_are_found() {
        let root = schema();
        let s = ValuesSchema::new(&root);
        let name = s.property(Some(&root), "name").unwrap();
        assert_eq!(s.accepts(name, &json!("42")), Some(true));
        assert_eq!(s.accepts(name, &json!("A!")), Some(false));
        let qty = s.property(Some(&root), "qty").unwrap();
        assert!(s.constrains_strings(Some(qty)));
        assert_eq!(s.accepts(qty, &json!(42)), Some(true));
        assert!(s.has_enum(s.property(Some(&root), "mode")));
        assert_eq!(s.item_type(s.property(Some(&root), "list")), Some("object"));
        let probe = s.property(Some(&root), "probe");
        let unset = s.unset_properties(probe, &json!({}));
        assert_eq!(unset.len(), 1);
        assert_eq!(s.minimum(unset[0].1), Some(1));
        assert!(s.unset_properties(probe, &json!({"period": 3})).is_empty());
    }
}
