//! A real Prometheus (Debian's 2.42) with the scrape configuration the rendered PodMonitors
//! describe, as the Prometheus Operator would generate it, and the rendered PrometheusRule's
//! groups as its rules.

use crate::contract::inputs::Inputs;
use crate::manifest::Object;
use crate::process::{exec, free_port, start_container, Running};
use crate::project::NAMESPACE;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Prometheus {
    pub port: u16,
    _process: Running,
}

/// The scrape jobs of the rendered PodMonitors. Each monitor's selector picks the rendered
/// workload whose pods it matches; its endpoint names a port of that pod, which must exist; the
/// target is the local port of the component's exporter (`local`). Labels as the operator gives
/// them: namespace, pod, container, endpoint, job `<namespace>/<monitor>`, and the monitor's
/// podTargetLabels taken from the pod's labels; its relabelings as relabel_configs.
pub fn scrape_jobs(inputs: &Inputs, local: &BTreeMap<String, u16>) -> Result<Vec<Value>, String> {
    let mut jobs = Vec::new();
    for monitor in inputs.objects.iter().filter(|o| o.kind == "PodMonitor") {
        let spec = &monitor.value["spec"];
        let selector = &spec["selector"]["matchLabels"];
        let workload = selected(inputs, selector).ok_or(format!(
            "PodMonitor {} selects no rendered workload's pods",
            monitor.name
        ))?;
        let template = workload.pod_template().ok_or("no pod template")?;
        let pod_labels = &template["metadata"]["labels"];
        let component = pod_labels["app.kubernetes.io/component"]
            .as_str()
            .unwrap_or_default();
        for (i, endpoint) in spec["podMetricsEndpoints"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let port_name = endpoint["port"].as_str().unwrap_or_default();
            let has_port = crate::manifest::containers(&template["spec"])
                .flat_map(|(_, c)| c["ports"].as_array().into_iter().flatten())
                .any(|p| p["name"] == port_name);
            if !has_port {
                return Err(format!(
                    "PodMonitor {} scrapes port {port_name:?}, which {} {}'s pods do not have",
                    monitor.name, workload.kind, workload.name
                ));
            }
            let target = local
                .get(component)
                .ok_or(format!("no exporter of {component} runs here"))?;
            let pod = match workload.kind.as_str() {
                "StatefulSet" => format!("{}-0", workload.name),
                _ => format!("{}-contract", workload.name),
            };
            let mut labels = json!({
                "namespace": NAMESPACE, "pod": pod, "container": "metrics", "endpoint": port_name,
                "job": format!("{NAMESPACE}/{}", monitor.name),
            });
            for key in spec["podTargetLabels"].as_array().into_iter().flatten() {
                let key = key.as_str().unwrap_or_default();
                if let Some(value) = pod_labels[key].as_str() {
                    labels[sanitized(key)] = json!(value);
                }
            }
            jobs.push(json!({
                "job_name": format!("podMonitor/{NAMESPACE}/{}/{i}", monitor.name),
                "scrape_interval": endpoint["interval"],
                "scrape_timeout": endpoint["scrapeTimeout"],
                "metrics_path": endpoint["path"],
                "static_configs": [{"targets": [format!("127.0.0.1:{target}")], "labels": labels}],
                "relabel_configs": relabel_configs(&endpoint["relabelings"]),
                "metric_relabel_configs": relabel_configs(&endpoint["metricRelabelings"]),
            }));
        }
    }
    Ok(jobs)
}

/// The rendered workload whose pod template carries every label of `selector`.
fn selected<'a>(inputs: &'a Inputs, selector: &Value) -> Option<&'a Object> {
    let wanted = selector.as_object()?;
    inputs.objects.iter().find(|o| {
        o.is_long_running()
            && o.pod_template()
                .is_some_and(|t| wanted.iter().all(|(k, v)| &t["metadata"]["labels"][k] == v))
    })
}

