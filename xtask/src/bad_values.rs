//! Bad-values cases: `tests/bad-values/<case>.yaml` is a values file that the chart must refuse,
//! with a `# expect: <text>` line saying what the error must contain. The chart's
//! `values.schema.json` and its `fail` guards are what refuse them.

use crate::error::{Context, Error};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub path: PathBuf,
    pub expect: String,
}

pub fn load(path: &Path) -> Result<Case, Error> {
    let text = std::fs::read_to_string(path).context(format!("reading {}", path.display()))?;
    let expect = text
        .lines()
        .find_map(|l| l.strip_prefix("# expect:"))
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| {
            Error::msg(format!(
                "{} has no `# expect: <text>` line; say which error text the chart must produce",
                path.display()
            ))
        })?;
    Ok(Case {
        name: crate::project::stem(path),
        path: path.to_path_buf(),
        expect,
    })
}

/// Judges Helm's answer to a case.
pub fn judge(case: &Case, helm: &str, result: &Result<String, String>) -> Result<(), String> {
    match result {
        Ok(_) => Err(format!(
            "bad values {} rendered under {helm} but must fail with {:?}; add a schema constraint or a `fail` guard",
            case.name, case.expect
        )),
        Err(stderr) if stderr.contains(&case.expect) => Ok(()),
        Err(stderr) => Err(format!(
            "bad values {} failed under {helm}, but not with {:?}; Helm said:\n{}",
            case.name,
            case.expect,
            stderr.trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expect_line_is_required_and_matched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("negative-size.yaml");
        std::fs::write(&path, "redis: {}\n").unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("# expect:"));
        std::fs::write(&path, "# expect: must be positive\nredis: {}\n").unwrap();
        let case = load(&path).unwrap();
        assert_eq!(case.expect, "must be positive");
        assert!(judge(&case, "helm4", &Err("x must be positive".into())).is_ok());
        assert!(judge(&case, "helm4", &Err("other".into()))
            .unwrap_err()
            .contains("Helm said"));
        assert!(judge(&case, "helm4", &Ok(String::new()))
            .unwrap_err()
            .contains("rendered"));
    }
}
