//! An external PostgreSQL over TLS (`postgresql.external.tls`): a CA made for the test, a server
//! that takes TLS connections only, and GeoNode with the chart's env for an external server with
//! `sslmode: verify-full`. Django connects over TLS; it refuses the server when its certificate
//! comes from another CA, or names another host.

use super::backup::{Container, Volumes};
use super::run::GeoNodeRun;
use crate::contract::inputs::Inputs;
use crate::contract::postgresql::{self, Local};
use crate::manifest;
use crate::process::{exec, start_server, Running};
use crate::project::RELEASE;
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The operator's Secret with the CA bundle, as `postgresql.external.tls.caBundle.secret` names it.
pub const CA_SECRET: &str = "contract-postgresql-ca";

/// The render for an external server over TLS, on top of the contract's own settings.
pub const TLS_SETS: &[&str] = &[
    "postgresql.enabled=false",
    "postgresql.external.host=localhost",
    "postgresql.external.networkCidrs=[127.0.0.1/32]",
    "postgresql.external.tls.sslmode=verify-full",
    "postgresql.external.tls.caBundle.secret=contract-postgresql-ca",
    "backup.enabled=true",
    "backup.restore.enabled=true",
    "backup.restore.from=latest",
];

/// The server's name in its certificate, and the external host of TLS_SETS.
const HOST: &str = "localhost";

/// Every container of the render that talks to PostgreSQL, by workload.
const CLIENTS: &[(&str, &str)] = &[
    ("Deployment", "django"),
    ("Deployment", "celery-worker"),
    ("Deployment", "celery-beat"),
    ("Deployment", "geoserver"),
    ("Job", "init-"),
    ("CronJob", "backup"),
];

/// The render's part: each client container has PGSSLMODE and PGSSLROOTCERT, and the root
/// certificate's path is in a read-only mount of the operator's Secret. Returns the path.
pub fn ca_reaches_every_client(inputs: &Inputs) -> Result<String, String> {
    let mut path = None;
    for (kind, name) in CLIENTS {
        let prefix = format!("{RELEASE}-{name}");
        let object = inputs
            .objects
            .iter()
            .find(|o| o.kind == *kind && o.name.starts_with(&prefix))
            .ok_or_else(|| format!("the TLS render has no {kind} {prefix}"))?;
        let spec = object.pod_spec().ok_or("no pod spec")?;
        let volume = spec["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["secret"]["secretName"] == CA_SECRET)
            .and_then(|v| v["name"].as_str())
            .ok_or_else(|| {
                format!(
                    "{kind} {} mounts no volume of Secret {CA_SECRET}",
                    object.name
                )
            })?;
        for (_, container) in manifest::containers(spec) {
            let env = |var: &str| {
                container["env"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|e| e["name"] == var)
                    .and_then(|e| e["value"].as_str())
            };
            let Some(cert) = env("PGSSLROOTCERT") else {
                continue;
            };
            let mounted = container["volumeMounts"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| {
                    m["name"] == volume
                        && m["readOnly"] == true
                        && m["mountPath"]
                            .as_str()
                            .is_some_and(|dir| cert.starts_with(&format!("{dir}/")))
                });
            if env("PGSSLMODE") != Some("verify-full") || !mounted {
                return Err(format!(
                    "{kind} {}, container {}: PGSSLMODE {:?}, PGSSLROOTCERT {cert:?} not in a read-only mount of {volume}",
                    object.name, container["name"], env("PGSSLMODE")
                ));
            }
            path = Some(cert.to_string());
        }
        // Each workload's main container must be among them.
        if !manifest::containers(spec)
            .any(|(list, c)| list == "containers" && c["env"].to_string().contains("PGSSLROOTCERT"))
        {
            return Err(format!(
                "{kind} {}: its container has no PGSSLROOTCERT",
                object.name
            ));
        }
    }
    path.ok_or_else(|| "no container has PGSSLROOTCERT".into())
}

/// The test's certificates: a CA, and server certificates from it and from a foreign CA.
struct Certificates {
    dir: std::path::PathBuf,
}

impl Certificates {
    fn make(dir: &Path) -> Result<Self, String> {
        fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let certs = Certificates {
            dir: dir.to_path_buf(),
        };
        certs.authority("ca", "Contract Test CA")?;
        certs.authority("foreign-ca", "Some Other CA")?;
        certs.server("server", "ca", HOST)?;
        certs.server("foreign", "foreign-ca", HOST)?;
        certs.server("elsewhere", "ca", "db.elsewhere.test")?;
        Ok(certs)
    }

    fn openssl(&self, args: &[&str]) -> Result<String, String> {
        exec(Command::new("openssl").args(args).current_dir(&self.dir))
    }

    fn authority(&self, name: &str, subject: &str) -> Result<(), String> {
        self.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-subj",
            &format!("/CN={subject}"),
        ])
        .map(drop)
    }

    fn server(&self, name: &str, ca: &str, host: &str) -> Result<(), String> {
        self.openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={host}"),
        ])?;
        fs::write(
            self.dir.join(format!("{name}.ext")),
            format!("subjectAltName=DNS:{host}\n"),
        )
        .map_err(|e| e.to_string())?;
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.crt"),
        ])
        .map(drop)
    }
}

