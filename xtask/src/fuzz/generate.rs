//! The mutations: every map and leaf of `values.yaml` (and the keys the schema offers that it
//! leaves unset), walked with the schema beside it, each turned wrong in every way its kind
//! allows (see kinds.rs). Exhaustive and ordered, so every run judges the same set.

use super::kinds::{Kind, UNKNOWN_KEY};
use super::meaning::{self, Leaf};
use super::openings;
use super::overlay::Path;
use super::values_schema::ValuesSchema;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    pub kind: Kind,
    /// Where the wrong value goes.
    pub path: Path,
    pub value: Value,
    /// Settings that keep the rest of the values consistent, so that only the wrong value can be
    /// refused (an `existingSecret` comes with its sibling credentials left empty).
    pub companions: Vec<(Path, Value)>,
    /// Inside an object the chart's schema leaves open (a Kubernetes securityContext, a
    /// NetworkPolicy peer): Helm passes it through, and only the API server could refuse it.
    pub passed_through: bool,
}

impl Mutation {
    /// `path = value`, as the report shows it.
    pub fn describe(&self) -> String {
        format!("{} = {}", self.path, self.value)
    }

    /// The key an error about this mutation should name.
    pub fn key(&self) -> &str {
        self.path.key()
    }
}

struct Walk<'a> {
    schema: ValuesSchema<'a>,
    out: Vec<Mutation>,
}

/// Every mutation of `values` (the chart's defaults) that `schema` (values.schema.json) helps place.
pub fn generate(values: &Value, schema: &Value) -> Vec<Mutation> {
    let mut walk = Walk {
        schema: ValuesSchema::new(schema),
        out: Vec::new(),
    };
    let at = At {
        path: Path::default(),
        schema: Some(schema),
        passed_through: false,
    };
    walk.value(&at, values, values);
    walk.out
}

/// Where the walk is: the path, the schema there, and whether the schema has let go.
struct At<'a> {
    path: Path,
    schema: Option<&'a Value>,
    passed_through: bool,
}

impl<'a> At<'a> {
    fn child(&self, path: Path, schema: Option<&'a Value>) -> At<'a> {
        At {
            path,
            passed_through: self.passed_through || schema.is_none(),
            schema,
        }
    }
}

impl<'a> Walk<'a> {
    fn push(&mut self, at: &At, kind: Kind, path: Path, value: Value) {
        self.out.push(Mutation {
            kind,
            companions: Vec::new(),
            path,
            value,
            passed_through: at.passed_through,
        });
    }

    fn value(&mut self, at: &At<'a>, value: &Value, siblings: &Value) {
        for opening in openings::at(&at.path) {
            self.out.push(Mutation {
                kind: Kind::Opening,
                path: at.path.clone(),
                value: opening.value,
                companions: opening.companions,
                passed_through: false,
            });
        }
        match value {
            Value::Object(map) => {
                self.map(at);
                for (key, child) in map {
                    let schema = self.schema.property(at.schema, key);
                    self.value(&at.child(at.path.child(key), schema), child, value);
                }
                for (key, schema) in self.schema.unset_properties(at.schema, value) {
                    if let Some(default) = self.stand_in(&at.path.child(key), schema) {
                        let child = at.child(at.path.child(key), Some(schema));
                        self.value(&child, &default, value);
                    }
                }
            }
            Value::Array(items) => {
                self.list(at, items);
                // The schema gives every item the same schema: the first stands for all.
                if let Some(first) = items.first() {
                    let schema = self.schema.items(at.schema);
                    self.value(&at.child(at.path.item(0), schema), first, value);
                }
            }
            scalar => self.leaf(at, scalar, siblings),
        }
    }

