//! What the contract reads from the render, and the only changes it makes to it.

use crate::manifest::{self, Object};
use crate::project::{NAMESPACE, RELEASE};
use serde_json::Value;
use std::collections::BTreeMap;

/// The only changes made to what the chart renders, to run it as local processes.
#[derive(Clone)]
pub struct Mapping {
    /// In-cluster service host:port -> 127.0.0.1:port.
    pub hosts: Vec<(String, String)>,
    /// Paths inside the containers -> folders of this run, replaced in this order.
    pub paths: Vec<(String, String)>,
}

impl Mapping {
    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (from, to) in self.hosts.iter().chain(self.paths.iter()) {
            out = out.replace(from, to);
        }
        out
    }
}

pub fn service(component: &str, port: u16) -> String {
    format!("{RELEASE}-{component}.{NAMESPACE}.svc:{port}")
}

/// The rendered objects of the contract's release.
pub struct Inputs {
    pub objects: Vec<Object>,
}

impl Inputs {
    pub fn find(&self, kind: &str, name: &str) -> Result<&Object, String> {
        self.objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
            .ok_or_else(|| format!("the render has no {kind} {name}"))
    }

    pub fn config(&self, name: &str, key: &str) -> Result<String, String> {
        self.find("ConfigMap", name)?.value["data"][key]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("ConfigMap {name} has no key {key}"))
    }

    pub fn secret(&self, name: &str, key: &str) -> Result<String, String> {
        let encoded = self.find("Secret", name)?.value["data"][key]
            .as_str()
            .ok_or_else(|| format!("Secret {name} has no key {key}"))?
            .to_string();
        crate::policy::base64_decode(&encoded)
            .ok_or_else(|| format!("Secret {name} key {key} is not base64 text"))
    }

    /// The name of the render's init Job (its name carries a hash of its inputs).
    pub fn init_job(&self) -> Result<String, String> {
        let prefix = format!("{}-init-", crate::project::RELEASE);
        self.objects
            .iter()
            .find(|o| o.kind == "Job" && o.name.starts_with(&prefix))
            .map(|o| o.name.clone())
            .ok_or_else(|| "the render has no init Job".into())
    }

    /// The command and args of one container of the render.
    pub fn command(&self, kind: &str, name: &str, container: &str) -> Result<Vec<String>, String> {
        let c = self.container(kind, name, container)?;
        Ok(c["command"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(c["args"].as_array().into_iter().flatten())
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect())
    }

    pub fn container(&self, kind: &str, name: &str, container: &str) -> Result<&Value, String> {
        let object = self.find(kind, name)?;
        let spec = object
            .pod_spec()
            .ok_or_else(|| format!("{kind} {name} has no pod spec"))?;
        manifest::containers(spec)
            .find(|(_, c)| c["name"] == container)
            .map(|(_, c)| c)
            .ok_or_else(|| format!("{kind} {name} has no container {container}"))
    }

    /// The env of a container, with values from the release's Secrets resolved.
    pub fn env(
        &self,
        kind: &str,
        name: &str,
        container: &str,
    ) -> Result<BTreeMap<String, String>, String> {
        let c = self.container(kind, name, container)?;
        let mut env = BTreeMap::new();
        for var in c["env"].as_array().into_iter().flatten() {
            let key = var["name"].as_str().unwrap_or_default().to_string();
            let value = if let Some(v) = var["value"].as_str() {
                v.to_string()
            } else if let Value::Object(r) = &var["valueFrom"]["secretKeyRef"] {
                self.secret(
                    r["name"].as_str().unwrap_or_default(),
                    r["key"].as_str().unwrap_or_default(),
                )?
            } else {
                continue;
            };
            env.insert(key, value);
        }
        Ok(env)
    }
}

/// Fails, naming the container and the variable, unless `env` has every one of `names`.
pub fn require(
    env: &BTreeMap<String, String>,
    container: &str,
    names: &[&str],
) -> Result<(), String> {
    match names.iter().find(|n| !env.contains_key(**n)) {
        None => Ok(()),
        Some(missing) => Err(format!(
            "the {container} container's environment has no {missing}, which it needs"
        )),
    }
}

/// `bytes` random bytes as hex, for the secrets an operator would make.
pub fn random_hex(bytes: usize) -> Result<String, String> {
    use std::io::Read;
    let mut buffer = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buffer))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

/// A Secret as an operator creates it (`kubectl create secret generic`): the chart names it and
/// never renders it, so the contract adds it to the render's objects.
pub fn operator_secret(name: &str, data: &[(&str, &str)]) -> Object {
    let data: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Value::String(crate::policy::base64_encode(v.as_bytes())),
            )
        })
        .collect();
    Object {
        source: "(the operator's, not rendered)".into(),
        api_version: "v1".into(),
        kind: "Secret".into(),
        name: name.into(),
        value: serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "type": "Opaque",
            "data": data,
        }),
    }
}
