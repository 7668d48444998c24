//! backup.restore.kind export: a site made by geonode-project's docker-compose configuration
//! (compose.rs) is given content with GeoNode's API (content.py), its GeoServer data directory is
//! upstream's with GeoNode's store for uploads on its datastore, and it is taken out by the
//! block of docs/migrate-from-docker-compose.md (export.rs). The contract's own site is wiped, the
//! import's render refuses damaged and misshapen exports (refusals.rs), then its init Job's
//! restore containers and own command bring the export in. What the old site showed (seen.py:
//! logins with the old passwords, what each user and anonymous see, the group, the keywords, the
//! files with their sha256) the new one shows, at its own address everywhere GeoNode keeps one.

mod compose;
mod export;
mod refusals;

use super::backup::{Container, Server, Volumes, S3_BUCKET};
use super::run::{last_json, GeoNodeRun};
use crate::contract::inputs::Inputs;
use crate::process::{exec, exec_container};
use compose::{ComposeSite, Project, Servers, OLD_HOST, PROJECT_4_4, PROJECT_5_1};
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The render that imports the export named EXPORT from the backup volume.
pub const IMPORT_SETS: &[&str] = &[
    "backup.restore.enabled=true",
    "backup.restore.kind=export",
    "backup.restore.from=compose-site",
];
const EXPORT: &str = "compose-site";

const CONTENT_PY: &str = include_str!("content.py");
const SEEN_PY: &str = include_str!("seen.py");
/// Upstream's files the content is made of: GeoNode's test thesaurus, and two images GeoNode's
/// wheel ships (a document's file, a thumbnail).
const THESAURUS: &str = "tests/upstream/geonode-data/thesaurus.rdf";
const IMAGES: &str = "geonode/thumbs/tests/expected_results/background";
const DATA_DIR: &str = "tests/upstream/geoserver-geonode-ext/data";

/// The step: the notes give sizes and times.
pub fn run(
    (inputs, s3_inputs, s3_keys): (&Inputs, &Inputs, &(String, String)),
    run: &GeoNodeRun,
    work: &Path,
    db: u16,
    superuser_password: &str,
    geoserver: u16,
) -> Result<Vec<String>, String> {
    let dir = work.join("site-import");
    let servers = Servers {
        db,
        superuser_password,
        geoserver,
    };
    let volumes = Volumes::new(&dir, &run.statics)?;
    volumes.write_scripts(inputs)?;
    let server = Server {
        port: db,
        superuser_password,
    };
    let import = Import {
        inputs,
        run,
        volumes: &volumes,
        db,
        s3_endpoint: None,
    };
    let mut notes = Vec::new();
    // GeoNode 5: refusals before, the import, then the same again and another over it.
    let five = Source::make(&PROJECT_5_1, &dir, &servers)?;
    volumes.wipe(run, &server)?;
    copy_folder(&five.export, &volumes.backups().join(EXPORT))?;
    let refused = refusals::before_the_import(&import, &five.export)?;
    let s3 = crate::contract::s3::Server::start(&dir.join("s3"), s3_keys, S3_BUCKET)?;
    let in_the_bucket = Import {
        inputs: s3_inputs,
        s3_endpoint: Some(&s3.endpoint),
        ..import
    };
    notes.push(checked_in_the_bucket(&in_the_bucket, &five.export)?);
    drop(s3);
    notes.push(five.import_into(&import, EXPORT, &servers)?);
    notes.push(format!("refused before the import: {}", refused.join("; ")));
    notes.push(refusals::after_the_import(&import, &five.export, run)?);
    drop(five);
    // GeoNode 4.4, upgraded by the init Job's migrations.
    let four = Source::make(&PROJECT_4_4, &dir, &servers)?;
    volumes.wipe(run, &server)?;
    let from = "compose-site-4.4";
    copy_folder(&four.export, &volumes.backups().join(from))?;
    notes.push(four.import_into(&import, from, &servers)?);
    Ok(notes)
}

/// A compose site with its content, what it showed, and its export.
struct Source {
    project: &'static Project,
    site: ComposeSite,
    /// seen.py's arguments: what content.py made, the admin's password.
    seen_args: [String; 2],
    before: Value,
    export: std::path::PathBuf,
    first_start: f64,
    export_seconds: f64,
}

