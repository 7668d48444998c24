//! Strict JSON-schema validation of rendered objects, offline, per Kubernetes minor.
//!
//! The schemas are kubernetes-validate's `-local-strict` set: `additionalProperties: false`
//! everywhere, so a misspelt field fails. Each kind's file refers into `_definitions.json` by
//! its `$id`, which we register once per minor; a validator per kind is compiled on first use
//! and reused for every object of that kind. Kinds outside the core are validated against the
//! CustomResourceDefinitions in `tests/crd-schemas/` (the projects' own files, made strict by
//! `crd`) when the repository keeps theirs, and reported as unvalidated otherwise.

mod crd;

use crate::error::{Context, Error};
use crate::manifest::Object;
use jsonschema::{Draft, Registry, Validator};
use serde_json::Value;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

const DEFINITIONS_ID: &str = "https://kubernetes.io/api/_definitions.json";

/// How one object fared.
#[derive(Debug)]
pub enum Outcome {
    Valid,
    /// Every finding as `<json pointer>: <message>`.
    Invalid(Vec<String>),
    /// No schema for this kind in the core set or in the repository's CRD schemas.
    Unvalidated,
}

/// The validators of one Kubernetes minor.
pub struct SchemaSet {
    dir: PathBuf,
    /// The CRDs of tests/crd-schemas/, each with its file.
    crds: Vec<(PathBuf, Value)>,
    registry: Registry<'static>,
    validators: HashMap<(String, String), Option<Validator>>,
}

impl SchemaSet {
    pub fn load(dir: &Path, crd_dir: &Path) -> Result<Self, Error> {
        let definitions_path = dir.join("_definitions.json");
        let definitions: Value = read_json(&definitions_path)?;
        let registry = Registry::new()
            .add(DEFINITIONS_ID, definitions)
            .and_then(|r| r.prepare())
            .context(format!("registering {}", definitions_path.display()))?;
        Ok(SchemaSet {
            dir: dir.to_path_buf(),
            crds: read_crds(crd_dir)?,
            registry,
            validators: HashMap::new(),
        })
    }

    pub fn validate(&mut self, object: &Object) -> Result<Outcome, Error> {
        let key = (object.api_version.clone(), object.kind.clone());
        if !self.validators.contains_key(&key) {
            let validator = self.compile(&object.api_version, &object.kind)?;
            self.validators.insert(key.clone(), validator);
        }
        let Some(validator) = &self.validators[&key] else {
            return Ok(Outcome::Unvalidated);
        };
        let findings: Vec<String> = validator
            .iter_errors(&object.value)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!("{}: {e}", if at.is_empty() { "/" } else { &at })
            })
            .collect();
        Ok(if findings.is_empty() {
            Outcome::Valid
        } else {
            Outcome::Invalid(findings)
        })
    }

    fn compile(&self, api_version: &str, kind: &str) -> Result<Option<Validator>, Error> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let Some((path, schema)) = self.find_schema(group, version, kind)? else {
            return Ok(None);
        };
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .build(&schema)
            .context(format!("compiling the schema {}", path.display()))?;
        Ok(Some(validator))
    }

    /// The core schema file for a kind, checked against the group/version/kind it declares, or
    /// the repository's CRD schema.
    fn find_schema(
        &self,
        group: &str,
        version: &str,
        kind: &str,
    ) -> Result<Option<(PathBuf, Value)>, Error> {
        let lower = kind.to_ascii_lowercase();
        let core_name = match group.split('.').next() {
            Some(first) if !first.is_empty() => format!("{lower}-{first}-{version}.json"),
            _ => format!("{lower}-{version}.json"),
        };
        let core = self.dir.join(core_name);
        if core.is_file() {
            let schema = read_json(&core)?;
            let declared = schema["x-kubernetes-group-version-kind"]
                .as_array()
                .is_some_and(|gvks| {
                    gvks.iter().any(|g| {
                        g["group"] == group && g["version"] == version && g["kind"] == kind
                    })
                });
            if declared {
                return Ok(Some((core, schema)));
            }
        }
        Ok(self.crds.iter().find_map(|(path, crd)| {
            crd::strict_schema(crd, group, version, kind).map(|schema| (path.clone(), schema))
        }))
    }
}

/// Every CRD file (`*.yaml`) of the directory, none when it does not exist.
fn read_crds(dir: &Path) -> Result<Vec<(PathBuf, Value)>, Error> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut crds = Vec::new();
    for entry in entries {
        let path = entry.context(format!("listing {}", dir.display()))?.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = fs::read_to_string(&path).context(format!("reading {}", path.display()))?;
            let crd: Value = yaml_serde::from_str(&text)
                .context(format!("parsing the CRD {}", path.display()))?;
            crds.push((path, crd));
        }
    }
    crds.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(crds)
}

fn read_json(path: &Path) -> Result<Value, Error> {
    let text = fs::read_to_string(path).context(format!("reading {}", path.display()))?;
    serde_json::from_str(&text).context(format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tests/crd-schemas/README.md's table: each vendored CRD with the sha256 it was published with.
    #[test]
    fn the_vendored_crds_are_the_published_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/crd-schemas");
        let readme = fs::read_to_string(dir.join("README.md")).unwrap();
        let pinned: Vec<(&str, &str)> = readme
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line
                    .split('|')
                    .map(|c| c.trim().trim_matches('`'))
                    .collect();
                (cells.len() == 5 && cells[1].ends_with(".yaml")).then(|| (cells[1], cells[3]))
            })
            .collect();
        let crds = read_crds(&dir).unwrap();
        assert_eq!(
            pinned.len(),
            crds.len(),
            "every CRD file has its row, and every row its file"
        );
        for (file, sum) in pinned {
            assert_eq!(
                crate::tools::sha256_file(&dir.join(file)).unwrap(),
                sum,
                "{file}"
            );
        }
    }

    #[test]
    fn a_podmonitor_is_checked_against_its_crd() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/crd-schemas");
        let crds = read_crds(&dir).unwrap();
        let (_, crd) = crds
            .iter()
            .find(|(p, _)| p.ends_with("monitoring.coreos.com_podmonitors.yaml"))
            .unwrap();
        let schema = crd::strict_schema(crd, "monitoring.coreos.com", "v1", "PodMonitor").unwrap();
        let spec = &schema["properties"]["spec"];
        assert_eq!(spec["additionalProperties"], false);
        let endpoint = &spec["properties"]["podMetricsEndpoints"]["items"];
        assert_eq!(endpoint["additionalProperties"], false);
        assert!(endpoint["properties"]["port"].is_object());
    }
}
