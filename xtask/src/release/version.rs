//! Whether a release may be made: a version is released once (its tag `geonode-<version>` names
//! the commit it came from), with a CHANGELOG.md section, from a tree with nothing uncommitted.

use crate::versions::{chart_version, git, tag};
use std::fs;
use std::path::Path;

/// The chart's version, if it may be released from `root` now; otherwise what to change.
pub fn ready_to_release(root: &Path) -> Result<String, String> {
    let version = chart_version(root)?;
    let tag = tag(&version);
    if !git(root, &["tag", "--list", &tag])?.trim().is_empty() {
        return Err(format!(
            "{version} is released already (tag {tag}); raise version in chart/Chart.yaml and add its section to CHANGELOG.md"
        ));
    }
    let changelog = fs::read_to_string(root.join("CHANGELOG.md")).unwrap_or_default();
    let heading = format!("## {version}");
    if !changelog
        .lines()
        .any(|l| l == heading || l.starts_with(&format!("{heading} ")))
    {
        return Err(format!(
            "CHANGELOG.md has no section for {version}; add `{heading} (<date>)` with what changed for users"
        ));
    }
    let dirty = git(root, &["status", "--porcelain"])?;
    if !dirty.trim().is_empty() {
        return Err(format!(
            "uncommitted changes; commit them first, so that the tag {tag} names what is published:\n{}",
            dirty.trim_end()
        ));
    }
    Ok(version)
}

/// Tags the release's commit, naming the pushed manifest.
pub fn create_tag(root: &Path, version: &str, digest: &str) -> Result<(), String> {
    git(
        root,
        &[
            "tag",
            "-a",
            &tag(version),
            "-m",
            &format!("geonode chart {version} (OCI manifest {digest})"),
        ],
    )
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(version: &str, changelog: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("chart")).unwrap();
        fs::write(
            root.join("chart/Chart.yaml"),
            format!("apiVersion: v2\nname: geonode\nversion: {version}\n"),
        )
        .unwrap();
        fs::write(root.join("CHANGELOG.md"), changelog).unwrap();
        for args in [
            &["init", "-q"][..],
            &["add", "-A"],
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.invalid",
                "commit",
                "-qm",
                "c",
            ],
        ] {
            git(root, args).unwrap();
        }
        dir
    }

    #[test]
    fn a_new_version_with_its_changelog_section_may_be_released() {
        let dir = repo("0.2.0", "# Changelog\n\n## 0.2.0 (2026-11-28)\n\n- first\n");
        assert_eq!(ready_to_release(dir.path()).unwrap(), "0.2.0");
    }

    #[test]
    fn a_released_version_a_missing_section_and_uncommitted_work_are_refused() {
        let dir = repo("0.2.0", "## 0.2.0\n");
        let root = dir.path();
        git(
            root,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.invalid",
                "tag",
                "-a",
                "geonode-0.2.0",
                "-m",
                "r",
            ],
        )
        .unwrap();
        let e = ready_to_release(root).unwrap_err();
        assert!(
            e.contains("released already") && e.contains("raise version"),
            "{e}"
        );

        let dir = repo("0.3.0", "## 0.2.0\n## 0.3.0-rc.1\n");
        let e = ready_to_release(dir.path()).unwrap_err();
        assert!(e.contains("no section for 0.3.0"), "{e}");

        let dir = repo("0.3.0", "## 0.3.0\n");
        fs::write(dir.path().join("chart/values.yaml"), "a: 1\n").unwrap();
        let e = ready_to_release(dir.path()).unwrap_err();
        assert!(
            e.contains("uncommitted") && e.contains("values.yaml"),
            "{e}"
        );
    }
}