const SUPERUSER_PASSWORD: &str = "contract-tls-superuser";

/// A PostgreSQL that takes TLS connections only (hostssl), serving one of the certificates.
struct TlsServer {
    local: Local,
    _process: Running,
}

impl TlsServer {
    fn start(dir: &Path, certs: &Certificates) -> Result<Self, String> {
        let local = Local::new(dir.to_path_buf())?;
        local.initdb(SUPERUSER_PASSWORD)?;
        fs::write(
            local.data.join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n",
        )
        .map_err(|e| e.to_string())?;
        certs.install(&local.data, "server")?;
        let process = start_server(
            local.postgres().args([
                "-c",
                "ssl=on",
                "-c",
                "ssl_cert_file=server.crt",
                "-c",
                "ssl_key_file=server.key",
            ]),
            "PostgreSQL with TLS",
            local.port,
        )?;
        Ok(TlsServer {
            local,
            _process: process,
        })
    }

    fn sql(&self, db: &str, sql: &str) -> Result<String, String> {
        self.local.psql("postgres", SUPERUSER_PASSWORD, db, sql)
    }

    /// GeoNode's two databases and their owners, with the passwords of the render.
    fn create_databases(&self, run: &GeoNodeRun) -> Result<(), String> {
        for (db, user, password) in postgresql::DATABASE_VARIABLES {
            let (db, user) = (&run.env[db], &run.env[user]);
            let password = run.env[password].replace('\'', "''");
            self.sql(
                "postgres",
                &format!("create role \"{user}\" login password '{password}'"),
            )?;
            postgresql::create_owned_database(self.local.port, SUPERUSER_PASSWORD, db, user)?;
        }
        Ok(())
    }

    /// Serves another certificate from now on (a reload, as after a renewal).
    fn serve(&self, certs: &Certificates, name: &str) -> Result<(), String> {
        certs.install(&self.local.data, name)?;
        self.sql("postgres", "select pg_reload_conf()")?;
        std::thread::sleep(Duration::from_secs(1));
        Ok(())
    }
}

