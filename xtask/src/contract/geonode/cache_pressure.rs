//! Django's cache full, Celery's broker whole: GeoNode fills the release's cache (redis.cache)
//! past its memory while tasks are queued before, during and after; the cache evicts, the
//! broker evicts nothing and refuses nothing, and a worker then runs every task.

use super::GeoNodeRun;
use crate::contract::inputs::Inputs;
use crate::contract::redis::cli;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Empties the queues (tasks earlier steps' GeoNode queued, which no worker of theirs took, would
/// go first), queues tasks, fills the cache with 1 MiB values (half without expiry, as GeoNode's
/// task locks are kept) to twice its maxmemory, queues more between the writes and after; prints
/// the task ids and how many writes the cache refused.
const FILL_PY: &str = r#"
import json, sys
from django.core.cache import cache
from contract_site.celeryapp import app
maxmemory = int(sys.argv[1])
app.control.purge()
queue = lambda n: app.send_task("celery.accumulate", args=(n,), queue="default").id
ids = {"before": [queue(i) for i in range(10)], "during": [], "after": []}
chunk = b"x" * (1 << 20)
refused = 0
for i in range(2 * maxmemory // len(chunk)):
    try:
        cache.set(f"contract-fill-{i}", chunk, timeout=None if i % 2 else 3600)
    except Exception as e:
        refused += 1
    if i % 25 == 0:
        ids["during"].append(queue(100 + i))
ids["after"] = [queue(1000 + i) for i in range(10)]
print(json.dumps({"ids": ids, "refused": refused}))
"#;

/// INFO's fields of one Redis of the run.
fn info(run: &GeoNodeRun, port_var: &str) -> Result<BTreeMap<String, String>, String> {
    let port: u16 = run.env[port_var]
        .parse()
        .map_err(|_| format!("{port_var} is no port"))?;
    let password = run.env.get("REDIS_PASSWORD").map(String::as_str);
    let out = cli(port, password, &["info"]);
    Ok(out
        .lines()
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

fn number(info: &BTreeMap<String, String>, key: &str) -> u64 {
    info.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
}

pub fn run(run: &GeoNodeRun, inputs: &Inputs, work: &Path) -> Result<String, String> {
    let cache = info(run, "GEONODE_K8S_CACHE_PORT")?;
    let maxmemory = number(&cache, "maxmemory");
    if maxmemory == 0 {
        return Err(format!("the cache has no maxmemory: {cache:?}"));
    }
    let filled = run.python_json(FILL_PY, &[&maxmemory.to_string()])?;
    let (cache, broker) = (
        info(run, "GEONODE_K8S_CACHE_PORT")?,
        info(run, "REDIS_PORT")?,
    );
    if filled["refused"] != 0 || number(&cache, "evicted_keys") == 0 {
        return Err(format!(
            "filling the cache to twice its maxmemory ({maxmemory} B): {} writes refused, {} keys evicted (it must evict, never refuse)",
            filled["refused"],
            number(&cache, "evicted_keys")
        ));
    }
    if number(&broker, "evicted_keys") > 0 {
        return Err(format!(
            "the broker evicted {} keys: queued tasks are lost",
            number(&broker, "evicted_keys")
        ));
    }
    let _worker = run.start_worker(inputs, &work.join("pressure-worker.log"))?;
    // Each task's result, as the worker stores it in the broker's result database (1).
    let ids: Vec<&str> = ["before", "during", "after"]
        .iter()
        .flat_map(|k| filled["ids"][*k].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    let queued = ids.len();
    let port: u16 = run.env["REDIS_PORT"]
        .parse()
        .map_err(|_| "REDIS_PORT is no port")?;
    let password = run.env.get("REDIS_PASSWORD").map(String::as_str);
    let started = Instant::now();
    let mut pending = ids;
    while !pending.is_empty() && started.elapsed() < Duration::from_secs(180) {
        pending.retain(|id| {
            let key = format!("celery-task-meta-{id}");
            !cli(port, password, &["-n", "1", "get", &key]).contains("\"status\": \"SUCCESS\"")
        });
        std::thread::sleep(Duration::from_millis(500));
    }
    if !pending.is_empty() {
        return Err(format!(
            "{} of {queued} queued tasks did not run within 3 minutes: {pending:?}",
            pending.len()
        ));
    }
    Ok(format!(
        "the cache (maxmemory {maxmemory} B) took twice that and evicted {} keys, refusing no write; the broker evicted none; the {queued} tasks queued before, during and after all ran",
        number(&cache, "evicted_keys")
    ))
}
