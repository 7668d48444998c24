//! The node's storage provisioner, played by the harness: each pending claim gets a `local`
//! volume on the node, a new root-owned folder like a fresh disk, so the chart's fsGroup is what
//! makes it writable (kubelet applies fsGroup to local volumes as to cloud disks; a hostPath
//! volume would skip it).

use crate::cluster::ControlPlane;
use crate::node::config::NODE_NAME;
use std::fs;
use std::path::{Path, PathBuf};

pub fn provision(plane: &ControlPlane, node_dir: &Path) {
    for claim in plane.items("pvc", "") {
        if claim["status"]["phase"] != "Pending" || !claim["spec"]["volumeName"].is_null() {
            continue;
        }
        let uid = claim["metadata"]["uid"].as_str().unwrap_or("x");
        let folder = node_dir.join("volumes").join(uid);
        if fs::create_dir_all(&folder).is_err() {
            continue;
        }
        let pv = serde_json::json!({
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": format!("node-e2e-{uid}")},
            "spec": {
                "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
                "accessModes": claim["spec"]["accessModes"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": claim["spec"]["storageClassName"].as_str().unwrap_or(""),
                "local": {"path": folder.display().to_string()},
                "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": [NODE_NAME]}
                ]}]}},
                "claimRef": {
                    "namespace": claim["metadata"]["namespace"],
                    "name": claim["metadata"]["name"],
                    "uid": uid,
                },
            },
        });
        let _ = plane.kubectl_stdin(&["apply", "-f", "-"], &pv.to_string());
    }
}

/// The node folder of a claim's volume.
pub fn folder(plane: &ControlPlane, namespace: &str, claim: &str) -> Result<PathBuf, String> {
    let volume = plane.kubectl(&[
        "get",
        "pvc",
        claim,
        "-n",
        namespace,
        "-o",
        "jsonpath={.spec.volumeName}",
    ])?;
    let path = plane.kubectl(&[
        "get",
        "pv",
        volume.trim(),
        "-o",
        "jsonpath={.spec.local.path}",
    ])?;
    Ok(PathBuf::from(path.trim()))
}
