//! Integration tests of the harness: the clean fixture passes; each broken copy of it fails for
//! exactly one reason, with a message that names the object, the rule and what to change.

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

mod fuzz;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/clean")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs `cargo xtask <args> --root <root>` (one Kubernetes minor, for speed) and returns its
/// exit success and standard output.
fn xtask(root: &Path, command: &str) -> (bool, String) {
    let out = Command::cargo_bin("xtask")
        .unwrap()
        .args([command, "--root"])
        .arg(root)
        .args(["--kube-minors", "37"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("error:"),
        "the harness itself failed:\n{stderr}\n{stdout}"
    );
    (out.status.success(), stdout)
}

/// A copy of the clean fixture with one text replaced in one file.
fn broken_copy(file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), dir.path());
    replace_in(dir.path(), file, from, to);
    dir
}

/// Replaces the first `from` in `root/file` with `to`.
fn replace_in(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} does not contain {from:?}");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The names of the steps that failed.
fn failed_steps(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("FAIL "))
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

/// Breaks the fixture's chart (and re-blesses its golden, so only the break itself can fail),
/// then checks that exactly one step fails with one failure that says all of `expected`.
fn assert_rejected_for(file: &str, from: &str, to: &str, step: &str, expected: &[&str]) {
    assert_rejected_after(&[(file, from, to)], step, expected);
}

/// [`assert_rejected_for`] after several replacements (file, from, to), in order.
fn assert_rejected_after(changes: &[(&str, &str, &str)], step: &str, expected: &[&str]) {
    let (file, from, to) = changes[0];
    let dir = broken_copy(file, from, to);
    for (file, from, to) in &changes[1..] {
        replace_in(dir.path(), file, from, to);
    }
    let (blessed, out) = xtask(dir.path(), "bless");
    assert!(blessed, "bless failed:\n{out}");
    let (ok, out) = xtask(dir.path(), "check");
    assert!(!ok, "the check passed a chart broken by {to:?}:\n{out}");
    assert_eq!(
        failed_steps(&out),
        vec![step],
        "expected only {step} to fail:\n{out}"
    );
    assert!(
        out.lines().any(|l| l.ends_with(" passed, 1 failed")),
        "expected exactly one failure:\n{out}"
    );
    for text in expected {
        assert!(
            out.contains(text),
            "the failure does not say {text:?}:\n{out}"
        );
    }
}

#[test]
fn the_clean_fixture_passes_every_step() {
    let (ok, out) = xtask(&fixture(), "check");
    assert!(ok, "{out}");
    assert!(failed_steps(&out).is_empty(), "{out}");
    for step in [
        "lint",
        "render",
        "helm3-equals-helm4",
        "schema",
        "policy",
        "bad-values",
        "golden",
        "values-schema",
    ] {
        assert!(
            out.contains(&format!("ok   {step} ")),
            "step {step} did not run:\n{out}"
        );
    }
    assert!(out.trim_end().ends_with(" passed, 0 failed"), "{out}");
}

#[test]
fn an_unknown_field_is_rejected_by_the_strict_schema() {
    assert_rejected_for(
        "chart/templates/deployment.yaml",
        "containerPort: 8080",
        "containerPrt: 8080",
        "schema",
        &[
            "Deployment web (from fixture/templates/deployment.yaml)",
            "'containerPrt' was unexpected",
            "fix these fields",
        ],
    );
}

#[test]
fn a_wrong_type_is_rejected_by_the_strict_schema() {
    assert_rejected_for(
        "chart/templates/pvc.yaml",
        "storage: 1Gi",
        "storage: {size: 1Gi}",
        "schema",
        &[
            "PersistentVolumeClaim web-data",
            "/spec/resources/requests/storage",
        ],
    );
}

#[test]
fn a_missing_probe_is_rejected_by_policy() {
    assert_rejected_for(
        "chart/templates/deployment.yaml",
        "          livenessProbe:\n            tcpSocket:\n              port: http\n",
        "",
        "policy",
        &[
            "Deployment web",
            "[probes]",
            "has no livenessProbe; add them",
        ],
    );
}

