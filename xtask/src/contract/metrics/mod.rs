//! Metrics: the chart with its exporters, PodMonitors, alerts and dashboard turned on, run by the
//! real programs. PostgreSQL (initialised as the image's entrypoint does, then the rendered init
//! script), Redis's broker and nginx run from the metrics render; each exporter runs with its
//! rendered arguments beside them; a real Prometheus scrapes them with the configuration the
//! rendered PodMonitors describe and evaluates the rendered rules; a real Celery worker (GeoNode's
//! venv) works the queues. `metrics-scrape` holds the healthy site to what the alerts and the
//! dashboard read; `metrics-alerts` (conditions.rs) causes each condition and looks for its
//! alert.

mod conditions;
pub mod exporters;
mod prometheus;

use super::inputs::{Inputs, Mapping};
use super::postgresql::Local;
use super::redis;
use crate::process::{chmod, start_container, Running, Server};
use crate::project::{NAMESPACE, RELEASE};
use crate::report::{Report, Step};
use exporters::Exporter;
use prometheus::Prometheus;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::time::Duration;

/// The contract's metrics render: everything on, scraped every second, and a database with
/// few connections, so that holding most of them open is quick.
pub const SETS: &[&str] = &[
    "metrics.enabled=true",
    "metrics.podMonitor.enabled=true",
    "metrics.prometheusRule.enabled=true",
    "metrics.dashboard.enabled=true",
    "metrics.podMonitor.interval=1s",
    "metrics.podMonitor.scrapeTimeout=1s",
    "metrics.prometheus.from=[{podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}}]",
    "postgresql.maxConnections=40",
];

/// The components with an exporter and their workload's kind, in the order of
/// `exporters::programs`.
const EXPORTERS: [(&str, &str); 3] = [
    ("nginx", "Deployment"),
    ("postgresql", "StatefulSet"),
    ("redis", "StatefulSet"),
];

/// The metric names the exporters give that the rules and the dashboard read.
const EXPORTED: [&str; 3] = ["nginx_", "pg_", "redis_"];

/// The site of this part: its servers, exporters and Prometheus; dropping it stops them all.
pub(super) struct Site {
    prometheus: Prometheus,
    /// The rendered rules Prometheus evaluates.
    rules: serde_json::Value,
    database: Local,
    database_env: BTreeMap<String, String>,
    postgres: Option<Running>,
    broker: Option<Server>,
    broker_password: String,
    nginx: Option<Running>,
    _upstream: Running,
    exporters: BTreeMap<String, Exporter>,
    /// GeoNode's venv's Python, for a real Celery worker.
    python: std::path::PathBuf,
}

pub fn run(inputs: &Inputs, work: &Path, report: &mut Report) {
    let mut site = None;
    report.step("metrics-scrape", |step| {
        match start(inputs, &work.join("metrics")) {
            Ok(started) => {
                if let Err(e) = healthy(inputs, &started, step) {
                    step.fail(e);
                }
                site = Some(started);
            }
            Err(e) => step.fail(e),
        }
    });
    if let Some(mut site) = site {
        report.step("metrics-alerts", |step| conditions::run(&mut site, step));
    }
}

