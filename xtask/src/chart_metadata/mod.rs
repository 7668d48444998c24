//! What Chart.yaml says about the chart, held to what the chart is: the images Artifact Hub lists
//! (`artifacthub.io/images`) are the defaults of the image values and the images renders run,
//! nothing else; the licence is the repository's; the changes are CHANGELOG.md's (`changes`).

pub mod changes;

use crate::data_file::read_json_or_yaml;
use crate::manifest::{self, Object};
use crate::project::{Project, Scenario};
use crate::report::Step;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const IMAGES_ANNOTATION: &str = "artifacthub.io/images";
pub const LICENSE_ANNOTATION: &str = "artifacthub.io/license";

/// Every image value in `values` (a map with `repository` and `tag`, named by its dotted path),
/// as the chart's `geonode.image` helper writes it: `[registry/]repository` then `@digest`, or
/// `:tag`. An empty repository means "another image value's" and is left out.
pub fn image_values(values: &Value) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    walk(values, "", &mut found);
    found
}

fn walk(value: &Value, path: &str, found: &mut BTreeMap<String, String>) {
    let Some(map) = value.as_object() else {
        return;
    };
    if let Some(image) = image_of(map) {
        found.insert(path.to_string(), image);
        return;
    }
    for (key, child) in map {
        let child_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        walk(child, &child_path, found);
    }
}

fn image_of(map: &Map<String, Value>) -> Option<String> {
    let text = |key: &str| match map.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    map.get("repository")?;
    map.get("tag")?;
    let repository = text("repository");
    if repository.is_empty() {
        return None;
    }
    let registry = text("registry");
    let repo = if registry.is_empty() {
        repository
    } else {
        format!("{registry}/{repository}")
    };
    let digest = text("digest");
    Some(if digest.is_empty() {
        format!("{repo}:{}", text("tag"))
    } else {
        format!("{repo}@{digest}")
    })
}

/// The `artifacthub.io/images` annotation of Chart.yaml as name → image.
pub fn annotated_images(chart: &Value) -> Result<BTreeMap<String, String>, String> {
    let text = chart["annotations"][IMAGES_ANNOTATION]
        .as_str()
        .ok_or_else(|| format!("Chart.yaml has no {IMAGES_ANNOTATION} annotation (a YAML list of name and image, as a string); add one entry per image value"))?;
    let list: Vec<Value> = yaml_serde::from_str(text)
        .map_err(|e| format!("Chart.yaml's {IMAGES_ANNOTATION} is not a YAML list: {e}"))?;
    let mut images = BTreeMap::new();
    for entry in list {
        let (Some(name), Some(image)) = (entry["name"].as_str(), entry["image"].as_str()) else {
            return Err(format!(
                "Chart.yaml's {IMAGES_ANNOTATION} has an entry without a name or an image: {entry}"
            ));
        };
        if images.insert(name.to_string(), image.to_string()).is_some() {
            return Err(format!(
                "Chart.yaml's {IMAGES_ANNOTATION} names {name} twice"
            ));
        }
    }
    Ok(images)
}

/// Every container image of `objects`, with the first object that runs it.
pub fn rendered_images(objects: &[Object]) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for object in objects {
        let Some(spec) = object.pod_spec() else {
            continue;
        };
        for (_, c) in manifest::containers(spec) {
            if let Some(image) = c["image"].as_str() {
                found
                    .entry(image.to_string())
                    .or_insert_with(|| object.to_string());
            }
        }
    }
    found
}

/// Where the annotation differs from the image values' defaults (by name) or lists an image
/// that is neither one of them nor run by a render (`rendered`: every image the renders run,
/// `None` when a render is missing): one line each, saying what to change.
pub fn annotation_gaps(
    annotated: &BTreeMap<String, String>,
    values: &BTreeMap<String, String>,
    rendered: Option<&BTreeSet<String>>,
) -> Vec<String> {
    let mut gaps = Vec::new();
    for (name, image) in values {
        match annotated.get(name) {
            None => gaps.push(format!(
                "values.yaml's {name} is {image}, which Chart.yaml's {IMAGES_ANNOTATION} does not list; add `- name: {name}` with `image: {image}`"
            )),
            Some(listed) if listed != image => gaps.push(format!(
                "Chart.yaml's {IMAGES_ANNOTATION} gives {name} as {listed}, values.yaml as {image}; make the annotation say {image}"
            )),
            Some(_) => {}
        }
    }
    let Some(rendered) = rendered else {
        return gaps;
    };
    for (name, image) in annotated {
        if !values.contains_key(name) && !rendered.contains(image) {
            gaps.push(format!(
                "Chart.yaml's {IMAGES_ANNOTATION} lists {name} ({image}), which is no image value of values.yaml and no render runs; remove it"
            ));
        }
    }
    gaps
}

