//! GeoNode 5.1.1 itself: the init Job's command on the contract's databases, the Django
//! Deployment's uwsgi behind the chart's nginx, and the Celery worker running a task.

mod accounts;
mod backup;
mod cache_pressure;
mod database_tls;
mod gate;
mod geofence_rules;
mod init;
pub(super) mod oidc;
mod one_site;
mod project;
mod run;
mod site_import;
pub(crate) mod venv;

use super::inputs::Inputs;
use super::nginx::{expect, http_body, http_headers, http_status, stand_in, start_nginx};
use super::redis::RedisPorts;
use crate::process::{container_log_path, exec, free_port, Running};
use crate::project::RELEASE;
use crate::report::Report;
pub(crate) use run::GeoNodeRun;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `changed_limit`: DEFAULT_MAX_UPLOAD_SIZE of a render with another nginx.maxBodySize.
pub use accounts::NO_EMAIL_SETS;
pub use backup::{BACKUP_SETS, S3_BUCKET, S3_SECRET, S3_TARGET};
pub use database_tls::TLS_SETS;
pub use one_site::MEMCACHED_SETS;
pub use site_import::IMPORT_SETS;

/// The contract's other renders, each on top of its own settings.
pub struct Variants {
    /// An external PostgreSQL over TLS (TLS_SETS).
    pub tls: Inputs,
    /// Backups to the backup volume and a restore of the latest (BACKUP_SETS).
    pub backup: Inputs,
    /// The same through an S3 bucket (S3_TARGET), with the operator's Secret of these keys.
    pub s3: Inputs,
    pub s3_keys: (String, String),
    /// E-mail off, as by default (NO_EMAIL_SETS).
    pub no_email: Inputs,
    /// memcached as Django's shared cache (MEMCACHED_SETS).
    pub memcached: Inputs,
    /// GeoServer's read replicas (map_routing::READER_SETS).
    pub readers: Inputs,
    /// The import of a site exported from docker-compose (IMPORT_SETS), from the backup volume
    /// and from the S3 bucket (with S3_TARGET and the operator's Secret).
    pub import: Inputs,
    pub import_s3: Inputs,
}

