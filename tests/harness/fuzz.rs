//! The values fuzzer (`cargo xtask fuzz`, and the `fuzz` step of check) on the clean fixture:
//! everything wrong is refused; a schema that lets a wrong type through is caught and the
//! mutation it let through is listed; a chart whose defaults do not render is not measured.

use super::{assert_rejected_for, broken_copy, fixture, xtask};
use assert_cmd::Command;

/// The fixture's only value, `replicas: 1`, made a string-or-integer: "many" then renders.
const LOOSER_TYPE: (&str, &str) = (
    "\"type\": \"integer\"",
    "\"type\": [\"integer\", \"string\"]",
);

#[test]
fn the_fuzzer_finds_every_wrong_value_refused_by_the_clean_fixture() {
    let (ok, out) = xtask(&fixture(), "fuzz");
    assert!(ok, "{out}");
    for text in [
        "fuzz: 5 mutations of chart/values.yaml (all of them), each rendered with helm3 and helm4",
        "unknown-key                1 of 1     refused (100.0%)",
        "negative                   1 of 1     refused (100.0%)",
        "accepted (0)",
        "rate: 5 of 5 refused (100.0%); 5 by the schema, 0 by a template; threshold 97%: met",
        "time: ",
    ] {
        assert!(
            out.contains(text),
            "the output does not say {text:?}:\n{out}"
        );
    }
    let (ok, out) = xtask(&fixture(), "check");
    assert!(ok, "{out}");
    assert!(
        out.contains("ok   fuzz ") && out.contains("5 of 5 refused (100.0%) (1 in 1 of each kind"),
        "{out}"
    );
}

#[test]
fn a_wrong_type_the_schema_lets_through_is_listed_and_fails_the_check() {
    let (from, to) = LOOSER_TYPE;
    assert_rejected_for(
        "chart/values.schema.json",
        from,
        to,
        "fuzz",
        &[
            "4 of 5 refused (80.0%)",
            "accepted: replicas = \"many\"   [string-for-number]",
            "below 97%",
        ],
    );
    let dir = broken_copy("chart/values.schema.json", from, to);
    let (ok, out) = xtask(dir.path(), "fuzz");
    assert!(!ok, "{out}");
    for text in [
        "accepted (1): the chart renders these wrong values:\n  replicas = \"many\"   [string-for-number]",
        "string-for-number          0 of 1     refused (0.0%)",
        "rate: 4 of 5 refused (80.0%)",
        "threshold 97%: NOT met",
    ] {
        assert!(out.contains(text), "the output does not say {text:?}:\n{out}");
    }
}

#[test]
fn a_chart_whose_defaults_do_not_render_is_not_measured() {
    let dir = broken_copy(
        "chart/templates/service.yaml",
        "  name: web\n",
        "  name: {{ fail \"broken\" }}\n",
    );
    let out = Command::cargo_bin("xtask")
        .unwrap()
        .args(["fuzz", "--root"])
        .arg(dir.path())
        .args(["--kube-minors", "37"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the defaults (with the render pins) do not render under helm3")
            && stderr.contains("broken"),
        "{stderr}"
    );
}
