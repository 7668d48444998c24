//! One GeoServer on the data directory, on the real node: an upgrade that replaces GeoServer
//! never runs the old and the new one at once, and the liveness probe restarts a GeoServer
//! whose OWS dispatcher hangs while its static page still answers (the GeoServer model's version of that
//! failure: xtask/src/node/images/geoserver/geoserver-model.py).

use super::client::{curl_in_geoserver, pods};
use super::Ctx;
use crate::report::Step;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const SELECTOR: &str = "app.kubernetes.io/component=geoserver";

/// The upgrade of upgrade_under_load's value plus GeoServer's (a shorter liveness period and
/// timeout, which the hang below then waits for: 5 failures, 10 s apart, of 5 s each).
pub const SETS: &[&str] = &[
    "nginx.workerProcesses=1",
    "geoserver.probes.liveness.periodSeconds=10",
    "geoserver.probes.liveness.timeoutSeconds=5",
];

fn geoserver_pods(ctx: &Ctx) -> Result<Vec<Value>, String> {
    pods(ctx, SELECTOR)
}

/// Whether a pod's geoserver container is running (started, not yet ended).
fn geoserver_running(pod: &Value) -> bool {
    pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["name"] == "geoserver" && !s["state"]["running"].is_null())
}

/// `helm upgrade` that changes GeoServer's pod while the GeoServer pods are watched (every
/// poll records which have their container running): never two at once, the old one gone
/// before the new one runs.
pub fn upgrade_one_at_a_time(ctx: &Ctx, step: &mut Step) {
    let started = Instant::now();
    // Per pod: first and last poll (seconds since the start) its GeoServer ran in.
    let mut spans: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut most = 0;
    let mut polls = 0;
    let result = std::thread::scope(|scope| {
        let upgrade = scope.spawn(|| ctx.release("upgrade", SETS));
        while !upgrade.is_finished() {
            if let Ok(pods) = geoserver_pods(ctx) {
                polls += 1;
                let now = started.elapsed().as_secs_f64();
                let running: Vec<String> = pods
                    .iter()
                    .filter(|p| geoserver_running(p))
                    .filter_map(|p| p["metadata"]["name"].as_str().map(String::from))
                    .collect();
                most = most.max(running.len());
                for name in running {
                    spans.entry(name).or_insert((now, now)).1 = now;
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        upgrade
            .join()
            .unwrap_or_else(|_| Err("the upgrade panicked".into()))
    });
    if let Err(e) = result {
        return step.fail(format!("helm upgrade: {e}\n{}", ctx.diagnose()));
    }
    let mut ordered: Vec<(&String, &(f64, f64))> = spans.iter().collect();
    ordered.sort_by(|a, b| a.1 .0.total_cmp(&b.1 .0));
    step.detail = format!(
        "{polls} polls of GeoServer's pods during `helm upgrade --set {}`: {}",
        SETS.join(","),
        ordered
            .iter()
            .map(|(name, (from, to))| format!("{name} ran {from:.1}–{to:.1} s"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if spans.len() < 2 {
        return step.fail(format!(
            "the upgrade replaced no GeoServer pod (seen: {spans:?}): nothing was shown"
        ));
    }
    if most > 1 {
        return step.fail(format!(
            "{most} GeoServers ran on the data directory at once"
        ));
    }
    if ordered.windows(2).any(|w| w[1].1 .0 <= w[0].1 .1) {
        return step.fail("a GeoServer started before the one it replaced had ended".to_string());
    }
    step.passed += 1;
}

/// The model's dispatcher made to hang: its static page still answers, OWS does not, and the
/// kubelet restarts the container (its liveness probe asks the dispatcher), which then serves.
pub fn hang_restarted(ctx: &Ctx, step: &mut Step) {
    let result = (|| -> Result<String, String> {
        let pods = geoserver_pods(ctx)?;
        let pod = pods.first().ok_or("no GeoServer pod")?;
        let name = pod["metadata"]["name"].as_str().unwrap_or("?").to_string();
        let restarts = |pod: &Value| {
            pod["status"]["containerStatuses"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["name"] == "geoserver")
                .and_then(|s| s["restartCount"].as_i64())
                .unwrap_or(0)
        };
        let before = restarts(pod);
        let curl = |path: &str| {
            let url = format!("http://127.0.0.1:8080{path}");
            let status = [
                "-fsS",
                "-m",
                "5",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &url,
            ];
            curl_in_geoserver(ctx, &name, &status)
        };
        curl("/model/hang-dispatcher")?;
        let page = curl("/geoserver/index.html")?;
        let probe = curl(
            "/geoserver/ows?service=WMS&version=1.1.1&request=GetCapabilities&updateSequence=9223372036854775807",
        );
        if page.trim() != "200" || probe.is_ok() {
            return Err(format!(
                "hung, the model should serve its page ({page}) and not its dispatcher ({probe:?})"
            ));
        }
        let hung = Instant::now();
        loop {
            let now = geoserver_pods(ctx)?;
            let pod = now.iter().find(|p| p["metadata"]["name"] == name.as_str());
            if let Some(pod) = pod.filter(|p| restarts(p) > before) {
                let ready = pod["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True");
                if ready {
                    return Ok(format!(
                        "the kubelet restarted {name}'s geoserver container {:.0} s after its dispatcher hung (its static page still answering) and it is ready again",
                        hung.elapsed().as_secs_f64()
                    ));
                }
            }
            if hung.elapsed() > Duration::from_secs(300) {
                return Err(format!(
                    "{name} was not restarted within 5 minutes of its dispatcher hanging\n{}",
                    ctx.diagnose()
                ));
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    })();
    match result {
        Ok(note) => {
            step.passed += 1;
            step.detail = note;
        }
        Err(e) => step.fail(e),
    }
}
