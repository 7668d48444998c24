//! Strict JSON-schema validation of rendered objects, offline, per Kubernetes minor.
//!
//! The schemas are kubernetes-validate's `-local-strict` set: `additionalProperties: false`
//! everywhere, so a misspelt field fails. Each kind's file refers into `_definitions.json` by
//! its `$id`, which we register once per minor; a validator per kind is compiled on first use
//! and reused for every object of that kind. Kinds outside the core (CRDs) are validated
//! against `tests/crd-schemas/<kind>-<group>-<version>.json` when the repository keeps one,
//! and reported as unvalidated otherwise.

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
    crd_dir: PathBuf,
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
            crd_dir: crd_dir.to_path_buf(),
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
        let crd = self.crd_dir.join(format!("{lower}-{group}-{version}.json"));
        if !crd.is_file() {
            return Ok(None);
        }
        let schema = read_json(&crd)?;
        Ok(Some((crd, schema)))
    }
}

fn read_json(path: &Path) -> Result<Value, Error> {
    let text = fs::read_to_string(path).context(format!("reading {}", path.display()))?;
    serde_json::from_str(&text).context(format!("parsing {}", path.display()))
}
