//! One site, however many copies: GeoNode's processes as the chart multiplies them (two Django
//! pods, each with the rendered uwsgi process count, and the Celery worker with its rendered
//! concurrency) agree on a resource's permissions once they change.

use super::run::{last_json, number_option};
use super::GeoNodeRun;
use crate::contract::inputs::Inputs;
use crate::contract::redis::RedisPorts;
use crate::process::{container_log_path, exec, free_port, start_container, Running};
use crate::project::{NAMESPACE, RELEASE};
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::Command;

const PERMISSIONS_PY: &str = include_str!("permissions.py");

/// An owner, a user and the owner's document, which the user may view (an explicit share, so
/// GeoNode clears the user's cached permissions when they change); prints the ids as JSON.
const SETUP_PY: &str = r#"
import json, sys
from django.contrib.auth import get_user_model
from geonode.documents.models import Document
tag, password = sys.argv[1], sys.argv[2]
users = {}
for role in ("owner", "user"):
    users[role], _ = get_user_model().objects.get_or_create(username=f"{tag}-{role}", defaults={"email": f"{tag}-{role}@contract.test"})
    users[role].set_password(password)
    users[role].save()
doc = Document.objects.create(title=f"{tag} document", abstract="Shared with one user.", owner=users["owner"], doc_url="https://example.org/a.pdf")
doc.set_permissions({"users": {users["user"].username: ["view_resourcebase", "download_resourcebase"]}, "groups": {}})
print(json.dumps({"pk": doc.pk, "user_id": users["user"].pk}))
"#;

/// What a permission change looked like from Django pod B's processes.
pub struct Seen {
    pub processes: usize,
    /// Answers after the change that still lack the new permission.
    pub stale: usize,
    pub answers: usize,
}

/// The rendered uwsgi process count (`--processes=N`).
fn processes(inputs: &Inputs) -> Result<usize, String> {
    let argv = inputs.command("Deployment", &format!("{RELEASE}-django"), "django")?;
    number_option(&argv, "processes")
}

/// The permission change with `run`'s cache (`tag` names its users and document): the user's
/// `perms` from every process of pod B before and after the owner gives them "edit" on pod A.
pub fn permission_change(
    run: &GeoNodeRun,
    inputs: &Inputs,
    work: &Path,
    tag: &str,
) -> Result<Seen, String> {
    let password = "contract-Permissions-1";
    let ids = run
        .python_json(SETUP_PY, &[tag, password])
        .map_err(|e| format!("the setup printed no ids: {e}"))?;
    let worker_log = work.join(format!("{tag}-worker.log"));
    let _worker = run.start_worker(inputs, &worker_log)?;
    let (_a, port_a) = run.start_django(inputs, &format!("{tag}-django-a"))?;
    let (_b, port_b) = run.start_django(inputs, &format!("{tag}-django-b"))?;
    let host = run.site_host();
    let processes = processes(inputs)?;
    let log_b = container_log_path(&format!("{tag}-django-b"))
        .ok_or("pod B's log is not kept in this run")?;
    let args = serde_json::json!({
        "base_a": format!("http://127.0.0.1:{port_a}"),
        "base_b": format!("http://127.0.0.1:{port_b}"),
        "host": host,
        "log_b": log_b,
        "pk": ids["pk"],
        "user_id": ids["user_id"],
        "user": [format!("{tag}-user"), password],
        "owner": [format!("{tag}-owner"), password],
        "processes": processes,
    });
    let out = exec(
        Command::new("python3")
            .arg("-c")
            .arg(PERMISSIONS_PY)
            .arg(args.to_string()),
    )
    .map_err(|e| format!("the permission change: {e}"))?;
    let seen = last_json(&out)?;
    let edits = |perms: &Value| {
        perms
            .as_array()
            .is_some_and(|p| p.iter().any(|x| x == "change_resourcebase"))
    };
    let pids = |key: &str| seen[key].as_array().map_or(0, Vec::len);
    if pids("pids_before") < processes || pids("pids_after") < processes {
        return Err(format!(
            "pod B's reads reached {} and {} of its {processes} processes before and after the change: {seen}",
            pids("pids_before"),
            pids("pids_after")
        ));
    }
    if seen["execution"] != "finished" {
        let tail = fs::read_to_string(&worker_log).unwrap_or_default();
        return Err(format!(
            "GeoNode's permission change ended {} (the worker's log ends: {})",
            seen["execution"],
            tail.lines().rev().take(15).collect::<Vec<_>>().join(" | ")
        ));
    }
    let before = seen["before"].as_array().cloned().unwrap_or_default();
    if before.is_empty() || before.iter().any(edits) {
        return Err(format!(
            "before the change the user should view, not edit: {before:?}"
        ));
    }
    let after = seen["after"].as_array().cloned().unwrap_or_default();
    Ok(Seen {
        processes,
        stale: after.iter().filter(|p| !edits(p)).count(),
        answers: after.len(),
    })
}

