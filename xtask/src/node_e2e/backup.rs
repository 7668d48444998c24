//! A backup for real: backups turned on by `helm upgrade` (the volume target of the defaults), a
//! Job made from the CronJob as an operator makes one (`kubectl create job --from`), and the
//! backup it leaves on the node's volume read back: its manifest names every part, and every
//! part has the size and sha256 the manifest gives.

use super::site::{NAMESPACE, RELEASE};
use super::Ctx;
use crate::report::Step;
use serde_json::Value;
use std::fs;
use std::path::Path;

pub fn backup_now(ctx: &Ctx, step: &mut Step) {
    match run(ctx) {
        Ok(detail) => {
            step.passed += 1;
            step.detail = detail;
        }
        Err(e) => step.fail(format!("{e}\n{}", ctx.diagnose())),
    }
}

fn run(ctx: &Ctx) -> Result<String, String> {
    // The upgrade step's value kept.
    ctx.release(
        "upgrade",
        &["nginx.workerProcesses=1", "backup.enabled=true"],
    )
    .map_err(|e| format!("helm upgrade with backup.enabled=true: {e}"))?;
    let job = "backup-now";
    let from = format!("cronjob/{RELEASE}-backup");
    ctx.plane
        .kubectl(&["create", "job", job, "--from", &from, "-n", NAMESPACE])
        .map_err(|e| format!("kubectl create job --from={from}: {e}"))?;
    ctx.plane
        .kubectl(&[
            "wait",
            "--for=condition=complete",
            &format!("job/{job}"),
            "-n",
            NAMESPACE,
            "--timeout=600s",
        ])
        .map_err(|e| format!("the Job made from {from} did not complete: {e}"))?;
    let folder = super::volumes::folder(ctx.plane, NAMESPACE, &format!("{RELEASE}-backups"))?;
    let (name, parts) = verify_backup(&folder)?;
    Ok(format!("backup {name}: {}", parts.join(", ")))
}

/// The one finished backup under `root`: its name and "<part> (<bytes> B)" for each part, after
/// every part's size and sha256 matched the manifest.
fn verify_backup(root: &Path) -> Result<(String, Vec<String>), String> {
    let mut finished = Vec::new();
    for entry in fs::read_dir(root).map_err(|e| format!("listing {}: {e}", root.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.join("manifest.json").is_file() {
            finished.push(path);
        }
    }
    let [backup] = finished.as_slice() else {
        return Err(format!(
            "{} holds {} finished backups, expected one: {finished:?}",
            root.display(),
            finished.len()
        ));
    };
    let text = fs::read_to_string(backup.join("manifest.json")).map_err(|e| e.to_string())?;
    let manifest: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let parts = manifest["parts"]
        .as_object()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| format!("{}/manifest.json names no parts", backup.display()))?;
    let mut described = Vec::new();
    for (part, facts) in parts {
        let path = backup.join(part);
        let bytes = fs::metadata(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        let sha = crate::tools::sha256_file(&path).map_err(|e| e.to_string())?;
        if Some(bytes) != facts["bytes"].as_u64() || Some(sha.as_str()) != facts["sha256"].as_str()
        {
            return Err(format!(
                "{}: {bytes} bytes with sha256 {sha}, but the manifest says {facts}",
                path.display()
            ));
        }
        described.push(format!("{part} ({bytes} B)"));
    }
    let name = manifest["name"].as_str().unwrap_or("?").to_string();
    Ok((name, described))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_that_differs_from_its_manifest_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let backup = root.path().join("20261128T000000Z");
        fs::create_dir_all(&backup).unwrap();
        fs::write(backup.join("geonode.dump"), "dump").unwrap();
        let sha = crate::tools::sha256_bytes(b"dump");
        let manifest = |bytes: u64| {
            serde_json::json!({"name": "20261128T000000Z",
                "parts": {"geonode.dump": {"bytes": bytes, "sha256": sha}}})
            .to_string()
        };
        fs::write(backup.join("manifest.json"), manifest(4)).unwrap();
        let (name, parts) = verify_backup(root.path()).unwrap();
        assert_eq!(name, "20261128T000000Z");
        assert_eq!(parts, ["geonode.dump (4 B)"]);
        fs::write(backup.join("manifest.json"), manifest(5)).unwrap();
        let error = verify_backup(root.path()).unwrap_err();
        assert!(error.contains("the manifest says"), "{error}");
    }
}