pub fn run(
    inputs: &Inputs,
    variants: &Variants,
    changed_limit: &str,
    work: &Path,
    db: u16,
    redis: RedisPorts,
    report: &mut Report,
) {
    let mut venv = None;
    report.step("geonode-venv", |step| match venv::ensure() {
        Ok(v) => {
            step.passed += 1;
            let versions = exec(Command::new(v.join("bin/python")).arg("-c").arg(
                "import django, celery, osgeo; print('Django', django.get_version(), '· Celery', celery.__version__, '· GDAL', osgeo.__version__)",
            ))
            .unwrap_or_default();
            step.detail = format!("{} (sha256-checked wheel) · {} · Debian python3", venv::GEONODE.pin(), versions.trim());
            venv = Some(v);
        }
        Err(e) => step.fail(e.to_string()),
    });
    let Some(venv) = venv else { return };
    let geoserver_port = match free_port() {
        Ok(p) => p,
        Err(e) => return report.step("geonode-init", |step| step.fail(e)),
    };
    let gs_dir = work.join("geoserver-stand-in");
    let _ = fs::create_dir_all(&gs_dir);
    let _geoserver = stand_in(&gs_dir, geoserver_port, "geoserver");
    let run = match GeoNodeRun::new(inputs, work, venv, db, redis, geoserver_port) {
        Ok(r) => r,
        Err(e) => return report.step("geonode-init", |step| step.fail(e)),
    };
    let job = format!("{RELEASE}-init-");
    // The Job's container: its command, and the variables only it has (the site's steps).
    let init = inputs
        .objects
        .iter()
        .find(|o| o.kind == "Job" && o.name.starts_with(&job))
        .map(|o| o.name.clone())
        .ok_or_else(|| "the render has no init Job".to_string())
        .and_then(|name| {
            let argv = inputs.command("Job", &name, "init")?;
            Ok((argv, run.with_env_of(inputs, "Job", &name, "init")?))
        });

    // The migrations gate, started before the Job (see gate.rs).
    let waiting = gate::start(inputs, &run, work);
    report.step("geonode-init", |step| match &init {
        Ok((argv, init_run)) => init::run(init_run, argv, changed_limit, &run.statics, step),
        Err(e) => step.fail(e.clone()),
    });
    report.step("migrations-gate", |step| {
        step.detail = "the Django pods' init container: waits while the init Job of their configuration has not finished (through its killed runs), passes within a poll of its end, at once for a new pod; another configuration's gate keeps waiting".into();
        step.record_note(waiting.and_then(|w| gate::after_the_job(w, work)));
    });

    report.step("django-behind-nginx", |step| {
        let result = (|| -> Result<(), String> {
            fs::create_dir_all(run.config.parent().unwrap_or(work).join("src"))
                .map_err(|e| e.to_string())?;
            let (_uwsgi, uwsgi_port) = run.start_django(inputs, "django")?;
            let (_nginx, listen) = start_nginx(
                inputs,
                &work.join("nginx-django"),
                &run.statics,
                uwsgi_port,
                geoserver_port,
            )?;
            let host = run.site_host();
            let base = format!("http://127.0.0.1:{listen}");
            expect(
                "GET / through nginx to Django",
                http_status(&host, &[&format!("{base}/")]),
                "200",
            )?;
            expect(
                "GET /api/v2/ through nginx to Django",
                http_status(&host, &["-L", &format!("{base}/api/v2/")]),
                "200",
            )?;
            let css =
                walk_first(&run.statics.join("static"), ".css").ok_or("no collected .css file")?;
            let url = format!(
                "{base}/static/{}",
                css.strip_prefix(run.statics.join("static"))
                    .map_err(|e| e.to_string())?
                    .display()
            );
            expect(
                "GET a collected static file",
                http_status(&host, &[&url]),
                "200",
            )?;
            statics_precompressed(&run, &host, &base)?;
            // Django's clickjacking protection reaches the browser through nginx.
            let headers = http_headers(&host, &format!("{base}/"))?;
            if !headers.contains("x-frame-options: deny") {
                return Err(format!("GET / through nginx lost Django's X-Frame-Options: DENY: {headers}"));
            }
            let page = http_body(&host, &[&format!("{base}/contract-site/")])?;
            let groups = project::GROUPS.join(",");
            if !page.contains(project::GREETING) || !page.contains(&groups) {
                return Err(format!(
                    "GET /contract-site/ (the site's own project: its URLs, its setting plus geonode.settingsAdditions, its fixture's and init commands' groups) answered {page:?}, not {:?} and {groups:?}",
                    project::GREETING
                ));
            }
            roles_need_the_key(&run, uwsgi_port)?;
            signup_closed(&host, &base)?;
            oidc_key_is_the_sites(&run, &host, &base)?;
            catalogue_answers(&run, &host, &base)?;
            tokens_in_addresses(&run, &host, &base)?;
            Ok(())
        })();
        step.record(result);
        step.detail =
            "the Deployment's uwsgi command, serving the site's own project, behind the chart's nginx: /, /api/v2/, /static/ (a script from the init Job's gzip copy, one Cache-Control), the project's page (its setting and the settings additions); role endpoints need GeoServer's key; ID tokens signed with the Secret's key; sign-up closed; CSW GetCapabilities and GetRecords".into();
    });

    report.step("email", |step| {
        step.record(
            mail_reaches_the_sink(&run, work)
                .and_then(|()| accounts::no_reset_link_in_the_log(&run, &variants.no_email)),
        );
        step.detail = "GeoNode's password-reset mail, with the chart's geonode.email settings, reaches a real SMTP server (Python's smtpd) on 127.0.0.1; with e-mail off (the default render) the reset prints nothing of the mail and says it was dropped".into();
    });

    report.step("login-limit", |step| {
        step.record_note(accounts::login_limit_per_client(&run));
        step.detail = "allauth's limit on failed logins counts the client nginx names in X-Forwarded-For, not nginx: one client is stopped, another behind the same nginx is not".into();
    });

    report.step("oidc-login", |step| oidc::run(&run, inputs, work, step));

    report.step("database-tls", |step| {
        let result = GeoNodeRun::new(&variants.tls, &work.join("tls"), run.venv.clone(), 0, redis, geoserver_port)
            .and_then(|base| database_tls::run(&variants.tls, &base, work));
        step.record(result);
        step.detail = "postgresql.external.tls (verify-full, CA bundle from a Secret): PGSSLMODE and the mounted bundle in Django, Celery, the init Job and GeoServer; Django's two connections and GeoFence's JDBC URL (PostgreSQL's JDBC driver) use TLS, and refuse a certificate of another CA or for another host; the backup CronJob dumps both databases over TLS (refusing another CA's certificate) and the init Job's restore containers load them back".into();
    });

    report.step("celery", |step| {
        let result = (|| -> Result<(), String> {
            let argv = inputs.command("Deployment", &format!("{RELEASE}-celery-worker"), "celery-worker")?;
            let log_path = container_log_path("celery-worker").unwrap_or(work.join("celery-worker.log"));
            let log = fs::OpenOptions::new().create(true).append(true).open(&log_path).map_err(|e| e.to_string())?;
            let log_err = log.try_clone().map_err(|e| e.to_string())?;
            let _worker = Running::spawn(run.command(&argv).stdout(log).stderr(log_err)).map_err(|e| format!("starting the worker: {e}"))?;
            // GeoNode routes its tasks to named queues ("default" and others) the worker consumes.
            let out = run.python(
                "from contract_site.celeryapp import app\nr = app.send_task('celery.accumulate', args=(42,), queue='default')\nprint(r.get(timeout=120))",
            );
            let tail = || fs::read_to_string(&log_path).unwrap_or_default().lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
            match out {
                Ok(o) if o.trim().lines().last() == Some("[42]") => {}
                Ok(o) => return Err(format!("the worker did not run the task Django queued ({o}); its log:\n{}", tail())),
                Err(e) => return Err(format!("queuing a task from Django failed: {}; the worker's log:\n{}", e.lines().last().unwrap_or(""), tail())),
            }
            Ok(())
        })();
        step.record(result);
        step.detail = "the worker Deployment's command (the project's Celery application) on Redis runs a task queued from Django".into();
    });

    // Before the steps that change permissions: the tasks their GeoNode queues stay behind.
    report.step("cache-full-broker-whole", |step| {
        step.record_note(cache_pressure::run(&run, inputs, work));
        step.detail = "GeoNode fills the release's cache (redis.cache) to twice its maxmemory, half of it without expiry, while tasks are queued before, during and after: the cache evicts and refuses no write, the broker evicts nothing, and a worker then runs every task".into();
    });

    report.step("one-cache-for-every-process", |step| {
        step.record_note(one_site::run(&run, inputs, &variants.memcached, work));
        step.detail = "two Django pods (the Deployment's uwsgi, its process count each) and the Celery worker on one database, broker and cache: a user reads a shared document on pod B from every process; the owner gives them edit through pod A's API (GeoNode applies it in the worker); every answer of every process of B has it at once, with the chart's Redis cache and with memcached (memcached.enabled). The negative control, GeoNode's default cache (one per process), keeps the old permissions in B".into();
    });

    report.step("geofence-rules-from-every-worker", |step| {
        step.record_note(geofence_rules::run(&run, inputs, work));
        step.detail = "datasets made public, then private, through GeoNode's API, queued together, more changes than a pool process takes: the Celery worker's processes write each dataset's GeoFence rules (to a stand-in that models GeoFence's REST API and records every batch); an anonymous rule while public, none once private. No negative control: the worker writes them from permissions it reads from the database, never the cache (see geofence_rules.rs)".into();
    });

    let superuser = || {
        inputs
            .env(
                "StatefulSet",
                &format!("{RELEASE}-postgresql"),
                "postgresql",
            )?
            .remove("POSTGRES_PASSWORD")
            .ok_or("the postgresql container has no POSTGRES_PASSWORD".to_string())
    };
    // Last: they wipe the site's databases and volumes.
    report.step("backup-restore", |step| {
        let result = (|| -> Result<Vec<String>, String> {
            let superuser = superuser()?;
            let s3 = crate::contract::s3::Server::start(&work.join("s3"), &variants.s3_keys, S3_BUCKET)?;
            backup::run(&variants.backup, (&variants.s3, &s3.endpoint), &run, work, db, &superuser)
        })();
        step.record_notes(result);
        step.detail = "the backup CronJob's containers save the site (a user, a document, a data-directory file, an upload, an asset) to the backup volume, then to an S3 bucket (the Versity S3 Gateway); each time wiped, and brought back by the init Job's restore containers and own command (the user logs in, GeoNode lists the document, files with their sha256); the same restore again does nothing; another over a site with content, a damaged part (on the volume and in the bucket), a missing manifest are refused".into();
    });
    report.step("site-import", |step| {
        let result = superuser().and_then(|superuser| {
            let renders = (&variants.import, &variants.import_s3, &variants.s3_keys);
            site_import::run(renders, &run, work, db, &superuser, geoserver_port)
        });
        step.record_notes(result);
        step.detail = "backup.restore.kind export, from sites made by geonode-project's own files (create-envfile.py's .env, settings, the entrypoint's first-start invoke tasks): 5.1.0 with GeoNode 5.1.1, then 4.4.x with GeoNode 4.4.5 (its own venv); each given users with passwords, a group, a private document shared with one user, a public one with a thesaurus keyword and a thumbnail, a map, upstream's GeoServer data directory with GeoNode's store; taken out by docs/migrate-from-docker-compose.md's block as written (docker compose exec played); imported by the init Job's restore containers and own command into the wiped site: every user logs in with the old password, each sees what it saw, files by sha256, the old address nowhere in GeoNode's database, the store on this release's database. Refused by name: a damaged part, a missing part, a plain-SQL dump, a newer GeoNode; checked in an S3 bucket too; the same import again does nothing, another over content is refused".into();
    });
}