impl Source {
    fn make(project: &'static Project, dir: &Path, servers: &Servers) -> Result<Self, String> {
        let root = crate::project::workspace_root();
        let (site, first_start) = ComposeSite::make(project, dir, servers)?;
        let made = make_content(&site, &root, dir)?;
        let admin = site.env.get("ADMIN_PASSWORD").cloned().unwrap_or_default();
        let seen_args = [made.to_string(), admin];
        let before = last_json(&site.python(SEEN_PY, &[&seen_args[0], &seen_args[1]])?)?;
        shows_the_content(&before, project.label)?;
        // Else the import's checks of the new address would prove nothing.
        if !before["resources"].to_string().contains(OLD_HOST) {
            return Err(format!(
                "{}: GeoNode stored no address of the old site: {before}",
                project.label
            ));
        }
        let started = Instant::now();
        let export = export::run(&root, &site, dir, servers.db, servers.superuser_password)?;
        Ok(Source {
            project,
            site,
            seen_args,
            before,
            export,
            first_start,
            export_seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// The export imported as `from` into the wiped site, and checked; the note.
    fn import_into(
        &self,
        import: &Import,
        from: &str,
        servers: &Servers,
    ) -> Result<String, String> {
        let run = import.run;
        let started = Instant::now();
        import.restore(from)?;
        let restore_seconds = started.elapsed().as_secs_f64();
        import.init()?;
        let init_seconds = started.elapsed().as_secs_f64() - restore_seconds;
        let after = run.python_json(SEEN_PY, &[&self.seen_args[0], &self.seen_args[1]])?;
        let label = format!(
            "{} (GeoNode {})",
            self.project.label, self.project.geonode.version
        );
        shows_the_content(&after, &format!("the chart's site after importing {label}"))?;
        same_site(&self.before, &after, &run.env["SITEURL"])?;
        no_old_address(run, servers.db, servers.superuser_password)?;
        same_data_dir(&self.site, import.volumes, &run.env["GEONODE_GEODATABASE"])?;
        Ok(format!(
            "{label}: first start {:.1} s; export by {}: {} bytes in 7 files, {:.1} s; import: restore containers {restore_seconds:.1} s, then the init Job's own steps {init_seconds:.1} s",
            self.first_start,
            export::PAGE,
            folder_bytes(&self.export)?,
            self.export_seconds,
        ))
    }
}

/// The import's render, run against the contract's site; from the bucket of the S3 server at
/// `s3_endpoint` with the import's S3 render.
#[derive(Clone, Copy)]
pub(super) struct Import<'a> {
    inputs: &'a Inputs,
    run: &'a GeoNodeRun,
    volumes: &'a Volumes,
    db: u16,
    s3_endpoint: Option<&'a str>,
}

impl Import<'_> {
    /// One of the init Job's containers, with backup.restore.from set to `from`.
    fn container(&self, name: &str, from: &str) -> Result<Container, String> {
        let job = self.inputs.init_job()?;
        let mut container = Container::of(self.inputs, "Job", &job, name, self.volumes, self.db)?;
        container
            .env
            .insert("BACKUP_RESTORE_FROM".into(), from.into());
        if let Some(endpoint) = self.s3_endpoint {
            container
                .env
                .insert("BACKUP_S3_ENDPOINT".into(), endpoint.into());
        }
        Ok(container)
    }

    /// The restore containers in order; their output.
    fn restore(&self, from: &str) -> Result<String, String> {
        let mut out = String::new();
        for name in ["restore-prepare", "restore-databases", "restore-files"] {
            out += &self
                .container(name, from)?
                .run(&self.run.venv)
                .map_err(|e| format!("importing {from}: the init Job's {name} container: {e}"))?;
        }
        Ok(out)
    }

    /// Only the first container, which checks: its error, or what it printed.
    fn prepare(&self, from: &str) -> Result<String, String> {
        self.container("restore-prepare", from)?.run(&self.run.venv)
    }

    /// The init Job's own command, after the restore containers.
    fn init(&self) -> Result<String, String> {
        let job = self.inputs.init_job()?;
        let init = self.run.with_env_of(self.inputs, "Job", &job, "init")?;
        exec_container(
            &mut init.command(&self.inputs.command("Job", &job, "init")?),
            "init",
        )
        .map_err(|e| format!("the init Job's own command after the import: {e}"))
    }
}

/// The export uploaded under the bucket's prefix as the docs say (`aws s3 cp --recursive`, here
/// boto3 with the import container's settings): restore-prepare finds it there, downloads and
/// checks every part. Its plan and download are then removed (the import itself is from the
/// volume).
fn checked_in_the_bucket(import: &Import, export: &Path) -> Result<String, String> {
    let prepare = import.container("restore-prepare", EXPORT)?;
    exec(
        Command::new(import.run.venv.join("bin/python"))
            .arg("-c")
            .arg(S3_PUT_PY)
            .arg(export)
            .arg(EXPORT)
            .env_clear()
            .envs(&prepare.env),
    )?;
    let out = import.prepare(EXPORT)?;
    if !out.contains("every part matches SHA256SUMS") || !out.contains("kept in s3://") {
        return Err(format!(
            "restore-prepare did not check the export in the bucket: {out}"
        ));
    }
    let scratch = import.volumes.scratch();
    for leftover in ["restore", "restore-plan.json", "restore-folder"] {
        let path = scratch.join(leftover);
        if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        }
        .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok("from the S3 bucket: restore-prepare listed, downloaded and checked every part".into())
}

/// Uploads folder argv[1] under the bucket's prefix as argv[2]/, with boto3 as any client would.
const S3_PUT_PY: &str = r#"
import os, sys
import boto3
from botocore.config import Config
client = boto3.client("s3", endpoint_url=os.environ["BACKUP_S3_ENDPOINT"], region_name=os.environ["BACKUP_S3_REGION"],
                      config=Config(s3={"addressing_style": "path"}))
folder, name = sys.argv[1:3]
for file in sorted(os.listdir(folder)):
    client.upload_file(os.path.join(folder, file), os.environ["BACKUP_S3_BUCKET"], f"{os.environ['BACKUP_S3_PREFIX']}{name}/{file}")
"#;

/// content.py in the compose site, with upstream's files: the document's file alone in a folder
/// of its own, as an upload is.
fn make_content(site: &ComposeSite, root: &Path, dir: &Path) -> Result<Value, String> {
    let images = site_packages(site.venv())?.join(IMAGES);
    let upload = dir.join(format!("upload-{}", site.geonode));
    fs::create_dir_all(&upload).map_err(|e| e.to_string())?;
    let document = upload.join("old-site-report.png");
    fs::copy(images.join("wms_4326.png"), &document)
        .map_err(|e| format!("{}: {e}", images.display()))?;
    let made = last_json(&site.python(
        CONTENT_PY,
        &[
            &root.join(THESAURUS).display().to_string(),
            &document.display().to_string(),
            &images.join("tms_outcome1.png").display().to_string(),
        ],
    )?)?;
    // The data directory: upstream's, and the store GeoNode makes for uploads on its datastore.
    copy_folder(&root.join(DATA_DIR), &site.geoserver_data)?;
    let datastore = site.datastore().to_string();
    crate::contract::geoserver::GeoNodeStore::named_after(&datastore)
        .place(&site.geoserver_data)?;
    Ok(made)
}

fn site_packages(venv: &Path) -> Result<std::path::PathBuf, String> {
    let lib = venv.join("lib");
    fs::read_dir(&lib)
        .map_err(|e| format!("{}: {e}", lib.display()))?
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .ok_or(format!("{} has no python*/site-packages", lib.display()))
}

/// The content as content.py made it: every login works, the private document is the owner's
/// and bob's only, the map and the public document everyone's.
fn shows_the_content(seen: &Value, site: &str) -> Result<(), String> {
    let logins = seen["logins"].as_object().cloned().unwrap_or_default();
    let failed: Vec<&String> = logins
        .iter()
        .filter(|(_, ok)| **ok != true)
        .map(|(n, _)| n)
        .collect();
    if logins.len() != 4 || !failed.is_empty() {
        return Err(format!(
            "{site}: these users do not log in with their password: {failed:?} ({logins:?})"
        ));
    }
    let documents = |who: &str| seen["seen"][who]["documents"].to_string();
    let private = "Old site private report";
    for (who, sees_private) in [
        ("anonymous", false),
        ("alice", true),
        ("bob", true),
        ("carol", false),
        ("admin", true),
    ] {
        let listed = documents(who);
        if listed.contains(private) != sees_private || !listed.contains("Old site public report") {
            return Err(format!("{site}: {who} sees the documents {listed}; the private one must be alice's and bob's only, the public one everyone's"));
        }
        if !seen["seen"][who]["maps"]
            .to_string()
            .contains("Old site map")
        {
            return Err(format!(
                "{site}: {who} does not see the map: {}",
                seen["seen"][who]
            ));
        }
    }
    Ok(())
}

/// The new site shows what the old one did, at its own address.
fn same_site(before: &Value, after: &Value, site_url: &str) -> Result<(), String> {
    let old = before["site"]["siteurl"].as_str().unwrap_or_default();
    for key in ["logins", "seen", "group", "files"] {
        if before[key] != after[key] {
            return Err(format!(
                "after the import, {key} differ: the compose site had {}, the chart's has {}",
                before[key], after[key]
            ));
        }
    }
    let moved: Value =
        serde_json::from_str(&before["resources"].to_string().replace(old, site_url))
            .map_err(|e| e.to_string())?;
    if moved != after["resources"] {
        return Err(format!(
            "after the import, the resources (keywords, thesaurus keywords, thumbnails at {site_url}) differ: {moved} became {}",
            after["resources"]
        ));
    }
    // The Django site's domain: the host alone, as the init Job sets it (sync_site).
    let host = site_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .unwrap_or_default();
    let want = serde_json::json!({
        "siteurl": site_url,
        "domain": host,
        "geoserver_redirect": format!("{site_url}geoserver/index.html"),
    });
    if after["site"] != want {
        return Err(format!(
            "after the import, the site is {}, not {want}",
            after["site"]
        ));
    }
    Ok(())
}

/// GeoNode's database, dumped as SQL, names the old site's address nowhere.
fn no_old_address(run: &GeoNodeRun, db: u16, superuser_password: &str) -> Result<(), String> {
    let old = format!("http://{OLD_HOST}");
    let sql = exec(
        Command::new(format!("{}/pg_dump", crate::contract::postgresql::BIN))
            .args([
                "--data-only",
                "-h",
                "127.0.0.1",
                "-p",
                &db.to_string(),
                "-U",
                "postgres",
            ])
            .arg(&run.env["GEONODE_DATABASE"])
            .env("PGPASSWORD", superuser_password),
    )?;
    let mut table = "";
    let mut found = std::collections::BTreeSet::new();
    for line in sql.lines() {
        if let Some(rest) = line.strip_prefix("COPY ") {
            table = rest.split(' ').next().unwrap_or_default();
        } else if line.contains(&old) {
            found.insert(table);
        }
    }
    if !found.is_empty() {
        return Err(format!(
            "after the import, GeoNode's database still names {old} in {found:?}"
        ));
    }
    Ok(())
}

/// The data directory is the old one, but GeoNode's store for uploads names this release's
/// datastore database (GeoServer's start script sets the rest: tested in part geoserver).
fn same_data_dir(site: &ComposeSite, volumes: &Volumes, database: &str) -> Result<(), String> {
    let old = site.datastore().to_string();
    let want =
        crate::contract::geoserver::tree(&site.geoserver_data, "").map_err(|e| e.to_string())?;
    let got = crate::contract::geoserver::tree(volumes.geoserver_data(), "")
        .map_err(|e| e.to_string())?;
    let store = std::path::PathBuf::from(format!("workspaces/geonode/{old}/datastore.xml"));
    let (mut want_rest, mut got_rest) = (want.clone(), got.clone());
    want_rest.remove(&store);
    got_rest.remove(&store);
    if let Some(difference) = crate::contract::geoserver::tree_difference(&want_rest, &got_rest) {
        return Err(format!(
            "after the import, the GeoServer data directory differs: {difference}"
        ));
    }
    let text = |root: &Path| {
        fs::read_to_string(root.join(&store)).map_err(|e| format!("{}: {e}", store.display()))
    };
    let (was, is) = (text(&site.geoserver_data)?, text(volumes.geoserver_data())?);
    let entry = |name: &str| format!("<entry key=\"database\">{name}</entry>");
    if is != was.replace(&entry(&old), &entry(database)) || !was.contains(&entry(&old)) {
        return Err(format!(
            "after the import, {} names the database {old} still, or more changed than that:\n{is}",
            store.display()
        ));
    }
    Ok(())
}

fn folder_bytes(dir: &Path) -> Result<u64, String> {
    let mut total = 0;
    for entry in fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        total += entry.metadata().map_err(|e| e.to_string())?.len();
    }
    Ok(total)
}

/// A copy of a folder's tree into `to` (made if missing), as `kubectl cp` or an upload to the
/// bucket copies an export.
pub(super) fn copy_folder(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    exec(
        Command::new("cp")
            .args(["-R", "--preserve=mode,timestamps"])
            .arg(from.join("."))
            .arg(to),
    )
    .map(drop)
}
