//! `artifacthub.io/changes` in Chart.yaml, derived from CHANGELOG.md: the section of the chart's
//! version (`## <version>`), its bullets under `### Added`, `### Changed`, `### Deprecated`,
//! `### Removed`, `### Fixed` or `### Security` (the kinds Artifact Hub knows), each a change of
//! that kind. `check` holds the annotation to the changelog; `bless` writes it.

use serde::{Deserialize, Serialize};

pub const CHANGES_ANNOTATION: &str = "artifacthub.io/changes";
const KINDS: [&str; 6] = [
    "added",
    "changed",
    "deprecated",
    "removed",
    "fixed",
    "security",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub kind: String,
    pub description: String,
}

/// The changes of `version`'s section of the changelog.
pub fn from_changelog(changelog: &str, version: &str) -> Result<Vec<Change>, String> {
    let heading = format!("## {version}");
    let mut lines = changelog
        .lines()
        .skip_while(|l| *l != heading && !l.starts_with(&format!("{heading} ")));
    if lines.next().is_none() {
        return Err(format!(
            "CHANGELOG.md has no section `{heading}` for the chart's version; add it with what changed for users"
        ));
    }
    let mut changes: Vec<Change> = Vec::new();
    let mut kind: Option<String> = None;
    let mut open = false;
    for line in lines.take_while(|l| !l.starts_with("## ")) {
        if let Some(name) = line.strip_prefix("### ") {
            let lower = name.trim().to_lowercase();
            if !KINDS.contains(&lower.as_str()) {
                return Err(format!(
                    "CHANGELOG.md, {heading}: `{line}` is not a kind of change Artifact Hub knows; use ### Added, Changed, Deprecated, Removed, Fixed or Security"
                ));
            }
            kind = Some(lower);
            open = false;
        } else if let Some(text) = line.strip_prefix("- ") {
            let Some(kind) = &kind else {
                return Err(format!(
                    "CHANGELOG.md, {heading}: `{line}` is under no heading; put each change under ### Added, Changed, Deprecated, Removed, Fixed or Security"
                ));
            };
            changes.push(Change {
                kind: kind.clone(),
                description: text.trim().to_string(),
            });
            open = true;
        } else if open && line.starts_with("  ") {
            let last = changes.last_mut().expect("an open bullet");
            last.description.push(' ');
            last.description.push_str(line.trim());
        } else {
            open = false;
        }
    }
    if changes.is_empty() {
        return Err(format!(
            "CHANGELOG.md, {heading}: no changes listed; add bullets under ### Added, Changed, ..."
        ));
    }
    Ok(changes)
}

/// The annotation's value as Chart.yaml holds it (a YAML list in a string).
pub fn annotated(chart: &serde_json::Value) -> Result<Vec<Change>, String> {
    let text = chart["annotations"][CHANGES_ANNOTATION]
        .as_str()
        .ok_or_else(|| {
            format!("Chart.yaml has no {CHANGES_ANNOTATION} annotation; run `cargo xtask bless`, which writes it from CHANGELOG.md")
        })?;
    yaml_serde::from_str(text).map_err(|e| {
        format!("Chart.yaml's {CHANGES_ANNOTATION} is not a list of kind/description: {e}; run `cargo xtask bless`")
    })
}

/// Chart.yaml's text with the annotation set to `changes`: the block replaced where it is, or
/// added at the start of `annotations:`; the rest of the file (comments included) as it was.
pub fn write_into(chart_yaml: &str, changes: &[Change]) -> Result<String, String> {
    let mut block = format!("  {CHANGES_ANNOTATION}: |\n");
    for change in changes {
        let description = serde_json::to_string(&change.description).expect("a string");
        block.push_str(&format!(
            "    - kind: {}\n      description: {description}\n",
            change.kind
        ));
    }
    let lines: Vec<&str> = chart_yaml.lines().collect();
    let key = format!("  {CHANGES_ANNOTATION}:");
    let (start, end) = match lines.iter().position(|l| l.starts_with(&key)) {
        Some(start) => {
            let len = lines[start + 1..]
                .iter()
                .take_while(|l| l.starts_with("    "))
                .count();
            (start, start + 1 + len)
        }
        None => {
            let at = lines
                .iter()
                .position(|l| *l == "annotations:")
                .ok_or("Chart.yaml has no `annotations:` map; add one")?;
            (at + 1, at + 1)
        }
    };
    let mut out = String::new();
    for line in &lines[..start] {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&block);
    for line in &lines[end..] {
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHANGELOG: &str = "# Changelog\n\n## 0.2.0 (2026-12-01)\n\nIntro text.\n\n### Added\n\n- Backups to S3,\n  with a manifest.\n- A docs site.\n\n### Fixed\n\n- nginx headers.\n\n## 0.1.0\n\n### Added\n\n- Everything.\n";

    #[test]
    fn bullets_become_changes_of_their_heading_kind() {
        let changes = from_changelog(CHANGELOG, "0.2.0").unwrap();
        assert_eq!(
            changes,
            vec![
                Change {
                    kind: "added".into(),
                    description: "Backups to S3, with a manifest.".into()
                },
                Change {
                    kind: "added".into(),
                    description: "A docs site.".into()
                },
                Change {
                    kind: "fixed".into(),
                    description: "nginx headers.".into()
                },
            ]
        );
        assert_eq!(from_changelog(CHANGELOG, "0.1.0").unwrap().len(), 1);
    }

    #[test]
    fn a_missing_section_an_unknown_kind_or_a_loose_bullet_is_refused() {
        assert!(from_changelog(CHANGELOG, "0.3.0")
            .unwrap_err()
            .contains("no section `## 0.3.0`"));
        let odd = "## 1.0.0\n\n### Improved\n\n- x\n";
        assert!(from_changelog(odd, "1.0.0")
            .unwrap_err()
            .contains("### Added, Changed"));
        let loose = "## 1.0.0\n\n- x\n";
        assert!(from_changelog(loose, "1.0.0")
            .unwrap_err()
            .contains("under no heading"));
    }

    #[test]
    fn written_annotation_reads_back_and_keeps_the_rest_of_the_file() {
        let chart = "name: geonode\n# why\nannotations:\n  artifacthub.io/license: Apache-2.0\n";
        let changes = from_changelog(CHANGELOG, "0.2.0").unwrap();
        let written = write_into(chart, &changes).unwrap();
        assert!(written
            .starts_with("name: geonode\n# why\nannotations:\n  artifacthub.io/changes: |\n"));
        assert!(written.ends_with("  artifacthub.io/license: Apache-2.0\n"));
        let parsed: serde_json::Value = yaml_serde::from_str(&written).unwrap();
        assert_eq!(annotated(&parsed).unwrap(), changes);
        let again = write_into(&written, &changes[..1]).unwrap();
        let parsed: serde_json::Value = yaml_serde::from_str(&again).unwrap();
        assert_eq!(annotated(&parsed).unwrap(), changes[..1].to_vec());
        assert!(again.ends_with("  artifacthub.io/license: Apache-2.0\n"));
    }
}