/// Chart.yaml's licence annotation is there, LICENSE holds the text, and a workspace Cargo.toml,
/// where there is one, says the same.
pub fn license_agrees(
    annotation: Option<&str>,
    cargo_toml: Option<&str>,
    license_file: bool,
) -> Result<(), String> {
    let Some(chart) = annotation else {
        return Err(format!(
            "Chart.yaml has no {LICENSE_ANNOTATION} annotation; add the SPDX identifier of LICENSE"
        ));
    };
    if !license_file {
        return Err(format!(
            "Chart.yaml's {LICENSE_ANNOTATION} says {chart}, but there is no LICENSE file with its text"
        ));
    }
    match cargo_toml.map(cargo_license) {
        Some(Some(cargo)) if cargo != chart => Err(format!(
            "Chart.yaml's {LICENSE_ANNOTATION} says {chart}, Cargo.toml says {cargo}; make them one"
        )),
        _ => Ok(()),
    }
}

/// The licence's SPDX identifier from the workspace's Cargo.toml (`license = "..."`).
pub fn cargo_license(cargo_toml: &str) -> Option<String> {
    cargo_toml.lines().find_map(|l| {
        let (key, value) = l.split_once('=')?;
        (key.trim() == "license").then(|| value.trim().trim_matches('"').to_string())
    })
}

/// The check step: Chart.yaml's images list names every image value's default and every image a
/// render runs (but those a scenario's own values set), and nothing else; its licence is the
/// repository's. `rendered` is each scenario with its objects (None: its render failed, which
/// the render step reports).
pub fn check_step(project: &Project, rendered: &[(&Scenario, Option<&[Object]>)], step: &mut Step) {
    let (chart, defaults) = match (
        read_json_or_yaml(&project.chart.join("Chart.yaml")),
        read_json_or_yaml(&project.chart.join("values.yaml")),
    ) {
        (Ok(c), Ok(d)) => (c, d),
        (Err(e), _) | (_, Err(e)) => return step.fail(e),
    };
    let annotated = match annotated_images(&chart) {
        Ok(a) => a,
        Err(e) => return step.fail(e),
    };
    let images = image_values(&defaults);
    let mut run = BTreeSet::new();
    for (scenario, objects) in rendered {
        let Some(objects) = objects else { continue };
        let (images_run, listed) =
            scenario_images(scenario, objects, &defaults, &images, &annotated);
        run.extend(images_run);
        step.record(listed);
    }
    // With a render missing, an entry may be stale only in appearance: judge staleness on all.
    let all = rendered.iter().all(|(_, objects)| objects.is_some());
    let gaps = annotation_gaps(&annotated, &images, all.then_some(&run));
    step.record(if gaps.is_empty() {
        Ok(())
    } else {
        Err(gaps.join("\n"))
    });
    let cargo = std::fs::read_to_string(project.root.join("Cargo.toml")).ok();
    step.record(license_agrees(
        chart["annotations"][LICENSE_ANNOTATION].as_str(),
        cargo.as_deref(),
        project.root.join("LICENSE").is_file(),
    ));
    step.record(changes_agree(project, &chart));
    step.detail = format!(
        "{} images listed in {IMAGES_ANNOTATION} ({} image values), every image of {} scenarios among them; licence; changes from CHANGELOG.md",
        annotated.len(),
        images.len(),
        rendered.len()
    );
}

/// Chart.yaml's changes annotation is CHANGELOG.md's section for the chart's version (a project
/// without a CHANGELOG.md, such as the harness's fixtures, has nothing to hold it to).
fn changes_agree(project: &Project, chart: &Value) -> Result<(), String> {
    let Ok(changelog) = std::fs::read_to_string(project.root.join("CHANGELOG.md")) else {
        return Ok(());
    };
    let version = chart["version"].as_str().unwrap_or_default();
    let expected = changes::from_changelog(&changelog, version)?;
    if changes::annotated(chart)? == expected {
        Ok(())
    } else {
        Err(format!(
            "Chart.yaml's {} is not what CHANGELOG.md's section for {version} lists; run `cargo xtask bless` and commit Chart.yaml",
            changes::CHANGES_ANNOTATION
        ))
    }
}

/// `bless`: writes the changes annotation from CHANGELOG.md; the file's path when it changed.
pub fn bless(project: &Project) -> Result<Option<std::path::PathBuf>, String> {
    let Ok(changelog) = std::fs::read_to_string(project.root.join("CHANGELOG.md")) else {
        return Ok(None);
    };
    let path = project.chart.join("Chart.yaml");
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let chart = read_json_or_yaml(&path)?;
    let version = chart["version"].as_str().unwrap_or_default();
    let written = changes::write_into(&text, &changes::from_changelog(&changelog, version)?)?;
    if written == text {
        return Ok(None);
    }
    std::fs::write(&path, written).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(Some(path))
}

