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

use super::backup::{Container, Server, Volumes};
use super::run::{last_json, GeoNodeRun};
use crate::contract::inputs::Inputs;
use crate::process::{exec, exec_container};
use compose::{ComposeSite, Servers, OLD_HOST};
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
    inputs: &Inputs,
    run: &GeoNodeRun,
    work: &Path,
    db: u16,
    superuser_password: &str,
    geoserver: u16,
) -> Result<Vec<String>, String> {
    let root = crate::project::workspace_root();
    let dir = work.join("site-import");
    let servers = Servers {
        db,
        superuser_password,
        geoserver,
    };
    let (site, first_start) = ComposeSite::make(&dir, &run.venv, &servers)?;
    let made = make_content(&site, &root, &dir, &run.venv)?;
    let admin = site.env.get("ADMIN_PASSWORD").cloned().unwrap_or_default();
    let seen_args = [made.to_string(), admin];
    let before = last_json(&site.python(SEEN_PY, &[&seen_args[0], &seen_args[1]])?)?;
    shows_the_content(&before, "the compose site")?;

    let started = Instant::now();
    let export = export::run(&root, &site, &dir, db, superuser_password)?;
    let export_seconds = started.elapsed().as_secs_f64();
    let export_bytes = folder_bytes(&export)?;

    let volumes = Volumes::new(&dir, &run.statics)?;
    volumes.write_scripts(inputs)?;
    let server = Server {
        port: db,
        superuser_password,
    };
    volumes.wipe(run, &server)?;
    let target = volumes.backups().join(EXPORT);
    copy_folder(&export, &target)?;
    let import = Import {
        inputs,
        run,
        volumes: &volumes,
        db,
    };
    let refused = refusals::before_the_import(&import, &export)?;
    let started = Instant::now();
    import.restore(EXPORT)?;
    let restore_seconds = started.elapsed().as_secs_f64();
    import.init()?;
    let init_seconds = started.elapsed().as_secs_f64() - restore_seconds;

    let after = run.python_json(SEEN_PY, &[&seen_args[0], &seen_args[1]])?;
    shows_the_content(&after, "the chart's site after the import")?;
    same_site(&before, &after, &run.env["SITEURL"])?;
    no_old_address(run, db, superuser_password)?;
    same_data_dir(&site, &volumes, &run.env["GEONODE_GEODATABASE"])?;
    let again = refusals::after_the_import(&import, &export, run)?;
    Ok(vec![
        format!(
            "compose site (geonode-project 5.1.0's .env, settings and first-start tasks, GeoNode {}): first start {first_start:.1} s",
            before["geonode"].as_str().unwrap_or("?")
        ),
        format!(
            "export by {}: {export_bytes} bytes in 7 files, {export_seconds:.1} s; import: restore containers {restore_seconds:.1} s, then the init Job's own steps {init_seconds:.1} s",
            export::PAGE
        ),
        format!("refused: {}", refused.join("; ")),
        again,
    ])
}

/// The import's render, run against the contract's site.
pub(super) struct Import<'a> {
    inputs: &'a Inputs,
    run: &'a GeoNodeRun,
    volumes: &'a Volumes,
    db: u16,
}

impl Import<'_> {
    /// One of the init Job's containers, with backup.restore.from set to `from`.
    fn container(&self, name: &str, from: &str) -> Result<Container, String> {
        let job = self.inputs.init_job()?;
        let mut container = Container::of(self.inputs, "Job", &job, name, self.volumes, self.db)?;
        container
            .env
            .insert("BACKUP_RESTORE_FROM".into(), from.into());
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

/// content.py in the compose site, with upstream's files: the document's file alone in a folder
/// of its own, as an upload is.
fn make_content(site: &ComposeSite, root: &Path, dir: &Path, venv: &Path) -> Result<Value, String> {
    let images = site_packages(venv)?.join(IMAGES);
    let upload = dir.join("upload");
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
    let datastore = site.database("GEONODE_GEODATABASE")[0].clone();
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
    let host = site_url
        .split("://")
        .nth(1)
        .unwrap_or_default()
        .trim_end_matches('/');
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
        Command::new("/usr/lib/postgresql/15/bin/pg_dump")
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
    let old = site.database("GEONODE_GEODATABASE")[0].clone();
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
