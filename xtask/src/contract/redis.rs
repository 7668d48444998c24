//! Redis: the chart's redis.conf and start script; the password from the Secret is required,
//! and never on the command line.

use super::inputs::{require, Inputs, Mapping};
use super::process::{exec, free_port, keep_running, start_container, Server};
use crate::project::RELEASE;
use crate::report::Step;
use std::fs;
use std::path::Path;
use std::process::Command;

pub fn run(inputs: &Inputs, work: &Path, step: &mut Step) -> Option<Server> {
    let result = (|| -> Result<Server, String> {
        let name = format!("{RELEASE}-redis");
        let port = free_port()?;
        let dir = work.join("redis");
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let run = dir.join("run");
        fs::create_dir_all(&run).map_err(|e| e.to_string())?;
        let mapping = Mapping {
            hosts: vec![
                ("port 6379".into(), format!("port {port}")),
                ("bind * -::*".into(), "bind 127.0.0.1".into()),
            ],
            paths: vec![
                ("dir /data".into(), format!("dir {}", dir.display())),
                ("/run/redis".into(), run.display().to_string()),
                ("/etc/redis".into(), dir.display().to_string()),
            ],
        };
        let config = format!("{name}-config");
        for file in ["redis.conf", "start.sh"] {
            fs::write(
                dir.join(file),
                mapping.apply(&inputs.config(&config, file)?),
            )
            .map_err(|e| e.to_string())?;
        }
        let env = inputs.env("StatefulSet", &name, "redis")?;
        require(&env, "redis", &["REDIS_PASSWORD"])?;
        let object = inputs.find("StatefulSet", &name)?;
        let container = &object.pod_spec().ok_or("no pod spec")?["containers"][0];
        let command: Vec<String> = container["command"]
            .as_array()
            .ok_or("the Redis container has no command")?
            .iter()
            .map(|a| mapping.apply(a.as_str().unwrap_or_default()))
            .collect();
        let (program, args) = command.split_first().ok_or("empty Redis command")?;
        let server = start_container(Command::new(program).args(args).envs(&env), "redis", port)?;
        let cmdline = fs::read(format!("/proc/{}/cmdline", server.id()))
            .map_err(|e| format!("reading Redis's command line: {e}"))?;
        if String::from_utf8_lossy(&cmdline).contains(env["REDIS_PASSWORD"].as_str()) {
            return Err("the Redis password is on redis-server's command line, which any process on the node can read".into());
        }
        let cli = |auth: Option<&str>| {
            let mut cmd = Command::new("redis-cli");
            cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "ping"]);
            if let Some(a) = auth {
                cmd.env("REDISCLI_AUTH", a);
            }
            exec(&mut cmd).unwrap_or_else(|e| e)
        };
        let with = cli(Some(&env["REDIS_PASSWORD"]));
        let without = cli(None);
        if !with.contains("PONG") {
            return Err(format!(
                "Redis does not answer PING with the Secret's password: {with}"
            ));
        }
        if !without.contains("NOAUTH") {
            return Err(format!("Redis answers without a password: {without}"));
        }
        // Full before its memory limit: maxmemory is redis.maxmemoryPercent (80) of it.
        let limit = crate::resources::quantity(&container["resources"]["limits"]["memory"])
            .map(|bytes| bytes as u64)
            .ok_or("the Redis container has no memory limit")?;
        let mut get = Command::new("redis-cli");
        get.args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "config",
            "get",
            "maxmemory",
        ])
        .env("REDISCLI_AUTH", &env["REDIS_PASSWORD"]);
        let maxmemory: u64 = exec(&mut get)?
            .lines()
            .nth(1)
            .and_then(|v| v.trim().parse().ok())
            .ok_or("CONFIG GET maxmemory gave no number")?;
        if maxmemory == 0 || maxmemory >= limit || maxmemory < limit * 7 / 10 {
            return Err(format!(
                "Redis's maxmemory is {maxmemory} bytes for a memory limit of {limit}: it must fill before the limit (about 80 %), or the kernel kills it with the queues"
            ));
        }
        Ok(Server {
            port,
            _process: server,
        })
    })();
    step.detail = "chart's redis.conf and start.sh; PING needs the Secret's password, which is not on the command line; maxmemory under the memory limit".into();
    keep_running(result, step)
}
