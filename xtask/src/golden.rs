//! Golden renders: `tests/golden/<scenario>.yaml` is what the chart renders for that scenario
//! (Helm 4, the newest Kubernetes minor, the render pins). A change to the chart that changes a
//! render shows up as a diff for review; `cargo xtask bless` rewrites the files.

use similar::TextDiff;

/// None when equal, else a unified diff from the golden to the render.
pub fn diff(golden_name: &str, golden: &str, rendered: &str) -> Option<String> {
    if golden == rendered {
        return None;
    }
    let diff = TextDiff::from_lines(golden, rendered);
    Some(
        diff.unified_diff()
            .context_radius(3)
            .header(&format!("{golden_name} (golden)"), &format!("{golden_name} (rendered now)"))
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_is_none_and_changes_are_a_unified_diff() {
        assert_eq!(super::diff("x", "a\nb\n", "a\nb\n"), None);
        let d = super::diff("default.yaml", "a\nb\nc\n", "a\nB\nc\n").unwrap();
        assert!(d.contains("--- default.yaml (golden)"), "{d}");
        assert!(d.contains("-b\n+B\n"), "{d}");
    }
}