#[test]
fn a_drifted_golden_is_shown_as_a_diff() {
    let dir = broken_copy("tests/golden/default.yaml", "replicas: 1", "replicas: 2");
    let (ok, out) = xtask(dir.path(), "check");
    assert!(!ok);
    assert_eq!(failed_steps(&out), vec!["golden"], "{out}");
    assert!(
        out.contains("-  replicas: 2") && out.contains("+  replicas: 1"),
        "no diff shown:\n{out}"
    );
    assert!(out.contains("run `cargo xtask bless`"), "{out}");
}

#[test]
fn a_decimal_file_mode_is_read_as_kubernetes_reads_it() {
    // The clean fixture's 0644 passes because it is octal 420; 644 is above 0777.
    assert_rejected_for(
        "chart/templates/deployment.yaml",
        "defaultMode: 0644",
        "defaultMode: 644",
        "policy",
        &[
            "Deployment web",
            "[file-mode]",
            "defaultMode 644, above 0777",
            "0644",
        ],
    );
}

#[test]
fn a_secret_in_a_configmap_is_rejected_by_policy() {
    assert_rejected_for(
        "chart/templates/configmap.yaml",
        "  GEOSERVER_LOCATION:",
        "  DATABASE_URL: postgis://geonode:s3cret-pw@db:5432/geonode\n  GEOSERVER_LOCATION:",
        "policy",
        &[
            "ConfigMap web-config",
            "[no-secret-in-configmap]",
            "URL with a password",
            "Secret-sourced",
        ],
    );
}

#[test]
fn an_unpinned_image_is_rejected_by_policy() {
    // Chart.yaml lists the image as it is, so only the policy speaks.
    assert_rejected_after(
        &[
            (
                "chart/templates/deployment.yaml",
                "image: nginx:1.27.3",
                "image: nginx:latest",
            ),
            (
                "chart/Chart.yaml",
                "image: nginx:1.27.3",
                "image: nginx:latest",
            ),
        ],
        "policy",
        &[
            "Deployment web",
            "[pinned-image]",
            "\"nginx:latest\"",
            "set a fixed version tag or a digest",
        ],
    );
}

#[test]
fn a_selector_that_misses_its_pods_is_rejected_by_policy() {
    assert_rejected_for(
        "chart/templates/deployment.yaml",
        "      app.kubernetes.io/component: web\n  template:",
        "      app.kubernetes.io/component: api\n  template:",
        "policy",
        &[
            "Deployment web",
            "[selector-labels]",
            "app.kubernetes.io/component=api is not a label of the pod template",
        ],
    );
}

#[test]
fn a_service_that_selects_nothing_is_rejected_by_policy() {
    assert_rejected_for(
        "chart/templates/service.yaml",
        "app.kubernetes.io/name: web",
        "app.kubernetes.io/name: wbe",
        "policy",
        &[
            "Service web",
            "[service-selects-pods]",
            "matches no pod template",
        ],
    );
}

#[test]
fn a_data_volume_without_keep_is_rejected_by_policy() {
    assert_rejected_for(
        "chart/templates/pvc.yaml",
        "  annotations:\n    helm.sh/resource-policy: keep\n",
        "",
        "policy",
        &[
            "PersistentVolumeClaim web-data",
            "[pvc-keep]",
            "helm.sh/resource-policy: keep",
        ],
    );
}

#[test]
fn a_config_change_that_would_not_roll_pods_is_rejected_by_policy() {
    assert_rejected_for(
        "chart/templates/deployment.yaml",
        "checksum/web-config:",
        "checksum/other:",
        "policy",
        &[
            "Deployment web",
            "[config-checksum]",
            "no annotation checksum/web-config",
        ],
    );
}

#[test]
fn a_value_without_a_type_is_rejected_by_the_values_schema_step() {
    assert_rejected_for(
        "chart/values.schema.json",
        "\"properties\": {",
        "\"properties\": {\n    \"extraEnv\": {\"type\": \"array\", \"description\": \"Extra env.\"},",
        "values-schema",
        &["/properties/extraEnv: an array whose items have no type"],
    );
}

