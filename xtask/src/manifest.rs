//! Rendered objects: Helm's output split into documents, each read as Kubernetes reads it and
//! remembered with the template it came from.

use crate::k8s_yaml;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// One rendered Kubernetes object.
#[derive(Debug, Clone)]
pub struct Object {
    /// The template that produced it (`geonode/templates/redis/statefulset.yaml`).
    pub source: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub value: Value,
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} (from {})", self.kind, self.name, self.source)
    }
}

/// Splits `helm template` output at its `---` lines and parses every document.
/// Errors name the template and the line in it.
pub fn parse(rendered: &str) -> Result<Vec<Object>, String> {
    let mut objects = Vec::new();
    for chunk in split_documents(rendered) {
        let source = chunk
            .lines()
            .find_map(|l| l.strip_prefix("# Source: "))
            .unwrap_or("(no # Source line)")
            .to_string();
        let documents = k8s_yaml::parse_stream(chunk)
            .map_err(|e| format!("{source}, in its rendered output at {e}"))?;
        for value in documents {
            objects.push(object(value, &source)?);
        }
    }
    Ok(objects)
}

/// The render with Helm's own layout between documents evened out (Helm 4 leaves a blank line
/// before each `---` where Helm 3 does not), so two Helms can be compared on what they rendered.
pub fn normalize(rendered: &str) -> String {
    let documents: Vec<&str> = split_documents(rendered)
        .into_iter()
        .map(str::trim_end)
        .collect();
    format!("---\n{}\n", documents.join("\n---\n"))
}

fn split_documents(text: &str) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            chunks.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    chunks.push(&text[start..]);
    chunks
        .into_iter()
        .filter(|c| !c.trim().is_empty())
        .collect()
}

fn object(value: Value, source: &str) -> Result<Object, String> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let (Some(api_version), Some(kind)) = (text(&value["apiVersion"]), text(&value["kind"])) else {
        return Err(format!("{source}: a rendered document has no apiVersion or kind; every document must be a Kubernetes object"));
    };
    let name = text(&value["metadata"]["name"])
        .ok_or_else(|| format!("{source}: the {kind} has no metadata.name"))?;
    Ok(Object {
        source: source.to_string(),
        api_version,
        kind,
        name,
        value,
    })
}

impl Object {
    /// The pod template of a workload (or the pod itself), if this object runs pods.
    pub fn pod_template(&self) -> Option<&Value> {
        let spec = &self.value["spec"];
        let template = match self.kind.as_str() {
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => &spec["template"],
            "CronJob" => &spec["jobTemplate"]["spec"]["template"],
            "Pod" => &self.value,
            _ => return None,
        };
        template.is_object().then_some(template)
    }

    pub fn pod_spec(&self) -> Option<&Value> {
        self.pod_template()
            .map(|t| &t["spec"])
            .filter(|s| s.is_object())
    }

    /// Workloads that keep pods running, which must say when they are ready and alive.
    pub fn is_long_running(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        )
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.value["metadata"]["annotations"][key].as_str()
    }
}

/// The containers of a pod spec, with which list they are in (`containers`, `initContainers`,
/// `ephemeralContainers`).
pub fn containers(pod_spec: &Value) -> impl Iterator<Item = (&'static str, &Value)> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |list| {
            pod_spec[list]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |c| (list, c))
        })
}

/// The entries of a string-to-string map (labels, selectors, annotations); others are skipped.
pub fn string_map(value: &Value) -> impl Iterator<Item = (&str, &str)> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
}

/// [`string_map`], owned and sorted: labels or annotations to compare or keep.
pub fn string_map_owned(value: &Value) -> BTreeMap<String, String> {
    string_map(value)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RENDER: &str = "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: |\n    ---\n    inner\n---\n# Source: c/templates/b.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\nspec:\n  template:\n    spec:\n      initContainers: [{name: i}]\n      containers: [{name: c}]\n";

    #[test]
    fn splits_at_document_markers_only_at_column_zero() {
        let objects = parse(RENDER).unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0].source, "c/templates/a.yaml");
        assert_eq!(objects[0].value["data"]["x"], "---\ninner\n");
        assert_eq!(
            objects[1].to_string(),
            "Deployment b (from c/templates/b.yaml)"
        );
    }

    #[test]
    fn normalize_evens_out_blank_lines_between_documents() {
        let helm3 = "---\n# Source: a\nx: 1\n---\n# Source: b\ny: 2\n";
        let helm4 = "---\n# Source: a\nx: 1\n\n---\n# Source: b\ny: 2\n";
        assert_eq!(normalize(helm3), normalize(helm4));
        assert_ne!(normalize(helm3), normalize(&helm4.replace("y: 2", "y: 3")));
    }

    #[test]
    fn finds_pod_specs_and_containers() {
        let objects = parse(RENDER).unwrap();
        assert!(objects[0].pod_spec().is_none());
        let names: Vec<_> = containers(objects[1].pod_spec().unwrap())
            .map(|(list, c)| format!("{list}/{}", c["name"].as_str().unwrap()))
            .collect();
        assert_eq!(names, ["initContainers/i", "containers/c"]);
    }

    #[test]
    fn parse_errors_name_the_template() {
        let err = parse("---\n# Source: c/templates/bad.yaml\nkind: X\nkind: Y\n").unwrap_err();
        assert!(
            err.starts_with("c/templates/bad.yaml, in its rendered output at line 3"),
            "{err}"
        );
        let err = parse("---\n# Source: c/templates/x.yaml\nfoo: 1\n").unwrap_err();
        assert!(err.contains("no apiVersion or kind"), "{err}");
    }
}