    /// A value for a key the schema offers and the defaults leave unset, when its kind is plain
    /// enough to mutate: an integer, a boolean, a Kubernetes quantity.
    fn stand_in(&self, path: &Path, schema: &'a Value) -> Option<Value> {
        let resolved = self.schema.resolve(schema);
        match resolved["type"].as_str() {
            Some("integer") => Some(json!(self.schema.minimum(schema).unwrap_or(1).max(1))),
            Some("boolean") => Some(json!(false)),
            _ if meaning::is_kube_quantity(path) => Some(json!("1")),
            _ => None,
        }
    }

    fn map(&mut self, at: &At) {
        if !self.schema.is_free_form(at.schema) {
            let wrong = self.schema.unknown_key_value(at.schema);
            self.push(at, Kind::UnknownKey, at.path.child(UNKNOWN_KEY), wrong);
        }
        if !at.path.is_root() {
            self.push(at, Kind::ListForMap, at.path.clone(), json!(["fuzz"]));
            self.push(at, Kind::ScalarForMap, at.path.clone(), json!("fuzz"));
        }
    }

    fn list(&mut self, at: &At, items: &[Value]) {
        self.push(at, Kind::ScalarForList, at.path.clone(), json!("fuzz"));
        self.push(
            at,
            Kind::ObjectForList,
            at.path.clone(),
            json!({"fuzz": true}),
        );
        let objects = match self.schema.item_type(at.schema) {
            Some(t) => Some(t == "object"),
            None => items.first().map(Value::is_object),
        };
        if let Some(objects) = objects {
            let wrong = if objects {
                json!("fuzz")
            } else {
                json!({"fuzz": true})
            };
            self.push(at, Kind::WrongItemType, at.path.clone(), json!([wrong]));
        }
    }

    fn leaf(&mut self, at: &At, value: &Value, siblings: &Value) {
        let first = self.out.len();
        self.leaf_mutations(at, value);
        let companions = companions(&at.path, siblings);
        for m in &mut self.out[first..] {
            m.companions.clone_from(&companions);
        }
    }

    fn leaf_mutations(&mut self, at: &At, value: &Value) {
        let path = at.path.clone();
        self.push(
            at,
            Kind::ObjectForScalar,
            path.clone(),
            json!({"fuzz": true}),
        );
        match value {
            Value::Bool(_) => self.push(at, Kind::StringForBool, path, json!("false")),
            Value::Number(n) => {
                self.push(at, Kind::StringForNumber, path.clone(), json!("many"));
                if !meaning::may_be_negative(&path) {
                    self.push(at, Kind::Negative, path.clone(), json!(-1));
                }
                if n.is_i64() || n.is_u64() {
                    self.push(at, Kind::FractionForInteger, path.clone(), json!(2.5));
                    for &wrong in meaning::out_of_range(&path) {
                        self.push(at, Kind::OutOfRange, path.clone(), json!(wrong));
                    }
                }
            }
            Value::String(s) => self.string(at, s),
            _ => {}
        }
    }

    fn string(&mut self, at: &At, default: &str) {
        let path = at.path.clone();
        let quantities = meaning::quantity_nonsense(&path);
        for wrong in quantities {
            self.push(at, Kind::NonsenseQuantity, path.clone(), json!(wrong));
        }
        if meaning::is_kube_quantity(&path) {
            self.push(at, Kind::Negative, path.clone(), json!(-1));
        }
        let leaf = Leaf {
            path: &path,
            enumerated: self.schema.has_enum(at.schema),
        };
        let rule = meaning::rule_for(&leaf);
        for wrong in rule.map_or(&[][..], |r| r.nonsense) {
            self.push(at, Kind::NonsenseValue, path.clone(), json!(wrong));
        }
        if self.number_is_wrong(at) {
            self.push(at, Kind::NumberForString, path.clone(), json!(42));
        }
        if !default.is_empty() && !rule.is_some_and(|r| r.may_be_empty) {
            self.push(at, Kind::EmptyRequired, path, json!(""));
        }
    }

