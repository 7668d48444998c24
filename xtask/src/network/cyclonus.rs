//! cyclonus, Kubernetes sig-network's NetworkPolicy analyzer (github.com/mattfenwick/cyclonus):
//! its `analyze --mode query-traffic` decides, for each connection given, whether the policies
//! allow it, by the API's semantics. Built once with `go install` at a fixed version (checked
//! against the Go checksum database) into the tool cache.

use crate::cluster::binaries::GoTool;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

/// The analyzer, built once (about two minutes the first time).
pub const CYCLONUS: GoTool = GoTool {
    name: "cyclonus",
    version: "v0.5.6",
    packages: &["github.com/mattfenwick/cyclonus/cmd/cyclonus"],
    cgo_tags: None,
    why: "the network step's policy analyzer",
};

/// One end of a connection, as cyclonus takes it: a pod (its labels and its namespace's) with
/// an IP, or only an IP outside the cluster.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Peer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal: Option<Internal>,
    #[serde(rename = "IP")]
    pub ip: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Internal {
    pub pod_labels: BTreeMap<String, String>,
    pub namespace_labels: BTreeMap<String, String>,
    pub namespace: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Traffic {
    pub source: Peer,
    pub destination: Peer,
    pub protocol: String,
    pub resolved_port: u16,
    pub resolved_port_name: String,
}

/// Whether each connection is allowed by the NetworkPolicies given (one YAML document each).
pub fn allowed(
    binary: &Path,
    policies: &[String],
    traffic: &[Traffic],
) -> Result<Vec<bool>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let policy_dir = dir.path().join("policies");
    fs::create_dir_all(&policy_dir).map_err(|e| e.to_string())?;
    // A file each: cyclonus reads the first document of a file only.
    for (i, policy) in policies.iter().enumerate() {
        fs::write(policy_dir.join(format!("{i}.yaml")), policy).map_err(|e| e.to_string())?;
    }
    let traffic_file = dir.path().join("traffic.json");
    fs::write(
        &traffic_file,
        serde_json::to_string(traffic).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let out = Command::new(binary)
        .args(["analyze", "--mode", "query-traffic", "--policy-path"])
        .arg(&policy_dir)
        .arg("--traffic-path")
        .arg(&traffic_file)
        .output()
        .map_err(|e| format!("running {}: {e}", binary.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "cyclonus failed: {}{}",
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let verdicts = verdicts(&text);
    if verdicts.len() != traffic.len() {
        return Err(format!(
            "cyclonus answered {} of {} connections; its output:\n{}",
            verdicts.len(),
            traffic.len(),
            text.lines().take(40).collect::<Vec<_>>().join("\n")
        ));
    }
    Ok(verdicts)
}

/// The "IS ALLOWED?" lines of cyclonus's report, in order.
fn verdicts(report: &str) -> Vec<bool> {
    report
        .lines()
        .filter(|l| l.contains("IS ALLOWED?"))
        .map(|l| l.contains("TRUE"))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn verdicts_come_in_order() {
        let report = "| IS ALLOWED? | FALSE  |\nx\n| IS ALLOWED? |  TRUE  |\n";
        assert_eq!(super::verdicts(report), vec![false, true]);
    }
}
