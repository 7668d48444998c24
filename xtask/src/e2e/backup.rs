//! Backups on a real control plane, where a scenario's values turn them on: the CronJob is
//! admitted, a Job made from it (`kubectl create job --from=cronjob/...`, what an operator runs
//! for a backup now) gets its pod past Pod Security "restricted" and completes, and the backup
//! volume outlives `helm uninstall`.

use super::Ctx;
use crate::project::RELEASE;

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
