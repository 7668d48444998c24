//! The `network` step of `cargo xtask check`: who may connect to whom under the chart's
//! NetworkPolicies. cyclonus (a NetworkPolicy analyzer, see cyclonus.rs) decides every
//! connection between the endpoints below, on every port they listen on, and the answers must be
//! the chart's design (`expected`), allowed and denied alike.
//!
//! Endpoints: every pod the render makes, and what lives around a release: an ingress
//! controller, a stranger pod in the release's namespace and one in another namespace, the
//! cluster's DNS, the API server, an address on the internet, the cloud metadata address, a
//! private address (a node, the VPC), and the external databases and SMTP server of a scenario
//! that has them.

pub mod cyclonus;

use crate::manifest::{string_map_owned, Object};
use crate::project::NAMESPACE;
use cyclonus::{Internal, Peer, Traffic};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The GeoNode workloads: what they reach is the same.
const GEONODE: [&str; 4] = ["django", "celery-worker", "celery-beat", "init"];
/// Chart pods that resolve no names (the credentials Job reaches the API server by address).
const NO_DNS: [&str; 4] = ["postgresql", "redis", "memcached", "credentials"];
/// Chart pods that may reach addresses outside the cluster when networkPolicy.outside allows.
const OUTSIDE: [&str; 5] = [
    "django",
    "celery-worker",
    "geoserver",
    "geoserver-reader",
    "backup",
];
/// The GeoServers: the writer and its read replicas reach the same (GeoNode's calls and the
/// admin surfaces reach the writer only).
const GEOSERVERS: [&str; 2] = ["geoserver", "geoserver-reader"];
const INTERNET: &str = "203.0.113.10";
const METADATA: &str = "169.254.169.254";
const PRIVATE: &str = "10.1.1.1";
/// The API server as pods reach it behind the `kubernetes` Service (a control-plane address).
const API_SERVER: &str = "192.168.0.10";

/// One end of a connection: its name in reports, the peer cyclonus sees, the ports it listens
/// on (number, name, protocol), and whether the chart made it.
struct Endpoint {
    name: String,
    peer: Peer,
    ports: Vec<(u16, String, String)>,
    chart: bool,
}

/// What a scenario's values say about the expected connections.
struct Facts {
    /// nginx accepts anyone (networkPolicy.ingressFrom is empty).
    nginx_open: bool,
    outside: bool,
    /// networkPolicy.apiServer.to is any address (0.0.0.0/0), the default.
    api_server_anywhere: bool,
    /// backup.restore is on: the init Job fetches the backup.
    restore: bool,
}

pub struct Outcome {
    pub connections: usize,
    pub allowed: usize,
    /// Each connection whose verdict is not the design's.
    pub wrong: Vec<String>,
}

fn pod(namespace: &str, pod_labels: BTreeMap<String, String>, ip: String) -> Peer {
    Peer {
        internal: Some(Internal {
            pod_labels,
            namespace_labels: BTreeMap::from([(
                "kubernetes.io/metadata.name".to_string(),
                namespace.to_string(),
            )]),
            namespace: namespace.to_string(),
        }),
        ip,
    }
}

/// A pod matching a NetworkPolicy peer of the values (matchLabels only), in a namespace
/// matching its namespaceSelector (`fallback_namespace` when the selector is empty).
fn pod_of_peer(peer: &Value, fallback_namespace: &str, ip: &str) -> Result<Peer, String> {
    if peer["namespaceSelector"]["matchExpressions"].is_array()
        || peer["podSelector"]["matchExpressions"].is_array()
    {
        return Err(format!(
            "the network step builds a pod from matchLabels only, not from {peer}"
        ));
    }
    let namespace_labels = string_map_owned(&peer["namespaceSelector"]["matchLabels"]);
    let namespace = namespace_labels
        .get("kubernetes.io/metadata.name")
        .cloned()
        .unwrap_or_else(|| fallback_namespace.to_string());
    let mut peer_pod = pod(
        &namespace,
        string_map_owned(&peer["podSelector"]["matchLabels"]),
        ip.into(),
    );
    if let Some(internal) = peer_pod.internal.as_mut() {
        internal.namespace_labels.extend(namespace_labels);
    }
    Ok(peer_pod)
}

fn outside(ip: &str) -> Peer {
    Peer {
        internal: None,
        ip: ip.into(),
    }
}

fn tcp(port: u16) -> Vec<(u16, String, String)> {
    vec![(port, String::new(), "TCP".into())]
}