/// A label name as Prometheus makes it of a pod label's (`app.kubernetes.io/instance` ->
/// `app_kubernetes_io_instance`).
fn sanitized(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The operator's RelabelConfigs (camelCase) as Prometheus's relabel_configs.
fn relabel_configs(relabelings: &Value) -> Value {
    let keys = [
        ("sourceLabels", "source_labels"),
        ("separator", "separator"),
        ("targetLabel", "target_label"),
        ("regex", "regex"),
        ("modulus", "modulus"),
        ("replacement", "replacement"),
        ("action", "action"),
    ];
    let configs = relabelings.as_array().into_iter().flatten().map(|r| {
        let mut config = Map::new();
        for (from, to) in keys {
            if let Some(value) = r.get(from) {
                let value = match (from, value.as_str()) {
                    ("action", Some(action)) => json!(action.to_ascii_lowercase()),
                    _ => value.clone(),
                };
                config.insert(to.into(), value);
            }
        }
        Value::Object(config)
    });
    Value::Array(configs.collect())
}

/// The rendered PrometheusRule's groups, each alert's `for:` taken out: the contract causes a
/// condition and looks for its alert at once; how long each alert waits is what promtool's unit
/// tests check (`cargo xtask check`, step alerts).
pub fn rule_groups(inputs: &Inputs) -> Result<Value, String> {
    let rule = inputs
        .objects
        .iter()
        .find(|o| o.kind == "PrometheusRule")
        .ok_or("the metrics render has no PrometheusRule")?;
    let mut groups = rule.value["spec"]["groups"].clone();
    for group in groups.as_array_mut().into_iter().flatten() {
        for rule in group["rules"].as_array_mut().into_iter().flatten() {
            if let Some(rule) = rule.as_object_mut() {
                rule.remove("for");
            }
        }
    }
    Ok(groups)
}

/// Prometheus with these scrape jobs and rule groups, evaluating every second, its data in `dir`.
pub fn start(dir: &Path, jobs: Vec<Value>, groups: &Value) -> Result<Prometheus, String> {
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let rules = dir.join("rules.yaml");
    fs::write(&rules, json!({ "groups": groups }).to_string()).map_err(|e| e.to_string())?;
    let config = json!({
        "global": {"evaluation_interval": "1s"},
        "rule_files": [rules],
        "scrape_configs": jobs,
    });
    let config_file = dir.join("prometheus.yml");
    fs::write(&config_file, config.to_string()).map_err(|e| e.to_string())?;
    exec(
        Command::new("promtool")
            .args(["check", "config"])
            .arg(&config_file),
    )
    .map_err(|e| format!("promtool check config refuses the generated configuration: {e}"))?;
    let port = free_port()?;
    let process = start_container(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn"),
        "prometheus",
        port,
    )?;
    Ok(Prometheus {
        port,
        _process: process,
    })
}

impl Prometheus {
    fn get(&self, path: &str, query: Option<&str>) -> Result<Value, String> {
        let mut curl = Command::new("curl");
        curl.args(["-sS", "--fail-with-body", "-G"])
            .arg(format!("http://127.0.0.1:{}{path}", self.port));
        if let Some(q) = query {
            curl.args(["--data-urlencode", &format!("query={q}")]);
        }
        let body = exec(&mut curl)?;
        let value: Value =
            serde_json::from_str(&body).map_err(|e| format!("Prometheus's {path}: {e}: {body}"))?;
        if value["status"] != "success" {
            return Err(format!("Prometheus's {path} answered {body}"));
        }
        Ok(value["data"].clone())
    }

    /// The series an instant query returns.
    pub fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let data = self.get("/api/v1/query", Some(expr))?;
        Ok(data["result"].as_array().cloned().unwrap_or_default())
    }

    /// The alerts firing now.
    pub fn firing(&self) -> Result<Vec<Value>, String> {
        let data = self.get("/api/v1/alerts", None)?;
        Ok(data["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["state"] == "firing")
            .cloned()
            .collect())
    }

    /// Every scrape target's health: (job, health, last error).
    pub fn targets(&self) -> Result<Vec<(String, String, String)>, String> {
        let data = self.get("/api/v1/targets", None)?;
        Ok(data["activeTargets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                let text = |k: &str| t[k].as_str().unwrap_or_default().to_string();
                (
                    t["labels"]["job"].as_str().unwrap_or_default().to_string(),
                    text("health"),
                    text("lastError"),
                )
            })
            .collect())
    }

    /// Waits up to `limit` for `done` to give Some, asking every half second; its last Err if not.
    pub fn wait_for<T>(
        &self,
        limit: Duration,
        mut done: impl FnMut(&Prometheus) -> Result<Option<T>, String>,
    ) -> Result<T, String> {
        let deadline = Instant::now() + limit;
        loop {
            let last = done(self);
            if let Ok(Some(found)) = last {
                return Ok(found);
            }
            if Instant::now() > deadline {
                return Err(match last {
                    Err(e) => e,
                    _ => format!("not within {} s", limit.as_secs()),
                });
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}
