//! The conditions an operator pages on, caused on the contract's site one after another, each
//! undone before the next: the rendered alert must fire (its `for:` aside, see
//! prometheus::rule_groups) with its summary filled in from real labels, and stop once undone.
//! What only a cluster shows (kube-state-metrics' and the kubelet's alerts) is promtool's
//! unit tests' to prove.

use super::Site;
use crate::contract::postgresql::BIN;
use crate::contract::redis::cli;
use crate::process::Running;
use crate::report::Step;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Stops a server or an exporter of the site.
type Stop = fn(&mut Site);

/// Connections held open: with the exporter's, over 80% of the contract's max_connections (40),
/// and 4 short of the 37 that are not reserved for superusers, so none is refused.
const HELD_CONNECTIONS: usize = 32;
/// The query each held session runs.
const HOLD: &str = "select pg_sleep(600)";
/// Tasks queued while the worker is stopped: over metrics.prometheusRule.celeryBacklog (100).
const QUEUED_TASKS: usize = 150;

pub(super) fn run(site: &mut Site, step: &mut Step) {
    let mut fired = Vec::new();
    let mut check = |what: &str, result: Result<(), String>| match result {
        Ok(()) => {
            step.passed += 1;
            fired.push(what.to_string());
        }
        Err(e) => step.fail(format!("{what}: {e}")),
    };
    check("connections held open", connections(site));
    check(
        "tasks queued with the worker stopped, then started again",
        tasks_queued(site),
    );
    check("the broker filled", broker_filled(site));
    // What stops, and the alert that must say so.
    let stops: [(&str, &str, Stop); 4] = [
        ("nginx stopped", "GeoNodeNginxDown", |s| {
            drop(s.nginx.take())
        }),
        ("PostgreSQL stopped", "GeoNodePostgreSQLDown", |s| {
            if let Some(server) = s.postgres.take() {
                // pg_ctl stop, as the pod's own stop does; its error shows as the alert missing.
                let _ = s.database.stop(server);
            }
        }),
        ("Redis stopped", "GeoNodeRedisDown", |s| {
            drop(s.broker.take())
        }),
        ("Redis's exporter stopped", "GeoNodeExporterDown", |s| {
            if let Some(exporter) = s.exporters.get_mut("redis") {
                drop(exporter.process.take());
            }
        }),
    ];
    for (what, alert, stop) in stops {
        check(what, stopped(site, alert, stop));
    }
    step.detail = format!(
        "each alert fires, its summary filled in, when its condition is caused (held connections, queued tasks and the full broker are undone, and their alerts stop): {}",
        fired.join("; ")
    );
}

/// Waits for `alert` to fire (with a summary that Prometheus filled in) and returns it.
fn fires(site: &Site, alert: &str) -> Result<Value, String> {
    site.prometheus
        .wait_for(Duration::from_secs(150), |p| {
            Ok(p.firing()?
                .into_iter()
                .find(|a| a["labels"]["alertname"] == alert))
        })
        .map_err(|e| format!("{alert} did not fire: {e}"))
        .and_then(|a| {
            let summary = a["annotations"]["summary"].as_str().unwrap_or_default();
            if summary.is_empty() || summary.contains("<no value>") {
                return Err(format!("{alert} fired with the summary {summary:?}"));
            }
            Ok(a)
        })
}

/// Waits for `alert` to stop firing: at the next evaluation, or for a rule over a subquery (the
/// stalled queue's, in steps of a minute) at its next step.
fn stops(site: &Site, alert: &str) -> Result<(), String> {
    site.prometheus
        .wait_for(Duration::from_secs(90), |p| {
            Ok((!p
                .firing()?
                .iter()
                .any(|a| a["labels"]["alertname"] == alert))
            .then_some(()))
        })
        .map_err(|e| format!("{alert} still fires once its condition is undone: {e}"))
}

