//! The `alerts` step of `cargo xtask check`: the chart's PrometheusRule, as
//! values/kube-prometheus-stack.yaml with backups on renders it, read by promtool (Debian's
//! `prometheus` package, installed when missing): `promtool check rules` on the rules as
//! rendered, `promtool test rules` with tests/monitoring/'s unit tests on them without their
//! annotations (promtool compares annotations whole; their templates are what `check rules`
//! parses). Beside promtool, the harness holds every alert to what docs/monitoring.md promises:
//! a severity, a summary, a description that ends with its runbook's address, a runbook section,
//! and unit tests where it fires and where it must not.

use crate::helm::Helm;
use crate::manifest;
use crate::process::exec;
use crate::project::Project;
use crate::report::Step;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The scenario whose rules are tested, and what it leaves off that has alerts of its own.
const SCENARIO: &str = "kube-prometheus-stack";
const BACKUPS_ON: &str = "backup:\n  enabled: true\n";
const RUNBOOKS: &str = "docs/monitoring.md";

pub fn check_step(project: &Project, helm: &Helm, kube_minor: u32, step: &mut Step) {
    if !project
        .values_dir
        .join(format!("{SCENARIO}.yaml"))
        .is_file()
    {
        // A chart checked without it (the harness's fixtures).
        return step
            .notes
            .push(format!("no values/{SCENARIO}.yaml: no alerts to test"));
    }
    if let Err(e) = crate::debian::apt_install(&[("promtool", "prometheus")]) {
        return step.fail(format!("promtool is needed for the alerts' tests: {e}"));
    }
    let groups = match rendered_groups(project, helm, kube_minor) {
        Ok(groups) => groups,
        Err(e) => return step.fail(e),
    };
    let test_files = match test_files(&project.root.join("tests/monitoring")) {
        Ok(files) => files,
        Err(e) => return step.fail(e),
    };
    let runbooks = fs::read_to_string(project.root.join(RUNBOOKS)).unwrap_or_default();
    let tests = read_tests(&test_files);
    let alerts = alert_names(&groups);
    for problem in promises(&groups, &runbooks)
        .into_iter()
        .chain(coverage(&alerts, &tests))
    {
        step.fail(problem);
    }
    match promtool(&groups, &test_files) {
        Ok(passed) => step.passed += passed,
        Err(e) => step.fail(e),
    }
    step.detail = format!(
        "{} alerts of {SCENARIO}'s render (backups on): promtool check rules, promtool test rules \
         with tests/monitoring/; each fires in a test and is silent in one; runbooks in {RUNBOOKS}",
        alerts.len()
    );
}

/// The PrometheusRule's groups as the scenario (with backups on) renders them.
fn rendered_groups(project: &Project, helm: &Helm, kube_minor: u32) -> Result<Value, String> {
    let scenario = project.values_dir.join(format!("{SCENARIO}.yaml"));
    let backups = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    fs::write(backups.path(), BACKUPS_ON).map_err(|e| e.to_string())?;
    let values = [scenario, backups.path().to_path_buf()];
    let text = helm
        .template(project, &values, kube_minor)
        .map_err(|e| format!("rendering values/{SCENARIO}.yaml with backups on: {e}"))?;
    let objects = manifest::parse(&text)?;
    objects
        .iter()
        .find(|o| o.kind == "PrometheusRule")
        .map(|o| o.value["spec"]["groups"].clone())
        .ok_or_else(|| format!("values/{SCENARIO}.yaml with backups on renders no PrometheusRule"))
}

fn rules(groups: &Value) -> impl Iterator<Item = &Value> {
    groups
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
}

fn alert_names(groups: &Value) -> BTreeSet<String> {
    rules(groups)
        .filter_map(|r| r["alert"].as_str().map(str::to_string))
        .collect()
}

/// What docs/monitoring.md says of every alert, held against the rules: a severity an operator
/// routes on, a summary, a description ending with its runbook, and the runbook itself.
fn promises(groups: &Value, runbooks: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for rule in rules(groups) {
        let Some(alert) = rule["alert"].as_str() else {
            continue;
        };
        let severity = rule["labels"]["severity"].as_str().unwrap_or_default();
        if !matches!(severity, "warning" | "critical") {
            problems.push(format!(
                "{alert}: severity {severity:?}; give it warning or critical"
            ));
        }
        if rule["annotations"]["summary"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            problems.push(format!("{alert}: no summary annotation"));
        }
        let anchor = format!("Runbook: {RUNBOOKS}#{}.", alert.to_ascii_lowercase());
        let description = rule["annotations"]["description"]
            .as_str()
            .unwrap_or_default();
        if !description.ends_with(&anchor) {
            problems.push(format!(
                "{alert}: its description does not end with \"{anchor}\""
            ));
        }
        if !runbooks.lines().any(|l| l.trim() == format!("### {alert}")) {
            problems.push(format!(
                "{alert}: {RUNBOOKS} has no runbook section \"### {alert}\""
            ));
        }
    }
    problems
}

