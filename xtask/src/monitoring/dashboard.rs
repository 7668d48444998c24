//! The `dashboard` step of `cargo xtask check`: the chart's Grafana dashboard
//! (chart/files/metrics/dashboard.json, which the dashboard ConfigMap carries as it is) read
//! strictly by Grafana's Foundation SDK (Go, Apache-2.0; tests/monitoring/dashboard-check/, its
//! module pinned in go.mod and go.sum): an unknown or missing field, a wrong type or a value out
//! of range fails, as it would in Grafana.

use crate::cluster::binaries::{go, run};
use crate::project::Project;
use crate::report::Step;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const DASHBOARD: &str = "chart/files/metrics/dashboard.json";
const CHECKER: &str = "tests/monitoring/dashboard-check";

pub fn check_step(project: &Project, step: &mut Step) {
    let dashboard = project.root.join(DASHBOARD);
    if !dashboard.is_file() {
        // A chart checked without it (the harness's fixtures).
        return step
            .notes
            .push(format!("no {DASHBOARD}: no dashboard to check"));
    }
    let checker = match built(&project.root.join(CHECKER)) {
        Ok(path) => path,
        Err(e) => return step.fail(e),
    };
    match crate::process::exec(Command::new(&checker).arg(&dashboard)) {
        Ok(_) => step.passed += 1,
        Err(e) => step.fail(format!("Grafana's SDK refuses {DASHBOARD}:\n{e}")),
    }
    step.detail =
        "read strictly by grafana-foundation-sdk v0.0.22 (UnmarshalJSONStrict, Validate)".into();
}

/// The checker, built once per version of its sources into the tool cache.
fn built(sources: &Path) -> Result<PathBuf, String> {
    let mut text = Vec::new();
    for file in ["main.go", "go.mod", "go.sum"] {
        text.extend(
            fs::read(sources.join(file)).map_err(|e| format!("reading {CHECKER}/{file}: {e}"))?,
        );
    }
    let version = &crate::tools::sha256_bytes(&text)[..12];
    let entry = format!("dashboard-check-{version}");
    let (cache, _lock) = crate::tools::lock_entry(&entry).map_err(|e| e.to_string())?;
    let binary = cache.join(&entry).join("dashboard-check");
    if binary.is_file() {
        return Ok(binary);
    }
    let mut build = go();
    build
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .env("CGO_ENABLED", "0")
        .current_dir(sources);
    run(build, &format!("go build in {CHECKER}")).map_err(|e| e.to_string())?;
    Ok(binary)
}