/// The pods the render makes, each with its component's name.
fn chart_pods(objects: &[Object]) -> Vec<Endpoint> {
    let mut pods = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        let (metadata, spec) = match object.kind.as_str() {
            "Pod" => (&object.value["metadata"], &object.value["spec"]),
            _ => match object.pod_template() {
                Some(t) => (&t["metadata"], &t["spec"]),
                None => continue,
            },
        };
        let pod_labels = string_map_owned(&metadata["labels"]);
        let Some(component) = pod_labels.get("app.kubernetes.io/component").cloned() else {
            continue;
        };
        let ports = spec["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .filter_map(|p| {
                Some((
                    u16::try_from(p["containerPort"].as_u64()?).ok()?,
                    p["name"].as_str().unwrap_or_default().to_string(),
                    p["protocol"].as_str().unwrap_or("TCP").to_string(),
                ))
            })
            .collect();
        pods.push(Endpoint {
            name: component,
            peer: pod(NAMESPACE, pod_labels, format!("10.244.0.{}", i + 1)),
            ports,
            chart: true,
        });
    }
    pods
}

/// The first address of an external service's ranges (or its host, when an address).
fn external_address(external: &Value) -> Option<String> {
    let cidr = external["networkCidrs"]
        .as_array()
        .and_then(|c| c.first())
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| external["host"].as_str().map(|h| format!("{h}/32")))?;
    address_inside(&cidr)
}

/// An IPv4 address inside `cidr`: the first host of the range, or the address of a /32.
fn address_inside(cidr: &str) -> Option<String> {
    let (network, _) = cidr.split_once('/')?;
    let mut octets: Vec<u8> = network.split('.').filter_map(|o| o.parse().ok()).collect();
    if octets.len() != 4 {
        return None;
    }
    if cidr.ends_with("/32") {
        return Some(network.to_string());
    }
    octets[3] = octets[3].saturating_add(1);
    Some(format!(
        "{}.{}.{}.{}",
        octets[0], octets[1], octets[2], octets[3]
    ))
}

/// An external database or Redis: a pod with its `podSelector` labels (in the release's
/// namespace, or one with its `namespaceSelector` labels) when it runs in the cluster, else the
/// first address of its ranges; `pod_ip` is the pod's address.
fn external_peer(service: &str, external: &Value, pod_ip: &str) -> Result<Peer, String> {
    let selected = |key: &str| external[key].as_object().filter(|m| !m.is_empty());
    if let Some(pods) = selected("podSelector") {
        let mut peer = serde_json::json!({"podSelector": {"matchLabels": pods}});
        let mut namespace = NAMESPACE;
        if let Some(namespaces) = selected("namespaceSelector") {
            peer["namespaceSelector"] = serde_json::json!({"matchLabels": namespaces});
            namespace = "database-elsewhere";
        }
        return pod_of_peer(&peer, namespace, pod_ip);
    }
    external_address(external)
        .map(|ip| outside(&ip))
        .ok_or_else(|| format!("{service}.external has no address to connect to"))
}

/// The port of an http(s) URL: its own, or its scheme's.
fn url_port(url: &str) -> u16 {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let host = rest.split('/').next().unwrap_or_default();
    host.rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or(if scheme == "http" { 80 } else { 443 })
}