/// The unit test files: every `.yaml` under tests/monitoring/, sorted.
fn test_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let files = crate::project::files_under(dir).map_err(|e| e.to_string())?;
    Ok(files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect())
}

/// Each alert's unit tests, from every test file: (alert, whether a case expects it to fire).
fn read_tests(files: &[PathBuf]) -> Vec<(String, bool)> {
    let mut cases = Vec::new();
    for path in files {
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        let Ok(file) = yaml_serde::from_str::<Value>(&text) else {
            continue; // promtool reports it
        };
        let tests = file["tests"].as_array().into_iter().flatten();
        for case in tests.flat_map(|t| t["alert_rule_test"].as_array().into_iter().flatten()) {
            if let Some(alert) = case["alertname"].as_str() {
                let fires = case["exp_alerts"].as_array().is_some_and(|a| !a.is_empty());
                cases.push((alert.to_string(), fires));
            }
        }
    }
    cases
}

/// Every alert fires in a case and is silent in another (before its `for:` ends, or on a
/// healthy site); no case names an alert the rules do not have.
fn coverage(alerts: &BTreeSet<String>, cases: &[(String, bool)]) -> Vec<String> {
    let mut problems = Vec::new();
    for alert in alerts {
        for (fires, what) in [(true, "fires"), (false, "stays silent")] {
            if !cases.iter().any(|(a, f)| a == alert && *f == fires) {
                problems.push(format!(
                    "{alert}: no unit test in tests/monitoring/ where it {what}"
                ));
            }
        }
    }
    for (alert, _) in cases {
        if !alerts.contains(alert) {
            problems.push(format!(
                "tests/monitoring/ tests {alert}, which the rules do not have"
            ));
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

/// `promtool check rules` on the groups as rendered, `promtool test rules` on each test file
/// beside them without annotations; the passes.
fn promtool(groups: &Value, test_files: &[PathBuf]) -> Result<usize, String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let as_rules = |groups: &Value| serde_json::json!({ "groups": groups }).to_string();
    let checked = work.path().join("checked.yaml");
    fs::write(&checked, as_rules(groups)).map_err(|e| e.to_string())?;
    exec(
        Command::new("promtool")
            .args(["check", "rules"])
            .arg(&checked),
    )?;
    let mut bare = groups.clone();
    for group in bare.as_array_mut().into_iter().flatten() {
        for rule in group["rules"].as_array_mut().into_iter().flatten() {
            if let Some(rule) = rule.as_object_mut() {
                rule.remove("annotations");
            }
        }
    }
    fs::write(work.path().join("rules.yaml"), as_rules(&bare)).map_err(|e| e.to_string())?;
    let mut passed = 1;
    for file in test_files {
        let copy = work.path().join(file.file_name().unwrap_or_default());
        fs::copy(file, &copy).map_err(|e| format!("copying {}: {e}", file.display()))?;
        exec(Command::new("promtool").args(["test", "rules"]).arg(&copy)).map_err(|e| {
            format!(
                "tests/monitoring/{}:\n{e}",
                copy.file_name().unwrap_or_default().to_string_lossy()
            )
        })?;
        passed += 1;
    }
    Ok(passed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn groups() -> Value {
        json!([{"name": "g", "rules": [
            {"record": "r", "expr": "1"},
            {"alert": "SiteDown", "expr": "1", "labels": {"severity": "critical"},
             "annotations": {"summary": "s", "description": "What to do. Runbook: docs/monitoring.md#sitedown."}},
            {"alert": "DiskFull", "expr": "1", "labels": {"severity": "page"},
             "annotations": {"description": "Grow it."}}
        ]}])
    }

    #[test]
    fn every_alert_keeps_the_docs_promises() {
        let problems = promises(&groups(), "# Monitoring\n### SiteDown\n");
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(
            problems.iter().all(|p| p.starts_with("DiskFull: ")),
            "{problems:?}"
        );
    }

    #[test]
    fn every_alert_fires_in_a_test_and_is_silent_in_one() {
        let alerts = alert_names(&groups());
        let cases = vec![
            ("SiteDown".to_string(), true),
            ("SiteDown".to_string(), false),
            ("DiskFull".to_string(), false),
            ("Gone".to_string(), true),
        ];
        assert_eq!(
            coverage(&alerts, &cases),
            vec![
                "DiskFull: no unit test in tests/monitoring/ where it fires".to_string(),
                "tests/monitoring/ tests Gone, which the rules do not have".to_string(),
            ]
        );
    }
}
