//! The chart's versions: the one in Chart.yaml, the tags `geonode-<version>` of the released
//! ones, and the version policy between them. Read by `check` (the policy) and `release`.

pub mod policy;

use std::fs;
use std::path::Path;
use std::process::Command;

/// The tag of a released version.
pub fn tag(version: &str) -> String {
    format!("geonode-{version}")
}

/// `version:` of `<root>/chart/Chart.yaml`.
pub fn chart_version(root: &Path) -> Result<String, String> {
    let path = root.join("chart/Chart.yaml");
    let text = fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let chart: serde_json::Value =
        yaml_serde::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))?;
    chart["version"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{} has no version", path.display()))
}

pub fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| format!("git {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