/// memcached as the shared cache.
pub const MEMCACHED_SETS: &[&str] = &["memcached.enabled=true"];

/// The memcached Deployment's command (its port mapped), for the memcached render's GeoNode.
fn start_memcached(inputs: &Inputs, run: &GeoNodeRun) -> Result<(Running, GeoNodeRun), String> {
    let port = free_port()?;
    let argv: Vec<String> = inputs
        .command("Deployment", &format!("{RELEASE}-memcached"), "memcached")?
        .into_iter()
        .map(|a| if a == "11211" { port.to_string() } else { a })
        .collect();
    let (program, args) = argv.split_first().ok_or("memcached has no command")?;
    // The pod runs it as the image's memcache user; here, where the harness is root, memcached
    // needs a user to drop to.
    let running = start_container(
        Command::new(program).args(args).args(["-u", "nobody"]),
        "memcached",
        port,
    )?;
    let location = format!("{RELEASE}-memcached.{NAMESPACE}.svc:11211");
    if run.env.get("MEMCACHED_LOCATION") != Some(&location) {
        return Err(format!(
            "with memcached.enabled, Django's MEMCACHED_LOCATION is {:?}, not memcached's Service {location}",
            run.env.get("MEMCACHED_LOCATION")
        ));
    }
    Ok((
        running,
        run.with_var("MEMCACHED_LOCATION", &format!("127.0.0.1:{port}")),
    ))
}

/// The chart's cache (Redis's, and memcached with memcached.enabled): every answer of every
/// process of pod B has the new permission. GeoNode's default cache (one per process), the
/// negative control: answers of B keep the old one.
pub fn run(
    run: &GeoNodeRun,
    inputs: &Inputs,
    memcached_inputs: &Inputs,
    work: &Path,
) -> Result<String, String> {
    let shared = permission_change(run, inputs, work, "shared")?;
    let memcached_run = GeoNodeRun::new(
        memcached_inputs,
        &work.join("memcached"),
        run.venv.clone(),
        run.env["DATABASE_PORT"].parse().unwrap_or(0),
        RedisPorts {
            broker: run.env["REDIS_PORT"].parse().unwrap_or(0),
            cache: 0,
        },
        0,
    )?;
    let (_memcached, memcached_run) = start_memcached(memcached_inputs, &memcached_run)?;
    let memcached = permission_change(&memcached_run, memcached_inputs, work, "memcached")?;
    for (name, seen) in [("Redis", &shared), ("memcached", &memcached)] {
        if seen.stale > 0 {
            return Err(format!(
                "with the chart's cache ({name}), {} of {} answers of pod B's {} processes after the change still had the old permissions",
                seen.stale, seen.answers, seen.processes
            ));
        }
    }
    let mut default = run.clone();
    default.env.remove("GEONODE_K8S_CACHE_HOST");
    default.env.remove("GEONODE_K8S_CACHE_PORT");
    let control = permission_change(&default, inputs, work, "per-process")?;
    if control.stale == 0 {
        return Err(format!(
            "the negative control (GeoNode's default cache, one per process) saw no stale permissions in {} answers: the test cannot tell a shared cache from none",
            control.answers
        ));
    }
    Ok(format!(
        "the chart's cache: {} answers from all {} processes of pod B had the new permission at once (memcached: {} of {}); GeoNode's default cache (negative control): {} of {} still had the old one",
        shared.answers, shared.processes, memcached.answers - memcached.stale, memcached.answers, control.stale, control.answers
    ))
}