pub(super) fn walk_count(dir: &Path) -> usize {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                walk_count(&e.path())
            } else {
                1
            }
        })
        .sum()
}

/// The init Job's gzip copies of collected static files, sent as they are by the chart's nginx
/// (gzip_static): a script asked for with gzip comes back gzipped with exactly the copy's bytes,
/// and one Cache-Control header.
fn statics_precompressed(run: &GeoNodeRun, host: &str, base: &str) -> Result<(), String> {
    let root = run.statics.join("static");
    let gz = walk_first(&root, ".js.gz")
        .ok_or("the init Job left no gzip copy of a collected script")?;
    let bytes = fs::metadata(&gz).map_err(|e| e.to_string())?.len();
    let script = gz.with_extension("");
    let url = format!(
        "{base}/static/{}",
        script
            .strip_prefix(&root)
            .map_err(|e| e.to_string())?
            .display()
    );
    let out = http_body(
        host,
        &[
            "-H",
            "Accept-Encoding: gzip",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
            &url,
        ],
    )?
    .to_ascii_lowercase();
    let sent: u64 = out
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let cache_controls = out
        .lines()
        .filter(|l| l.starts_with("cache-control:"))
        .count();
    if !out.contains("content-encoding: gzip") || sent != bytes || cache_controls != 1 {
        return Err(format!(
            "GET {url} with gzip sent {sent} bytes (its gzip copy has {bytes}) and {cache_controls} Cache-Control headers: {out}"
        ));
    }
    Ok(())
}