/// The servers, their exporters and Prometheus, from the metrics render.
fn start(inputs: &Inputs, dir: &Path) -> Result<Site, String> {
    let programs = exporters::programs()?;
    let venv = super::geonode::venv::ensure().map_err(|e| e.to_string())?;
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    chmod(dir, 0o755).map_err(|e| e.to_string())?;
    let (database, database_env, postgres) = start_database(inputs, dir)?;
    let broker = redis::start(inputs, &dir.join("redis"), "redis", 6379)?;
    let broker_password = redis::password(inputs)?;
    let stub_status = crate::process::free_port()?;
    let upstream_port = crate::process::free_port()?;
    let upstream = super::nginx::stand_in(dir, upstream_port, "upstream")?;
    let upstreams = [
        ("django", 8000, upstream_port),
        ("geoserver", 8080, upstream_port),
    ];
    let (nginx, _) = super::nginx::start_mapped(
        inputs,
        &dir.join("nginx"),
        &upstreams,
        &[(8081, stub_status)],
        None,
        "nginx",
    )?;
    // Where each exporter's rendered arguments point inside its pod, and here.
    let pod_to_here = [
        (
            "127.0.0.1:8081".to_string(),
            format!("127.0.0.1:{stub_status}"),
        ),
        (
            "host=/var/run/postgresql".to_string(),
            format!("host={}&port={}", database.dir.display(), database.port),
        ),
        (
            "127.0.0.1:6379".to_string(),
            format!("127.0.0.1:{}", broker.port),
        ),
    ];
    let mut exporters = BTreeMap::new();
    for (((component, kind), program), host) in EXPORTERS.iter().zip(&programs).zip(pod_to_here) {
        let mapping = Mapping {
            hosts: vec![host],
            paths: vec![],
        };
        let name = format!("{RELEASE}-{component}");
        let exporter = exporters::start(inputs, (kind, &name), program, &mapping)?;
        exporters.insert(component.to_string(), exporter);
    }
    let local: BTreeMap<String, u16> = exporters.iter().map(|(c, e)| (c.clone(), e.port)).collect();
    let jobs = prometheus::scrape_jobs(inputs, &local)?;
    if jobs.len() != exporters.len() {
        return Err(format!(
            "{} scrape jobs from the PodMonitors for {} exporters",
            jobs.len(),
            exporters.len()
        ));
    }
    let rules = prometheus::rule_groups(inputs)?;
    let prometheus = prometheus::start(&dir.join("prometheus"), jobs, &rules)?;
    Ok(Site {
        prometheus,
        rules,
        database,
        database_env,
        postgres: Some(postgres),
        broker: Some(broker),
        broker_password,
        nginx: Some(nginx),
        _upstream: upstream,
        exporters,
        python: venv.join("bin/python"),
    })
}

/// PostgreSQL as the image's entrypoint initialises it, started with the rendered server
/// settings, then the rendered init script (which makes the exporter's role): its cluster, the
/// container's env and the server.
fn start_database(
    inputs: &Inputs,
    dir: &Path,
) -> Result<(Local, BTreeMap<String, String>, Running), String> {
    let statefulset = format!("{RELEASE}-postgresql");
    let env = inputs.env("StatefulSet", &statefulset, "postgresql")?;
    if env.get("GEONODE_K8S_MONITOR_LOGIN").map(String::as_str) != Some("true") {
        return Err(
            "with metrics on, PostgreSQL's container does not let the exporter's role log in"
                .into(),
        );
    }
    let database = Local::new(dir.join("postgresql"))?;
    database.initdb_as_the_image(&env["POSTGRES_PASSWORD"])?;
    fs::write(
        database.dir.join("10-geonode.sh"),
        inputs.config(&format!("{statefulset}-initdb"), "10-geonode.sh")?,
    )
    .map_err(|e| e.to_string())?;
    let args = inputs.command("StatefulSet", &statefulset, "postgresql")?;
    let settings: Vec<String> = args
        .iter()
        .skip_while(|a| *a != "postgres")
        .skip(1)
        .cloned()
        .collect();
    let server = start_container(
        database.postgres().args(&settings),
        "postgresql",
        database.port,
    )?;
    database
        .init(&env)
        .map_err(|e| format!("the rendered init script failed: {e}"))?;
    Ok((database, env, server))
}

