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

/// Connections held open: over 80% of the contract's max_connections (20) with the exporter's.
const HELD_CONNECTIONS: usize = 16;
/// Tasks queued with no worker: over metrics.prometheusRule.celeryBacklog (100).
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
    check("tasks queued with no worker", tasks_queued(site));
    check("the broker filled", broker_filled(site));
    check(
        "nginx stopped",
        stopped(site, "GeoNodeNginxDown", |s| drop(s.nginx.take())),
    );
    check(
        "PostgreSQL stopped",
        stopped(site, "GeoNodePostgreSQLDown", |s| {
            if let Some(server) = s.postgres.take() {
                // pg_ctl stop, as the pod's own stop does; its error shows as the alert missing.
                let _ = s.database.stop(server);
            }
        }),
    );
    check(
        "Redis stopped",
        stopped(site, "GeoNodeRedisDown", |s| drop(s.broker.take())),
    );
    check(
        "Redis's exporter stopped",
        stopped(site, "GeoNodeExporterDown", |s| {
            if let Some(exporter) = s.exporters.get_mut("redis") {
                drop(exporter.process.take());
            }
        }),
    );
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

/// Waits for `alert` to stop firing.
fn stops(site: &Site, alert: &str) -> Result<(), String> {
    site.prometheus
        .wait_for(Duration::from_secs(30), |p| {
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
                    .args(["-c", "select pg_sleep(600)"])
                    .env("PGPASSWORD", &env["GEONODE_DATABASE_PASSWORD"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
            )
            .map_err(|e| format!("starting psql: {e}"))
        })
        .collect::<Result<_, _>>()?;
    fires(site, "GeoNodePostgreSQLConnectionsNearLimit")?;
    // The server notices a client gone only when it next writes to it: end the sessions too.
    drop(held);
    site.database.psql(
        "postgres",
        &env["POSTGRES_PASSWORD"],
        "postgres",
        "select count(pg_terminate_backend(pid)) from pg_stat_activity where query = 'select pg_sleep(600)'",
    )?;
    stops(site, "GeoNodePostgreSQLConnectionsNearLimit")
}

/// Tasks pushed onto Celery's default queue with no worker to take them: the backlog alert at
/// once, the stalled-queue one when their number has not gone down for its window.
fn tasks_queued(site: &Site) -> Result<(), String> {
    let broker = site.broker.as_ref().ok_or("Redis is not running")?;
    let password = Some(site.broker_password.as_str());
    let tasks: Vec<String> = (0..QUEUED_TASKS).map(|i| format!("task-{i}")).collect();
    let mut push = vec!["lpush", "default"];
    push.extend(tasks.iter().map(String::as_str));
    let pushed = cli(broker.port, password, &push);
    if pushed.trim() != QUEUED_TASKS.to_string() {
        return Err(format!("LPUSH onto the default queue answered {pushed}"));
    }
    fires(site, "GeoNodeCeleryBacklog")?;
    fires(site, "GeoNodeCeleryQueueStalled")?;
    cli(broker.port, password, &["del", "default"]);
    stops(site, "GeoNodeCeleryBacklog")?;
    stops(site, "GeoNodeCeleryQueueStalled")
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
    fires(site, alert).map(|_| ())
}
