//! What the control plane lacks, played by the harness while e2e runs: a storage provisioner,
//! and containers that run (the chart's migrations gate).

use super::{items, Ctx};
use crate::cluster::binaries::{MIGRATED_LABEL, MIGRATIONS_GATE};
use serde_json::Value;

/// Binds each pending claim of any namespace to a new hostPath volume of its class, size and
/// access modes.
pub(super) fn provision_volumes(ctx: &Ctx) {
    for claim in items(ctx, "pvc", "") {
        if claim["status"]["phase"] != "Pending" || !claim["spec"]["volumeName"].is_null() {
            continue;
        }
        let uid = claim["metadata"]["uid"].as_str().unwrap_or("x");
        let name = claim["metadata"]["name"].as_str().unwrap_or("?");
        let namespace = claim["metadata"]["namespace"].as_str().unwrap_or("?");
        let class = claim["spec"]["storageClassName"].as_str().unwrap_or("");
        let size = claim["spec"]["resources"]["requests"]["storage"]
            .as_str()
            .unwrap_or("1Gi");
        let modes = claim["spec"]["accessModes"].to_string();
        let pv = format!(
            "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: e2e-{uid}\nspec:\n  capacity: {{storage: {size}}}\n  accessModes: {modes}\n  persistentVolumeReclaimPolicy: Retain\n  storageClassName: \"{class}\"\n  hostPath: {{path: /tmp/e2e-{uid}}}\n  claimRef: {{namespace: {namespace}, name: {name}}}\n"
        );
        let _ = ctx.plane.kubectl_stdin(&["apply", "-f", "-"], &pv);
    }
}

/// Plays the chart's migrations gate: a pod with that init container may turn Ready once every
/// init Job of its namespace has completed (see cluster::binaries::MIGRATIONS_GATE).
pub(super) fn open_migrations_gates(ctx: &Ctx) {
    let jobs = items(ctx, "jobs", "");
    let migrated = |namespace: &str| {
        let init: Vec<&Value> = jobs
            .iter()
            .filter(|j| {
                j["metadata"]["namespace"] == namespace
                    && j["metadata"]["labels"]["app.kubernetes.io/component"] == "init"
            })
            .collect();
        !init.is_empty()
            && init
                .iter()
                .all(|j| j["status"]["succeeded"].as_i64().unwrap_or(0) >= 1)
    };
    for pod in items(ctx, "pods", "") {
        let gated = pod["spec"]["initContainers"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["name"] == MIGRATIONS_GATE));
        let namespace = pod["metadata"]["namespace"].as_str().unwrap_or("");
        if gated && pod["metadata"]["labels"][MIGRATED_LABEL].is_null() && migrated(namespace) {
            let name = pod["metadata"]["name"].as_str().unwrap_or("?");
            let _ = ctx.plane.kubectl(&[
                "label",
                "pod",
                name,
                "-n",
                namespace,
                &format!("{MIGRATED_LABEL}=true"),
            ]);
        }
    }
}
