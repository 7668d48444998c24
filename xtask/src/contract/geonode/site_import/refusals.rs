//! What the import must refuse, before anything changes, naming the file: a damaged part, a
//! missing one, a dump not in pg_dump's custom format, a site of a newer GeoNode than the chart's;
//! once it is done: the same import again does nothing, and another over the imported site (it
//! has content now) is refused.

use super::{copy_folder, Import};
use crate::contract::geonode::GeoNodeRun;
use crate::process::exec;
use std::fs;
use std::path::Path;
use std::process::Command;

/// A copy of the export named `name` beside it on the backup volume, changed by `change`, with
/// SHA256SUMS made again when `resum` (so that only the change itself is wrong).
fn variant(
    import: &Import,
    export: &Path,
    name: &str,
    resum: bool,
    change: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), String> {
    let folder = import.volumes.backups().join(name);
    copy_folder(export, &folder)?;
    change(&folder)?;
    if resum {
        let files = "site.json geonode.dump geodata.dump geoserver-data.tar.gz uploads.tar.gz assets.tar.gz";
        exec(
            Command::new("sh")
                .arg("-c")
                .arg(format!("sha256sum {files} > SHA256SUMS"))
                .current_dir(&folder),
        )?;
    }
    Ok(())
}

/// Runs restore-prepare on `name`, which must fail with `want` in its error.
fn refused(import: &Import, name: &str, want: &str) -> Result<String, String> {
    match import.prepare(name) {
        Ok(out) => Err(format!(
            "the import of {name} was not refused ({want} expected): {out}"
        )),
        Err(e) if e.contains(want) => Ok(format!("{name} ({want})")),
        Err(e) => Err(format!(
            "the import of {name} was refused, but not for {want:?}: {e}"
        )),
    }
}

/// Before the import, on the wiped site.
pub fn before_the_import(import: &Import, export: &Path) -> Result<Vec<String>, String> {
    let mut seen = Vec::new();
    variant(import, export, "damaged", false, |f| {
        let path = f.join("uploads.tar.gz");
        let mut bytes = fs::read(&path).map_err(|e| e.to_string())?;
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        fs::write(&path, bytes).map_err(|e| e.to_string())
    })?;
    seen.push(refused(
        import,
        "damaged",
        "uploads.tar.gz differs from its line in SHA256SUMS",
    )?);
    variant(import, export, "missing-part", false, |f| {
        fs::remove_file(f.join("assets.tar.gz")).map_err(|e| e.to_string())
    })?;
    seen.push(refused(import, "missing-part", "assets.tar.gz is missing")?);
    variant(import, export, "plain-dump", true, |f| {
        fs::write(
            f.join("geonode.dump"),
            "--\n-- PostgreSQL database dump\n--\nSELECT 1;\n",
        )
        .map_err(|e| e.to_string())
    })?;
    seen.push(refused(
        import,
        "plain-dump",
        "geonode.dump is not a pg_dump archive in custom format",
    )?);
    variant(import, export, "newer-geonode", true, |f| {
        let path = f.join("site.json");
        let text = fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let mut site: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        site["geonode"] = "9.0.0".into();
        fs::write(&path, site.to_string()).map_err(|e| e.to_string())
    })?;
    seen.push(refused(import, "newer-geonode", "newer than this chart's")?);
    for name in ["damaged", "missing-part", "plain-dump", "newer-geonode"] {
        fs::remove_dir_all(import.volumes.backups().join(name)).map_err(|e| e.to_string())?;
    }
    Ok(seen)
}

/// After the import: the same one again does nothing (a user made since is still there), and
/// another one is refused over the site's content.
pub fn after_the_import(
    import: &Import,
    export: &Path,
    run: &GeoNodeRun,
) -> Result<String, String> {
    run.python("from django.contrib.auth import get_user_model; get_user_model().objects.create_user('dave', 'dave@example.org', 'dave')")?;
    let again = import.restore(super::EXPORT)?;
    if !again.contains("nothing to do") {
        return Err(format!(
            "the same import again did not say it had nothing to do: {again}"
        ));
    }
    import.init()?;
    let dave = run.python_json(
        "import json; from django.contrib.auth import get_user_model\nprint(json.dumps(get_user_model().objects.filter(username='dave').exists()))",
        &[],
    )?;
    if dave != true {
        return Err(
            "the same import again replaced the site: a user made after the import is gone".into(),
        );
    }
    variant(import, export, "second-site", false, |_| Ok(()))?;
    let over = refused(import, "second-site", "the site has content")?;
    fs::remove_dir_all(import.volumes.backups().join("second-site")).map_err(|e| e.to_string())?;
    Ok(format!("the same import again does nothing (a user made since is kept); refused over the imported site: {over}"))
}
