//! The contract's inputs: the chart rendered with the contract's values, and the Debian
//! packages of the real programs.

use crate::error::Error;
use crate::manifest::{self, Object};
use crate::project::Project;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The defaults with the render pins, tests/contract/values.yaml and `sets` (`path.to.value=value`).
pub fn render(project: &Project, sets: &[&str]) -> Result<Vec<Object>, String> {
    // The contract's own values: GeoNode as a site's own project (see geonode/project.rs).
    let contract = project.root.join("tests/contract/values.yaml");
    render_with(project, Some(&contract), sets)
}

/// The defaults with the render pins and `sets` only: the chart as `helm install` gives it.
pub fn render_defaults(project: &Project, sets: &[&str]) -> Result<Vec<Object>, String> {
    render_with(project, None, sets)
}

fn render_with(
    project: &Project,
    values_file: Option<&Path>,
    sets: &[&str],
) -> Result<Vec<Object>, String> {
    let tools = crate::tools::ensure().map_err(|e| e.to_string())?;
    let helm = crate::helm::Helm::all(&tools).pop().ok_or("no Helm")?;
    let mut values: Vec<PathBuf> = Vec::new();
    values.extend(project.render_pins_for(&crate::project::Scenario {
        name: "default".into(),
        values: None,
    }));
    let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let overrides = sets_to_values(sets)?;
    fs::write(file.path(), overrides).map_err(|e| e.to_string())?;
    values.extend(values_file.map(Path::to_path_buf));
    values.push(file.path().to_path_buf());
    let text = helm.template(
        project,
        &values,
        *crate::tools::KUBE_MINORS.last().unwrap_or(&37),
    )?;
    manifest::parse(&text)
}

/// `path.to.value=value` settings as one values document (JSON, which Helm reads as YAML); each
/// value is read as YAML (`false`, `5432`, `[127.0.0.1/32]`), and settings may share a path.
fn sets_to_values(sets: &[&str]) -> Result<String, String> {
    let mut root = serde_json::Value::Object(Default::default());
    for set in sets {
        let (path, text) = set.split_once('=').unwrap_or((set, ""));
        let value: serde_json::Value =
            yaml_serde::from_str(text).map_err(|e| format!("contract setting {set}: {e}"))?;
        let mut node = &mut root;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            node = node
                .as_object_mut()
                .ok_or_else(|| format!("contract setting {set}: {part} is not a map"))?
                .entry(part.to_string())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
        }
        node.as_object_mut()
            .ok_or_else(|| format!("contract setting {set}: not under a map"))?
            .insert(parts[parts.len() - 1].to_string(), value);
    }
    Ok(root.to_string())
}

/// Installs the Debian packages that are missing and reports the versions in use.
pub fn install() -> Result<String, Error> {
    let wanted = [
        ("nginx", "nginx"),
        ("redis-server", "redis-server"),
        ("/usr/lib/postgresql/15/bin/postgres", "postgresql-15"),
        (
            "/usr/share/postgresql/15/extension/postgis.control",
            "postgresql-15-postgis-3",
        ),
        ("curl", "curl"),
        // The recovery of a backup by hand, as docs/backup-and-restore.md gives it.
        ("jq", "jq"),
        ("openssl", "openssl"),
        // GeoServer's parts: the image's tools (Info-ZIP, dash, mawk), Tomcat from Maven Central
        // on a JDK, a network namespace of its own (ip).
        ("zip", "zip"),
        ("unzip", "unzip"),
        ("dash", "dash"),
        ("mawk", "mawk"),
        ("mvn", "maven"),
        ("java", "default-jdk-headless"),
        ("ip", "iproute2"),
        // memcached.enabled: Django's shared cache in memcached instead of Redis.
        ("memcached", "memcached"),
        // `cargo xtask bench`'s load generator.
        ("wrk", "wrk"),
        // The metrics part: Prometheus (with promtool) and PostgreSQL's exporter.
        ("prometheus", "prometheus"),
        super::metrics::exporters::POSTGRES_EXPORTER,
    ];
    crate::debian::apt_install(&wanted)?;
    let version = |cmd: &str, args: &[&str]| -> String {
        Command::new(cmd)
            .args(args)
            .output()
            .map(|o| {
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                )
            })
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or("?")
            .trim()
            .to_string()
    };
    Ok(format!(
        "{} · {} · {} · PostGIS {}",
        version("nginx", &["-v"]),
        version("redis-server", &["--version"]),
        version("/usr/lib/postgresql/15/bin/postgres", &["--version"]),
        fs::read_to_string("/usr/share/postgresql/15/extension/postgis.control")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("default_version = "))
            .unwrap_or("?")
            .trim_matches('\'')
    ))
}

#[cfg(test)]
mod tests {
    use super::sets_to_values;

    #[test]
    fn settings_sharing_a_path_make_one_map_with_typed_values() {
        let values = sets_to_values(&[
            "postgresql.enabled=false",
            "postgresql.external.port=5432",
            "postgresql.external.networkCidrs=[127.0.0.1/32]",
            "nginx.maxBodySize=1m",
        ])
        .unwrap();
        assert_eq!(
            values,
            r#"{"nginx":{"maxBodySize":"1m"},"postgresql":{"enabled":false,"external":{"networkCidrs":["127.0.0.1/32"],"port":5432}}}"#
        );
    }
}
