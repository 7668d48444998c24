//! The version policy, against the last release (the newest tag `geonode-<version>`): a chart
//! that changed since has a higher version; a values change that breaks an installation's values
//! (a key gone, or a default of another type) raises the major version (the minor one while it is
//! 0.x) and has its upgrade note in docs/releasing.md.

use super::{chart_version, git};
use serde_json::Value;
use std::cmp::Ordering;
use std::path::Path;

/// A SemVer version's numbers and whether it has a pre-release part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    numbers: [u64; 3],
    pre: Option<String>,
}

impl Version {
    pub fn parse(text: &str) -> Result<Version, String> {
        let core = text.split('+').next().unwrap_or(text);
        let (core, pre) = match core.split_once('-') {
            Some((c, p)) => (c, Some(p.to_string())),
            None => (core, None),
        };
        let parts: Vec<u64> = core
            .split('.')
            .map(|p| p.parse::<u64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("{text:?} is not a SemVer version (X.Y.Z)"))?;
        let numbers: [u64; 3] = parts
            .try_into()
            .map_err(|_| format!("{text:?} is not a SemVer version (X.Y.Z)"))?;
        Ok(Version { numbers, pre })
    }

    /// Whether going from `self` to `next` may break installations: the major number rose, or
    /// the minor one while the major is 0.
    pub fn allows_breaking(&self, next: &Version) -> bool {
        let [major, minor, _] = self.numbers;
        let [next_major, next_minor, _] = next.numbers;
        next_major > major || (major == 0 && next_major == 0 && next_minor > minor)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    /// SemVer precedence, pre-releases compared as text (enough to tell rc.1 from rc.2).
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers
            .cmp(&other.numbers)
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

/// Every release tag (`geonode-<SemVer>`), oldest version first.
pub fn releases(root: &Path) -> Result<Vec<String>, String> {
    let tags = git(root, &["tag", "--list", "geonode-*"])?;
    let mut versions: Vec<(Version, String)> = tags
        .lines()
        .filter_map(|t| {
            Some((
                Version::parse(t.strip_prefix("geonode-")?).ok()?,
                t.to_string(),
            ))
        })
        .collect();
    versions.sort();
    Ok(versions.into_iter().map(|(_, t)| t).collect())
}

/// The newest release: its version and tag.
pub fn last_release(root: &Path) -> Result<Option<(Version, String)>, String> {
    let Some(tag) = releases(root)?.pop() else {
        return Ok(None);
    };
    let version = Version::parse(tag.trim_start_matches("geonode-"))?;
    Ok(Some((version, tag)))
}

/// Dotted paths of `old`'s values that `new` drops, or whose default changes type (a map
/// becoming a string, a number becoming a list...): an installation that sets them breaks.
pub fn breaking_values(old: &Value, new: &Value) -> Vec<String> {
    let mut found = Vec::new();
    compare(old, new, "", &mut found);
    found
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

fn compare(old: &Value, new: &Value, path: &str, found: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            for (key, old_child) in o {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match n.get(key) {
                    None => found.push(format!("{child} is gone")),
                    Some(new_child) => compare(old_child, new_child, &child, found),
                }
            }
        }
        // An empty default says little about its type; null accepts anything.
        (Value::Null, _) | (_, Value::Null) => {}
        _ if kind(old) != kind(new) => found.push(format!(
            "{path} was a {} and is a {} now",
            kind(old),
            kind(new)
        )),
        _ => {}
    }
}

/// What the policy finds wrong in `root` against its last release; empty when it holds. The
/// second value says what was compared.
pub fn check(root: &Path) -> Result<(Vec<String>, String), String> {
    if git(root, &["rev-parse", "--is-inside-work-tree"]).is_err() {
        return Ok((
            Vec::new(),
            "not a git checkout: no release to compare".into(),
        ));
    }
    let Some((last, last_tag)) = last_release(root)? else {
        return Ok((
            Vec::new(),
            "no release tag geonode-* yet: nothing to compare".into(),
        ));
    };
    let current_text = chart_version(root)?;
    let current = Version::parse(&current_text)?;
    let changed = !git(root, &["diff", "--name-only", &last_tag, "--", "chart"])?
        .trim()
        .is_empty();
    let mut problems = Vec::new();
    if changed && current <= last {
        problems.push(format!(
            "chart/ changed since the release {last_tag}, but chart/Chart.yaml still says {current_text}; raise version (and add its CHANGELOG.md section)"
        ));
    }
    let old_values: Value = yaml_serde::from_str(&git(
        root,
        &["show", &format!("{last_tag}:chart/values.yaml")],
    )?)
    .map_err(|e| format!("parsing chart/values.yaml of {last_tag}: {e}"))?;
    let path = root.join("chart/values.yaml");
    let new_values: Value = yaml_serde::from_str(
        &std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?,
    )
    .map_err(|e| format!("parsing {}: {e}", path.display()))?;
    let breaking = breaking_values(&old_values, &new_values);
    if !breaking.is_empty() {
        let list = breaking.join("; ");
        if !last.allows_breaking(&current) {
            problems.push(format!(
                "values changed in ways that break installations since {last_tag} ({list}), which needs a major version (the minor one while it is 0.x), not {current_text}"
            ));
        }
        let notes = std::fs::read_to_string(root.join("docs/releasing.md")).unwrap_or_default();
        if !notes
            .lines()
            .any(|l| l.trim() == format!("### {current_text}"))
        {
            problems.push(format!(
                "values changed in ways that break installations since {last_tag} ({list}); add `### {current_text}` under \"Upgrade notes\" in docs/releasing.md saying what operators change"
            ));
        }
    }
    Ok((
        problems,
        format!("{current_text} against the release {last_tag}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::fs;

    #[test]
    fn versions_compare_as_semver_says() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("0.2.0") > v("0.1.9"));
        assert!(v("1.0.0") > v("1.0.0-rc.2"));
        assert!(v("1.0.0-rc.2") > v("1.0.0-rc.1"));
        assert!(v("0.1.0").allows_breaking(&v("0.2.0")));
        assert!(!v("0.1.0").allows_breaking(&v("0.1.1")));
        assert!(v("1.4.0").allows_breaking(&v("2.0.0")));
        assert!(!v("1.4.0").allows_breaking(&v("1.5.0")));
        assert!(Version::parse("1.2").is_err());
    }

    #[test]
    fn a_key_gone_or_of_another_type_breaks_values() {
        let old = json!({"a": {"b": 1, "c": "x", "d": {"e": true}}, "f": [], "g": null});
        let new = json!({"a": {"b": "1", "d": {}}, "f": [1], "g": 3, "h": 1});
        assert_eq!(
            breaking_values(&old, &new),
            vec![
                "a.b was a number and is a string now",
                "a.c is gone",
                "a.d.e is gone"
            ]
        );
    }

    /// A repository with a chart released as 0.1.0, then `edit` applied to it.
    fn released(edit: impl Fn(&Path)) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("chart")).unwrap();
        fs::create_dir_all(root.join("docs")).unwrap();
        fs::write(
            root.join("chart/Chart.yaml"),
            "name: geonode\nversion: 0.1.0\n",
        )
        .unwrap();
        fs::write(
            root.join("chart/values.yaml"),
            "replicas: 1\nimage:\n  tag: \"5.1\"\n",
        )
        .unwrap();
        let commit = [
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-qam",
            "c",
        ];
        git(root, &["init", "-q"]).unwrap();
        git(root, &["add", "-A"]).unwrap();
        git(root, &commit).unwrap();
        git(root, &["tag", "geonode-0.1.0"]).unwrap();
        edit(root);
        dir
    }

