//! GeoServer's read replicas on the real node, against the GeoServer model (no GeoServer can be
//! built here: xtask/src/node/images/geoserver/geoserver-model.py keeps its catalog in memory,
//! refreshed on /rest/reload only, and caches GeoFence's decisions, as GeoServer does).
//!
//! The negative control first, today's chart scaled the only way it can be (`kubectl scale` of the
//! writer's Deployment; geoserver.replicas refuses more than one): a layer published through
//! GeoNode's address is served by some of the pods behind nginx only, and a GeoFence rule that
//! GeoNode invalidates through that address stays cached on the others. Then the same with
//! geoserver.readReplicas: every reader serves the layer through nginx within the documented lag,
//! the readers reload one at a time and are unready meanwhile, and the rule reaches every pod.

use super::client::{curl_in_geoserver, logs, pods, request, service_address};
use super::resilience::settled;
use super::site::{NAMESPACE, RELEASE};
use super::Ctx;
use crate::report::Step;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The writer's CPU request lowered so that a second pod of it fits the 2-CPU node (the
/// control), kept for the readers so the writer is not replaced between the two.
const CONTROL_SETS: &[&str] = &["geoserver.resources.requests.cpu=100m"];
const READERS: usize = 2;
/// The follower's timing on the node, and small readers (the model needs no heap).
const READER_SETS: &[&str] = &[
    "geoserver.readReplicas.enabled=true",
    "geoserver.readReplicas.replicas=2",
    "geoserver.readReplicas.resources.requests.cpu=100m",
    "geoserver.readReplicas.resources.requests.memory=256Mi",
    "geoserver.readReplicas.resources.limits.memory=512Mi",
    "geoserver.readReplicas.follow.intervalSeconds=2",
    "geoserver.readReplicas.follow.quietSeconds=3",
];
/// The model's reload (MODEL_RELOAD_SECONDS' default) and the chart's readers' readiness.
const RELOAD: u64 = 3;
const READINESS_PERIOD: u64 = 5;
const DRAIN: u64 = 5 + 4 + 3;
/// docs/scaling.md's lag, for these settings: quiet + 2 intervals to notice, then each reader's
/// turn (an interval to take it, the drain, the reload) and the readiness probe to put it back;
/// plus 15 s for the kubelet and the Service's endpoints.
const CATALOG_LAG: u64 = 3 + 2 * 2 + READERS as u64 * (2 + DRAIN + RELOAD) + READINESS_PERIOD + 15;
/// PostgreSQL's statistics reach other sessions within 10 s of a change; then a follower's
/// interval; plus 15 s.
const RULE_LAG: u64 = 10 + 2 + 15;
const WRITER: &str = "app.kubernetes.io/component=geoserver";
const READER: &str = "app.kubernetes.io/component=geoserver-reader";

fn epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// What the phases share: where nginx and the writer's Service are, the admin's login.
struct Site<'a> {
    ctx: &'a Ctx<'a>,
    nginx: SocketAddr,
    writer: SocketAddr,
    admin: String,
}

/// The admin's password, from the Secret the writer's container reads it from.
fn admin_token(ctx: &Ctx) -> Result<String, String> {
    let deployment = ctx.plane.kubectl(&[
        "get",
        "deployment",
        &format!("{RELEASE}-geoserver"),
        "-n",
        NAMESPACE,
        "-o",
        "json",
    ])?;
    let deployment: Value = serde_json::from_str(&deployment).map_err(|e| e.to_string())?;
    let reference = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == "GEOSERVER_ADMIN_PASSWORD")
        .map(|e| e["valueFrom"]["secretKeyRef"].clone())
        .ok_or("the writer has no GEOSERVER_ADMIN_PASSWORD")?;
    let (name, key) = (
        reference["name"].as_str().unwrap_or_default(),
        reference["key"].as_str().unwrap_or_default(),
    );
    let encoded = ctx.plane.kubectl(&[
        "get",
        "secret",
        name,
        "-n",
        NAMESPACE,
        "-o",
        &format!("jsonpath={{.data.{key}}}"),
    ])?;
    let password = crate::policy::base64_decode(encoded.trim())
        .ok_or_else(|| format!("Secret {name}'s {key} is not base64"))?;
    Ok(crate::policy::base64_encode(
        format!("admin:{password}").as_bytes(),
    ))
}