    /// A number where the schema wants a constrained string, and neither 42 nor "42" would do.
    fn number_is_wrong(&self, at: &At<'a>) -> bool {
        let Some(node) = at.schema else { return false };
        self.schema.constrains_strings(Some(node))
            && self.schema.accepts(node, &json!(42)) == Some(false)
            && self.schema.accepts(node, &json!("42")) == Some(false)
    }
}

/// An `existingSecret` takes the place of the credentials beside it (the strings of its map), and
/// the chart refuses both at once: its mutations leave them empty (the pins set them), so only
/// the name can be refused.
fn companions(path: &Path, siblings: &Value) -> Vec<(Path, Value)> {
    if path.key() != "existingSecret" || path.is_item() {
        return Vec::new();
    }
    let mut parent = path.clone();
    parent.0.pop();
    siblings
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, value)| key.as_str() != "existingSecret" && value.is_string())
        .map(|(key, _)| (parent.child(key), json!("")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "siteUrl": {"type": "string", "pattern": "^https?://[a-z.]+/$"},
                "nameOverride": {"type": "string", "pattern": "^[a-z0-9]*$"},
                "commonLabels": {"type": "object", "additionalProperties": {"type": "string"}},
                "web": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "enabled": {"type": "boolean"},
                        "replicas": {"type": "integer", "minimum": 1},
                        "port": {"type": "integer"},
                        "mode": {"type": "string", "enum": ["A", "B"]},
                        "resources": {"type": "object", "additionalProperties": false, "properties": {
                            "requests": {"type": "object", "additionalProperties": false, "properties": {
                                "memory": {"type": "string"}, "cpu": {"type": "string"}}}}},
                        "probe": {"type": "object", "additionalProperties": false, "properties": {
                            "periodSeconds": {"type": "integer", "minimum": 1}}},
                        "securityContext": {"type": "object"},
                        "trustedProxies": {"type": "array", "items": {"type": "string"}},
                        "tolerations": {"type": "array", "items": {"type": "object"}},
                        "auth": {"type": "object", "additionalProperties": false, "properties": {
                            "password": {"type": "string"}, "existingSecret": {"type": "string"}}}
                    }
                }
            }
        })
    }

    fn values() -> Value {
        json!({
            "siteUrl": "http://localhost/",
            "nameOverride": "",
            "commonLabels": {"team": "maps"},
            "web": {
                "enabled": true,
                "replicas": 1,
                "port": 8080,
                "mode": "A",
                "resources": {"requests": {"memory": "64Mi"}},
                "probe": {},
                "securityContext": {"runAsUser": 101, "seccompProfile": {"type": "RuntimeDefault"}},
                "trustedProxies": ["10.0.0.0/8", "192.168.0.0/16"],
                "tolerations": [],
                "auth": {"password": "", "existingSecret": ""}
            }
        })
    }

    /// Every mutation as `kind path = value`.
    fn lines() -> Vec<String> {
        generate(&values(), &schema())
            .iter()
            .map(|m| format!("{} {}", m.kind.name(), m.describe()))
            .collect()
    }

    fn has(lines: &[String], line: &str) -> bool {
        lines.iter().any(|l| l == line)
    }

    #[test]
    fn unknown_keys_go_only_into_maps_whose_keys_are_fixed() {
        let lines = lines();
        for map in [
            "notAKey",
            "web.notAKey",
            "web.resources.notAKey",
            "web.probe.notAKey",
        ] {
            assert!(
                has(&lines, &format!("unknown-key {map} = \"fuzz\"")),
                "{map}"
            );
        }
        for free in [
            "commonLabels",
            "web.securityContext",
            "web.securityContext.seccompProfile",
        ] {
            assert!(
                !has(&lines, &format!("unknown-key {free}.notAKey = \"fuzz\"")),
                "{free}"
            );
            assert!(
                has(&lines, &format!("list-for-map {free} = [\"fuzz\"]")),
                "{free}"
            );
        }
        assert!(!lines.iter().any(|l| l.starts_with("list-for-map (root)")));
    }

    #[test]
    fn numbers_and_booleans_get_wrong_types_and_impossible_values() {
        let lines = lines();
        for line in [
            "string-for-bool web.enabled = \"false\"",
            "object-for-scalar web.enabled = {\"fuzz\":true}",
            "string-for-number web.replicas = \"many\"",
            "negative web.replicas = -1",
            "fraction-for-integer web.replicas = 2.5",
            "out-of-range web.port = 0",
            "out-of-range web.port = 65536",
            "negative web.securityContext.runAsUser = -1",
        ] {
            assert!(has(&lines, line), "{line} missing from {lines:#?}");
        }
        assert!(!has(&lines, "out-of-range web.replicas = 0"));
    }

    #[test]
    fn strings_get_nonsense_for_their_meaning_and_empty_when_required() {
        let lines = lines();
        for line in [
            "nonsense-quantity web.resources.requests.memory = \"768MB\"",
            "nonsense-quantity web.resources.requests.memory = \"lots\"",
            "negative web.resources.requests.memory = -1",
            "nonsense-value siteUrl = \"not a url\"",
            "number-for-string siteUrl = 42",
            "empty-required siteUrl = \"\"",
            "nonsense-value web.mode = \"NotAChoice\"",
            "number-for-string web.mode = 42",
            "nonsense-value web.trustedProxies[0] = \"10.0.0.0/99\"",
            "empty-required web.trustedProxies[0] = \"\"",
            "nonsense-value web.securityContext.seccompProfile.type = \"NotAChoice\"",
            "nonsense-value commonLabels.team = \"not a label value!\"",
        ] {
            assert!(has(&lines, line), "{line} missing from {lines:#?}");
        }
        // "42" is a valid name prefix, an empty one means "none", a label value may be empty,
        // and only the first item of a list is walked.
        assert!(!has(&lines, "number-for-string nameOverride = 42"));
        assert!(!has(&lines, "empty-required nameOverride = \"\""));
        assert!(!has(&lines, "empty-required commonLabels.team = \"\""));
        assert!(!lines.iter().any(|l| l.contains("web.trustedProxies[1]")));
    }

    #[test]
    fn lists_get_other_shapes_and_items_of_the_other_kind() {
        let lines = lines();
        for line in [
            "scalar-for-list web.tolerations = \"fuzz\"",
            "object-for-list web.tolerations = {\"fuzz\":true}",
            "wrong-item-type web.tolerations = [\"fuzz\"]",
            "wrong-item-type web.trustedProxies = [{\"fuzz\":true}]",
        ] {
            assert!(has(&lines, line), "{line} missing from {lines:#?}");
        }
    }

    #[test]
    fn keys_the_schema_offers_but_the_defaults_leave_unset_are_walked_too() {
        let lines = lines();
        assert!(has(&lines, "negative web.probe.periodSeconds = -1"));
        assert!(has(
            &lines,
            "nonsense-quantity web.resources.requests.cpu = \"1.5.0Gi\""
        ));
    }

    #[test]
    fn passed_through_values_are_marked_and_existing_secrets_clear_their_siblings() {
        let all = generate(&values(), &schema());
        let find = |path: &str, kind: Kind| {
            all.iter()
                .find(|m| m.path.to_string() == path && m.kind == kind)
                .unwrap_or_else(|| panic!("no {} at {path}", kind.name()))
        };
        assert!(find("web.securityContext.runAsUser", Kind::Negative).passed_through);
        assert!(!find("web.securityContext", Kind::ListForMap).passed_through);
        assert!(!find("web.replicas", Kind::Negative).passed_through);
        let secret = find("web.auth.existingSecret", Kind::ObjectForScalar);
        assert_eq!(
            secret.companions,
            vec![(
                Path::default().child("web").child("auth").child("password"),
                json!("")
            )]
        );
        assert!(find("web.auth.password", Kind::ObjectForScalar)
            .companions
            .is_empty());
    }

    #[test]
    fn the_enumeration_is_stable() {
        assert_eq!(
            generate(&values(), &schema()),
            generate(&values(), &schema())
        );
    }
}
