//! Rules for state GeoNode and GeoServer keep in one process, which Kubernetes multiplies:
//! `one-geoserver` (one GeoServer owns its data directory, replaced with Recreate, probed through
//! its dispatcher) and `shared-cache` (every GeoNode process uses one Django cache, not the
//! broker, which never evicts).

use super::Render;
use crate::manifest::{containers, Object};
use serde_json::Value;
use std::collections::BTreeMap;

/// A container's plain environment variables (those with a value).
fn env_of(container: &Value) -> BTreeMap<&str, &str> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e["name"].as_str()?, e["value"].as_str()?)))
        .collect()
}

/// The path of an httpGet probe, if the probe is one.
fn probe_path(probe: &Value) -> Option<&str> {
    probe["httpGet"]["path"].as_str()
}

/// Whether a container mounts `path` read-only (true when it does not mount it at all).
fn mounts_read_only(container: &Value, path: &str) -> bool {
    container["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["mountPath"] == path)
        .all(|m| m["readOnly"] == true)
}

/// A GeoServer: a container told where its data directory is, serving on 8080 (a read replica's
/// follower is told the directory too, but serves nothing).
fn is_geoserver(container: &Value) -> bool {
    env_of(container).contains_key("GEOSERVER_DATA_DIR")
        && container["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["containerPort"] == 8080)
}

pub fn check_one_geoserver(object: &Object, context: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    let all: Vec<&Value> = containers(spec)
        .filter(|(kind, _)| *kind == "containers")
        .map(|(_, c)| c)
        .collect();
    let geoservers: Vec<&Value> = all.iter().copied().filter(|c| is_geoserver(c)).collect();
    if geoservers.is_empty() {
        return;
    }
    for container in &geoservers {
        for probe in ["startupProbe", "livenessProbe"] {
            match probe_path(&container[probe]) {
                Some(path) if path.starts_with("/geoserver/ows?") => {}
                other => out.push(format!(
                    "its {probe} ({}) does not ask GeoServer's OWS dispatcher, so a GeoServer whose request threads hang passes it; ask /geoserver/ows",
                    other.unwrap_or("not an HTTP request")
                )),
            }
        }
    }
    // A read replica (docs/scaling.md): it may be many, roll and scale, but none of its
    // containers may write the data directory.
    let readers = geoservers
        .iter()
        .filter(|c| env_of(c).get("GEOSERVER_ROLE") == Some(&"reader"))
        .count();
    if readers == geoservers.len() {
        for container in &all {
            let env = env_of(container);
            if let Some(dir) = env
                .get("GEOSERVER_DATA_DIR")
                .filter(|d| !mounts_read_only(container, d))
            {
                out.push(format!(
                    "its {} container, of a GeoServer read replica, mounts the data directory {dir} writable; mount it readOnly: the writer alone changes it",
                    container["name"].as_str().unwrap_or("?")
                ));
            }
        }
        return;
    }
    let replicas = object.value["spec"]["replicas"].as_u64().unwrap_or(1);
    if replicas > 1 {
        out.push(format!(
            "runs {replicas} GeoServers on one data directory; each keeps the catalog in its own memory: run one writer (and read replicas)"
        ));
    }
    if object.kind == "Deployment" && object.value["spec"]["strategy"]["type"] != "Recreate" {
        out.push("a rolling update runs the old and the new GeoServer on the data directory at once; set strategy.type: Recreate".into());
    }
    let scaled = context.objects.iter().any(|o| {
        o.kind == "HorizontalPodAutoscaler"
            && o.value["spec"]["scaleTargetRef"]["name"] == object.name.as_str()
    });
    if scaled {
        out.push("an autoscaler scales the GeoServer that owns the data directory".into());
    }
}

/// The setting of one directive in a redis.conf text (the last one wins, as in Redis).
fn directive<'a>(conf: &'a str, name: &str) -> Option<&'a str> {
    conf.lines()
        .rev()
        .filter_map(|l| l.trim().split_once(' '))
        .find(|(d, _)| d.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// The Redis ConfigMap's files of the release, when it runs Redis.
fn redis_config<'a>(context: &Render<'a>) -> Option<&'a Value> {
    context
        .objects
        .iter()
        .find(|o| o.kind == "ConfigMap" && o.name.ends_with("-redis-config"))
        .map(|o| &o.value["data"])
}