#[test]
fn schema_defs_copies_the_kubernetes_definitions_a_value_refers_to() {
    let dir = broken_copy(
        "chart/values.schema.json",
        "\"properties\": {",
        "\"properties\": {\n    \"tolerations\": {\"type\": \"array\", \"description\": \"Tolerations.\", \"items\": {\"$ref\": \"#/$defs/io.k8s.api.core.v1.Toleration\"}},",
    );
    let schema = dir.path().join("chart/values.schema.json");
    let (ok, out) = xtask(dir.path(), "schema-defs");
    assert!(ok, "{out}");
    let text = fs::read_to_string(&schema).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let toleration = &parsed["$defs"]["io.k8s.api.core.v1.Toleration"];
    assert_eq!(toleration["additionalProperties"], false, "{text}");
    assert!(toleration["properties"]["tolerationSeconds"].is_object());
    let (blessed, out) = xtask(dir.path(), "bless");
    assert!(blessed, "bless failed:\n{out}");
    let (ok, out) = xtask(dir.path(), "check");
    assert!(ok, "{out}");
    // A definition edited by hand is caught, and the message says what to run.
    fs::write(
        &schema,
        text.replace("\"tolerationSeconds\"", "\"tolerationSecs\""),
    )
    .unwrap();
    let (ok, out) = xtask(dir.path(), "check");
    assert!(!ok);
    assert_eq!(failed_steps(&out), vec!["values-schema"], "{out}");
    assert!(
        out.contains("$defs/io.k8s.api.core.v1.Toleration differs from Kubernetes 1.31's")
            && out.contains("run it and commit the file"),
        "{out}"
    );
}

#[test]
fn bad_values_that_render_are_reported() {
    let dir = broken_copy(
        "chart/values.schema.json",
        "\"minimum\": 1",
        "\"minimum\": 0",
    );
    let (ok, out) = xtask(dir.path(), "check");
    assert!(!ok);
    assert_eq!(failed_steps(&out), vec!["bad-values"], "{out}");
    assert!(
        out.contains(
            "bad values zero-replicas rendered under helm3 but must fail with \"/replicas\""
        ),
        "{out}"
    );
}

#[test]
fn a_deliberately_broken_deployment_fails_every_rule_it_breaks() {
    let dir = broken_copy(
        "chart/templates/deployment.yaml",
        "image: nginx:1.27.3",
        "image: nginx:latest",
    );
    let path = dir.path().join("chart/templates/deployment.yaml");
    let text = fs::read_to_string(&path).unwrap();
    let start = text.find("          readinessProbe:").unwrap();
    let end = text.find("          volumeMounts:").unwrap();
    let text = format!("{}{}", &text[..start], &text[end..]).replace("      securityContext:\n        runAsNonRoot: true\n        runAsUser: 101\n        seccompProfile:\n          type: RuntimeDefault\n", "");
    fs::write(
        &path,
        text.replace("containerPort: 8080", "containerPrt: 8080"),
    )
    .unwrap();
    let cm = dir.path().join("chart/templates/configmap.yaml");
    let text = fs::read_to_string(&cm).unwrap();
    fs::write(
        &cm,
        text.replace(
            "  GEOSERVER_LOCATION:",
            "  BROKER_URL: redis://:hunter2hunter2@redis:6379/0\n  GEOSERVER_LOCATION:",
        ),
    )
    .unwrap();
    xtask(dir.path(), "bless");
    let (ok, out) = xtask(dir.path(), "check");
    assert!(!ok);
    for rule in [
        "[pinned-image]",
        "[probes]",
        "[resources]",
        "[pod-security-restricted]",
        "[no-secret-in-configmap]",
    ] {
        assert!(out.contains(rule), "{rule} not reported:\n{out}");
    }
    assert!(out.contains("'containerPrt' was unexpected"), "{out}");
}

