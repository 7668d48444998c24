//! Part `geonode-init`: the init Job's command on new databases, killed where the first-run
//! setup used to leave the fixture's admin password, then whole; run again (a user's password
//! is kept), after an earlier chart left the fixture password (it is replaced), and with a new
//! nginx.maxBodySize (the upload limits follow).

use super::run::GeoNodeRun;
use crate::process::exec_container;
use crate::report::Step;
use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

/// Where a Job may die inside the first-run setup: right after each fixture is loaded.
const KILL_POINTS: [&str; 2] = ["loaddata sample_admin", "loaddata initial_data"];

/// Runs the chart's init_site.py and kills itself (SIGKILL: no cleanup, nothing Python could
/// roll back) right after the named management command returns, as an OOM kill or an eviction
/// ends a Job there.
const KILL_PY: &str = r#"
import os, signal, sys
import init_site
point = sys.argv[1]
real = init_site.call_command
def call_command(*args, **kwargs):
    result = real(*args, **kwargs)
    if " ".join(map(str, args)) == point:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
init_site.call_command = call_command
init_site.main()
sys.exit("init_site.py never reached " + point)
"#;

/// Who can log in as admin: GeoNode's fixture password ("admin"), the chart's.
const ADMIN_PY: &str = r#"
import json, os
from django.contrib.auth import authenticate, get_user_model
print(json.dumps({
    "exists": get_user_model().objects.filter(username="admin").exists(),
    "fixture_password": authenticate(username="admin", password="admin") is not None,
    "chart_password": authenticate(username="admin", password=os.environ["ADMIN_PASSWORD"]) is not None,
}))
"#;

/// What chart 0.1.0 left when its Job died after loading sample_admin: the admin with the hash
/// GeoNode's own fixture file holds.
const FIXTURE_PASSWORD_PY: &str = r#"
import json, os
import geonode
from django.contrib.auth import get_user_model
fixture = os.path.join(os.path.dirname(geonode.__file__), "people", "fixtures", "sample_admin.json")
with open(fixture) as f:
    password = json.load(f)[0]["fields"]["password"]
get_user_model().objects.filter(username="admin").update(password=password)
"#;

/// The site after the Job: OAuth2 application, a metadata-editor label, the upload limits.
const CHECK_SITE_PY: &str = r#"
import json
from oauth2_provider.models import get_application_model
from geonode.base.models import ThesaurusKeywordLabel
from geonode.upload.models import UploadSizeLimit
app = get_application_model().objects.get(name="GeoServer")
label = ThesaurusKeywordLabel.objects.filter(
    keyword__thesaurus__identifier="labels-i18n", keyword__about__endswith="metadata_error_empty_field", lang="en"
).values_list("label", flat=True).first()
print(json.dumps({
    "oauth_client_id": app.client_id,
    "oauth_redirect": app.redirect_uris,
    "i18n_label": label,
    "upload_limits": {l.slug: l.max_size for l in UploadSizeLimit.objects.all()},
}))
"#;

fn json(run: &GeoNodeRun, code: &str) -> Result<Value, String> {
    let out = run.python(code)?;
    serde_json::from_str(out.lines().last().unwrap_or("")).map_err(|e| format!("{e}: {out}"))
}

fn admin(run: &GeoNodeRun) -> Result<Value, String> {
    json(run, ADMIN_PY)
}

/// `changed_limit`: DEFAULT_MAX_UPLOAD_SIZE of a render with another nginx.maxBodySize.
pub fn run(
    run: &GeoNodeRun,
    init: &[String],
    changed_limit: &str,
    statics: &Path,
    step: &mut Step,
) {
    step.detail = "init Job's command for the site's own project: killed inside the first-run setup, then whole (migrations, fixtures with the site's, its commands before and after the setup, thesauri, OAuth2 app, upload limits, collectstatic); again: a user's password kept, the fixture's replaced, limits follow a new nginx.maxBodySize, the site's fixture and commands leave one group each".into();
    for point in KILL_POINTS {
        step.record(killed_at(run, point));
    }
    let first = (|| -> Result<(), String> {
        exec_container(&mut run.command(init), "init")
            .map_err(|e| format!("the init Job's command failed after the killed runs: {e}"))?;
        if admin(run)?["chart_password"] != true {
            return Err("admin does not log in with the chart's password".into());
        }
        Ok(())
    })();
    let first_ok = first.is_ok();
    step.record(first);
    if !first_ok {
        return;
    }
    step.record(site(run, statics));
    step.record(run_again(run, init, changed_limit));
    step.record(fixture_password_replaced(run, init));
    step.record(site_steps_once(run));
}

