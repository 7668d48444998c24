//! Accepted-risk cases: `tests/accepted-risks/<risk>.yaml` takes one weakening the chart accepts
//! only when `acceptedRisks` names it (`<risk>` is that name). Without the name the chart must
//! refuse the values, saying what to add; with it the notes after the install must warn of it.
//! Every risk the schema knows (`acceptedRisks`' enum) needs its case.

use crate::error::{Context, Error};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Case {
    /// The risk's name: the file's stem.
    pub risk: String,
    pub path: PathBuf,
}

pub fn load(dir: &Path) -> Result<Vec<Case>, Error> {
    Ok(crate::project::yaml_files(dir)?
        .into_iter()
        .map(|path| Case {
            risk: crate::project::stem(&path),
            path,
        })
        .collect())
}

/// The risks `acceptedRisks` may name, from the chart's schema (none for a chart without it).
pub fn known(schema: &Path) -> Result<Vec<String>, Error> {
    let text = std::fs::read_to_string(schema).context(format!("reading {}", schema.display()))?;
    let parsed: serde_json::Value =
        serde_json::from_str(&text).context(format!("parsing {}", schema.display()))?;
    let accepted = &parsed["properties"]["acceptedRisks"];
    if accepted.is_null() {
        return Ok(Vec::new());
    }
    let names = accepted["items"]["enum"].as_array().ok_or_else(|| {
        Error::msg(format!(
            "{}: acceptedRisks has no enum of risk names",
            schema.display()
        ))
    })?;
    Ok(names
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect())
}

/// The refusal without the risk named: it must say what to add.
pub fn judge_refusal(
    case: &Case,
    helm: &str,
    result: &Result<String, String>,
) -> Result<(), String> {
    let wanted = format!("add {} to acceptedRisks", case.risk);
    match result {
        Ok(_) => Err(format!(
            "accepted-risk case {} rendered under {helm} without acceptedRisks naming it; the chart must refuse it with {wanted:?}",
            case.risk
        )),
        Err(stderr) if stderr.contains(&wanted) => Ok(()),
        Err(stderr) => Err(format!(
            "accepted-risk case {} failed under {helm}, but not with {wanted:?}: {}",
            case.risk,
            stderr.trim()
        )),
    }
}

/// The install's notes with the risk named: they must warn of it.
pub fn judge_notes(case: &Case, result: &Result<String, String>) -> Result<(), String> {
    let warning = format!("  - {}: ", case.risk);
    match result {
        Ok(out) if out.contains(&warning) => Ok(()),
        Ok(out) => Err(format!(
            "with acceptedRisks [{}], the install's notes do not warn of it ({warning:?}):\n{}",
            case.risk,
            out.split("NOTES:").nth(1).unwrap_or(out).trim()
        )),
        Err(e) => Err(format!(
            "with acceptedRisks [{}], the install was refused: {}",
            case.risk,
            e.trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_must_name_the_risk_and_notes_must_warn() {
        let case = Case {
            risk: "open-signup".into(),
            path: PathBuf::from("open-signup.yaml"),
        };
        let said = Err(
            "...: anyone may sign up. If you mean it, add open-signup to acceptedRisks".to_string(),
        );
        assert!(judge_refusal(&case, "helm4", &said).is_ok());
        assert!(judge_refusal(&case, "helm4", &Err("other".into())).is_err());
        assert!(judge_refusal(&case, "helm4", &Ok(String::new())).is_err());
        let notes = Ok(
            "NOTES:\nWARNING, risks accepted in acceptedRisks:\n  - open-signup: x.\n".to_string(),
        );
        assert!(judge_notes(&case, &notes).is_ok());
        assert!(judge_notes(&case, &Ok("NOTES:\nnothing".into())).is_err());
    }

    #[test]
    fn known_risks_come_from_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let schema = dir.path().join("values.schema.json");
        std::fs::write(
            &schema,
            r#"{"properties": {"acceptedRisks": {"items": {"enum": ["a", "b"]}}}}"#,
        )
        .unwrap();
        assert_eq!(known(&schema).unwrap(), ["a", "b"]);
        std::fs::write(
            &schema,
            r#"{"properties": {"acceptedRisks": {"type": "array"}}}"#,
        )
        .unwrap();
        assert!(known(&schema).unwrap_err().to_string().contains("enum"));
        std::fs::write(&schema, "{}").unwrap();
        assert!(known(&schema).unwrap().is_empty());
    }
}
