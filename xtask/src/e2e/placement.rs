//! Where the scheduler put the release's pods: never a pod of an image published for some
//! architectures only on a node of another (the control plane has an arm64 node among amd64
//! ones).

use crate::cluster::ControlPlane;
use crate::policy::architecture::{repository, LIMITED};
use serde_json::Value;
use std::collections::BTreeMap;

pub fn architectures_respected(plane: &ControlPlane, namespace: &str) -> Result<(), String> {
    let json = |args: &[&str]| -> Result<Value, String> {
        let text = plane.kubectl(args).map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| e.to_string())
    };
    let nodes: BTreeMap<String, String> = json(&["get", "nodes", "-o", "json"])?["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            (
                n["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                n["metadata"]["labels"]["kubernetes.io/arch"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let mut misplaced = Vec::new();
    for pod in json(&["get", "pods", "-n", namespace, "-o", "json"])?["items"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let node = pod["spec"]["nodeName"].as_str().unwrap_or_default();
        let arch = nodes.get(node).map(String::as_str).unwrap_or("?");
        let spec = &pod["spec"];
        for (_, container) in crate::manifest::containers(spec) {
            let image = container["image"].as_str().unwrap_or_default();
            if let Some((_, published, _)) = LIMITED.iter().find(|(r, ..)| *r == repository(image))
            {
                if !published.contains(&arch) {
                    misplaced.push(format!(
                        "{} ({image}) on {node} ({arch})",
                        pod["metadata"]["name"].as_str().unwrap_or("?")
                    ));
                }
            }
        }
    }
    if misplaced.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "pods of images published for amd64 only were scheduled on nodes of another architecture: {}",
            misplaced.join(", ")
        ))
    }
}
