//! Running the mutations: each one's values file written beside the others, rendered with
//! `helm template` over the render pins (as the bad-values step layers them), in parallel.

use super::generate::Mutation;
use super::overlay::overlay;
use crate::error::{Context, Error};
use crate::helm::Helm;
use crate::parallel;
use crate::project::Project;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What one Helm made of one mutation.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Accepted,
    Refused {
        /// By values.schema.json (else by a template's `fail` or a template error).
        by_schema: bool,
        /// The error names the mutated key; if not, the refusal may have another cause.
        names_key: bool,
        /// The line of the error that says why.
        reason: String,
    },
}

impl Verdict {
    pub fn is_refused(&self) -> bool {
        matches!(self, Verdict::Refused { .. })
    }

    fn of(mutation: &Mutation, result: &Result<String, String>) -> Verdict {
        match result {
            Ok(_) => Verdict::Accepted,
            Err(text) => Verdict::Refused {
                by_schema: text.contains("don't meet the specifications of the schema"),
                names_key: text.contains(mutation.key()),
                reason: reason(text),
            },
        }
    }
}

/// The line that says why: the first schema finding, or the first line of the error.
fn reason(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("- at "))
        .or_else(|| text.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("");
    line.chars().take(240).collect()
}

/// What the renders need besides the mutations.
pub struct Setup<'a> {
    pub project: &'a Project,
    pub helms: &'a [Helm],
    pub minor: u32,
    /// The render pins layered before every mutation, as the check step layers them.
    pub pins: Option<PathBuf>,
    /// The defaults with the pins, for the lists a mutation copies whole.
    pub base: &'a Value,
}

impl Setup<'_> {
    fn values(&self, mutation_file: Option<&Path>) -> Vec<PathBuf> {
        self.pins
            .iter()
            .cloned()
            .chain(mutation_file.map(Path::to_path_buf))
            .collect()
    }
}

/// Every Helm's verdict on each mutation, in order. Fails if the defaults themselves do not
/// render: then every mutation would count as refused and the rate would say nothing.
pub fn judge(setup: &Setup, mutations: &[&Mutation]) -> Result<Vec<Vec<Verdict>>, Error> {
    let baseline = parallel::map(setup.helms, |helm| {
        helm.template(setup.project, &setup.values(None), setup.minor)
    });
    for (helm, result) in setup.helms.iter().zip(baseline) {
        if let Err(e) = result {
            return Err(Error::msg(format!(
                "the defaults (with the render pins) do not render under {}, so no mutation can be judged; fix that first:\n{e}",
                helm.label()
            )));
        }
    }
    let dir = tempfile::tempdir().context("creating a folder for the mutations' values files")?;
    let files = write_files(dir.path(), setup.base, mutations)?;
    let jobs: Vec<(usize, usize)> = (0..mutations.len())
        .flat_map(|m| (0..setup.helms.len()).map(move |h| (m, h)))
        .collect();
    let results = parallel::map(&jobs, |&(m, h)| {
        setup.helms[h].template(setup.project, &setup.values(Some(&files[m])), setup.minor)
    });
    let mut verdicts: Vec<Vec<Verdict>> = vec![Vec::new(); mutations.len()];
    for (&(m, _), result) in jobs.iter().zip(&results) {
        verdicts[m].push(Verdict::of(mutations[m], result));
    }
    Ok(verdicts)
}

/// One JSON values file per mutation (JSON is YAML, and keeps `"false"` a string).
fn write_files(dir: &Path, base: &Value, mutations: &[&Mutation]) -> Result<Vec<PathBuf>, Error> {
    mutations
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut settings: Vec<(&super::overlay::Path, &Value)> =
                m.companions.iter().map(|(p, v)| (p, v)).collect();
            settings.push((&m.path, &m.value));
            let path = dir.join(format!("mutation-{i:05}.json"));
            let text = serde_json::to_string_pretty(&overlay(base, &settings))
                .context(format!("serialising mutation {}", m.describe()))?;
            std::fs::write(&path, text).context(format!("writing {}", path.display()))?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_the_first_schema_finding_or_the_first_line() {
        let schema = "Error: values don't meet the specifications of the schema(s) in the following chart(s):\ngeonode:\n- at '/django/replicas': got string, want integer\n";
        assert_eq!(
            reason(schema),
            "- at '/django/replicas': got string, want integer"
        );
        assert_eq!(
            reason("Error: execution error at (x): celery.beat.replicas is 2\n"),
            "Error: execution error at (x): celery.beat.replicas is 2"
        );
    }
}
