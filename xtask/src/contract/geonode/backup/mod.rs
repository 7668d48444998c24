//! backup.*: the rendered backup CronJob's containers save the contract's site (a user, a
//! document, a file in the GeoServer data directory, an upload); the site is wiped (both
//! databases made anew as an empty server has them, the volumes emptied); the rendered init Job's
//! restore containers and its own command bring it back. Then: the user logs in, GeoNode lists
//! the document, the files are back with their checksums. What a restore must refuse, and the
//! documented recovery by hand, are in `refusals`.

mod refusals;

use super::run::GeoNodeRun;
use crate::contract::inputs::{Inputs, Mapping};
use crate::contract::postgresql::{self, BIN as PG_BIN};
use crate::process::{exec, exec_container};
use crate::project::RELEASE;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The render with backups to the backup volume and a restore of the latest one.
pub const BACKUP_SETS: &[&str] = &[
    "backup.enabled=true",
    "backup.restore.enabled=true",
    "backup.restore.from=latest",
];

/// Backups in an S3 bucket (the endpoint's port is a placeholder the round replaces with its
/// server's): with BACKUP_SETS, the S3 round's render; with the import's sets, its S3 render.
pub const S3_TARGET: &[&str] = &[
    "backup.target.type=s3",
    "backup.target.s3.endpoint=http://127.0.0.1:9000",
    // The contract's S3 server is plain http on 127.0.0.1, beside tests/contract/values.yaml's risk.
    "acceptedRisks=[oidc-over-http,backup-s3-over-http]",
    "backup.target.s3.bucket=contract-backups",
    "backup.target.s3.prefix=sites/contract/",
    "backup.target.s3.credentialsSecret.name=contract-backup-s3",
    "backup.target.s3.networkCidrs=[127.0.0.1/32]",
];
/// The operator's Secret of S3_TARGET, and the bucket.
pub const S3_SECRET: &str = "contract-backup-s3";
pub const S3_BUCKET: &str = "contract-backups";

const USER: (&str, &str) = ("contract-backup-user", "a password of the backup's user");
const DOCUMENT: &str = "Contract backup document";

/// The site's content the backup must keep: a user with a password, a document owned by it.
const CONTENT_PY: &str = r#"
import json
from django.contrib.auth import get_user_model
from geonode.documents.models import Document
user = get_user_model().objects.create_user(USERNAME, "backup@contract.test", PASSWORD)
doc = Document.objects.create(title=TITLE, owner=user, doc_url="https://example.org/contract.pdf")
doc.set_default_permissions(owner=user, created=True)
print(json.dumps({"user": user.pk, "document": doc.pk}))
"#;

/// What GeoNode shows after the restore: the user logs in and its document is listed.
const SHOWN_PY: &str = r#"
import json
from urllib.parse import urlparse
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST=urlparse(settings.SITEURL).hostname)
logged_in = client.login(username=USERNAME, password=PASSWORD)
page = client.get("/api/v2/documents/", {"search": TITLE})
titles = [d["title"] for d in page.json().get("documents", [])] if page.status_code == 200 else []
print(json.dumps({"logged_in": logged_in, "status": page.status_code, "titles": titles}))
"#;

/// The folders the backup and restore containers mount, in this run.
pub(super) struct Volumes {
    scripts: PathBuf,
    key: PathBuf,
    scratch: PathBuf,
    backups: PathBuf,
    geoserver_data: PathBuf,
    statics: PathBuf,
}

impl Volumes {
    pub(super) fn new(work: &Path, statics: &Path) -> Result<Self, String> {
        let dir = work.join("backup");
        let volumes = Volumes {
            scripts: dir.join("scripts"),
            key: dir.join("key"),
            scratch: dir.join("scratch"),
            backups: dir.join("backups"),
            geoserver_data: dir.join("geoserver-data"),
            statics: statics.to_path_buf(),
        };
        for d in [
            &volumes.scripts,
            &volumes.key,
            &volumes.scratch,
            &volumes.backups,
            &volumes.geoserver_data,
        ] {
            fs::create_dir_all(d).map_err(|e| format!("creating {}: {e}", d.display()))?;
        }
        Ok(volumes)
    }

    /// The render's backup scripts and the backup key (the render pins give it, so it is in the
    /// rendered "-given" Secret), where the containers mount their ConfigMap and Secret.
    pub(super) fn write_scripts(&self, inputs: &Inputs) -> Result<(), String> {
        let scripts = inputs.find("ConfigMap", &format!("{RELEASE}-backup-scripts"))?;
        for (name, text) in crate::manifest::string_map(&scripts.value["data"]) {
            fs::write(self.scripts.join(name), text).map_err(|e| e.to_string())?;
        }
        let key = inputs.secret(&format!("{RELEASE}-backup-key-given"), "backup-key")?;
        fs::write(self.key_file(), key).map_err(|e| e.to_string())
    }