fn walk_first(dir: &Path, suffix: &str) -> Option<PathBuf> {
    for entry in fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = walk_first(&path, suffix) {
                return Some(found);
            }
        } else if path.to_string_lossy().ends_with(suffix) {
            return Some(path);
        }
    }
    None
}

/// GeoNode's role endpoints, called the way GeoServer's role service calls them (to Django's
/// Service, `Authorization: ApiKey <authApiKey>`; geoserver-start shows the start script writes
/// Django's OAUTH2_API_KEY there): answered with the key, refused without it or with another.
fn roles_need_the_key(run: &GeoNodeRun, uwsgi_port: u16) -> Result<(), String> {
    let host = format!("{RELEASE}-django.{}.svc:8000", crate::project::NAMESPACE);
    let url = format!("http://127.0.0.1:{uwsgi_port}/api/roles");
    let call = |key: Option<&str>| match key {
        Some(key) => http_status(
            &host,
            &["-H", &format!("Authorization: ApiKey {key}"), &url],
        ),
        None => http_status(&host, &[&url]),
    };
    expect(
        "GET /api/roles with GeoServer's key",
        call(Some(&run.env["OAUTH2_API_KEY"])),
        "200",
    )?;
    expect("GET /api/roles without a key", call(None), "401")?;
    expect(
        "GET /api/roles with another key",
        call(Some("not-the-key")),
        "401",
    )
}

