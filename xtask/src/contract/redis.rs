//! Redis: the chart's redis.conf, cache.conf and start script; the broker and Django's cache as
//! the pod runs them, each a redis-server of its own. The password from the Secret is required,
//! and never on the command line; each fills before its container's memory limit; the broker
//! never evicts, the cache does.

use super::inputs::{require, Inputs, Mapping};
use crate::process::{exec, free_port, start_container, Server};
use crate::project::RELEASE;
use crate::report::Step;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

/// The Redis pod of the contract: Celery's broker and Django's shared cache.
pub struct Redis {
    pub broker: Server,
    pub cache: Server,
}

/// Where GeoNode's processes of the contract find them.
#[derive(Clone, Copy)]
pub struct RedisPorts {
    pub broker: u16,
    pub cache: u16,
}

impl Redis {
    pub fn ports(&self) -> RedisPorts {
        RedisPorts {
            broker: self.broker.port,
            cache: self.cache.port,
        }
    }
}

/// redis-cli against a local server with the password (or none): its output, or its error.
pub fn cli(port: u16, password: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Command::new("redis-cli");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args);
    if let Some(p) = password {
        cmd.env("REDISCLI_AUTH", p);
    }
    exec(&mut cmd).unwrap_or_else(|e| e)
}

/// One redis-server of the pod: its container (`name`), its config (`<name>.conf`) and port,
/// started with the chart's start script in a folder of its own.
pub(super) fn start(
    inputs: &Inputs,
    work: &Path,
    name: &str,
    pod_port: u16,
) -> Result<Server, String> {
    let statefulset = format!("{RELEASE}-redis");
    let port = free_port()?;
    let dir = work.join(name);
    let run = dir.join("run");
    fs::create_dir_all(&run).map_err(|e| e.to_string())?;
    let mapping = Mapping {
        hosts: vec![
            (format!("port {pod_port}"), format!("port {port}")),
            ("bind * -::*".into(), "bind 127.0.0.1".into()),
        ],
        paths: vec![
            ("dir /data".into(), format!("dir {}", dir.display())),
            ("/run/redis".into(), run.display().to_string()),
            ("/etc/redis".into(), dir.display().to_string()),
        ],
    };
    for file in [&format!("{name}.conf"), "start.sh"] {
        let text = inputs.config(&format!("{statefulset}-config"), file)?;
        fs::write(dir.join(file), mapping.apply(&text)).map_err(|e| e.to_string())?;
    }
    let env = inputs.env("StatefulSet", &statefulset, name)?;
    require(&env, name, &["REDIS_PASSWORD"])?;
    let container = container(inputs, name)?;
    let command: Vec<String> = container["command"]
        .as_array()
        .ok_or(format!("the {name} container has no command"))?
        .iter()
        .map(|a| mapping.apply(a.as_str().unwrap_or_default()))
        .collect();
    let (program, args) = command.split_first().ok_or("empty Redis command")?;
    let server = start_container(Command::new(program).args(args).envs(&env), name, port)?;
    let cmdline = fs::read(format!("/proc/{}/cmdline", server.id()))
        .map_err(|e| format!("reading {name}'s command line: {e}"))?;
    if String::from_utf8_lossy(&cmdline).contains(env["REDIS_PASSWORD"].as_str()) {
        return Err(format!("the Redis password is on {name}'s redis-server command line, which any process on the node can read"));
    }
    Ok(Server {
        port,
        _process: server,
    })
}

fn container(inputs: &Inputs, name: &str) -> Result<Value, String> {
    let object = inputs.find("StatefulSet", &format!("{RELEASE}-redis"))?;
    object.pod_spec().ok_or("no pod spec")?["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == name)
        .cloned()
        .ok_or(format!("Redis's pod has no {name} container"))
}

/// A server's password, maxmemory and policy: it answers with the password only, and fills
/// before its container's memory limit (at about redis.maxmemoryPercent, 80 %) with `policy`.
fn configured(
    inputs: &Inputs,
    name: &str,
    server: &Server,
    password: &str,
    policy: &str,
) -> Result<(), String> {
    let with = cli(server.port, Some(password), &["ping"]);
    if !with.contains("PONG") {
        return Err(format!(
            "{name} does not answer PING with the Secret's password: {with}"
        ));
    }
    let without = cli(server.port, None, &["ping"]);
    if !without.contains("NOAUTH") {
        return Err(format!("{name} answers without a password: {without}"));
    }
    let limit =
        crate::resources::quantity(&container(inputs, name)?["resources"]["limits"]["memory"])
            .map(|bytes| bytes as u64)
            .ok_or(format!("the {name} container has no memory limit"))?;
    let settings: BTreeMap<String, String> = {
        let out = cli(
            server.port,
            Some(password),
            &["config", "get", "maxmemory*"],
        );
        let lines: Vec<&str> = out.lines().map(str::trim).collect();
        lines
            .chunks(2)
            .filter_map(|pair| Some((pair.first()?.to_string(), pair.get(1)?.to_string())))
            .collect()
    };
    let maxmemory: u64 = settings
        .get("maxmemory")
        .and_then(|v| v.parse().ok())
        .ok_or(format!(
            "CONFIG GET maxmemory of {name} gave no number: {settings:?}"
        ))?;
    if maxmemory == 0 || maxmemory >= limit || maxmemory < limit * 7 / 10 {
        return Err(format!(
            "{name}'s maxmemory is {maxmemory} bytes for a memory limit of {limit}: it must fill before the limit (about 80 %), or the kernel kills it"
        ));
    }
    if settings.get("maxmemory-policy").map(String::as_str) != Some(policy) {
        return Err(format!(
            "{name}'s maxmemory-policy is {:?}, not {policy}",
            settings.get("maxmemory-policy")
        ));
    }
    Ok(())
}

/// The broker's password, as the rendered redis container has it.
pub(super) fn password(inputs: &Inputs) -> Result<String, String> {
    inputs
        .env("StatefulSet", &format!("{RELEASE}-redis"), "redis")?
        .remove("REDIS_PASSWORD")
        .ok_or_else(|| "the redis container has no REDIS_PASSWORD".into())
}

pub fn run(inputs: &Inputs, work: &Path, step: &mut Step) -> Option<Redis> {
    let result = (|| -> Result<Redis, String> {
        let password = password(inputs)?;
        let broker = start(inputs, work, "redis", 6379)?;
        configured(inputs, "redis", &broker, &password, "noeviction")?;
        let cache = start(inputs, work, "cache", 6380)?;
        configured(inputs, "cache", &cache, &password, "allkeys-lru")?;
        Ok(Redis { broker, cache })
    })();
    step.detail = "the chart's redis.conf, cache.conf and start.sh: the broker and Django's cache, each a redis-server of its own; PING needs the Secret's password, which is not on the command line; each fills under its container's memory limit, the broker with noeviction, the cache with allkeys-lru".into();
    match result {
        Ok(redis) => {
            step.passed += 1;
            Some(redis)
        }
        Err(e) => {
            step.fail(e);
            None
        }
    }
}
