//! Load and what it costs: wrk (Debian's package) on 127.0.0.1 with a Lua report of its own
//! numbers, and the proportional memory (PSS) of a process tree from /proc.

use crate::process::exec;
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// wrk's summary as JSON on the last line of its output: requests, duration, bytes, errors and
/// latency (mean and percentiles) in microseconds.
const REPORT_LUA: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,"mean_us":%d,"p50_us":%d,"p99_us":%d,"error_kinds":"connect %d, read %d, write %d, HTTP status %d, timeout %d"}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"#;

/// One load run's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// At most how many connections had a request in service on average: requests per second
    /// times the mean latency (Little's law). wrk corrects its latencies for coordinated omission
    /// (it adds the requests a stalled connection would have sent), which only raises the mean,
    /// so with uneven latencies this can exceed the concurrency. Well under it means connections
    /// waited the whole run without an answer, which wrk counts nowhere else (its latencies are
    /// of completed requests, its timeouts longer than a run).
    pub served: f64,
    /// Bytes per response, headers included.
    pub bytes_per_response: f64,
    pub errors: u64,
    /// wrk's errors by kind, when there are any.
    pub error_kinds: String,
}

/// What to load: a URL on 127.0.0.1 with the site's Host header, at a concurrency, for a time.
pub struct Request<'a> {
    pub url: &'a str,
    pub host: &'a str,
    pub connections: u32,
    pub duration: Duration,
    pub gzip: bool,
}

/// Runs wrk with two threads (the machine's cores) and returns its figures.
pub fn run(request: &Request, dir: &Path) -> Result<Load, String> {
    let script = dir.join("report.lua");
    if !script.exists() {
        fs::write(&script, REPORT_LUA).map_err(|e| format!("writing {}: {e}", script.display()))?;
    }
    let mut cmd = Command::new("wrk");
    cmd.arg("-t2")
        .arg(format!("-c{}", request.connections))
        .arg(format!("-d{}s", request.duration.as_secs().max(1)))
        .args(["--timeout", "30s", "-s"])
        .arg(&script)
        .args(["-H", &format!("Host: {}", request.host)]);
    if request.gzip {
        cmd.args(["-H", "Accept-Encoding: gzip"]);
    }
    let out = exec(cmd.arg(request.url)).map_err(|e| format!("wrk on {}: {e}", request.url))?;
    parse(&out).map_err(|e| format!("wrk on {}: {e}", request.url))
}

/// The figures from wrk's output (the Lua report's line).
fn parse(out: &str) -> Result<Load, String> {
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with("{\"requests\""))
        .ok_or_else(|| format!("no report line in wrk's output:\n{out}"))?;
    let v: Value = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
    let num = |k: &str| v[k].as_f64().unwrap_or(0.0);
    let requests = num("requests");
    if requests == 0.0 {
        // Every request took longer than the run: no rate, no latencies to give (NaN, which the
        // table leaves out). Errors still count.
        return Ok(Load {
            rps: 0.0,
            p50_ms: f64::NAN,
            p99_ms: f64::NAN,
            served: 0.0,
            bytes_per_response: f64::NAN,
            errors: v["errors"].as_u64().unwrap_or(0),
            error_kinds: v["error_kinds"].as_str().unwrap_or_default().to_string(),
        });
    }
    let rps = requests / (num("duration_us") / 1e6);
    Ok(Load {
        rps,
        p50_ms: num("p50_us") / 1e3,
        p99_ms: num("p99_us") / 1e3,
        served: rps * num("mean_us") / 1e6,
        bytes_per_response: num("bytes") / requests,
        errors: v["errors"].as_u64().unwrap_or(0),
        error_kinds: v["error_kinds"].as_str().unwrap_or_default().to_string(),
    })
}

/// A process and its descendants, by parent links in /proc.
fn tree(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The parent is the second field after the command's closing parenthesis.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    found
}

/// The processes of `root`'s tree and their summed PSS in MiB (smaps_rollup).
pub fn pss_mib(root: u32) -> (usize, f64) {
    let pids = tree(root);
    let kib: u64 = pids
        .iter()
        .filter_map(|pid| fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok())
        .filter_map(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .sum();
    (pids.len(), kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrks_report_line_becomes_figures() {
        let out = "Running 1s test\n  2 threads\n{\"requests\":500,\"duration_us\":2000000,\"bytes\":1000000,\"errors\":0,\"mean_us\":15000,\"p50_us\":12000,\"p99_us\":80500}\n";
        let load = parse(out).unwrap();
        assert_eq!(load.rps, 250.0);
        assert_eq!(load.p50_ms, 12.0);
        assert_eq!(load.p99_ms, 80.5);
        assert_eq!(load.bytes_per_response, 2000.0);
        assert_eq!(load.served, 3.75);
    }

    #[test]
    fn a_run_in_which_no_request_completed_has_no_latencies() {
        let out = "{\"requests\":0,\"duration_us\":2000000,\"bytes\":0,\"errors\":9,\"p50_us\":0,\"p99_us\":0}";
        let load = parse(out).unwrap();
        assert_eq!((load.rps, load.errors), (0.0, 9));
        assert!(load.p50_ms.is_nan() && load.p99_ms.is_nan());
        assert!(parse("no report").is_err());
    }

    #[test]
    fn this_process_has_memory() {
        let (count, mib) = pss_mib(std::process::id());
        assert!(count >= 1 && mib > 0.0, "{count} {mib}");
    }
}
