//! The chart's exporters as their containers run them: the rendered arguments and environment of
//! each pod's `metrics` container, with only hosts, ports and paths mapped to this run. nginx's
//! and Redis's are the chart images' versions, built from their Go modules; PostgreSQL's is
//! Debian's (postgres_exporter's module is not served here; see `POSTGRES_EXPORTER`).

use crate::cluster::binaries::{go_installed, GoTool};
use crate::contract::inputs::{Inputs, Mapping};
use crate::process::{free_port, start_container, Running};
use std::path::{Path, PathBuf};
use std::process::Command;

/// nginx's exporter: the module of the chart's nginx/nginx-prometheus-exporter:1.4.0.
pub const NGINX_EXPORTER: GoTool = GoTool {
    name: "nginx-prometheus-exporter",
    version: "v1.4.0",
    packages: &["github.com/nginxinc/nginx-prometheus-exporter"],
    cgo_tags: None,
    why: "the contract's metrics of nginx",
};

/// Redis's exporter: the module of the chart's oliver006/redis_exporter:v1.97.0.
pub const REDIS_EXPORTER: GoTool = GoTool {
    name: "redis_exporter",
    version: "v1.97.0",
    packages: &["github.com/oliver006/redis_exporter"],
    cgo_tags: None,
    why: "the contract's metrics of Redis and Celery's queues",
};

/// PostgreSQL's exporter: Debian's package, 0.11.1, where the chart's image is v0.18.1. The
/// alerts and the dashboard use only metrics both versions export (the step checks they are
/// there).
pub const POSTGRES_EXPORTER: (&str, &str) = (
    "/usr/bin/prometheus-postgres-exporter",
    "prometheus-postgres-exporter",
);

/// The program of each exporter (nginx's, PostgreSQL's, Redis's): built, or Debian's (which the
/// contract's software step installs).
pub fn programs() -> Result<[PathBuf; 3], String> {
    let built = |tool: &GoTool| go_installed(tool).map_err(|e| e.to_string());
    Ok([
        built(&NGINX_EXPORTER)?,
        PathBuf::from(POSTGRES_EXPORTER.0),
        built(&REDIS_EXPORTER)?,
    ])
}

/// A running exporter and the port it serves /metrics on.
pub struct Exporter {
    pub port: u16,
    pub process: Option<Running>,
}

/// The `metrics` container of `kind`/`name` run by `program`: its rendered args and env with
/// `mapping` applied and its listen address on a free port of 127.0.0.1.
pub fn start(
    inputs: &Inputs,
    (kind, name): (&str, &str),
    program: &Path,
    mapping: &Mapping,
) -> Result<Exporter, String> {
    let container = inputs.container(kind, name, "metrics")?;
    let port = free_port()?;
    let args: Vec<String> = container["args"]
        .as_array()
        .ok_or(format!("{kind} {name}'s metrics container has no args"))?
        .iter()
        .map(|a| mapping.apply(a.as_str().unwrap_or_default()))
        .map(|a| match a.strip_prefix("--web.listen-address=") {
            Some(_) => format!("--web.listen-address=127.0.0.1:{port}"),
            None => a,
        })
        .collect();
    if !args.iter().any(|a| a.starts_with("--web.listen-address=")) {
        return Err(format!(
            "{kind} {name}'s exporter names no --web.listen-address"
        ));
    }
    let env: Vec<(String, String)> = inputs
        .env(kind, name, "metrics")?
        .into_iter()
        .map(|(k, v)| (k, mapping.apply(&v)))
        .collect();
    let what = format!("{name}-metrics");
    let process = start_container(Command::new(program).args(&args).envs(env), &what, port)?;
    Ok(Exporter {
        port,
        process: Some(process),
    })
}