/// The endpoints around the release, from the scenario's values.
fn surroundings(values: &Value) -> Result<Vec<Endpoint>, String> {
    let np = &values["networkPolicy"];
    let synthetic = |name: &str, peer: Peer, ports| Endpoint {
        name: name.into(),
        peer,
        ports,
        chart: false,
    };
    // The controller, as the first peer of ingressFrom describes it: a load balancer's address
    // range (GKE's front ends), or pods in a namespace of their own unless the peer names one.
    let controller = match np["ingressFrom"].as_array().and_then(|a| a.first()) {
        Some(peer) if peer["ipBlock"].is_object() => {
            let address = peer["ipBlock"]["cidr"]
                .as_str()
                .and_then(address_inside)
                .ok_or_else(|| format!("no address inside the ingressFrom peer {peer}"))?;
            outside(&address)
        }
        Some(peer) if peer["namespaceSelector"].is_object() => {
            pod_of_peer(peer, "ingress-controller", "10.244.9.1")?
        }
        Some(peer) => pod_of_peer(peer, NAMESPACE, "10.244.9.1")?,
        None => pod(
            "ingress-nginx",
            BTreeMap::from([("app.kubernetes.io/name".into(), "ingress-nginx".into())]),
            "10.244.9.1".into(),
        ),
    };
    let stranger = || BTreeMap::from([("app".to_string(), "debug".to_string())]);
    let dns_peer = np["dns"]["to"]
        .as_array()
        .and_then(|a| a.first())
        .ok_or("networkPolicy.dns.to is empty")?;
    let dns_ports = np["dns"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                u16::try_from(p["port"].as_u64()?).ok()?,
                String::new(),
                p["protocol"].as_str()?.to_string(),
            ))
        })
        .collect();
    let mut around = vec![
        synthetic("ingress-controller", controller, tcp(80)),
        synthetic(
            "stranger-in-namespace",
            pod(NAMESPACE, stranger(), "10.244.9.2".into()),
            tcp(8080),
        ),
        synthetic(
            "stranger-elsewhere",
            pod("elsewhere", stranger(), "10.244.9.3".into()),
            tcp(8080),
        ),
        synthetic(
            "dns",
            pod_of_peer(dns_peer, "kube-system", "10.244.9.4")?,
            dns_ports,
        ),
        synthetic(
            "api-server",
            outside(API_SERVER),
            [tcp(443), tcp(6443)].concat(),
        ),
        synthetic("internet", outside(INTERNET), tcp(443)),
        synthetic("metadata", outside(METADATA), tcp(80)),
        synthetic("private-network", outside(PRIVATE), tcp(443)),
    ];
    let email = &values["geonode"]["email"];
    if email["enabled"] == true {
        if let Some(ip) = external_address(email) {
            let port = email["port"].as_u64().unwrap_or(0) as u16;
            around.push(synthetic("smtp", outside(&ip), tcp(port)));
        }
    }
    // Services named by a URL: the login provider's token endpoint, an S3 backup target.
    let oidc = &values["geonode"]["oidc"];
    let backup = &values["backup"];
    let by_url = [
        (
            "login-provider",
            oidc["enabled"] == true,
            oidc,
            &oidc["issuer"],
        ),
        (
            "s3",
            backup["target"]["type"] == "s3"
                && (backup["enabled"] == true || backup["restore"]["enabled"] == true),
            &backup["target"]["s3"],
            &backup["target"]["s3"]["endpoint"],
        ),
    ];
    for (name, on, service, url) in by_url {
        if let (true, Some(ip)) = (on, external_address(service)) {
            let port = url_port(url.as_str().unwrap_or_default());
            around.push(synthetic(name, outside(&ip), tcp(port)));
        }
    }
    // The Prometheus that scrapes the exporters, as metrics.prometheus.from's first peer says.
    let prometheus_from = values["metrics"]["prometheus"]["from"].as_array();
    if let (true, Some(peer)) = (
        values["metrics"]["enabled"] == true,
        prometheus_from.and_then(|a| a.first()),
    ) {
        let prometheus = match peer["ipBlock"]["cidr"].as_str() {
            Some(cidr) => {
                outside(&address_inside(cidr).ok_or_else(|| format!("no address inside {cidr}"))?)
            }
            None => pod_of_peer(peer, "monitoring", "10.244.9.7")?,
        };
        around.push(synthetic("prometheus", prometheus, tcp(9090)));
    }
    for (service, ip) in [("postgresql", "10.244.9.5"), ("redis", "10.244.9.6")] {
        if values[service]["enabled"] == false {
            let external = &values[service]["external"];
            let port = |server: &Value| server["port"].as_u64().unwrap_or(0) as u16;
            let mut ports = tcp(port(external));
            // Django's cache on another Redis of the same network (unless memcached is the cache).
            if service == "redis" && values["memcached"]["enabled"] != true {
                ports.extend(tcp(port(&external["cache"])));
                ports.dedup();
            }
            around.push(synthetic(
                &format!("external-{service}"),
                external_peer(service, external, ip)?,
                ports,
            ));
        }
    }
    Ok(around)
}

