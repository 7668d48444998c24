//! Backups on a real control plane, where a scenario's values turn them on: the CronJob is
//! admitted, a Job made from it (`kubectl create job --from=cronjob/...`, what an operator runs
//! for a backup now) gets its pod past Pod Security "restricted" and completes, the backup
//! volume outlives `helm uninstall`, and an install with `backup.restore` gets the init Job's
//! restore containers (and GeoServer's wait for them) admitted and completed.

use super::Ctx;
use crate::project::RELEASE;
use serde_json::Value;

/// Helm arguments of an install that restores the latest backup.
pub const RESTORE_SETS: [&str; 4] = [
    "--set",
    "backup.restore.enabled=true",
    "--set",
    "backup.restore.from=latest",
];

fn cronjob() -> String {
    format!("{RELEASE}-backup")
}

pub fn claim() -> String {
    format!("{RELEASE}-backups")
}

/// Whether the release has the backup CronJob.
pub fn enabled(ctx: &Ctx, namespace: &str) -> bool {
    ctx.plane
        .kubectl(&["get", "cronjob", &cronjob(), "-n", namespace])
        .is_ok()
}

/// A backup now, from the CronJob: its Job completes, on the backup volume the release made.
pub fn backup_now(ctx: &Ctx, namespace: &str) -> Result<(), String> {
    let job = "backup-now";
    let from = format!("cronjob/{}", cronjob());
    ctx.plane
        .kubectl(&["create", "job", job, "--from", &from, "-n", namespace])
        .map_err(|e| format!("kubectl create job --from={from}: {e}"))?;
    let done = ctx.plane.kubectl(&[
        "wait",
        "--for=condition=complete",
        &format!("job/{job}"),
        "-n",
        namespace,
        "--timeout=180s",
    ]);
    let pods = ctx
        .plane
        .kubectl(&[
            "get",
            "pods",
            "-n",
            namespace,
            "-l",
            &format!("job-name={job}"),
            "-o",
            "name",
        ])
        .unwrap_or_default();
    let events = ctx
        .plane
        .kubectl(&[
            "get",
            "events",
            "-n",
            namespace,
            "--field-selector",
            &format!("involvedObject.name={job}"),
        ])
        .unwrap_or_default();
    done.map_err(|e| {
        format!(
            "the Job made from {from} did not complete: {e}; its pods: {pods:?}; events: {events}"
        )
    })?;
    let phase = ctx
        .plane
        .kubectl(&[
            "get",
            "pvc",
            &claim(),
            "-n",
            namespace,
            "-o",
            "jsonpath={.status.phase}",
        ])
        .map_err(|e| format!("the backup volume {}: {e}", claim()))?;
    if phase.trim() != "Bound" {
        return Err(format!(
            "the backup volume {} is {phase:?}, not Bound",
            claim()
        ));
    }
    ctx.plane
        .kubectl(&["delete", "job", job, "-n", namespace, "--wait=true"])
        .map(|_| ())
}

/// The init Job that Helm waited for ran the three restore containers first, and GeoServer's pod
/// waits for the restore; both were admitted under Pod Security "restricted".
pub fn restore_admitted(ctx: &Ctx, namespace: &str) -> Result<(), String> {
    let names = |json: &str, path: &str| -> Result<Vec<String>, String> {
        let value: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Ok(value["items"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|item| {
                item.pointer(path)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect())
    };
    let jobs = ctx.plane.kubectl(&[
        "get",
        "jobs",
        "-n",
        namespace,
        "-l",
        "app.kubernetes.io/component=init",
        "-o",
        "json",
    ])?;
    let init = names(&jobs, "/spec/template/spec/initContainers")?;
    let succeeded: Value = serde_json::from_str(&jobs).map_err(|e| e.to_string())?;
    let done = succeeded["items"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|j| j["status"]["succeeded"].as_u64() >= Some(1));
    let geoserver = ctx.plane.kubectl(&[
        "get",
        "pods",
        "-n",
        namespace,
        "-l",
        "app.kubernetes.io/component=geoserver",
        "-o",
        "json",
    ])?;
    let waits = names(&geoserver, "/spec/initContainers")?;
    let want = ["restore-prepare", "restore-databases", "restore-files"];
    if !want.iter().all(|w| init.iter().any(|n| n == w))
        || !done
        || !waits.iter().any(|n| n == "wait-for-restore")
    {
        return Err(format!(
            "with backup.restore on, the init Job's init containers are {init:?} (complete: {done}) and GeoServer's pods' {waits:?}; expected {want:?} in a completed Job, and wait-for-restore"
        ));
    }
    Ok(())
}
