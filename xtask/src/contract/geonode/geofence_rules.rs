//! GeoFence's rules after a permission change, from whichever worker process applies it.
//!
//! Who writes them: the API's permission change (`base/api/views.py`, PUT .../permissions)
//! queues `resouce_service_dispatcher`; the Celery worker runs `ResourceManager.set_permissions`
//! (`resource/manager.py:698`), which hands GeoServer's manager the permissions it has just read
//! from the database (`:970`, `permissions_registry.get_perms(instance=...)`, no cache). GeoServer's
//! manager (`geoserver/manager.py:157`) writes the rule batch from those; only when it is given
//! no permissions at all does it read the anonymous ones through the cache (`:250`,
//! `use_cache=True`), and in GeoNode 5.1.1 every caller passes them. So this path cannot go
//! wrong with GeoNode's default cache, and no negative control is kept: the test shows the rules
//! the worker's processes really write.

use super::run::{last_json, number_option};
use super::GeoNodeRun;
use crate::contract::inputs::Inputs;
use crate::process::{exec, free_port, wait_for_port, Running};
use crate::project::RELEASE;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

const STAND_IN_PY: &str = include_str!("geofence_stand_in.py");
const DRIVER_PY: &str = include_str!("geofence_rules.py");

/// An administrator and one private vector dataset per worker process; prints them as JSON.
const SETUP_PY: &str = r#"
import json, sys, uuid
from django.contrib.auth import get_user_model
from geonode.layers.models import Dataset
count, password = int(sys.argv[1]), sys.argv[2]
admin, _ = get_user_model().objects.get_or_create(username="geofence-admin", defaults={"email": "gf@contract.test"})
admin.is_superuser = admin.is_staff = True
admin.set_password(password)
admin.save()
datasets = []
for i in range(count):
    name = f"contract_rules_{i}"
    d = Dataset.objects.create(uuid=str(uuid.uuid4()), owner=admin, name=name, store="geonode_data",
        workspace="geonode", subtype="vector", alternate=f"geonode:{name}", title=name)
    datasets.append({"pk": d.pk, "name": name})
print(json.dumps(datasets))
"#;

pub fn run(run: &GeoNodeRun, inputs: &Inputs, work: &Path) -> Result<String, String> {
    let port = free_port()?;
    let batches = work.join("geofence-batches.jsonl");
    let _geofence = Running::spawn(
        Command::new("python3")
            .args(["-c", STAND_IN_PY, &port.to_string()])
            .arg(&batches),
    )
    .map_err(|e| format!("starting the GeoFence stand-in: {e}"))?;
    wait_for_port(port)?;
    let geoserver = format!("http://127.0.0.1:{port}/geoserver");
    let run = run.with_var("GEOSERVER_LOCATION", &format!("{geoserver}/"));
    let worker_argv = inputs.command(
        "Deployment",
        &format!("{RELEASE}-celery-worker"),
        "celery-worker",
    )?;
    let processes = number_option(&worker_argv, "concurrency")?;
    let password = "contract-GeoFence-1";
    let datasets = run
        .python_json(SETUP_PY, &[&processes.to_string(), password])
        .map_err(|e| format!("the setup printed no datasets: {e}"))?;
    let worker_log = work.join("geofence-worker.log");
    let worker = run.start_worker(inputs, &worker_log)?;
    let (_django, django) = run.start_django(inputs, "geofence-django")?;
    let host = run.site_host();
    let args = serde_json::json!({
        "base": format!("http://127.0.0.1:{django}"),
        "host": host,
        "admin": ["geofence-admin", password],
        "datasets": datasets,
        "geofence": geoserver,
        // 12 changes: more than the 10 tasks after which the pool replaces a process
        // (--max-tasks-per-child), so at least two of its processes apply them.
        "cycles": 3,
    });
    let out = exec(
        Command::new("python3")
            .args(["-c", DRIVER_PY])
            .arg(args.to_string()),
    )
    .map_err(|e| {
        let log = fs::read_to_string(&worker_log).unwrap_or_default();
        format!(
            "{e}; the worker's log ends: {}",
            log.lines().rev().take(12).collect::<Vec<_>>().join(" | ")
        )
    })?;
    let seen = last_json(&out)?
        .as_array()
        .cloned()
        .ok_or(format!("the driver printed no list of changes: {out}"))?;
    let rules = |v: &Value| v.as_array().map_or(0, Vec::len);
    for change in &seen {
        if rules(&change["public"]) == 0 {
            return Err(format!(
                "dataset {} made public has no anonymous GeoFence rule: {change}",
                change["pk"]
            ));
        }
        if rules(&change["private"]) > 0 {
            return Err(format!("dataset {} made private after it was public keeps anonymous GeoFence rules: {change}", change["pk"]));
        }
    }
    // The worker's processes that sent the batches (its pool's children share its group).
    let records: Vec<Value> = fs::read_to_string(&batches)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let ran_by: BTreeSet<u64> = records
        .iter()
        .filter(|r| r["group"] == u64::from(worker.id()) && r["pid"] != u64::from(worker.id()))
        .filter_map(|r| r["pid"].as_u64())
        .collect();
    if ran_by.len() < 2 {
        return Err(format!(
            "the worker's pool processes sent the batches from {} processes ({ran_by:?}): the test did not reach several (the pool replaces one after 10 tasks)",
            ran_by.len()
        ));
    }
    let batch_count = records.len();
    Ok(format!(
        "{} changes of {} datasets (public, then private, three times, queued together) applied by {} of the worker's pool processes; {batch_count} rule batches: an anonymous rule while public, none once private",
        seen.len() * 2,
        rules(&datasets),
        ran_by.len()
    ))
}