    fn set(root: &Path, file: &str, text: &str) {
        fs::write(root.join(file), text).unwrap();
    }

    #[test]
    fn no_release_no_comparison() {
        let dir = tempfile::tempdir().unwrap();
        let (problems, said) = check(dir.path()).unwrap();
        assert!(
            problems.is_empty() && said.contains("not a git checkout"),
            "{said}"
        );
        git(dir.path(), &["init", "-q"]).unwrap();
        let (problems, said) = check(dir.path()).unwrap();
        assert!(problems.is_empty() && said.contains("no release"), "{said}");
    }

    #[test]
    fn an_unchanged_chart_holds() {
        let dir = released(|_| {});
        let (problems, said) = check(dir.path()).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(said, "0.1.0 against the release geonode-0.1.0");
    }

    #[test]
    fn a_changed_chart_needs_a_higher_version() {
        let dir = released(|root| {
            set(
                root,
                "chart/values.yaml",
                "replicas: 2\nimage:\n  tag: \"5.1\"\n",
            )
        });
        let (problems, _) = check(dir.path()).unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("still says 0.1.0; raise version"),
            "{problems:?}"
        );
        set(
            dir.path(),
            "chart/Chart.yaml",
            "name: geonode\nversion: 0.1.1\n",
        );
        assert!(check(dir.path()).unwrap().0.is_empty());
    }

    #[test]
    fn a_breaking_values_change_needs_a_major_version_and_an_upgrade_note() {
        let dir = released(|root| {
            set(root, "chart/values.yaml", "replicas: 1\n");
            set(root, "chart/Chart.yaml", "name: geonode\nversion: 0.1.1\n");
        });
        let (problems, _) = check(dir.path()).unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("image is gone") && problems[0].contains("not 0.1.1"));
        assert!(problems[1].contains("add `### 0.1.1`"));
        set(
            dir.path(),
            "chart/Chart.yaml",
            "name: geonode\nversion: 0.2.0\n",
        );
        set(
            dir.path(),
            "docs/releasing.md",
            "## Upgrade notes\n\n### 0.2.0\n\nimage is gone: ...\n",
        );
        assert!(check(dir.path()).unwrap().0.is_empty());
    }
}