impl Certificates {
    /// `name`'s certificate and key as the server's, readable by the postgres user only.
    fn install(&self, data: &Path, name: &str) -> Result<(), String> {
        for ext in ["crt", "key"] {
            let target = data.join(format!("server.{ext}"));
            fs::copy(self.dir.join(format!("{name}.{ext}")), &target).map_err(|e| e.to_string())?;
            exec(Command::new("chown").arg("postgres:postgres").arg(&target))?;
            crate::process::chmod(&target, 0o600).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Django's two connections (GeoNode's database, the datastore): TLS in use, or the error.
const CONNECT_PY: &str = r#"
import json
from django.db import connections
out = {}
for alias in ("default", "datastore"):
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
            out[alias] = {"ssl": cursor.fetchone()[0]}
    except Exception as error:
        out[alias] = {"error": str(error)}
    connections[alias].close()
print(json.dumps(out))
"#;

fn connect(run: &GeoNodeRun) -> Result<Value, String> {
    let out = run.python(CONNECT_PY)?;
    serde_json::from_str(out.trim().lines().last().unwrap_or("")).map_err(|e| format!("{e}: {out}"))
}

/// GeoFence's connection: the JDBC URL GeoServer's start script writes from its container's env
/// (`?sslmode=<PGSSLMODE>&sslrootcert=<PGSSLROOTCERT>`, which geoserver-start checks), with
/// PostgreSQL's JDBC driver.
struct GeoFence {
    jar: std::path::PathBuf,
    url: String,
    user: String,
    password: String,
}

impl GeoFence {
    fn new(tls_inputs: &Inputs, run: &GeoNodeRun) -> Result<Self, String> {
        let env = tls_inputs.env("Deployment", &format!("{RELEASE}-geoserver"), "geoserver")?;
        let var = |name: &str| {
            env.get(name)
                .cloned()
                .ok_or_else(|| format!("the GeoServer container has no {name}"))
        };
        let url = crate::contract::jdbc::geofence_tls_url(
            &var("DATABASE_HOST")?,
            &run.env["DATABASE_PORT"],
            &var("GEONODE_GEODATABASE")?,
            &var("PGSSLMODE")?,
            &run.env["PGSSLROOTCERT"],
        );
        Ok(GeoFence {
            jar: crate::contract::jdbc::ensure().map_err(|e| e.to_string())?,
            url,
            user: var("GEONODE_GEODATABASE_USER")?,
            password: var("GEONODE_GEODATABASE_PASSWORD")?,
        })
    }

    fn connect(&self, work: &Path) -> Result<String, String> {
        crate::contract::jdbc::connect(&self.jar, work, &self.url, &self.user, &self.password)
    }
}

/// The certificates the server serves in turn, and how libpq and the JDBC driver refuse them
/// (None: they connect over TLS).
const SERVED: &[(&str, Option<(&str, &str)>)] = &[
    ("server", None),
    (
        "foreign",
        Some(("certificate verify failed", "PKIX path building failed")),
    ),
    (
        "elsewhere",
        Some(("does not match host name", "could not be verified")),
    ),
];

/// A table of the datastore the backup round must bring back.
const KEPT: &str = "contract_tls_backup";

/// Backups of the external server over TLS: the TLS render's backup CronJob dumps both databases
/// (and refuses a server certificate of another CA), the init Job's restore containers load the
/// dumps back, and a table dropped after the backup is there again.
fn backup_round_trip(
    tls_inputs: &Inputs,
    run: &GeoNodeRun,
    server: &TlsServer,
    certs: &Certificates,
    dir: &Path,
) -> Result<(), String> {
    let statics = dir.join("statics");
    fs::create_dir_all(statics.join("uploaded")).map_err(|e| e.to_string())?;
    let volumes = Volumes::new(dir, &statics)?;
    volumes.write_scripts(tls_inputs)?;
    let container = |kind: &str, name: &str, c: &str| -> Result<Container, String> {
        let mut container = Container::of(tls_inputs, kind, name, c, &volumes, server.local.port)?;
        container
            .env
            .insert("PGSSLROOTCERT".into(), run.env["PGSSLROOTCERT"].clone());
        Ok(container)
    };
    let (db, user) = (
        &run.env["GEONODE_GEODATABASE"],
        &run.env["GEONODE_GEODATABASE_USER"],
    );
    server.sql(
        db,
        &format!("create table {KEPT} (id int); insert into {KEPT} values (42); alter table {KEPT} owner to \"{user}\""),
    )?;
    let cron = format!("{RELEASE}-backup");
    let dump = container("CronJob", &cron, "dump-databases")?;
    server.serve(certs, "foreign")?;
    let refused = dump.run(&run.venv);
    server.serve(certs, "server")?;
    match refused {
        Err(e) if e.contains("certificate verify failed") => {}
        other => {
            return Err(format!(
                "the backup's dump-databases against a server certificate of another CA: {other:?}, expected a refusal"
            ))
        }
    }
    dump.run(&run.venv)
        .map_err(|e| format!("the backup's dump-databases over TLS: {e}"))?;
    container("CronJob", &cron, "backup")?
        .run(&run.venv)
        .map_err(|e| format!("the backup's backup container: {e}"))?;
    server.sql(db, &format!("drop table {KEPT}"))?;
    let job = tls_inputs.init_job()?;
    for c in ["restore-prepare", "restore-databases"] {
        container("Job", &job, c)?
            .run(&run.venv)
            .map_err(|e| format!("the init Job's {c} container over TLS: {e}"))?;
    }
    let kept = server.sql(db, &format!("select id from {KEPT}"))?;
    if kept.trim() != "42" {
        return Err(format!(
            "after the restore over TLS, {KEPT} in {db} holds {kept:?}, not the row backed up"
        ));
    }
    Ok(())
}

/// The whole check: the render's mounts, then Django and GeoFence against the TLS server, then a
/// backup and restore over TLS.
pub fn run(tls_inputs: &Inputs, base: &GeoNodeRun, work: &Path) -> Result<(), String> {
    let rendered_path = ca_reaches_every_client(tls_inputs)?;
    let dir = work.join("postgresql-tls");
    let certs = Certificates::make(&dir.join("certificates"))?;
    // The Secret's key, where this run mounts it.
    let bundle = dir.join("ca-bundle");
    fs::create_dir_all(&bundle).map_err(|e| e.to_string())?;
    let key = Path::new(&rendered_path)
        .file_name()
        .ok_or("PGSSLROOTCERT names no file")?;
    fs::copy(certs.dir.join("ca.crt"), bundle.join(key)).map_err(|e| e.to_string())?;
    let server = TlsServer::start(&dir.join("server"), &certs)?;
    let run = base
        .with_var("PGSSLROOTCERT", &bundle.join(key).display().to_string())
        .with_var("DATABASE_PORT", &server.local.port.to_string());
    if run.env.get("DATABASE_HOST").map(String::as_str) != Some(HOST)
        || run.env.get("PGSSLMODE").map(String::as_str) != Some("verify-full")
    {
        return Err(format!(
            "the TLS render gives Django DATABASE_HOST {:?} and PGSSLMODE {:?}",
            run.env.get("DATABASE_HOST"),
            run.env.get("PGSSLMODE")
        ));
    }
    server.create_databases(&run)?;
    let geofence = GeoFence::new(tls_inputs, &run)?;
    for (certificate, refusal) in SERVED {
        server.serve(&certs, certificate)?;
        let django = connect(&run)?;
        for alias in ["default", "datastore"] {
            let outcome = &django[alias];
            let right = match refusal {
                None => outcome["ssl"] == true,
                Some((libpq, _)) => outcome["error"].as_str().is_some_and(|e| e.contains(libpq)),
            };
            if !right {
                return Err(format!(
                    "Django's {alias} connection (sslmode=verify-full, the CA bundle) to the server with the {certificate} certificate: {outcome}, expected {}",
                    refusal.map_or("TLS in use".to_string(), |(libpq, _)| format!("a refusal with {libpq:?}"))
                ));
            }
        }
        let jdbc = geofence.connect(&dir);
        let right = match (refusal, &jdbc) {
            (None, Ok(out)) => out == "ssl=true",
            (Some((_, expected)), Err(e)) => e.contains(expected),
            _ => false,
        };
        if !right {
            return Err(format!(
                "GeoFence's JDBC URL {} to the server with the {certificate} certificate: {jdbc:?}, expected {}",
                geofence.url,
                refusal.map_or("TLS in use".to_string(), |(_, jdbc)| format!("a refusal with {jdbc:?}"))
            ));
        }
    }
    server.serve(&certs, "server")?;
    backup_round_trip(tls_inputs, &run, &server, &certs, &dir.join("backup"))
}