pub fn check_shared_cache(object: &Object, context: &Render, out: &mut Vec<String>) {
    let Some(spec) = object.pod_spec() else {
        return;
    };
    for (_, container) in containers(spec) {
        let env = env_of(container);
        if !env.contains_key("DJANGO_SETTINGS_MODULE") {
            continue;
        }
        let name = container["name"].as_str().unwrap_or("?");
        if !env.contains_key("PERMISSION_CACHE_EXPIRATION_TIME") {
            out.push(format!("{name} leaves GeoNode's permission cache at its 7 days; set PERMISSION_CACHE_EXPIRATION_TIME"));
        }
        if env.get("MEMCACHED_ENABLED") == Some(&"True") {
            continue;
        }
        let (Some(host), Some(port)) = (
            env.get("GEONODE_K8S_CACHE_HOST"),
            env.get("GEONODE_K8S_CACHE_PORT"),
        ) else {
            out.push(format!("{name} keeps Django's cache in each process (GeoNode's default): a permission change reaches one process only; give it the release's shared cache"));
            continue;
        };
        if env.get("REDIS_HOST") == Some(host) && env.get("REDIS_PORT") == Some(port) {
            out.push(format!(
                "{name} caches in the broker's Redis, which must never evict (a cache must)"
            ));
            continue;
        }
        // The release's own cache: a redis-server of its own that evicts, beside a broker that does not.
        if let Some(data) = redis_config(context).filter(|_| env.get("REDIS_HOST") == Some(host)) {
            let broker = data["redis.conf"].as_str().unwrap_or_default();
            let cache = data["cache.conf"].as_str().unwrap_or_default();
            if directive(broker, "maxmemory-policy") != Some("noeviction") {
                out.push("the broker's redis.conf does not say maxmemory-policy noeviction: full, it would drop queued tasks".into());
            }
            if directive(cache, "port") != Some(port)
                || directive(cache, "maxmemory-policy") != Some("allkeys-lru")
            {
                out.push(format!("{name}'s cache (port {port}) is not a redis-server of cache.conf on that port with maxmemory-policy allkeys-lru"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse;

    /// This module's findings on the default render (the golden file), changed by `edits`.
    fn findings(edits: &[(&str, &str)]) -> Vec<String> {
        findings_in("default", edits)
    }

    /// This module's findings on a scenario's golden render, changed by `edits`.
    fn findings_in(scenario: &str, edits: &[(&str, &str)]) -> Vec<String> {
        let path = format!(
            "{}/../tests/golden/{scenario}.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut text = std::fs::read_to_string(path).unwrap();
        for (from, to) in edits {
            assert!(text.contains(from), "{from}");
            text = text.replace(from, to);
        }
        let objects = parse(&text).unwrap();
        let context = Render { objects: &objects };
        let mut out = Vec::new();
        for object in &objects {
            check_one_geoserver(object, &context, &mut out);
            check_shared_cache(object, &context, &mut out);
        }
        out
    }

    fn finds(edits: &[(&str, &str)], expected: &str) {
        let found = findings(edits);
        assert!(
            found.iter().any(|f| f.contains(expected)),
            "{expected:?} not in {found:#?}"
        );
    }

    #[test]
    fn the_default_render_keeps_one_site() {
        assert_eq!(findings(&[]), Vec::<String>::new());
    }

    #[test]
    fn a_rolling_geoserver_is_found() {
        let component = "  selector:\n    matchLabels:\n      app.kubernetes.io/name: geonode\n      app.kubernetes.io/instance: geonode\n      app.kubernetes.io/component: geoserver";
        let recreate =
            format!("  strategy:\n    type: Recreate\n    rollingUpdate: null\n{component}");
        let rolling = format!("  strategy:\n    type: RollingUpdate\n{component}");
        finds(&[(&recreate, &rolling)], "strategy.type: Recreate");
    }

    #[test]
    fn read_replicas_keep_one_writer() {
        assert_eq!(findings_in("production-ha", &[]), Vec::<String>::new());
    }

    #[test]
    fn a_reader_that_could_write_is_found() {
        let follower_mount = "            - name: geoserver-data\n              mountPath: /geoserver_data/data\n              readOnly: true\n            - name: follow";
        let writable = "            - name: geoserver-data\n              mountPath: /geoserver_data/data\n            - name: follow";
        let found = findings_in("production-ha", &[(follower_mount, writable)]);
        assert!(
            found.iter().any(|f| f.contains(
                "follower container, of a GeoServer read replica, mounts the data directory"
            )),
            "{found:#?}"
        );
    }

    #[test]
    fn a_static_liveness_page_is_found() {
        finds(
            &[("path: /geoserver/ows?", "path: /geoserver/index.html?")],
            "does not ask GeoServer's OWS dispatcher",
        );
    }

    #[test]
    fn a_cache_per_process_is_found() {
        finds(
            &[("GEONODE_K8S_CACHE_HOST", "GEONODE_K8S_CACHE_HOSTNAME")],
            "keeps Django's cache in each process",
        );
    }

    #[test]
    fn an_evicting_broker_is_found() {
        finds(
            &[(
                "maxmemory-policy noeviction",
                "maxmemory-policy volatile-lru",
            )],
            "does not say maxmemory-policy noeviction",
        );
    }

    #[test]
    fn a_cache_that_does_not_evict_is_found() {
        finds(
            &[(
                "maxmemory-policy allkeys-lru",
                "maxmemory-policy noeviction",
            )],
            "with maxmemory-policy allkeys-lru",
        );
    }

    #[test]
    fn the_last_directive_wins() {
        let conf =
            "port 6379\nmaxmemory-policy noeviction\n# comment\nMAXMEMORY-POLICY allkeys-lru\n";
        assert_eq!(directive(conf, "maxmemory-policy"), Some("allkeys-lru"));
        assert_eq!(directive(conf, "port"), Some("6379"));
        assert_eq!(directive(conf, "save"), None);
    }
}