    /// The backup volume, as the containers mount it at /backups.
    pub(super) fn backups(&self) -> &Path {
        &self.backups
    }

    /// The pod's scratch space (an emptyDir) of the restore containers.
    pub(super) fn scratch(&self) -> &Path {
        &self.scratch
    }

    /// The GeoServer data directory of the restored site.
    pub(super) fn geoserver_data(&self) -> &Path {
        &self.geoserver_data
    }

    /// A lost site: both databases as a new server has them, the volumes as new ones are.
    pub(super) fn wipe(&self, run: &GeoNodeRun, server: &Server) -> Result<(), String> {
        server.wipe(run)?;
        empty(&self.geoserver_data)?;
        for folder in ["uploaded", "assets"] {
            let dir = self.statics.join(folder);
            if dir.is_dir() {
                empty(&dir)?;
            }
        }
        let record = self.statics.join(".geonode-k8s-restored.json");
        if record.exists() {
            fs::remove_file(&record).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn key_file(&self) -> PathBuf {
        self.key.join("key")
    }

    fn mapping(&self) -> Mapping {
        let path = |p: &PathBuf| p.display().to_string();
        Mapping {
            hosts: vec![(
                format!("{RELEASE}-postgresql.{}.svc", crate::project::NAMESPACE),
                "127.0.0.1".into(),
            )],
            // The key's folder first: the scripts' is a prefix of its name.
            paths: vec![
                ("/etc/geonode-k8s-backup-key".into(), path(&self.key)),
                ("/etc/geonode-k8s-backup".into(), path(&self.scripts)),
                ("/scratch".into(), path(&self.scratch)),
                ("/backups".into(), path(&self.backups)),
                ("/geoserver_data/data".into(), path(&self.geoserver_data)),
                ("/mnt/volumes/statics".into(), path(&self.statics)),
            ],
        }
    }
}

/// One container of the render as a local process: its command and env, mapped; `sh` scripts
/// with PostgreSQL's client programs, `python` with GeoNode's venv. Also the import's.
#[derive(Clone)]
pub(super) struct Container {
    /// Its name in the pod spec, which names its log.
    name: String,
    argv: Vec<String>,
    pub(super) env: BTreeMap<String, String>,
}

impl Container {
    pub(super) fn of(
        inputs: &Inputs,
        kind: &str,
        name: &str,
        container: &str,
        volumes: &Volumes,
        db: u16,
    ) -> Result<Self, String> {
        let mapping = volumes.mapping();
        let mut env: BTreeMap<String, String> = inputs
            .env(kind, name, container)?
            .into_iter()
            .map(|(k, v)| (k, mapping.apply(&v)))
            .collect();
        env.insert("DATABASE_PORT".into(), db.to_string());
        let argv = inputs
            .command(kind, name, container)?
            .iter()
            .map(|a| mapping.apply(a))
            .collect();
        Ok(Container {
            name: container.to_string(),
            argv,
            env,
        })
    }

    pub(super) fn run(&self, venv: &Path) -> Result<String, String> {
        let program = match self.argv[0].as_str() {
            "python" => venv.join("bin/python"),
            other => PathBuf::from(other),
        };
        exec_container(
            Command::new(program)
                .args(&self.argv[1..])
                .env_clear()
                .envs(&self.env)
                .env(
                    "PATH",
                    format!("{PG_BIN}:{}:/usr/bin:/bin", venv.join("bin").display()),
                ),
            &self.name,
        )
    }
}

fn python_json(run: &GeoNodeRun, code: &str) -> Result<Value, String> {
    let code = code
        .replace("USERNAME", &format!("{:?}", USER.0))
        .replace("PASSWORD", &format!("{:?}", USER.1))
        .replace("TITLE", &format!("{DOCUMENT:?}"));
    let out = run.python(&code)?;
    serde_json::from_str(out.trim().lines().last().unwrap_or("")).map_err(|e| format!("{e}: {out}"))
}

/// The files besides the databases: one in the data directory, one upload, one asset (a
/// document's file since GeoNode 4.3). Path -> sha256.
fn make_files(volumes: &Volumes) -> Result<BTreeMap<PathBuf, String>, String> {
    let files = [
        volumes
            .geoserver_data
            .join("workspaces/contract/contract-layer.xml"),
        volumes
            .statics
            .join("uploaded/documents/contract-report.txt"),
        volumes
            .statics
            .join("assets/20261207120000contract/contract-report.pdf"),
    ];
    let mut sums = BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        fs::create_dir_all(file.parent().unwrap_or(Path::new("/"))).map_err(|e| e.to_string())?;
        let body: String = (0..20_000)
            .map(|n| format!("{i}:{n} contract backup line\n"))
            .collect();
        fs::write(file, body).map_err(|e| e.to_string())?;
        sums.insert(
            file.clone(),
            crate::tools::sha256_file(file).map_err(|e| e.to_string())?,
        );
    }
    Ok(sums)
}

/// The contract's PostgreSQL as its superuser.
pub(super) struct Server<'a> {
    pub(super) port: u16,
    pub(super) superuser_password: &'a str,
}

