//! Golden renders: `tests/golden/<scenario>.yaml` is what the chart renders for that scenario
//! (Helm 4, the newest Kubernetes minor, the render pins). A change to the chart that changes a
//! render shows up as a diff for review; `cargo xtask bless` rewrites the files.

use similar::TextDiff;

/// None when equal, else a unified diff from `old` to `new`, headed by their labels.
pub fn diff(old_label: &str, old: &str, new_label: &str, new: &str) -> Option<String> {
    if old == new {
        return None;
    }
    let diff = TextDiff::from_lines(old, new);
    Some(
        diff.unified_diff()
            .context_radius(3)
            .header(old_label, new_label)
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_is_none_and_changes_are_a_unified_diff() {
        assert_eq!(super::diff("x", "a\nb\n", "y", "a\nb\n"), None);
        let d = super::diff(
            "default.yaml (golden)",
            "a\nb\nc\n",
            "rendered now",
            "a\nB\nc\n",
        )
        .unwrap();
        assert!(d.contains("--- default.yaml (golden)"), "{d}");
        assert!(d.contains("-b\n+B\n"), "{d}");
    }
}