/// The public key GeoNode publishes for its ID tokens is the one of the chart's Secret, not the
/// one written into GeoNode's settings.py.
const OIDC_KEYS_PY: &str = r#"
import json, os, re, sys
import geonode
from jwcrypto import jwk
published = json.loads(sys.argv[1])["keys"]
source = open(os.path.join(os.path.dirname(geonode.__file__), "settings.py")).read()
fixed = re.search(r'"OIDC_RSA_PRIVATE_KEY": """(.*?)"""', source, re.S).group(1)
modulus = lambda pem: jwk.JWK.from_pem(pem.encode()).export_public(as_dict=True)["n"]
print(json.dumps({
    "published": [k.get("n") for k in published],
    "secret": modulus(os.environ["OIDC_RSA_PRIVATE_KEY"]),
    "upstream": modulus(fixed),
}))
"#;

fn oidc_key_is_the_sites(run: &GeoNodeRun, host: &str, base: &str) -> Result<(), String> {
    let jwks = http_body(host, &["-f", &format!("{base}/o/.well-known/jwks.json")])
        .map_err(|e| format!("GET /o/.well-known/jwks.json: {e}"))?;
    let out = exec(&mut run.command(&[
        "python".into(),
        "-c".into(),
        OIDC_KEYS_PY.into(),
        jwks.clone(),
    ]))?;
    let keys: Value = serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))?;
    let published = keys["published"].as_array().cloned().unwrap_or_default();
    if published != [keys["secret"].clone()] || keys["secret"] == keys["upstream"] {
        return Err(format!(
            "GeoNode publishes the ID-token keys {jwks}, not the one key of the chart's Secret (GeoNode's own fixed key is the one in its settings.py)"
        ));
    }
    Ok(())
}

