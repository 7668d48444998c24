//! Where things live in a geonode-k8s checkout (or in a fixture laid out the same way).

use crate::error::{Context, Error};
use std::fs;
use std::path::{Path, PathBuf};

/// The release name and namespace every render uses, so goldens are stable.
pub const RELEASE: &str = "geonode";
pub const NAMESPACE: &str = "geonode";

/// One input the chart is rendered with: the defaults, or one file of `values/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// `default`, or the values file's stem (`minikube` for `values/minikube.yaml`).
    pub name: String,
    pub values: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub chart: PathBuf,
    pub values_dir: PathBuf,
    pub golden_dir: PathBuf,
    pub bad_values_dir: PathBuf,
    /// Weakenings the chart takes only when acceptedRisks names them (accepted_risks.rs).
    pub accepted_risks_dir: PathBuf,
    /// Values layered over every scenario so generated secrets are pinned in renders and goldens;
    /// `tests/render-pins/<scenario>.yaml` is layered over it for one scenario (one that brings
    /// its own Secrets, say, nulls the pins its values would contradict).
    pub render_pins: PathBuf,
    pub render_pins_dir: PathBuf,
    /// Allowed policy exceptions, one per object and rule, each with a reason.
    pub exceptions: PathBuf,
    /// JSON schemas for kinds outside the Kubernetes core (CRDs), `<kind>-<group>-<version>.json`.
    pub crd_schemas: PathBuf,
}

impl Project {
    pub fn at(root: &Path) -> Result<Self, Error> {
        let root = root
            .canonicalize()
            .context(format!("opening the project folder {}", root.display()))?;
        let chart = root.join("chart");
        if !chart.join("Chart.yaml").is_file() {
            return Err(Error::msg(format!(
                "{} has no chart/Chart.yaml; run from a geonode-k8s checkout or pass --root <folder with chart/>",
                root.display()
            )));
        }
        Ok(Project {
            values_dir: root.join("values"),
            golden_dir: root.join("tests").join("golden"),
            bad_values_dir: root.join("tests").join("bad-values"),
            accepted_risks_dir: root.join("tests").join("accepted-risks"),
            render_pins: root.join("tests").join("render-pins.yaml"),
            render_pins_dir: root.join("tests").join("render-pins"),
            exceptions: root.join("tests").join("policy-exceptions.yaml"),
            crd_schemas: root.join("tests").join("crd-schemas"),
            chart,
            root,
        })
    }

    /// The defaults first, then `values/*.yaml` by name.
    pub fn scenarios(&self) -> Result<Vec<Scenario>, Error> {
        let mut scenarios = vec![Scenario {
            name: "default".into(),
            values: None,
        }];
        for path in yaml_files(&self.values_dir)? {
            let name = stem(&path);
            if name == "default" {
                return Err(Error::msg(format!(
                    "{}: `default` is the name of the no-values scenario; rename the file",
                    path.display()
                )));
            }
            scenarios.push(Scenario {
                name,
                values: Some(path),
            });
        }
        Ok(scenarios)
    }

    /// A path relative to the project root, for messages.
    pub fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// The pins layered over a scenario, in order: the shared pins, then the scenario's own
    /// (which may set a shared pin to null, for a credential its values take from a Secret).
    pub fn render_pins_for(&self, scenario: &Scenario) -> Vec<PathBuf> {
        let own = self.render_pins_dir.join(format!("{}.yaml", scenario.name));
        [self.render_pins.clone(), own]
            .into_iter()
            .filter(|p| p.is_file())
            .collect()
    }

    pub fn golden_path(&self, scenario: &Scenario) -> PathBuf {
        self.golden_dir.join(format!("{}.yaml", scenario.name))
    }
}

/// The repository this harness belongs to.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Every regular file under `dir`, in its folders too, sorted by path (links are not followed).
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).context(format!("listing {}", folder.display()))? {
            let path = entry
                .context(format!("listing {}", folder.display()))?
                .path();
            let kind = fs::symlink_metadata(&path)
                .context(format!("reading {}", path.display()))?
                .file_type();
            if kind.is_dir() {
                folders.push(path);
            } else if kind.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The `*.yaml` files directly in `dir`, sorted; none if `dir` does not exist.
pub fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .context(format!("listing {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    Ok(files)
}

pub fn stem(path: &Path) -> String {
    path.file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}