/// The images one scenario's render runs but for those its own values set, and whether the
/// annotation lists them all (else which it does not).
fn scenario_images(
    scenario: &Scenario,
    objects: &[Object],
    defaults: &Value,
    images: &BTreeMap<String, String>,
    annotated: &BTreeMap<String, String>,
) -> (BTreeSet<String>, Result<(), String>) {
    let values = match &scenario.values {
        None => Ok(defaults.clone()),
        Some(file) => {
            read_json_or_yaml(file).map(|v| crate::network::merged_values(defaults, Some(&v)))
        }
    };
    let values = match values {
        Ok(v) => v,
        Err(e) => return (BTreeSet::new(), Err(e)),
    };
    let own: BTreeSet<String> = image_values(&values)
        .into_values()
        .filter(|image| !images.values().any(|d| d == image))
        .collect();
    let runs = rendered_images(objects);
    let unlisted: Vec<String> = runs
        .iter()
        .filter(|(image, _)| !own.contains(*image) && !annotated.values().any(|a| a == *image))
        .map(|(image, object)| format!("{object} runs {image}"))
        .collect();
    let listed = if unlisted.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: images Chart.yaml's {IMAGES_ANNOTATION} does not list; add them:\n{}",
            scenario.name,
            unlisted.join("\n")
        ))
    };
    let run = runs
        .into_keys()
        .filter(|image| !own.contains(image))
        .collect();
    (run, listed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn image_values_are_named_by_their_path_and_written_as_the_helper_writes_them() {
        let values = json!({
            "geonode": {"image": {"registry": "", "repository": "geonode/geonode", "tag": "5.1.1", "digest": ""}},
            "nginx": {"image": {"registry": "mirror.internal", "repository": "nginx", "tag": "1.30.4-alpine", "digest": "sha256:ab"}},
            "backup": {"postgresqlImage": {"repository": "", "tag": "", "digest": ""}},
            "redis": {"port": 6379},
        });
        let found = image_values(&values);
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            vec![
                (
                    "geonode.image".to_string(),
                    "geonode/geonode:5.1.1".to_string()
                ),
                (
                    "nginx.image".to_string(),
                    "mirror.internal/nginx@sha256:ab".to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_values_file_overrides_key_by_key() {
        let merged = crate::network::merged_values(
            &json!({"geonode": {"image": {"repository": "geonode/geonode", "tag": "5.1.1"}}, "x": [1]}),
            Some(&json!({"geonode": {"image": {"tag": "5.1.2"}}, "x": [2]})),
        );
        assert_eq!(merged["geonode"]["image"]["repository"], "geonode/geonode");
        assert_eq!(merged["geonode"]["image"]["tag"], "5.1.2");
        assert_eq!(merged["x"], json!([2]));
    }

    #[test]
    fn the_annotation_must_list_every_image_value_and_nothing_else() {
        let values: BTreeMap<_, _> = [
            ("geonode.image", "geonode/geonode:5.1.1"),
            ("redis.image", "redis:7"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .into();
        let chart = json!({"annotations": {IMAGES_ANNOTATION: "- name: geonode.image\n  image: geonode/geonode:5.1.0\n- name: old.image\n  image: old:1\n"}});
        let none = BTreeSet::new();
        let gaps = annotation_gaps(&annotated_images(&chart).unwrap(), &values, Some(&none));
        assert_eq!(gaps.len(), 3, "{gaps:#?}");
        assert!(gaps[0].contains("make the annotation say geonode/geonode:5.1.1"));
        assert!(gaps[1].contains("redis.image") && gaps[1].contains("add"));
        assert!(gaps[2].contains("old.image") && gaps[2].contains("remove"));
        // An image a template writes itself belongs in the list too.
        let rendered = BTreeSet::from(["old:1".to_string()]);
        let gaps = annotation_gaps(&annotated_images(&chart).unwrap(), &values, Some(&rendered));
        assert_eq!(gaps.len(), 2, "{gaps:#?}");
        // Without every render, no entry is called stale.
        let gaps = annotation_gaps(&annotated_images(&chart).unwrap(), &values, None);
        assert_eq!(gaps.len(), 2, "{gaps:#?}");
        assert!(!gaps.iter().any(|g| g.contains("remove")));
        let good = json!({"annotations": {IMAGES_ANNOTATION: "- name: geonode.image\n  image: geonode/geonode:5.1.1\n- name: redis.image\n  image: redis:7\n"}});
        assert!(
            annotation_gaps(&annotated_images(&good).unwrap(), &values, Some(&none)).is_empty()
        );
        assert!(annotated_images(&json!({})).is_err());
    }

    #[test]
    fn the_license_is_one() {
        let toml = "[workspace.package]\nedition = \"2021\"\nlicense = \"Apache-2.0\"\n";
        assert_eq!(cargo_license(toml).as_deref(), Some("Apache-2.0"));
        assert!(license_agrees(Some("Apache-2.0"), Some(toml), true).is_ok());
        assert!(license_agrees(Some("Apache-2.0"), None, true).is_ok());
        assert!(license_agrees(Some("MIT"), Some(toml), true)
            .unwrap_err()
            .contains("make them one"));
        assert!(license_agrees(Some("Apache-2.0"), Some(toml), false)
            .unwrap_err()
            .contains("no LICENSE"));
        assert!(license_agrees(None, Some(toml), true).is_err());
    }
}