fn name(pod: &Value) -> String {
    pod["metadata"]["name"].as_str().unwrap_or("?").to_string()
}

fn ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// A request from inside a pod's GeoServer container to its own GeoServer.
fn in_pod(ctx: &Ctx, pod: &str, path: &str) -> Result<String, String> {
    let url = format!("http://127.0.0.1:8080{path}");
    curl_in_geoserver(ctx, pod, &["-sS", "-m", "10", &url])
}

fn get_map(layer: &str) -> String {
    format!("/geoserver/ows?service=WMS&version=1.1.1&request=GetMap&layers=geonode:{layer}")
}

impl Site<'_> {
    fn new<'a>(ctx: &'a Ctx<'a>) -> Result<Site<'a>, String> {
        Ok(Site {
            ctx,
            nginx: service_address(ctx, "nginx", 80)?,
            writer: service_address(ctx, "geoserver", 8080)?,
            admin: admin_token(ctx)?,
        })
    }

    /// What GeoNode does: a call to the writer's Service (GEOSERVER_LOCATION) as the admin.
    fn as_geonode(&self, method: &str, path: &str, body: &str) -> Result<(), String> {
        let answer = request(self.writer, method, path, Some(&self.admin), body)?;
        if !(200..300).contains(&answer.status) {
            return Err(format!(
                "{method} {path} through the writer's Service: HTTP {}: {}",
                answer.status, answer.body
            ));
        }
        Ok(())
    }

    fn publish(&self, layer: &str) -> Result<(), String> {
        let body = format!("{{\"featureType\": {{\"name\": \"{layer}\"}}}}");
        self.as_geonode(
            "POST",
            "/geoserver/rest/workspaces/geonode/datastores/geonode_data/featuretypes",
            &body,
        )
    }

    /// A rule denying everyone the layer, then the cache invalidation GeoNode sends after rules.
    fn deny(&self, layer: &str) -> Result<(), String> {
        let rule = format!(
            "{{\"Rule\": {{\"priority\": 0, \"workspace\": \"geonode\", \"layer\": \"{layer}\", \"access\": \"DENY\"}}}}"
        );
        self.as_geonode("POST", "/geoserver/rest/geofence/rules", &rule)?;
        self.as_geonode("PUT", "/geoserver/rest/geofence/ruleCache/invalidate", "")
    }

    /// 16 anonymous GetMaps of the layer through nginx: per answering pod, how many were maps
    /// and how many refusals.
    fn through_nginx(&self, layer: &str) -> BTreeMap<String, (usize, usize)> {
        let mut seen: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for _ in 0..16 {
            let (pod, map) = match request(self.nginx, "GET", &get_map(layer), None, "") {
                Ok(answer) if answer.status == 200 => (
                    answer
                        .headers
                        .get("x-model-pod")
                        .cloned()
                        .unwrap_or("?".into()),
                    answer.body.starts_with("a map of"),
                ),
                Ok(answer) => (format!("HTTP {}", answer.status), false),
                Err(e) => (e, false),
            };
            let entry = seen.entry(pod).or_default();
            if map {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
        seen
    }

    /// Polls `holds` until it holds or `seconds` pass; how long it took, or the last evidence.
    fn within<T: std::fmt::Debug>(
        &self,
        seconds: u64,
        mut poll: impl FnMut() -> T,
        holds: impl Fn(&T) -> bool,
    ) -> Result<f64, T> {
        let started = Instant::now();
        loop {
            let evidence = poll();
            if holds(&evidence) {
                return Ok(started.elapsed().as_secs_f64());
            }
            if started.elapsed() > Duration::from_secs(seconds) {
                return Err(evidence);
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

/// Every answer a map, from every one of `pods` (none when any pod will do).
fn all_maps(seen: &BTreeMap<String, (usize, usize)>, pods: &[String]) -> bool {
    seen.values().all(|(_, refused)| *refused == 0) && pods.iter().all(|p| seen.contains_key(p))
}

fn all_refused(seen: &BTreeMap<String, (usize, usize)>) -> bool {
    seen.values().all(|(maps, _)| *maps == 0)
}

fn scale_writer(ctx: &Ctx, replicas: usize) -> Result<(), String> {
    let deployment = format!("deployment/{RELEASE}-geoserver");
    ctx.plane.kubectl(&[
        "scale",
        &deployment,
        "-n",
        NAMESPACE,
        &format!("--replicas={replicas}"),
    ])?;
    settled(ctx, "5m")
}

/// Today's chart scaled by hand: two GeoServers on the data directory, neither following.
fn control(site: &Site) -> Result<String, String> {
    let ctx = site.ctx;
    ctx.release("upgrade", &[super::geoserver::SETS, CONTROL_SETS].concat())?;
    site.publish("known")?;
    scale_writer(ctx, 2)?;
    let writers: Vec<String> = pods(ctx, WRITER)?.iter().map(name).collect();
    site.publish("published")?;
    let catalog = site.within(
        CATALOG_LAG,
        || site.through_nginx("published"),
        |s| all_maps(s, &[]),
    );
    let Err(catalog) = catalog else {
        return Err("control: with two writers, a layer published through one was served by every pod behind nginx: the test cannot tell".into());
    };
    // Both pods have decided on the layer both know (their caches hold "allowed").
    let warm = site.through_nginx("known");
    if !all_maps(&warm, &writers) {
        return Err(format!(
            "control: the layer both writers loaded at start is not served by both: {warm:?}"
        ));
    }
    site.deny("known")?;
    let rules = site.within(RULE_LAG, || site.through_nginx("known"), all_refused);
    let Err(rules) = rules else {
        return Err(
            "control: a rule invalidated on one writer reached both: the test cannot tell".into(),
        );
    };
    scale_writer(ctx, 1)?;
    // Each of the two kept its own catalog and updateSequence in memory, and the one left would
    // write its own over the other's: restarted, it starts from the directory, as after any
    // such split.
    ctx.plane.kubectl(&[
        "rollout",
        "restart",
        &format!("deployment/{RELEASE}-geoserver"),
        "-n",
        NAMESPACE,
    ])?;
    settled(ctx, "5m")?;
    Ok(format!(
        "control (the writer scaled to 2, {writers:?}): after {CATALOG_LAG} s a published layer still answered {catalog:?} (maps, refusals per pod); after {RULE_LAG} s a denied one {rules:?}"
    ))
}

/// Every reader's Ready condition, polled until `stop`: (time, pod, ready).
fn watch_readiness(ctx: &Ctx, stop: &AtomicBool, into: &Mutex<Vec<(f64, String, bool)>>) {
    while !stop.load(Ordering::Relaxed) {
        if let Ok(readers) = pods(ctx, READER) {
            let now = epoch();
            let mut seen = into.lock().unwrap();
            seen.extend(readers.iter().map(|p| (now, name(p), ready(p))));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The readers' reloads since `since` (the model's record: start and end, epoch seconds): each
/// reader reloaded, no two at once, each unready all through its reload.
fn one_at_a_time(
    ctx: &Ctx,
    readers: &[String],
    since: f64,
    readiness: &[(f64, String, bool)],
) -> Result<String, String> {
    let mut reloads: Vec<(String, f64, f64)> = Vec::new();
    for reader in readers {
        let record: Vec<(f64, f64)> = serde_json::from_str(&in_pod(ctx, reader, "/model/reloads")?)
            .map_err(|e| format!("{reader}'s reloads: {e}"))?;
        let mine: Vec<_> = record.into_iter().filter(|(s, _)| *s >= since).collect();
        if mine.is_empty() {
            return Err(format!("{reader} never reloaded its catalog"));
        }
        reloads.extend(mine.into_iter().map(|(s, e)| (reader.clone(), s, e)));
    }
    reloads.sort_by(|a, b| a.1.total_cmp(&b.1));
    if let Some(w) = reloads.windows(2).find(|w| w[1].1 < w[0].2) {
        return Err(format!(
            "{} reloaded from {:.1} while {} reloaded until {:.1}",
            w[1].0, w[1].1, w[0].0, w[0].2
        ));
    }
    for (reader, start, end) in &reloads {
        let polls: Vec<bool> = readiness
            .iter()
            .filter(|(t, p, _)| p == reader && *t >= *start && *t <= *end)
            .map(|(_, _, r)| *r)
            .collect();
        if polls.is_empty() || polls.iter().any(|r| *r) {
            return Err(format!(
                "{reader} reloaded {start:.1}–{end:.1}: Ready in {} of {} polls meanwhile (want none, and some polls)",
                polls.iter().filter(|r| **r).count(),
                polls.len()
            ));
        }
    }
    Ok(reloads
        .iter()
        .map(|(r, s, e)| format!("{r} {:.1}–{:.1} s", s - since, e - since))
        .collect::<Vec<_>>()
        .join(", "))
}

/// The end of each reader's follower's and GeoServer's logs, for a failure's message.
fn followers(ctx: &Ctx, readers: &[String]) -> String {
    let mut text = String::new();
    for reader in readers {
        for container in ["follower", "geoserver"] {
            let log = logs(ctx, reader, container, 15);
            text.push_str(&format!("--- {reader}/{container}:\n{log}\n"));
        }
    }
    text
}

/// The readers: the catalog followed, one reader at a time, and GeoFence's rules on every pod.
fn readers(site: &Site) -> Result<String, String> {
    let ctx = site.ctx;
    ctx.release(
        "upgrade",
        &[super::geoserver::SETS, CONTROL_SETS, READER_SETS].concat(),
    )?;
    settled(ctx, "5m")?;
    let names: Vec<String> = pods(ctx, READER)?.iter().map(name).collect();
    if names.len() != READERS {
        return Err(format!("{} readers run, not {READERS}", names.len()));
    }
    let stop = AtomicBool::new(false);
    let readiness = Mutex::new(Vec::new());
    let since = epoch();
    let catalog = std::thread::scope(|scope| {
        scope.spawn(|| watch_readiness(ctx, &stop, &readiness));
        let published = site.publish("followed");
        let catalog = published.map(|_| {
            site.within(
                CATALOG_LAG,
                || site.through_nginx("followed"),
                |s| all_maps(s, &names),
            )
        });
        // The readiness of the last reload's end, before the watch stops.
        std::thread::sleep(Duration::from_secs(READINESS_PERIOD));
        stop.store(true, Ordering::Relaxed);
        catalog
    });
    let lag = match catalog? {
        Ok(seconds) => seconds,
        Err(seen) => {
            return Err(format!(
                "{CATALOG_LAG} s after a layer was published, nginx's answers were {seen:?} (maps, refusals per pod)\n{}",
                followers(ctx, &names)
            ))
        }
    };
    let turns = one_at_a_time(ctx, &names, since, &readiness.lock().unwrap())?;
    site.deny("followed")?;
    let mut everyone: Vec<String> = pods(ctx, WRITER)?.iter().map(name).collect();
    everyone.extend(names.iter().cloned());
    let refused_everywhere = || {
        everyone
            .iter()
            .map(|p| {
                let answer = in_pod(ctx, p, &get_map("followed")).unwrap_or_else(|e| e);
                (p.clone(), answer.contains("LayerNotDefined"))
            })
            .collect::<BTreeMap<_, _>>()
    };
    let rules = site
        .within(RULE_LAG, refused_everywhere, |r| r.values().all(|d| *d))
        .map_err(|r| {
            format!(
                "{RULE_LAG} s after a rule denied the layer, refused by pod: {r:?}\n{}",
                followers(ctx, &names)
            )
        })?;
    let through = site.through_nginx("followed");
    if !all_refused(&through) {
        return Err(format!(
            "the denied layer still answers through nginx: {through:?}"
        ));
    }
    Ok(format!(
        "readers {names:?}: a published layer served by each through nginx after {lag:.0} s (bound {CATALOG_LAG} s); reloads {turns}, each reader unready throughout; a denied layer refused by the writer and every reader after {rules:.0} s (bound {RULE_LAG} s)"
    ))
}

pub fn followed(ctx: &Ctx, step: &mut Step) {
    let result = Site::new(ctx).and_then(|site| {
        let control = control(&site)?;
        let readers = readers(&site)?;
        Ok(format!("{readers}; {control}"))
    });
    match result {
        Ok(detail) => {
            step.passed += 2;
            step.detail = detail;
        }
        Err(e) => step.fail(e),
    }
}
