//! What a render asks of a cluster: the CPU and memory requests of its long-running pods, with
//! their replicas, so the report shows what each scenario needs before anyone installs it.

use crate::manifest::{containers, Object};

/// Millicores and bytes requested by the long-running containers of a render.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Requests {
    pub millicores: f64,
    pub bytes: f64,
}

impl Requests {
    pub fn describe(&self) -> String {
        format!(
            "{:.2} CPU, {:.2} GiB",
            self.millicores / 1000.0,
            self.bytes / (1u64 << 30) as f64
        )
    }
}

/// `helm install` with no values must fit a small cluster: 2 CPUs and 4 GiB of requests.
pub const DEFAULT_BUDGET: Requests = Requests {
    millicores: 2000.0,
    bytes: 4.0 * 1024.0 * 1024.0 * 1024.0,
};

pub fn fits_default_budget(requested: &Requests) -> Result<(), String> {
    if requested.millicores <= DEFAULT_BUDGET.millicores && requested.bytes <= DEFAULT_BUDGET.bytes
    {
        Ok(())
    } else {
        Err(format!(
            "the defaults request {}, more than the {} a small cluster has; lower the default requests (bigger numbers belong in values/ profiles)",
            requested.describe(),
            DEFAULT_BUDGET.describe()
        ))
    }
}

pub fn requested(objects: &[Object]) -> Requests {
    let mut total = Requests::default();
    for object in objects.iter().filter(|o| o.is_long_running()) {
        let replicas = object.value["spec"]["replicas"].as_f64().unwrap_or(1.0);
        let Some(spec) = object.pod_spec() else {
            continue;
        };
        for (_, c) in containers(spec).filter(|(list, _)| *list == "containers") {
            let requests = &c["resources"]["requests"];
            total.millicores += replicas * quantity(&requests["cpu"]).unwrap_or(0.0) * 1000.0;
            total.bytes += replicas * quantity(&requests["memory"]).unwrap_or(0.0);
        }
    }
    total
}

/// A Kubernetes quantity as a number of units (cores, bytes).
pub fn quantity(value: &serde_json::Value) -> Option<f64> {
    if let Some(n) = value.as_f64() {
        return Some(n);
    }
    let text = value.as_str()?;
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0f64.powi(4),
        _ => return None,
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse;
    use serde_json::json;

    #[test]
    fn budget() {
        assert!(fits_default_budget(&Requests {
            millicores: 1650.0,
            bytes: 3.6 * (1u64 << 30) as f64
        })
        .is_ok());
        let err = fits_default_budget(&Requests {
            millicores: 2500.0,
            bytes: 1.0,
        })
        .unwrap_err();
        assert!(
            err.contains("2.50 CPU") && err.contains("values/ profiles"),
            "{err}"
        );
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity(&json!("500m")), Some(0.5));
        assert_eq!(quantity(&json!("2")), Some(2.0));
        assert_eq!(quantity(&json!(1)), Some(1.0));
        assert_eq!(quantity(&json!("768Mi")), Some(768.0 * 1024.0 * 1024.0));
        assert_eq!(quantity(&json!("lots")), None);
    }

    #[test]
    fn sums_replicas_of_long_running_containers_only() {
        let render = "---\n# Source: a\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  replicas: 2\n  template:\n    spec:\n      initContainers: [{name: i, resources: {requests: {cpu: '1', memory: 1Gi}}}]\n      containers: [{name: c, resources: {requests: {cpu: 250m, memory: 512Mi}}}]\n---\n# Source: b\napiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      containers: [{name: c, resources: {requests: {cpu: '4', memory: 4Gi}}}]\n";
        let total = requested(&parse(render).unwrap());
        assert_eq!(total.describe(), "0.50 CPU, 1.00 GiB");
    }
}
