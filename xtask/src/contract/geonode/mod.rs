//! GeoNode 5.1.1 itself: the init Job's command on the contract's databases, the Django
//! Deployment's uwsgi behind the chart's nginx, and the Celery worker running a task.

mod run;
mod venv;

use super::inputs::Inputs;
use super::nginx::{expect, http_status, stand_in, start_nginx};
use super::process::{exec, free_port, start_server, Running};
use crate::project::RELEASE;
use crate::report::Report;
use run::GeoNodeRun;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use venv::GEONODE_WHEEL;

pub fn run(inputs: &Inputs, work: &Path, db: u16, redis: u16, report: &mut Report) {
    let mut venv = None;
    report.step("geonode-venv", |step| match venv::ensure() {
        Ok(v) => {
            step.passed += 1;
            let versions = exec(Command::new(v.join("bin/python")).arg("-c").arg(
                "import django, celery, osgeo; print('Django', django.get_version(), '· Celery', celery.__version__, '· GDAL', osgeo.__version__)",
            ))
            .unwrap_or_default();
            step.detail = format!("{GEONODE_WHEEL} (sha256-checked wheel) · {} · Debian python3", versions.trim());
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
    let init = inputs
        .objects
        .iter()
        .find(|o| o.kind == "Job" && o.name.starts_with(&job))
        .map(|o| o.name.clone())
        .ok_or_else(|| "the render has no init Job".to_string())
        .and_then(|name| inputs.command("Job", &name, "init"));

    report.step("geonode-init", |step| {
        let result = (|| -> Result<(), String> {
            let init = init.clone()?;
            exec(&mut run.command(&init)).map_err(|e| format!("the init Job's command failed on new databases: {e}"))?;
            let facts = run.python(CHECK_SITE_PY).map_err(|e| format!("checking the site after the init Job: {e}"))?;
            let facts: Value = serde_json::from_str(facts.lines().last().unwrap_or("")).map_err(|e| format!("{e}: {facts}"))?;
            if facts["admin_login"] != true {
                return Err("admin does not log in with the chart's password".into());
            }
            if facts["oauth_client_id"] != run.env["OAUTH2_CLIENT_ID"].as_str() {
                return Err(format!("the OAuth2 application has client id {}, not the chart's", facts["oauth_client_id"]));
            }
            let redirect = format!("{}geoserver/index.html", run.env["SITEURL"]);
            if facts["oauth_redirect"] != redirect.as_str() {
                return Err(format!("the OAuth2 redirect URI is {}, not {redirect}", facts["oauth_redirect"]));
            }
            let collected = walk_count(&run.statics.join("static"));
            if collected < 100 {
                return Err(format!("collectstatic put {collected} files into the statics folder"));
            }
            step.notes.push(format!("first run: admin logs in, OAuth2 application as the chart says, {collected} static files"));
            // What a user may change must survive the Job running again.
            run.python("from django.contrib.auth import get_user_model\nu = get_user_model().objects.get(username='admin'); u.set_password('changed-by-a-user-1'); u.save()")?;
            exec(&mut run.command(&init)).map_err(|e| format!("the init Job's command failed when run again: {e}"))?;
            let again = run.python("from django.contrib.auth import authenticate\nprint(authenticate(username='admin', password='changed-by-a-user-1') is not None)")?;
            if again.trim().lines().last() != Some("True") {
                return Err("running the init Job again reset the admin password a user had changed".into());
            }
            Ok(())
        })();
        step.record(result);
        step.detail = "init Job's command: both databases migrated, fixtures, OAuth2 app, collectstatic; a second run keeps what users changed".into();
    });

    report.step("django-behind-nginx", |step| {
        let result = (|| -> Result<(), String> {
            let uwsgi_port = free_port()?;
            let mut argv = inputs.command("Deployment", &format!("{RELEASE}-django"), "django")?;
            for a in argv.iter_mut() {
                if a.starts_with("--http-socket=") {
                    *a = format!("--http-socket=127.0.0.1:{uwsgi_port}");
                }
            }
            fs::create_dir_all(run.config.parent().unwrap_or(work).join("src"))
                .map_err(|e| e.to_string())?;
            let _uwsgi = start_server(&mut run.command(&argv), "uwsgi", uwsgi_port)?;
            let (_nginx, listen) = start_nginx(
                inputs,
                &work.join("nginx-django"),
                &run.statics,
                uwsgi_port,
                geoserver_port,
            )?;
            let host = run.env["SITEURL"]
                .split("://")
                .nth(1)
                .unwrap_or("")
                .trim_end_matches('/')
                .split(':')
                .next()
                .unwrap_or("")
                .to_string();
            let base = format!("http://127.0.0.1:{listen}");
            let started = Instant::now();
            // uwsgi loads the application in its workers; give it a moment.
            while expect("GET /", http_status(&host, &[&format!("{base}/")]), "200").is_err()
                && started.elapsed() < Duration::from_secs(60)
            {
                std::thread::sleep(Duration::from_secs(1));
            }
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
            Ok(())
        })();
        step.record(result);
        step.detail =
            "the Deployment's uwsgi command behind the chart's nginx: /, /api/v2/, /static/".into();
    });

    report.step("celery", |step| {
        let result = (|| -> Result<(), String> {
            let argv = inputs.command("Deployment", &format!("{RELEASE}-celery-worker"), "celery-worker")?;
            let log_path = work.join("celery-worker.log");
            let log = fs::File::create(&log_path).map_err(|e| e.to_string())?;
            let log_err = log.try_clone().map_err(|e| e.to_string())?;
            let _worker = Running::spawn(run.command(&argv).stdout(log).stderr(log_err)).map_err(|e| format!("starting the worker: {e}"))?;
            // GeoNode routes its tasks to named queues ("default" and others) the worker consumes.
            let out = run.python(
                "from geonode.celery_app import app\nr = app.send_task('celery.accumulate', args=(42,), queue='default')\nprint(r.get(timeout=120))",
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
        step.detail = "the worker Deployment's command on Redis runs a task queued from Django".into();
    });
}

const CHECK_SITE_PY: &str = r#"
import json, os
from django.contrib.auth import authenticate
from oauth2_provider.models import get_application_model
app = get_application_model().objects.get(name="GeoServer")
print(json.dumps({
    "admin_login": authenticate(username="admin", password=os.environ["ADMIN_PASSWORD"]) is not None,
    "oauth_client_id": app.client_id,
    "oauth_redirect": app.redirect_uris,
}))
"#;

fn walk_count(dir: &Path) -> usize {
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
