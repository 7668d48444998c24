//! The site through what a node goes through: a pod killed, the kubelet restarted, and a
//! `helm upgrade` that must roll only what the changed value touches while requests through
//! nginx keep being answered.

use super::client::{logs, request, service_address};
use super::site::{NAMESPACE, RELEASE};
use super::Ctx;
use crate::node::Node;
use crate::report::Step;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const COMPONENT: &str = "app.kubernetes.io/component";

/// Running pods (not Jobs', not those terminating): name → (component, uid, restarts of all
/// containers).
fn running(ctx: &Ctx) -> BTreeMap<String, (String, String, i64)> {
    ctx.pods()
        .iter()
        .filter(|p| {
            p["status"]["phase"] == "Running" && p["metadata"]["deletionTimestamp"].is_null()
        })
        .map(|p| {
            let restarts = p["status"]["containerStatuses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["restartCount"].as_i64())
                .sum();
            (
                p["metadata"]["name"].as_str().unwrap_or("?").to_string(),
                (
                    p["metadata"]["labels"][COMPONENT]
                        .as_str()
                        .unwrap_or("?")
                        .to_string(),
                    p["metadata"]["uid"].as_str().unwrap_or("?").to_string(),
                    restarts,
                ),
            )
        })
        .collect()
}

/// Waits until every Deployment and StatefulSet of the release has all its replicas ready, and
/// the pods they replaced are gone (a rollout is done before its old pods have drained).
pub(super) fn settled(ctx: &Ctx, timeout: &str) -> Result<(), String> {
    for kind in ["deployment", "statefulset"] {
        let names = ctx
            .plane
            .kubectl(&["get", kind, "-n", NAMESPACE, "-o", "name"])?;
        for name in names.lines() {
            ctx.plane.kubectl(&[
                "rollout",
                "status",
                name,
                "-n",
                NAMESPACE,
                &format!("--timeout={timeout}"),
            ])?;
        }
    }
    let started = Instant::now();
    while ctx
        .pods()
        .iter()
        .any(|p| !p["metadata"]["deletionTimestamp"].is_null())
    {
        if started.elapsed() > Duration::from_secs(180) {
            return Err("pods still terminating after 180 s".into());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Ok(())
}

/// One request for GeoNode's home page through nginx's Service; the status code.
fn home_page(nginx: SocketAddr) -> Result<u16, String> {
    request(nginx, "GET", "/", None, "").map(|answer| answer.status)
}

fn answers(ctx: &Ctx) -> Result<(), String> {
    let address = service_address(ctx, "nginx", 80)?;
    match home_page(address)? {
        200 => Ok(()),
        code => Err(format!("GeoNode's home page through nginx answered {code}")),
    }
}

/// What a pod restart runs that an install does not: PostgreSQL's start on an existing data
/// directory (the passwords brought in line with the Secret first), GeoServer's seed finding its
/// marker and its start script editing a data directory it edited before, Django's and Celery's
/// migrations gate on a migrated database, Redis on its kept data.
const KILLED: [&str; 5] = [
    "postgresql",
    "redis",
    "geoserver",
    "django",
    "celery-worker",
];

/// What the restarted pods print on the paths only a restart takes: (component, container, text).
const RESTART_LOG_LINES: [(&str, &str, &str); 2] = [
    (
        "postgresql",
        "postgresql",
        "postgresql: setting the passwords from the Secret",
    ),
    ("geoserver", "seed-data-dir", "was seeded before"),
];

/// One pod of each of KILLED deleted at once: each is replaced by a new pod (a new uid; a
/// StatefulSet's keeps its name) that turns Ready, and `helm test` passes again.
pub fn pods_killed(ctx: &Ctx, step: &mut Step) {
    let before = running(ctx);
    let mut victims: BTreeMap<&str, (String, String)> = BTreeMap::new();
    for (name, (component, uid, _)) in &before {
        if let Some(wanted) = KILLED.iter().find(|k| **k == component.as_str()) {
            victims
                .entry(*wanted)
                .or_insert((name.clone(), uid.clone()));
        }
    }
    if victims.len() != KILLED.len() {
        return step.fail(format!(
            "expected a running pod of each of {KILLED:?}; found {victims:?}"
        ));
    }
    let names: Vec<&str> = victims.values().map(|(name, _)| name.as_str()).collect();
    let mut delete = vec!["delete", "pod", "-n", NAMESPACE, "--wait=false"];
    delete.extend(&names);
    let result = ctx
        .plane
        .kubectl(&delete)
        .and_then(|_| settled(ctx, "10m"))
        .and_then(|_| answers(ctx))
        .and_then(|_| ctx.helm(&["test", RELEASE, "-n", NAMESPACE, "--timeout=5m"]));
    if let Err(e) = result {
        return step.fail(format!("after deleting {names:?}: {e}\n{}", ctx.diagnose()));
    }
    // The restart paths ran, by what they print.
    for (component, container, said) in RESTART_LOG_LINES {
        let log = logs(ctx, &format!("-l={COMPONENT}={component}"), container, -1);
        if !log.contains(said) {
            step.fail(format!(
                "the new {component} pod's {container} did not say {said:?}:\n{log}"
            ));
        }
    }
    let after = running(ctx);
    for (component, (name, uid)) in &victims {
        let replaced = after.values().any(|(c, u, _)| c == component && u != uid);
        let survived = after.values().any(|(_, u, _)| u == uid);
        if !replaced || survived {
            step.fail(format!("{component}: {name} was not replaced by a new pod"));
        }
    }
    if step.failures.is_empty() {
        step.passed += 1;
        step.detail = format!(
            "{} pods replaced, Ready, helm test passed again",
            names.len()
        );
    }
}

/// kubelet stopped and started again: the same pods run on, none restarted, and the site
/// answers.
pub fn kubelet_restarted(ctx: &Ctx, node: &mut Node, step: &mut Step) {
    let before = running(ctx);
    if let Err(e) = node.restart_kubelet(ctx.plane) {
        return step.fail(format!("restarting kubelet: {e}"));
    }
    if let Err(e) = settled(ctx, "3m").and_then(|_| answers(ctx)) {
        return step.fail(format!("after kubelet's restart: {e}\n{}", ctx.diagnose()));
    }
    let after = running(ctx);
    if before == after {
        step.passed += 1;
        step.detail = format!("{} pods kept, none restarted", after.len());
    } else {
        step.fail(format!(
            "pods before kubelet's restart: {before:?}\nafter: {after:?}"
        ));
    }
}

/// `helm upgrade` of one nginx-only value while a client asks for the home page through nginx
/// every 100 ms: only nginx's pods are replaced, and no request fails.
pub fn upgrade_under_load(ctx: &Ctx, step: &mut Step) {
    let address = match service_address(ctx, "nginx", 80) {
        Ok(a) => a,
        Err(e) => return step.fail(e),
    };
    let before = running(ctx);
    let stop = AtomicBool::new(false);
    let (result, outcomes) = std::thread::scope(|scope| {
        let client = scope.spawn(|| {
            let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let outcome = match home_page(address) {
                    Ok(code) => code.to_string(),
                    Err(e) => e.split(':').next().unwrap_or("error").to_string(),
                };
                *outcomes.entry(outcome).or_default() += 1;
                std::thread::sleep(Duration::from_millis(100).saturating_sub(started.elapsed()));
            }
            outcomes
        });
        let result = ctx.release("upgrade", &["nginx.workerProcesses=1"]);
        let settled = result.and_then(|_| settled(ctx, "5m"));
        // A few more requests after the old pod has gone.
        std::thread::sleep(Duration::from_secs(3));
        stop.store(true, Ordering::Relaxed);
        (settled, client.join().unwrap_or_default())
    });
    if let Err(e) = result {
        return step.fail(format!("helm upgrade: {e}\n{}", ctx.diagnose()));
    }
    let after = running(ctx);
    let replaced: BTreeSet<&str> = before
        .iter()
        .filter(|(_, (_, uid, _))| !after.values().any(|(_, u, _)| u == uid))
        .map(|(_, (component, _, _))| component.as_str())
        .collect();
    let total: usize = outcomes.values().sum();
    let answered = outcomes.get("200").copied().unwrap_or(0);
    step.detail = format!(
        "replaced: {replaced:?}; {answered} of {total} requests answered 200 ({outcomes:?})"
    );
    if replaced != BTreeSet::from(["nginx"]) {
        step.fail(format!(
            "changing nginx.workerProcesses replaced the pods of {replaced:?}, not nginx's alone"
        ));
    }
    if answered != total || total == 0 {
        step.fail(format!(
            "requests through nginx during the upgrade: {outcomes:?} (every one must answer 200)"
        ));
    }
    if step.failures.is_empty() {
        step.passed += 1;
    }
}
