//! What a restore must refuse, on the contract's real backups: the same restore again (it does
//! nothing), a restore over a site with content, a backup under another backup's name, one
//! without a manifest, and backups changed by someone who can write the backups but holds no key
//! (a changed byte, with and without a recomputed sha256; GeoNode's database replaced by a dump
//! with an extra SQL function, under a key of their own) — and, signed with the release's own
//! key, archives whose members would land outside their folder (a chain of links, a `..` name,
//! an absolute name). In the bucket: another backup's name and a changed byte. Then the
//! documented recovery by hand (docs/backup-and-restore.md): openssl decrypts what the chart's
//! own `backup_seal.py open` decrypts, byte for byte.

use super::{Container, Round, Site, Volumes};
use crate::contract::postgresql::BIN as PG_BIN;
use crate::process::exec;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Changes a backup as a tamperer would (see the script), with the chart's own backup_seal.py.
const TAMPER_PY: &str = include_str!("tamper.py");

/// tamper.py's cases, each with what the refusal must say.
const TAMPERED: &[(&str, &str)] = &[
    ("byte", "differs from its manifest"),
    ("byte-and-sha256", "signature does not verify"),
    ("other-key", "names backup key"),
    ("symlink-chain", "is a link"),
    ("dot-dot", "is not a relative path inside its folder"),
    ("absolute", "is not a relative path inside its folder"),
];

/// Where tamper.py's archives would put their file, were they unpacked.
const ESCAPES: [&str; 2] = ["static/contract-evil.js", "/tmp/geonode-contract-evil.js"];

/// A run of restore.py prepare with other values of backup.restore, which must be refused.
fn refused(
    prepare: &Container,
    venv: &Path,
    from: &str,
    overwrite: &str,
    because: &str,
) -> Result<(), String> {
    let mut other = prepare.clone();
    other.env.insert("BACKUP_RESTORE_FROM".into(), from.into());
    other
        .env
        .insert("BACKUP_RESTORE_OVERWRITE".into(), overwrite.into());
    match other.run(venv) {
        Err(e) if e.contains(because) => Ok(()),
        Err(e) => Err(format!(
            "restoring {from} (overwrite {overwrite}) failed, but not with {because:?}: {e}"
        )),
        Ok(out) => Err(format!(
            "restoring {from} (overwrite {overwrite}) was not refused: {out}"
        )),
    }
}

/// Copies a complete backup under another name.
fn copy_backup(volumes: &Volumes, name: &str, to: &str) -> Result<PathBuf, String> {
    let target = volumes.backups.join(to);
    exec(
        Command::new("cp")
            .arg("-a")
            .arg(volumes.backups.join(name))
            .arg(&target),
    )?;
    Ok(target)
}

/// A dump of GeoNode's database as the backup makes it, with an extra SQL function its owner
/// planted for the dump only.
fn dump_with_a_function(site: &Site, file: &Path) -> Result<(), String> {
    let env = &site.run.env;
    let (db, owner, password) = (
        &env["GEONODE_DATABASE"],
        &env["GEONODE_DATABASE_USER"],
        &env["GEONODE_DATABASE_PASSWORD"],
    );
    let psql = |sql: &str| crate::contract::postgresql::psql(site.db, owner, password, db, sql);
    psql("create function public.contract_planted() returns int language sql as 'select 1'")?;
    let dumped = exec(
        Command::new(format!("{PG_BIN}/pg_dump"))
            .args([
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "-h",
                "127.0.0.1",
            ])
            .args(["-p", &site.db.to_string(), "-U", owner, "-d", db])
            .arg(format!("--file={}", file.display()))
            .env("PGPASSWORD", password),
    );
    psql("drop function public.contract_planted()")?;
    dumped.map(drop)
}

/// The refusals on the backup volume, around backup `name` (the only complete one).
pub(super) fn on_the_volume(round: &Round, site: &Site, name: &str) -> Result<(), String> {
    let venv = &site.run.venv;
    let volumes = &site.volumes;
    let prepare = round.container(site, "Job", &round.inputs.init_job()?, "restore-prepare")?;
    let again = prepare.run(venv)?;
    if !again.contains("nothing to do") {
        return Err(format!(
            "a second init Job with the same backup.restore.from restored again: {again}"
        ));
    }
    refused(&prepare, venv, name, "false", "the site has content")?;
    let renamed = "20991231T235959Z";
    let copy = copy_backup(volumes, name, renamed)?;
    refused(&prepare, venv, renamed, "true", "found under the name")?;
    fs::remove_file(copy.join("manifest.json")).map_err(|e| e.to_string())?;
    refused(
        &prepare,
        venv,
        renamed,
        "true",
        "no complete backup of that name",
    )?;
    fs::remove_dir_all(&copy).map_err(|e| e.to_string())?;

    let dump = volumes.scratch.join("contract-planted.dump");
    dump_with_a_function(site, &dump)?;
    let script = volumes.scratch.join("tamper.py");
    fs::write(&script, TAMPER_PY).map_err(|e| e.to_string())?;
    let folder = volumes.backups.join(name);
    for (case, because) in TAMPERED {
        let saved = copy_backup(volumes, name, ".contract-saved")?;
        exec(
            Command::new(venv.join("bin/python"))
                .arg(&script)
                .args([&volumes.scripts, &folder, &volumes.key_file()])
                .arg(case)
                .arg(&dump),
        )
        .map_err(|e| format!("tampering with backup {name} ({case}): {e}"))?;
        refused(&prepare, venv, name, "true", because).map_err(|e| format!("{case}: {e}"))?;
        fs::remove_dir_all(&folder).map_err(|e| e.to_string())?;
        fs::rename(&saved, &folder).map_err(|e| e.to_string())?;
    }
    for escape in ESCAPES {
        let path = volumes.statics.join(escape);
        if path.exists() {
            return Err(format!("a refused restore left {}", path.display()));
        }
    }
    fs::remove_file(&dump).map_err(|e| e.to_string())
}

