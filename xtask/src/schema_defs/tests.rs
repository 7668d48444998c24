use super::*;
use serde_json::json;

/// A small stand-in for a Kubernetes `_definitions.json`.
fn kubernetes() -> Map<String, Value> {
    let defs = json!({
        "io.k8s.api.core.v1.Affinity": {
            "description": "Affinity is a group of affinity scheduling rules.",
            "type": ["object", "null"], "additionalProperties": false,
            "properties": {"nodeAffinity": {"$ref": "/api/_definitions.json#/$defs/io.k8s.api.core.v1.NodeAffinity"}}
        },
        "io.k8s.api.core.v1.NodeAffinity": {
            "type": ["object", "null"], "additionalProperties": false, "x-kubernetes-map-type": "atomic",
            "properties": {
                "weight": {"type": ["integer", "null"], "format": "int32"},
                "x-kubernetes-named-like-an-annotation": {"type": "string", "x-kubernetes-list-type": "atomic"}
            }
        },
        "io.k8s.api.core.v1.Toleration": {
            "type": ["object", "null"], "additionalProperties": false,
            "properties": {
                "key": {"type": ["string", "null"]},
                "tolerationSeconds": {"type": ["integer", "null"], "format": "int64"}
            }
        },
        "io.k8s.api.core.v1.Unused": {"type": "object"}
    });
    defs.as_object().unwrap().clone()
}

/// A values schema laid out like the chart's, written by hand (its own key order, compact bits).
const SCHEMA: &str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "web": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "affinity": {"$ref": "#/$defs/pod_affinity"},
        "tolerations": {"$ref": "#/$defs/pod_tolerations"}
      }
    }
  },
  "$defs": {
    "pod_affinity": {
      "type": "object",
      "description": "Affinity of the pods."
    },
    "pod_tolerations": {
      "type": "array",
      "description": "Tolerations of the pods.",
      "items": {
        "type": "object"
      }
    },
    "io.k8s.api.core.v1.Stale": {
      "type": "object"
    }
  }
}
"##;

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn refs_in_every_spelling_name_their_definition() {
    for reference in [
        "#/$defs/io.k8s.api.core.v1.Toleration",
        "#/definitions/io.k8s.api.core.v1.Toleration",
        "/api/_definitions.json#/$defs/io.k8s.api.core.v1.Toleration",
        "_definitions.json#/definitions/io.k8s.api.core.v1.Toleration",
    ] {
        assert_eq!(
            definition_name(reference),
            Some("io.k8s.api.core.v1.Toleration"),
            "{reference}"
        );
    }
    assert_eq!(definition_name("https://example.com/x.json#/$defs/a"), None);
    assert_eq!(definition_name("#/properties/a"), None);
}

#[test]
fn copies_point_at_our_defs_and_drop_only_kubernetes_annotations() {
    let k = kubernetes();
    let copied = copy_definition(&k["io.k8s.api.core.v1.Affinity"]).unwrap();
    assert_eq!(
        copied["properties"]["nodeAffinity"]["$ref"],
        "#/$defs/io.k8s.api.core.v1.NodeAffinity"
    );
    let copied = copy_definition(&k["io.k8s.api.core.v1.NodeAffinity"]).unwrap();
    assert!(copied.get("x-kubernetes-map-type").is_none());
    let odd = &copied["properties"]["x-kubernetes-named-like-an-annotation"];
    assert_eq!(
        odd,
        &json!({"type": "string"}),
        "a property is kept by name"
    );
    assert_eq!(copied["properties"]["weight"]["format"], "int32");
    let outside = json!({"$ref": "https://example.com/other.json"});
    assert!(copy_definition(&outside)
        .unwrap_err()
        .to_string()
        .contains("outside their definitions"));
}

#[test]
fn closure_follows_refs_and_names_unknown_definitions() {
    let roots = BTreeSet::from(["io.k8s.api.core.v1.Affinity".to_string()]);
    let defs = closure(&kubernetes(), roots).unwrap();
    assert_eq!(
        defs.keys().collect::<Vec<_>>(),
        [
            "io.k8s.api.core.v1.Affinity",
            "io.k8s.api.core.v1.NodeAffinity"
        ]
    );
    let unknown = BTreeSet::from(["io.k8s.api.core.v1.Afinity".to_string()]);
    let err = closure(&kubernetes(), unknown).unwrap_err().to_string();
    assert!(
        err.contains("io.k8s.api.core.v1.Afinity is not a definition of Kubernetes 1.31"),
        "{err}"
    );
}