/// After every run above: the site's fixture and its two init commands each made their group
/// exactly once.
fn site_steps_once(run: &GeoNodeRun) -> Result<(), String> {
    let out = run.python(&super::project::group_counts_py())?;
    let wrong: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("contract-site-") && !l.ends_with(" 1"))
        .collect();
    let seen = out
        .lines()
        .filter(|l| l.starts_with("contract-site-"))
        .count();
    if seen != super::project::GROUPS.len() || !wrong.is_empty() {
        return Err(format!(
            "the site's fixture (initJob.siteFixtures) and init commands (initJob.commands) must each leave one group after every Job run; got:\n{out}"
        ));
    }
    Ok(())
}

/// The Job killed at `point` on a site without admin leaves no admin that logs in with the
/// fixture's password.
fn killed_at(run: &GeoNodeRun, point: &str) -> Result<(), String> {
    let out = run
        .command(&["python".into(), "-c".into(), KILL_PY.into(), point.into()])
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.signal() != Some(9) {
        return Err(format!(
            "the init Job's script was to be killed after {point}, but it ended with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let state = admin(run)?;
    if state["fixture_password"] != false {
        return Err(format!(
            "killed right after {point}, the init Job left the superuser admin with GeoNode's fixture password \"admin\""
        ));
    }
    Ok(())
}

fn site(run: &GeoNodeRun, statics: &Path) -> Result<(), String> {
    let facts = json(run, CHECK_SITE_PY)?;
    if facts["oauth_client_id"] != run.env["OAUTH2_CLIENT_ID"].as_str() {
        return Err(format!(
            "the OAuth2 application has client id {}, not the chart's",
            facts["oauth_client_id"]
        ));
    }
    let redirect = format!("{}geoserver/index.html", run.env["SITEURL"]);
    if facts["oauth_redirect"] != redirect.as_str() {
        return Err(format!(
            "the OAuth2 redirect URI is {}, not {redirect}",
            facts["oauth_redirect"]
        ));
    }
    if facts["i18n_label"] != "Missing value" {
        return Err(format!(
            "the metadata editor's label for metadata_error_empty_field is {}, not GeoNode's \"Missing value\": the thesauri were not loaded",
            facts["i18n_label"]
        ));
    }
    limits_are(&facts, &run.env["DEFAULT_MAX_UPLOAD_SIZE"])?;
    let collected = super::walk_count(&statics.join("static"));
    if collected < 100 {
        return Err(format!(
            "collectstatic put {collected} files into the statics folder"
        ));
    }
    Ok(())
}

/// Every stored upload limit is `want` bytes (and there are some).
fn limits_are(facts: &Value, want: &str) -> Result<(), String> {
    let limits = facts["upload_limits"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    if limits.is_empty()
        || limits
            .values()
            .any(|v| v.as_u64().map(|n| n.to_string()).as_deref() != Some(want))
    {
        return Err(format!(
            "GeoNode's upload limits are {limits:?}, not nginx.maxBodySize ({want} bytes)"
        ));
    }
    Ok(())
}

/// The Job again, as after a change to the release (here: nginx.maxBodySize): a password the
/// user changed is kept, the upload limits follow the new value.
fn run_again(run: &GeoNodeRun, init: &[String], changed_limit: &str) -> Result<(), String> {
    run.python("from django.contrib.auth import get_user_model\nu = get_user_model().objects.get(username='admin'); u.set_password('changed-by-a-user-1'); u.save()")?;
    exec_container(
        run.command(init)
            .env("DEFAULT_MAX_UPLOAD_SIZE", changed_limit),
        "init",
    )
    .map_err(|e| format!("the init Job's command failed when run again: {e}"))?;
    let again = run.python("from django.contrib.auth import authenticate\nprint(authenticate(username='admin', password='changed-by-a-user-1') is not None)")?;
    if again.trim().lines().last() != Some("True") {
        return Err(
            "running the init Job again reset the admin password a user had changed".into(),
        );
    }
    limits_are(&json(run, CHECK_SITE_PY)?, changed_limit)
        .map_err(|e| format!("after nginx.maxBodySize changed: {e}"))
}

fn fixture_password_replaced(run: &GeoNodeRun, init: &[String]) -> Result<(), String> {
    run.python(FIXTURE_PASSWORD_PY)?;
    if admin(run)?["fixture_password"] != true {
        return Err("could not give admin the fixture's password to begin with".into());
    }
    exec_container(&mut run.command(init), "init")
        .map_err(|e| format!("the init Job's command failed: {e}"))?;
    let state = admin(run)?;
    if state["fixture_password"] != false || state["chart_password"] != true {
        return Err(format!(
            "an admin left with the fixture password \"admin\" (by a Job of chart 0.1.0 that died) keeps it after the init Job: {state}"
        ));
    }
    Ok(())
}