impl Server<'_> {
    /// Both databases made anew, as a new server has them (their owner, PostGIS): a lost volume.
    pub(super) fn wipe(&self, run: &GeoNodeRun) -> Result<(), String> {
        for (db, user, _) in postgresql::DATABASE_VARIABLES {
            let (db, user) = (&run.env[db], &run.env[user]);
            let drop = format!("drop database \"{db}\" with (force)");
            postgresql::psql(
                self.port,
                "postgres",
                self.superuser_password,
                "postgres",
                &drop,
            )?;
            postgresql::create_owned_database(self.port, self.superuser_password, db, user)?;
        }
        Ok(())
    }
}

/// Empties a folder, as a new volume is.
fn empty(dir: &Path) -> Result<(), String> {
    for entry in fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        }
        .map_err(|e| format!("removing {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The backup's name and its parts' total size, from the only complete backup on the volume.
fn the_backup(volumes: &Volumes) -> Result<(String, u64, usize), String> {
    let complete: Vec<String> = fs::read_dir(&volumes.backups)
        .map_err(|e| e.to_string())?
        .flatten()
        .filter(|e| e.path().join("manifest.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let [name] = complete.as_slice() else {
        return Err(format!(
            "the backup volume holds {complete:?}, not one complete backup"
        ));
    };
    let manifest: Value = serde_json::from_str(
        &fs::read_to_string(volumes.backups.join(name).join("manifest.json"))
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("the manifest of {name}: {e}"))?;
    let parts = manifest["parts"].as_object().cloned().unwrap_or_default();
    let bytes = parts.values().filter_map(|p| p["bytes"].as_u64()).sum();
    if parts.len() != 5
        || manifest["chart"]
            .as_str()
            .is_none_or(|c| !c.starts_with("geonode-"))
    {
        return Err(format!(
            "the manifest of {name} lacks parts or versions: {manifest}"
        ));
    }
    Ok((name.clone(), bytes, parts.len()))
}

/// What every round shares: GeoNode's run, the mounted folders, the database server, the
/// files the backup must bring back.
struct Site<'a> {
    run: &'a GeoNodeRun,
    volumes: Volumes,
    server: Server<'a>,
    db: u16,
    sums: BTreeMap<PathBuf, String>,
}

/// A round's render and where it keeps backups: the backup volume, or the contract's S3 server
/// (its endpoint replaces the render's placeholder).
struct Round<'a> {
    inputs: &'a Inputs,
    s3_endpoint: Option<&'a str>,
}

impl Round<'_> {
    fn container(&self, site: &Site, kind: &str, name: &str, c: &str) -> Result<Container, String> {
        let mut container = Container::of(self.inputs, kind, name, c, &site.volumes, site.db)?;
        if let Some(endpoint) = self.s3_endpoint {
            container
                .env
                .insert("BACKUP_S3_ENDPOINT".into(), endpoint.into());
        }
        Ok(container)
    }

    /// The backup's name and the sizes its manifest gives, from where the round keeps it.
    fn the_backup(&self, site: &Site, backup: &Container) -> Result<(String, u64, usize), String> {
        match self.s3_endpoint {
            None => the_backup(&site.volumes),
            Some(_) => {
                let out = exec(
                    Command::new(site.run.venv.join("bin/python"))
                        .arg("-c")
                        .arg(S3_LIST_PY)
                        .env_clear()
                        .envs(&backup.env),
                )?;
                let listed: Value =
                    serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))?;
                let manifests = listed["manifests"].as_object().cloned().unwrap_or_default();
                let [(key, manifest)] = manifests.iter().collect::<Vec<_>>()[..] else {
                    return Err(format!(
                        "the bucket holds {} manifests, not one: {}",
                        manifests.len(),
                        listed["keys"]
                    ));
                };
                let name = manifest["name"].as_str().unwrap_or_default().to_string();
                let parts = manifest["parts"].as_object().cloned().unwrap_or_default();
                let missing: Vec<&String> = parts
                    .keys()
                    .filter(|p| !listed["keys"].to_string().contains(&format!("{name}/{p}")))
                    .collect();
                if !key.ends_with(&format!("{name}/manifest.json"))
                    || parts.len() != 5
                    || !missing.is_empty()
                {
                    return Err(format!(
                        "the bucket's backup {key} lacks parts {missing:?}: {manifest}"
                    ));
                }
                Ok((
                    name,
                    parts.values().filter_map(|p| p["bytes"].as_u64()).sum(),
                    parts.len(),
                ))
            }
        }
    }

    /// Backup, wipe, restore, checks; a note with sizes and times.
    fn run(&self, site: &Site, label: &str) -> Result<(String, String), String> {
        let venv = &site.run.venv;
        let cron = format!("{RELEASE}-backup");
        let started = Instant::now();
        for c in ["dump-databases", "backup"] {
            self.container(site, "CronJob", &cron, c)?
                .run(venv)
                .map_err(|e| format!("{label}: the backup's {c} container: {e}"))?;
        }
        let backup_seconds = started.elapsed().as_secs_f64();
        let (name, bytes, parts) =
            self.the_backup(site, &self.container(site, "CronJob", &cron, "backup")?)?;
        site.wipe()?;
        let job = self.inputs.init_job()?;
        let started = Instant::now();
        for c in ["restore-prepare", "restore-databases", "restore-files"] {
            self.container(site, "Job", &job, c)?
                .run(venv)
                .map_err(|e| format!("{label}: the init Job's {c} container: {e}"))?;
        }
        let restored_seconds = started.elapsed().as_secs_f64();
        let init = site.run.with_env_of(self.inputs, "Job", &job, "init")?;
        exec_container(
            &mut init.command(&self.inputs.command("Job", &job, "init")?),
            "init",
        )
        .map_err(|e| format!("{label}: the init Job's own command after the restore: {e}"))?;
        let init_seconds = started.elapsed().as_secs_f64() - restored_seconds;
        site.shows_everything(&format!("{label}: after the restore"))?;
        Ok((
            name.clone(),
            format!("{label}: backup {name}, {bytes} bytes in {parts} parts, {backup_seconds:.1} s; restore {restored_seconds:.1} s, then the init Job's own steps {init_seconds:.1} s"),
        ))
    }
}