/// Sessions of GeoNode's database owner that stay open until dropped.
fn connections(site: &Site) -> Result<(), String> {
    let env = &site.database_env;
    let held: Vec<Running> = (0..HELD_CONNECTIONS)
        .map(|_| {
            Running::spawn(
                Command::new(format!("{BIN}/psql"))
                    .args(["-h", "127.0.0.1", "-p", &site.database.port.to_string()])
                    .args([
                        "-U",
                        &env["GEONODE_DATABASE_USER"],
                        "-d",
                        &env["GEONODE_DATABASE"],
                    ])
                    .args(["-c", HOLD])
                    .env("PGPASSWORD", &env["GEONODE_DATABASE_PASSWORD"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
            )
            .map_err(|e| format!("starting psql: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let superuser = |sql: &str| {
        site.database
            .psql("postgres", &env["POSTGRES_PASSWORD"], "postgres", sql)
    };
    let counted = format!("select count(*) from pg_stat_activity where query = '{HOLD}'");
    site.prometheus
        .wait_for(Duration::from_secs(30), |_| {
            let open = superuser(&counted)?;
            Ok((open.trim() == HELD_CONNECTIONS.to_string()).then_some(()))
        })
        .map_err(|e| format!("the {HELD_CONNECTIONS} sessions did not all connect: {e}"))?;
    fires(site, "GeoNodePostgreSQLConnectionsNearLimit")?;
    // The server notices a client gone only when it next writes to it: end the sessions too.
    drop(held);
    superuser(&format!(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity where query = '{HOLD}'"
    ))?;
    stops(site, "GeoNodePostgreSQLConnectionsNearLimit")
}

/// A Celery application (GeoNode's venv's Celery, the broker in `BROKER`) with one task that
/// takes a second: `worker` consumes Celery's default queue of GeoNode, `send <n>` queues n.
const CELERY_APP: &str = r#"
import os, sys, time
from celery import Celery
app = Celery("contract_metrics", broker=os.environ["BROKER"])
@app.task(name="contract.slow")
def slow():
    time.sleep(1)
if sys.argv[1] == "worker":
    app.worker_main(["worker", "--queues=default", "--pool=solo", "--without-gossip",
                     "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"])
else:
    for _ in range(int(sys.argv[2])):
        slow.apply_async(queue="default")
"#;

/// A real Celery worker takes tasks from GeoNode's default queue, then stops; more tasks than
/// celeryBacklog are queued: the backlog and stalled-queue alerts fire. The worker started again
/// takes them: the stalled-queue alert stops at once (the queue goes down).
fn tasks_queued(site: &Site) -> Result<(), String> {
    let broker = site.broker.as_ref().ok_or("Redis is not running")?;
    let password = Some(site.broker_password.as_str());
    let url = format!(
        "redis://:{}@127.0.0.1:{}/0",
        site.broker_password, broker.port
    );
    let celery = |args: &[&str]| {
        let mut cmd = Command::new(&site.python);
        cmd.args(["-c", CELERY_APP]).args(args).env("BROKER", &url);
        cmd
    };
    let send = |n: usize| {
        crate::process::exec(&mut celery(&["send", &n.to_string()]))
            .map_err(|e| format!("queuing tasks: {e}"))
    };
    let worker = || -> Result<Running, String> {
        let mut cmd = celery(&["worker"]);
        if let Some(log) = crate::process::container_log("celery-worker")? {
            let err = log.try_clone().map_err(|e| e.to_string())?;
            cmd.stdout(log).stderr(err);
        }
        Running::spawn(&mut cmd).map_err(|e| format!("starting the worker: {e}"))
    };
    let queued = || {
        cli(broker.port, password, &["llen", "default"])
            .trim()
            .parse::<usize>()
            .unwrap_or(usize::MAX)
    };
    let first = worker()?;
    send(3)?;
    site.prometheus
        .wait_for(Duration::from_secs(60), |_| {
            Ok((queued() == 0).then_some(()))
        })
        .map_err(|e| format!("the worker did not take 3 tasks: {e}"))?;
    drop(first);
    send(QUEUED_TASKS)?;
    fires(site, "GeoNodeCeleryBacklog")?;
    fires(site, "GeoNodeCeleryQueueStalled")?;
    let again = worker()?;
    stops(site, "GeoNodeCeleryQueueStalled")?;
    drop(again);
    cli(
        broker.port,
        password,
        &["del", "default", "unacked", "unacked_index"],
    );
    stops(site, "GeoNodeCeleryBacklog")
}

/// The broker filled to 95% of its maxmemory: the alert fires, and Redis refuses a task.
fn broker_filled(site: &Site) -> Result<(), String> {
    let broker = site.broker.as_ref().ok_or("Redis is not running")?;
    let password = Some(site.broker_password.as_str());
    let maxmemory: u64 = cli(broker.port, password, &["config", "get", "maxmemory"])
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .ok_or("CONFIG GET maxmemory gave no number")?;
    let offset = (maxmemory * 95 / 100).to_string();
    cli(broker.port, password, &["setrange", "filler", &offset, "x"]);
    fires(site, "GeoNodeRedisMemoryNearLimit")?;
    cli(
        broker.port,
        password,
        &["setrange", "filler2", &(maxmemory / 10).to_string(), "x"],
    );
    let refused = cli(
        broker.port,
        password,
        &["lpush", "default", "one-more-task"],
    );
    if !refused.contains("OOM") {
        return Err(format!("the full broker took a task: {refused}"));
    }
    cli(
        broker.port,
        password,
        &["del", "filler", "filler2", "default"],
    );
    stops(site, "GeoNodeRedisMemoryNearLimit")
}

/// A server or an exporter stopped: its alert fires.
fn stopped(site: &mut Site, alert: &str, stop: impl FnOnce(&mut Site)) -> Result<(), String> {
    stop(site);
    fires(site, alert).map(|_| ()).map_err(|e| {
        let seen = site.prometheus.query("{__name__=~\"up|.*_up\"}");
        format!("{e}; Prometheus has {seen:?}")
    })
}