#[test]
fn usage_errors_exit_2_with_help() {
    let out = Command::cargo_bin("xtask")
        .unwrap()
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: cargo xtask"));
    let out = Command::cargo_bin("xtask")
        .unwrap()
        .args(["check", "--root", "/nonexistent-geonode-k8s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("opening the project folder"));
}

#[test]
fn duplicate_keys_fail_the_render_as_they_fail_kubernetes() {
    assert_rejected_for(
        "chart/templates/service.yaml",
        "  name: web\n",
        "  name: web\n  name: web2\n",
        "render",
        &[
            "fixture/templates/service.yaml",
            "mapping key \"name\" already defined",
        ],
    );
}

/// A cert-manager Certificate, a kind outside the Kubernetes schemas.
const CERTIFICATE: &str = "---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web-tls\nspec:\n  secretName: web-tls\n  dnsNames: [geonode.example.org]\n";

/// Its CustomResourceDefinition as a project publishes it: no `additionalProperties` anywhere,
/// which the harness makes strict.
const CERTIFICATE_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: certificates.cert-manager.io
spec:
  group: cert-manager.io
  names: {kind: Certificate, plural: certificates}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          required: [spec]
          properties:
            apiVersion: {type: string}
            kind: {type: string}
            metadata: {type: object}
            spec:
              type: object
              required: [secretName]
              properties:
                secretName: {type: string}
                dnsNames: {type: array, items: {type: string}}
"#;

#[test]
fn custom_resources_are_validated_against_kept_crds_or_listed_as_unvalidated() {
    let dir = broken_copy(
        "chart/templates/pvc.yaml",
        "storage: 1Gi\n",
        &format!("storage: 1Gi\n{CERTIFICATE}"),
    );
    xtask(dir.path(), "bless");
    let (ok, out) = xtask(dir.path(), "check");
    assert!(ok, "{out}");
    assert!(
        out.contains("note: cert-manager.io/v1 Certificate: no schema"),
        "not listed as unvalidated:\n{out}"
    );

    let schemas = dir.path().join("tests/crd-schemas");
    fs::create_dir_all(&schemas).unwrap();
    fs::write(
        schemas.join("cert-manager.io_certificates.yaml"),
        CERTIFICATE_CRD,
    )
    .unwrap();
    let (ok, out) = xtask(dir.path(), "check");
    assert!(ok && !out.contains("Certificate: no schema"), "{out}");

    let pvc = dir.path().join("chart/templates/pvc.yaml");
    let text = fs::read_to_string(&pvc)
        .unwrap()
        .replace("dnsNames:", "dnsNamez:");
    fs::write(&pvc, text).unwrap();
    xtask(dir.path(), "bless");
    let (ok, out) = xtask(dir.path(), "check");
    assert!(!ok);
    assert_eq!(failed_steps(&out), vec!["schema"], "{out}");
    assert!(
        out.contains("Certificate web-tls") && out.contains("'dnsNamez' was unexpected"),
        "{out}"
    );
}

#[test]
fn exceptions_allow_one_object_and_rule_and_must_stay_in_use() {
    let dir = broken_copy(
        "chart/templates/deployment.yaml",
        "          livenessProbe:\n            tcpSocket:\n              port: http\n",
        "",
    );
    xtask(dir.path(), "bless");
    let exceptions = dir.path().join("tests/policy-exceptions.yaml");
    fs::write(
        &exceptions,
        "- rule: probes\n  object: Deployment/web\n  reason: the fixture's web server has no health endpoint to ask\n",
    )
    .unwrap();
    let (ok, out) = xtask(dir.path(), "check");
    assert!(ok, "{out}");
    assert!(out.contains("1 findings allowed by 1 exceptions"), "{out}");
    assert!(
        out.contains("allowed: Deployment/web breaks [probes] because the fixture's web server"),
        "{out}"
    );

    fs::write(
        &exceptions,
        "- rule: probes\n  object: Deployment/web\n  reason: the fixture's web server has no health endpoint to ask\n\
         - rule: resources\n  object: Deployment/gone\n  reason: an object that no longer exists anywhere\n",
    )
    .unwrap();
    let (ok, out) = xtask(dir.path(), "check");
    assert!(!ok);
    assert!(out.contains("the exception resources for Deployment/gone matches no finding in any scenario; remove it"), "{out}");
}

#[test]
fn a_changelog_entry_missing_from_chart_yaml_is_rejected_by_chart_metadata() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), dir.path());
    let changelog = dir.path().join("CHANGELOG.md");
    fs::write(
        &changelog,
        "# Changelog\n\n## 0.1.0\n\n### Added\n\n- The web server.\n",
    )
    .unwrap();
    let (blessed, out) = xtask(dir.path(), "bless");
    assert!(blessed, "{out}");
    let chart = fs::read_to_string(dir.path().join("chart/Chart.yaml")).unwrap();
    assert!(
        chart.contains(
            "artifacthub.io/changes: |\n    - kind: added\n      description: \"The web server.\""
        ),
        "bless did not write the changes:\n{chart}"
    );
    let (ok, out) = xtask(dir.path(), "check");
    assert!(ok, "{out}");
    replace_in(
        dir.path(),
        "CHANGELOG.md",
        "### Added\n",
        "### Fixed\n\n- A header.\n\n### Added\n",
    );
    let (ok, out) = xtask(dir.path(), "check");
    assert!(!ok, "{out}");
    assert_eq!(failed_steps(&out), vec!["chart-metadata"], "{out}");
    assert!(
        out.contains("Chart.yaml's artifacthub.io/changes is not what CHANGELOG.md's section for 0.1.0 lists; run `cargo xtask bless`"),
        "{out}"
    );
}