/// The healthy site: every target up, every exporter metric the rules and the dashboard read is
/// scraped, every panel that reads the exporters returns data, and no alert fires.
fn healthy(inputs: &Inputs, site: &Site, step: &mut Step) -> Result<(), String> {
    let prometheus = &site.prometheus;
    prometheus.wait_for(Duration::from_secs(30), |p| {
        let targets = p.targets()?;
        let down: Vec<_> = targets
            .iter()
            .filter(|(_, health, _)| health != "up")
            .collect();
        if targets.len() == site.exporters.len() && down.is_empty() {
            Ok(Some(()))
        } else {
            Err(format!("the scrape targets are not all up: {targets:?}"))
        }
    })?;
    step.passed += 1;
    // Two scrapes at least, for the panels' rates.
    std::thread::sleep(Duration::from_secs(3));
    let dashboard: serde_json::Value =
        serde_json::from_str(&inputs.config(&format!("{RELEASE}-dashboard"), "geonode.json")?)
            .map_err(|e| format!("the dashboard's JSON: {e}"))?;
    let rule_exprs: Vec<String> = site
        .rules
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .filter_map(|r| r["expr"].as_str().map(str::to_string))
        .collect();
    let panels = panel_queries(&dashboard);
    let mut names = BTreeSet::new();
    for expr in rule_exprs.iter().chain(panels.iter().map(|(_, e)| e)) {
        names.extend(
            metric_names(expr)
                .into_iter()
                .filter(|n| EXPORTED.iter().any(|p| n.starts_with(p))),
        );
    }
    for name in &names {
        let found = prometheus.query(&format!(
            "count({{__name__=\"{name}\", namespace=\"{NAMESPACE}\"}})"
        ))?;
        if found.is_empty() {
            step.fail(format!(
                "{name}, which an alert or a panel reads, is not among the scraped metrics"
            ));
        } else {
            step.passed += 1;
        }
    }
    let mut kube = Vec::new();
    for (title, expr) in &panels {
        if expr.contains("kube_") || expr.contains("kubelet_") {
            kube.push(title.clone());
            continue;
        }
        if prometheus.query(expr)?.is_empty() {
            step.fail(format!(
                "the dashboard's panel \"{title}\" returns no data: {expr}"
            ));
        } else {
            step.passed += 1;
        }
    }
    let firing = prometheus.firing()?;
    if !firing.is_empty() {
        step.fail(format!("alerts fire on the healthy site: {firing:?}"));
    }
    step.detail = format!(
        "Prometheus (Debian 2.42) scrapes the 3 exporters (nginx-prometheus-exporter v1.4.0 and redis_exporter v1.97.0 built from their modules; Debian's postgres_exporter 0.11.1, the chart's image is v0.18.1) with the jobs made from the rendered PodMonitors; {} metrics the rules and panels read are there; {} panels return data ({} read kube-state-metrics or the kubelet, which run only in a cluster: {}); no alert fires",
        names.len(),
        panels.len() - kube.len(),
        kube.len(),
        kube.join(", ")
    );
    Ok(())
}

/// Each panel's title and query, with the dashboard's variables set to this release.
fn panel_queries(dashboard: &serde_json::Value) -> Vec<(String, String)> {
    dashboard["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or_default().to_string();
            p["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(move |t| {
                    let expr = t["expr"]
                        .as_str()?
                        .replace("$namespace", NAMESPACE)
                        .replace("$instance", RELEASE)
                        .replace("$__rate_interval", "1m");
                    Some((title.clone(), expr))
                })
        })
        .collect()
}

/// The metric names a PromQL expression reads: its identifiers that are not keywords, functions
/// or label names (followed by `=`, `!`, `~` or inside a `by`/`on` list), in a rough but
/// sufficient reading of the chart's own expressions.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut chars = expr.char_indices().peekable();
    let mut in_braces = 0;
    let mut in_list = false;
    let mut previous = String::new();
    while let Some((start, c)) = chars.next() {
        match c {
            '{' => in_braces += 1,
            '}' => in_braces -= 1,
            '(' if matches!(previous.as_str(), "by" | "on" | "without" | "ignoring") => {
                in_list = true
            }
            ')' => in_list = false,
            '"' | '`' => {
                // Skip the string.
                for (_, d) in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = start + c.len_utf8();
                while let Some(&(i, d)) = chars.peek() {
                    if d.is_ascii_alphanumeric() || d == '_' || d == ':' {
                        end = i + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let word = &expr[start..end];
                let next = expr[end..].trim_start().chars().next();
                let is_call = next == Some('(');
                if in_braces == 0 && !in_list && !is_call && word.contains('_') {
                    names.insert(word.to_string());
                }
                previous = word.to_string();
                continue;
            }
            _ => {}
        }
        if !c.is_whitespace() {
            previous = c.to_string();
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_are_read_from_the_charts_expressions() {
        let expr = r#"sum by (namespace, pod) (pg_stat_activity_count{namespace="geonode"}) / max by (pod) (pg_settings_max_connections) > 0.8 and on() vector(0)"#;
        assert_eq!(
            metric_names(expr),
            BTreeSet::from([
                "pg_settings_max_connections".into(),
                "pg_stat_activity_count".into()
            ])
        );
        let rate = "sum(rate(nginx_http_requests_total{pod=~\"a_b\"}[1m])) or on() vector(0)";
        assert_eq!(
            metric_names(rate),
            BTreeSet::from(["nginx_http_requests_total".into()])
        );
    }
}