/// The chart's design: may `src` (a pod of the chart when `src_chart`) connect to `dst` on `port`?
fn expected(src: &str, src_chart: bool, dst: &str, port: u16, facts: &Facts) -> bool {
    let geonode = GEONODE.contains(&src);
    match (dst, port) {
        // The chart's own pods have no business with nginx but the test pods.
        ("nginx", 8080) => {
            matches!(src, "ingress-controller" | "test-api" | "test-geoserver")
                || (facts.nginx_open && !src_chart)
        }
        ("django", 8000) => src == "nginx" || GEOSERVERS.contains(&src),
        ("geoserver", 8080) => geonode || src == "nginx",
        // Map and tile requests only, through nginx.
        ("geoserver-reader", 8080) => src == "nginx",
        ("postgresql", 5432) | ("external-postgresql", _) => {
            geonode || src == "backup" || GEOSERVERS.contains(&src)
        }
        // The broker and Django's cache (redis.cache), or memcached as the cache.
        ("redis", 6379 | 6380) | ("memcached", 11211) | ("external-redis", _) => geonode,
        // The exporters, from the Prometheus that metrics.prometheus.from names.
        ("nginx", 9113) | ("postgresql", 9187) | ("redis", 9121) => src == "prometheus",
        ("dns", _) => !NO_DNS.contains(&src),
        // Mail goes out from Django and the Celery worker only.
        ("smtp", _) => matches!(src, "django" | "celery-worker"),
        // The login provider's token and userinfo endpoints: Django exchanges the codes.
        ("login-provider", _) => src == "django",
        // Backups go to S3 (and a restore comes back through the init Job).
        ("s3", _) => src == "backup" || (src == "init" && facts.restore),
        // Only the credentials Job talks to the API server; where its address is unknown
        // (the default), its rule allows any address on the API server's ports.
        ("api-server", 443 | 6443) => src == "credentials",
        ("internet" | "private-network", 443) if src == "credentials" => facts.api_server_anywhere,
        ("internet", _) => facts.outside && OUTSIDE.contains(&src),
        _ => false,
    }
}

/// Every connection between the endpoints (none between two that the chart did not make),
/// decided by cyclonus and compared with the design.
pub fn check(cyclonus: &Path, values: &Value, objects: &[Object]) -> Result<Outcome, String> {
    let policies: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind == "NetworkPolicy")
        .collect();
    let policies_yaml = policies
        .iter()
        .map(|o| yaml_serde::to_string(&o.value).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let np = &values["networkPolicy"];
    let facts = Facts {
        nginx_open: np["ingressFrom"].as_array().is_none_or(|a| a.is_empty()),
        outside: np["outside"]["enabled"] == true,
        api_server_anywhere: np["apiServer"]["to"]
            .as_array()
            .is_some_and(|to| to.iter().any(|p| p["ipBlock"]["cidr"] == "0.0.0.0/0")),
        restore: values["backup"]["restore"]["enabled"] == true,
    };
    let mut endpoints = chart_pods(objects);
    endpoints.extend(surroundings(values)?);
    let mut traffic = Vec::new();
    let mut cases = Vec::new();
    for src in &endpoints {
        for dst in &endpoints {
            if !src.chart && !dst.chart {
                continue;
            }
            for (port, port_name, protocol) in &dst.ports {
                traffic.push(Traffic {
                    source: src.peer.clone(),
                    destination: dst.peer.clone(),
                    protocol: protocol.clone(),
                    resolved_port: *port,
                    resolved_port_name: port_name.clone(),
                });
                cases.push((
                    format!("{} → {}:{port}/{protocol}", src.name, dst.name),
                    expected(&src.name, src.chart, &dst.name, *port, &facts),
                ));
            }
        }
    }
    let verdicts = cyclonus::allowed(cyclonus, &policies_yaml, &traffic)?;
    let wrong = cases
        .iter()
        .zip(&verdicts)
        .filter(|((_, want), got)| want != *got)
        .map(|((case, want), _)| {
            format!(
                "{case}: the policies {}, the design {}",
                if *want { "deny it" } else { "allow it" },
                if *want { "allows it" } else { "denies it" }
            )
        })
        .collect();
    Ok(Outcome {
        connections: verdicts.len(),
        allowed: verdicts.iter().filter(|v| **v).count(),
        wrong,
    })
}