#[test]
fn an_image_chart_yaml_does_not_list_is_rejected_by_chart_metadata() {
    let dir = broken_copy(
        "chart/templates/deployment.yaml",
        "image: nginx:1.27.3",
        "image: nginx:1.27.4",
    );
    assert!(xtask(dir.path(), "bless").0);
    let (ok, out) = xtask(dir.path(), "check");
    assert!(!ok, "{out}");
    assert_eq!(failed_steps(&out), vec!["chart-metadata"], "{out}");
    for text in [
        "images Chart.yaml's artifacthub.io/images does not list; add them:\n       Deployment web (from fixture/templates/deployment.yaml) runs nginx:1.27.4",
        "lists web (nginx:1.27.3), which is no image value of values.yaml and no render runs; remove it",
    ] {
        assert!(out.contains(text), "the failure does not say {text:?}:\n{out}");
    }
}

#[test]
fn a_long_template_line_is_rejected_by_readable() {
    let long = format!(
        "{{{{- /* {} */}}}}\napiVersion: apps/v1\n",
        "why ".repeat(30)
    );
    assert_rejected_for(
        "chart/templates/deployment.yaml",
        "apiVersion: apps/v1\n",
        &long,
        "readable",
        &["chart/templates/deployment.yaml:1: 132 characters, over 120"],
    );
}

#[test]
fn yaml_in_a_printf_is_rejected_by_readable() {
    assert_rejected_for(
        "chart/templates/deployment.yaml",
        "apiVersion: apps/v1\n",
        "{{- $ports := printf \"ports:\\n  - port: %d\" 80 }}\napiVersion: apps/v1\n",
        "readable",
        &["chart/templates/deployment.yaml:1: YAML built in a print/printf string"],
    );
}

/// A Python module's unit tests beside this file, with a folder of the chart's scripts on its path,
/// in Python as the chart's pods run them.
fn python_unit_tests(module: &str, scripts: &str) {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/harness");
    let out = Command::new("python3")
        .args(["-m", "unittest", "-v", module])
        .current_dir(&harness)
        .env(
            "PYTHONPATH",
            harness.join("../../chart/files").join(scripts),
        )
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The read replicas' reload decision (chart/files/geoserver/follow_catalog.py) meets its unit
/// tests (tests/harness/follow_catalog_test.py).
#[test]
fn follow_catalog_decides_as_its_tests_say() {
    python_unit_tests("follow_catalog_test", "geoserver");
}

/// A site export's checks (chart/files/backup/site_export.py) meet their unit tests
/// (tests/harness/site_export_test.py).
#[test]
fn site_export_checks_as_its_tests_say() {
    python_unit_tests("site_export_test", "backup");
}