/// A copy of backup NAME in the bucket as backup COPY, unchanged (MODE "copy"); or one byte of
/// NAME's uploads flipped in place (MODE "flip"; flipping again puts it back).
const S3_TAMPER_PY: &str = r#"
import os
import boto3
from botocore.config import Config
client = boto3.client("s3", endpoint_url=os.environ["BACKUP_S3_ENDPOINT"], region_name=os.environ["BACKUP_S3_REGION"],
                      config=Config(s3={"addressing_style": "path"}))
bucket, prefix = os.environ["BACKUP_S3_BUCKET"], os.environ["BACKUP_S3_PREFIX"]
source, copy = prefix + NAME + "/", prefix + COPY + "/"
for o in client.list_objects_v2(Bucket=bucket, Prefix=source)["Contents"]:
    body = bytearray(client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
    if MODE == "copy":
        client.put_object(Bucket=bucket, Key=copy + o["Key"][len(source):], Body=bytes(body))
    elif o["Key"].endswith("/uploads.tar.gz.enc"):
        body[len(body) // 2] ^= 0x55
        client.put_object(Bucket=bucket, Key=o["Key"], Body=bytes(body))
"#;

/// The refusals in the bucket: backup `name` copied under another name, and with a changed byte.
pub(super) fn in_the_bucket(round: &Round, site: &Site, name: &str) -> Result<(), String> {
    let venv = &site.run.venv;
    let prepare = round.container(site, "Job", &round.inputs.init_job()?, "restore-prepare")?;
    let copy = "20991231T235957Z";
    let tamper = |mode: &str| {
        let code = S3_TAMPER_PY
            .replace("NAME", &format!("{name:?}"))
            .replace("COPY", &format!("{copy:?}"))
            .replace("MODE", &format!("{mode:?}"));
        exec(
            Command::new(venv.join("bin/python"))
                .arg("-c")
                .arg(code)
                .env_clear()
                .envs(&prepare.env),
        )
        .map_err(|e| format!("changing backup {name} in the bucket ({mode}): {e}"))
    };
    tamper("copy")?;
    refused(&prepare, venv, copy, "true", "found under the name")?;
    tamper("flip")?;
    refused(&prepare, venv, name, "true", "differs from its manifest")?;
    tamper("flip").map(drop)
}

/// The page and the line that start the recovery by hand.
const RECOVERY_PAGE: &str = "docs/backup-and-restore.md";
const RECOVERY_MARK: &str = "openssl enc -d -aes-256-ctr";

/// The documentation's recovery by hand, run as written on a copy of backup `name`: openssl (and
/// jq) decrypt every part as the chart's `backup_seal.py open` does.
pub(super) fn by_hand(site: &Site, name: &str) -> Result<String, String> {
    let root = crate::project::workspace_root();
    let block = crate::docs::blocks::all(&root)
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|b| b.page == RECOVERY_PAGE && b.script.contains(RECOVERY_MARK))
        .ok_or_else(|| format!("{RECOVERY_PAGE} has no shell block with {RECOVERY_MARK:?}"))?;
    let dir = site.volumes.scratch.join("by-hand");
    let folder = dir.join(name);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    exec(
        Command::new("cp")
            .arg("-a")
            .arg(site.volumes.backups.join(name))
            .arg(&folder),
    )?;
    fs::copy(site.volumes.key_file(), dir.join("backup.key")).map_err(|e| e.to_string())?;
    exec(
        Command::new("sh")
            .args(["-e", "-c", &block.script])
            .current_dir(&folder),
    )
    .map_err(|e| format!("the recovery by hand of {} failed: {e}", block.at()))?;
    let opened = dir.join("opened");
    exec(
        Command::new(site.run.venv.join("bin/python"))
            .arg(site.volumes.scripts.join("backup_seal.py"))
            .args(["open".as_ref(), folder.as_os_str(), opened.as_os_str()])
            .arg(format!("--key-file={}", dir.join("backup.key").display())),
    )?;
    for part in [
        "geonode.dump",
        "geodata.dump",
        "geoserver-data.tar.gz",
        "uploads.tar.gz",
        "assets.tar.gz",
    ] {
        let (by_hand, by_script) = (folder.join(part), opened.join(part));
        let same = fs::read(&by_hand)
            .ok()
            .zip(fs::read(&by_script).ok())
            .is_some_and(|(a, b)| a == b);
        if !same {
            return Err(format!(
                "{}: openssl's {part} is not what backup_seal.py open decrypts ({} and {})",
                block.at(),
                by_hand.display(),
                by_script.display()
            ));
        }
    }
    exec(
        Command::new(format!("{PG_BIN}/pg_restore"))
            .arg("--list")
            .arg(folder.join("geonode.dump")),
    )?;
    fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(format!(
        "recovery by hand ({}): openssl and jq decrypt all five parts as backup_seal.py open does",
        block.at()
    ))
}