impl Site<'_> {
    /// The user logs in, GeoNode lists its document, the files have their checksums.
    fn shows_everything(&self, when: &str) -> Result<(), String> {
        let shown = python_json(self.run, SHOWN_PY)?;
        if shown["logged_in"] != true || !shown["titles"].to_string().contains(DOCUMENT) {
            return Err(format!(
                "{when}, the user does not log in, or GeoNode does not list its document: {shown}"
            ));
        }
        for (file, sum) in &self.sums {
            let now =
                crate::tools::sha256_file(file).map_err(|e| format!("{}: {e}", file.display()))?;
            if &now != sum {
                return Err(format!(
                    "{when}, {} is not as it was (sha256 {now}, was {sum})",
                    file.display()
                ));
            }
        }
        Ok(())
    }

    fn wipe(&self) -> Result<(), String> {
        self.volumes.wipe(self.run, &self.server)
    }
}

/// The S3 bucket's keys under the prefix and its manifests, read with boto3 as any client would.
const S3_LIST_PY: &str = r#"
import json, os
import boto3
from botocore.config import Config
client = boto3.client("s3", endpoint_url=os.environ["BACKUP_S3_ENDPOINT"], region_name=os.environ["BACKUP_S3_REGION"],
                      config=Config(s3={"addressing_style": "path"}))
bucket, prefix = os.environ["BACKUP_S3_BUCKET"], os.environ["BACKUP_S3_PREFIX"]
keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
manifests = {k: json.loads(client.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys if k.endswith("/manifest.json")}
print(json.dumps({"keys": keys, "manifests": manifests}))
"#;

/// The step: the site's content, a round on the backup volume with the refusals, then a round
/// through the S3 server at the given endpoint. Its notes give sizes and times.
pub fn run(
    volume_inputs: &Inputs,
    s3: (&Inputs, &str),
    run: &GeoNodeRun,
    work: &Path,
    db: u16,
    superuser_password: &str,
) -> Result<Vec<String>, String> {
    let volumes = Volumes::new(work, &run.statics)?;
    volumes.write_scripts(volume_inputs)?;
    python_json(run, CONTENT_PY)?;
    let sums = make_files(&volumes)?;
    let site = Site {
        run,
        volumes,
        server: Server {
            port: db,
            superuser_password,
        },
        db,
        sums,
    };
    site.shows_everything("before the backup")?;
    let volume = Round {
        inputs: volume_inputs,
        s3_endpoint: None,
    };
    let (name, mut notes) = volume
        .run(&site, "backup volume")
        .map(|(n, note)| (n, vec![note]))?;
    refusals::on_the_volume(&volume, &site, &name)?;
    notes.push(refusals::by_hand(&site, &name)?);
    let round = Round {
        inputs: s3.0,
        s3_endpoint: Some(s3.1),
    };
    let (name, note) = round.run(&site, "S3")?;
    refusals::in_the_bucket(&round, &site, &name)?;
    notes.push(note);
    Ok(notes)
}