#[test]
fn expected_links_pass_through_values_and_copies_exactly_what_they_need() {
    let want = expected(&parsed(SCHEMA), &kubernetes()).unwrap();
    assert_eq!(
        want["$defs"]["pod_affinity"]["$ref"],
        "#/$defs/io.k8s.api.core.v1.Affinity"
    );
    assert_eq!(
        want["$defs"]["pod_tolerations"]["items"]["$ref"],
        "#/$defs/io.k8s.api.core.v1.Toleration"
    );
    let names: Vec<&String> = want["$defs"].as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        [
            "io.k8s.api.core.v1.Affinity",
            "io.k8s.api.core.v1.NodeAffinity",
            "io.k8s.api.core.v1.Toleration",
            "pod_affinity",
            "pod_tolerations"
        ],
        "the stale one is gone, the unused one never came"
    );
}

#[test]
fn rewrite_changes_only_the_generated_parts_and_is_stable() {
    let out = rewrite(SCHEMA, &kubernetes()).unwrap();
    assert_eq!(
        parsed(&out),
        expected(&parsed(SCHEMA), &kubernetes()).unwrap()
    );
    // People's text is kept byte for byte, the link added as the last member.
    let head = &SCHEMA[..SCHEMA.find("  \"$defs\"").unwrap()];
    assert!(out.starts_with(head), "{out}");
    assert!(out.contains(
        "    \"pod_affinity\": {\n      \"type\": \"object\",\n      \"description\": \"Affinity of the pods.\",\n      \"$ref\": \"#/$defs/io.k8s.api.core.v1.Affinity\"\n    },"
    ), "{out}");
    assert!(out.contains(
        "      \"items\": {\n        \"type\": \"object\",\n        \"$ref\": \"#/$defs/io.k8s.api.core.v1.Toleration\"\n      }"
    ), "{out}");
    assert!(
        out.contains(
            "    \"io.k8s.api.core.v1.Toleration\": {\n      \"additionalProperties\": false,\n"
        ),
        "{out}"
    );
    assert!(!out.contains("Stale"));
    assert_eq!(rewrite(&out, &kubernetes()).unwrap(), out);
    assert_eq!(
        stale(&parsed(&out), &kubernetes()).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn rewrite_adds_defs_only_when_something_needs_them() {
    let plain = "{\"type\": \"object\", \"additionalProperties\": false}\n";
    assert_eq!(rewrite(plain, &kubernetes()).unwrap(), plain);
    let with_ref = "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"t\": {\"$ref\": \"#/$defs/io.k8s.api.core.v1.Toleration\"}\n  },\n  \"additionalProperties\": false\n}\n";
    let out = rewrite(with_ref, &kubernetes()).unwrap();
    assert!(
        parsed(&out)["$defs"]["io.k8s.api.core.v1.Toleration"].is_object(),
        "{out}"
    );
}

#[test]
fn stale_names_each_difference() {
    let mut schema = parsed(&rewrite(SCHEMA, &kubernetes()).unwrap());
    schema["$defs"]["pod_affinity"]
        .as_object_mut()
        .unwrap()
        .remove("$ref");
    schema["$defs"]["io.k8s.api.core.v1.Toleration"]["properties"]["key"] =
        json!({"type": "integer"});
    schema["$defs"]["io.k8s.api.core.v1.Extra"] = json!({});
    assert_eq!(
        stale(&schema, &kubernetes()).unwrap(),
        [
            "/$defs/pod_affinity does not refer to #/$defs/io.k8s.api.core.v1.Affinity",
            "$defs has io.k8s.api.core.v1.Extra, which nothing refers to",
            "$defs/io.k8s.api.core.v1.Toleration differs from Kubernetes 1.31's",
        ]
    );
}

#[test]
fn the_generated_schema_refuses_what_kubernetes_refuses() {
    let schema = parsed(&rewrite(SCHEMA, &kubernetes()).unwrap());
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .unwrap();
    let good = json!({"web": {"affinity": {"nodeAffinity": {"weight": 1}}, "tolerations": [{"key": "a"}]}});
    assert!(validator.is_valid(&good));
    for bad in [
        json!({"web": {"tolerations": [{"kee": "a"}]}}),
        json!({"web": {"tolerations": [{"tolerationSeconds": "60"}]}}),
        json!({"web": {"affinity": {"nodeAffinity": {"weight": "heavy"}}}}),
        json!({"web": {"affinity": {"nodeAfinity": {}}}}),
        json!({"web": {"affinity": null}}),
    ] {
        assert!(!validator.is_valid(&bad), "{bad}");
    }
}

#[test]
fn pass_through_definitions_are_kubernetes_names() {
    for pass in PASS_THROUGH {
        let name = pass.name();
        assert!(
            name.starts_with("io.k8s.api.") && pass.pointer.starts_with('/'),
            "{name}"
        );
    }
}