/// GeoNode's catalogue (pycsw in local mode, on GeoNode's database) through the chart's nginx:
/// CSW 2.0.2 GetCapabilities names the site's public URL for its operations, and GetRecords
/// queries the database.
fn catalogue_answers(run: &GeoNodeRun, host: &str, base: &str) -> Result<(), String> {
    let csw = format!("{base}/catalogue/csw?service=CSW&version=2.0.2");
    let capabilities = http_body(host, &["-f", &format!("{csw}&request=GetCapabilities")])
        .map_err(|e| format!("CSW GetCapabilities through nginx: {e}"))?;
    let public = format!("{}/catalogue/csw", run.env["SITEURL"].trim_end_matches('/'));
    if !capabilities.contains("<csw:Capabilities")
        || !capabilities.contains(r#"name="GetRecords""#)
        || !capabilities.contains(&public)
    {
        return Err(format!(
            "GET /catalogue/csw?request=GetCapabilities is not CSW 2.0.2 capabilities with GetRecords at {public}: {}",
            capabilities.chars().take(400).collect::<String>()
        ));
    }
    let records = http_body(
        host,
        &["-f", &format!("{csw}&request=GetRecords&typeNames=csw:Record&elementSetName=brief&resultType=hits")],
    )
    .map_err(|e| format!("CSW GetRecords through nginx: {e}"))?;
    if !records.contains("numberOfRecordsMatched=") {
        return Err(format!(
            "GET /catalogue/csw?request=GetRecords gave no search results: {}",
            records
                .split("<ows:ExceptionText>")
                .nth(1)
                .unwrap_or(&records)
                .chars()
                .take(400)
                .collect::<String>()
        ));
    }
    Ok(())
}

/// Requests that carry one of GeoNode's access tokens in their address, as GeoNode's map client
/// and its own pages send them, through the chart's nginx: to GeoServer, to Django's GeoServer
/// proxy (which passes the token on), with a Referer holding it, and an OAuth2 callback's code.
/// The token is in GeoNode's database, so the run's last step searches every log for it.
fn tokens_in_addresses(run: &GeoNodeRun, host: &str, base: &str) -> Result<(), String> {
    let token = run.python(
        "from django.contrib.auth import get_user_model\nfrom geonode.base.auth import get_or_create_token\n\
         print(get_or_create_token(get_user_model().objects.get(username='admin')).token)",
    )?;
    let token = token.trim().lines().last().unwrap_or("").to_string();
    if token.len() < 16 {
        return Err(format!("GeoNode issued no access token: {token:?}"));
    }
    let referer = format!("https://{host}/catalogue/?access_token={token}");
    for path in [
        format!("/geoserver/ows?service=WMS&request=GetCapabilities&access_token={token}"),
        format!("/gs/ows?service=WMS&request=GetCapabilities&access_token={token}"),
        format!("/account/login/?code={token}&state=contract"),
    ] {
        http_status(host, &["-e", &referer, &format!("{base}{path}")])?;
    }
    Ok(())
}

/// With the chart's defaults (geonode.accounts.openSignup false) GeoNode's sign-up page says it
/// is closed: nobody on the internet makes an account.
fn signup_closed(host: &str, base: &str) -> Result<(), String> {
    let page = http_body(host, &["-L", &format!("{base}/account/signup/")])?;
    if page.contains("Sign Up Closed") {
        Ok(())
    } else {
        Err(format!(
            "GET /account/signup/ does not say sign-up is closed: {}",
            page.chars().take(300).collect::<String>()
        ))
    }
}

/// Python's own SMTP server (smtpd, standard library up to 3.11) printing every mail it takes;
/// GeoNode, with the chart's e-mail settings (DJANGO_EMAIL_*), sends a password reset to it.
fn mail_reaches_the_sink(run: &GeoNodeRun, work: &Path) -> Result<(), String> {
    let port = free_port()?;
    let log_path = work.join("smtp-sink.log");
    let log = fs::File::create(&log_path).map_err(|e| e.to_string())?;
    // Not start_server, which discards the output: the sink prints the mails it takes.
    let _sink = Running::spawn(
        Command::new("python3")
            .args([
                "-u",
                "-W",
                "ignore::DeprecationWarning",
                "-m",
                "smtpd",
                "-n",
                "-c",
            ])
            .arg("DebuggingServer")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(log),
    )
    .map_err(|e| format!("starting the SMTP sink: {e}"))?;
    crate::process::wait_for_port(port)?;
    let email = run.env.get("ADMIN_EMAIL").cloned().unwrap_or_default();
    let with_sink = run.with_var("DJANGO_EMAIL_PORT", &port.to_string());
    let out = with_sink.python(&format!(
        "import logging, sys\nfrom urllib.parse import urlparse\nfrom django.conf import settings\nfrom django.test import Client\n\
         logging.getLogger('geonode.people.adapters').addHandler(logging.StreamHandler(sys.stdout))\n\
         r = Client().post('/account/password/reset/', {{'email': {email:?}}}, HTTP_HOST=urlparse(settings.SITEURL).hostname)\n\
         print(settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, r.status_code, r.get('Location'))"
    ))?;
    if !out.contains("smtp.EmailBackend") {
        return Err(format!(
            "GeoNode does not send through SMTP with the chart's e-mail settings: {out}"
        ));
    }
    let started = Instant::now();
    let mut mail = String::new();
    while started.elapsed() < Duration::from_secs(20) {
        mail = fs::read_to_string(&log_path).unwrap_or_default();
        if mail.contains("MESSAGE FOLLOWS") {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let from = run
        .env
        .get("DEFAULT_FROM_EMAIL")
        .cloned()
        .unwrap_or_default();
    if !mail.contains(&format!("To: {email}")) || !mail.contains(&format!("From: {from}")) {
        return Err(format!(
            "the SMTP sink got no mail to {email} from {from:?} (GeoNode said {:?}); the sink's log:\n{mail}",
            out.trim()
        ));
    }
    Ok(())
}
