//! Where the scheduler put the release's pods: never a pod of an image published for some
//! architectures only on a node of another (the control plane has an arm64 node among amd64
//! ones).

use super::{items, Ctx};
use crate::policy::architecture::published_for;
use std::collections::BTreeMap;

pub fn architectures_respected(ctx: &Ctx, namespace: &str) -> Result<(), String> {
    let nodes: BTreeMap<String, String> = items(ctx, "nodes", "")
        .iter()
        .map(|n| {
            let field = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
            (
                field(&n["metadata"]["name"]),
                field(&n["metadata"]["labels"]["kubernetes.io/arch"]),
            )
        })
        .collect();
    if nodes.is_empty() {
        return Err("kubectl listed no nodes".into());
    }
    let mut misplaced = Vec::new();
    for pod in items(ctx, "pods", namespace) {
        let node = pod["spec"]["nodeName"].as_str().unwrap_or_default();
        let arch = nodes.get(node).map(String::as_str).unwrap_or("?");
        for (_, container) in crate::manifest::containers(&pod["spec"]) {
            let image = container["image"].as_str().unwrap_or_default();
            if published_for(image).is_some_and(|(published, _)| !published.contains(&arch)) {
                misplaced.push(format!(
                    "{} ({image}) on {node} ({arch})",
                    pod["metadata"]["name"].as_str().unwrap_or("?")
                ));
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