/// The chart's values with a scenario's file over them, merged the way Helm merges them (maps
/// key by key, anything else replaced, null deletes).
pub fn merged_values(defaults: &Value, scenario: Option<&Value>) -> Value {
    fn merge(base: &mut Value, over: &Value) {
        match (base, over) {
            (Value::Object(base), Value::Object(over)) => {
                for (key, value) in over {
                    if value.is_null() {
                        base.remove(key);
                    } else {
                        merge(base.entry(key.clone()).or_insert(Value::Null), value);
                    }
                }
            }
            (base, over) => *base = over.clone(),
        }
    }
    let mut values = defaults.clone();
    if let Some(over) = scenario {
        merge(&mut values, over);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helm_merge_replaces_lists_and_deletes_nulls() {
        let defaults = json!({"a": {"b": 1, "c": [1, 2], "d": 3}});
        let merged = merged_values(&defaults, Some(&json!({"a": {"c": [9], "d": null}})));
        assert_eq!(merged, json!({"a": {"b": 1, "c": [9]}}));
    }

    #[test]
    fn external_addresses_are_inside_their_ranges() {
        assert_eq!(
            external_address(&json!({"networkCidrs": ["10.0.3.0/24"]})).as_deref(),
            Some("10.0.3.1")
        );
        assert_eq!(
            external_address(&json!({"networkCidrs": [], "host": "db.example.org"})).as_deref(),
            None
        );
        assert_eq!(
            external_address(&json!({"host": "10.1.2.3"})).as_deref(),
            Some("10.1.2.3")
        );
    }

    #[test]
    fn an_external_server_in_the_cluster_is_a_pod_with_its_labels() {
        let same = external_peer(
            "postgresql",
            &json!({"host": "db", "podSelector": {"application": "spilo"}, "namespaceSelector": {}}),
            "10.244.9.5",
        )
        .unwrap();
        let internal = same.internal.expect("a pod");
        assert_eq!(internal.namespace, NAMESPACE);
        assert_eq!(internal.pod_labels["application"], "spilo");
        let other = external_peer(
            "postgresql",
            &json!({"podSelector": {"app": "pg"}, "namespaceSelector": {"team": "db"}}),
            "10.244.9.5",
        )
        .unwrap();
        let internal = other.internal.expect("a pod");
        assert_ne!(internal.namespace, NAMESPACE);
        assert_eq!(internal.namespace_labels["team"], "db");
        let by_range =
            external_peer("redis", &json!({"networkCidrs": ["10.0.4.0/24"]}), "x").unwrap();
        assert!(by_range.internal.is_none());
        assert_eq!(by_range.ip, "10.0.4.1");
    }

    #[test]
    fn the_design_denies_what_it_does_not_name() {
        let facts = Facts {
            nginx_open: false,
            outside: true,
            api_server_anywhere: true,
            restore: false,
        };
        assert!(expected("ingress-controller", false, "nginx", 8080, &facts));
        assert!(expected("prometheus", false, "postgresql", 9187, &facts));
        assert!(!expected(
            "stranger-elsewhere",
            false,
            "redis",
            9121,
            &facts
        ));
        assert!(!expected("prometheus", false, "postgresql", 5432, &facts));
        assert!(!expected(
            "stranger-elsewhere",
            false,
            "nginx",
            8080,
            &facts
        ));
        assert!(expected("celery-worker", true, "internet", 443, &facts));
        assert!(!expected("celery-beat", true, "internet", 443, &facts));
        assert!(!expected("django", true, "metadata", 80, &facts));
        assert!(!expected("redis", true, "dns", 53, &facts));
        assert!(expected("credentials", true, "api-server", 6443, &facts));
        assert!(!expected("django", true, "api-server", 443, &facts));
        assert!(!expected("credentials", true, "metadata", 80, &facts));
        assert!(expected("celery-worker", true, "smtp", 587, &facts));
        assert!(!expected("celery-beat", true, "smtp", 587, &facts));
        assert!(expected("django", true, "login-provider", 443, &facts));
        assert!(!expected(
            "celery-worker",
            true,
            "login-provider",
            443,
            &facts
        ));
        assert!(expected("backup", true, "s3", 443, &facts));
        assert!(!expected("init", true, "s3", 443, &facts));
        assert!(expected(
            "backup",
            true,
            "external-postgresql",
            5432,
            &facts
        ));
        assert!(!expected("backup", true, "redis", 6379, &facts));
        let open = Facts {
            nginx_open: true,
            outside: false,
            api_server_anywhere: false,
            restore: true,
        };
        assert!(expected("stranger-elsewhere", false, "nginx", 8080, &open));
        assert!(!expected("django", true, "nginx", 8080, &open));
        assert!(expected("init", true, "s3", 9000, &open));
    }

    #[test]
    fn url_ports_are_their_own_or_their_schemes() {
        assert_eq!(url_port("https://sso.example.org/realms/x"), 443);
        assert_eq!(url_port("http://127.0.0.1:8089/realms/x"), 8089);
        assert_eq!(url_port("http://objects.example.internal"), 80);
    }
}
