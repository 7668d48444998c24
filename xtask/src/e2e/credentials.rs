//! The credentials Job, played for real against the control plane, and what pods need of it.
//!
//! kwok marks the Job's pod Succeeded without running it, so the harness runs the Job's own
//! script (from the release's ConfigMap) with a token of the Job's own ServiceAccount: the
//! Secrets it creates and the rights its Role grants are the cluster's, not a model of them.
//! kwok also starts pods whose Secrets are missing, which a kubelet would not (the container
//! stays in CreateContainerConfigError): `refs_resolve` checks what the kubelet would.

use super::Ctx;
use crate::project::RELEASE;
use crate::report::Step;
use serde_json::Value;
use std::fs;
use std::process::Command;

/// After a helm command: the credentials Job played, then every pod's Secret keys checked.
pub fn settle(ctx: &Ctx, namespace: &str, step: &mut Step) {
    step.record(play_job(ctx, namespace).map(|_| ()));
    step.record(refs_resolve(ctx, namespace));
}

/// Runs the release's credentials Job script as its ServiceAccount; returns what it printed.
pub fn play_job(ctx: &Ctx, namespace: &str) -> Result<String, String> {
    let name = format!("{RELEASE}-credentials");
    let config = super::items(ctx, "configmaps", namespace)
        .into_iter()
        .find(|c| c["metadata"]["name"] == name.as_str());
    let Some(config) = config else {
        return Ok("no credentials Job (every credential given)".into());
    };
    let dir = tempfile::tempdir().map_err(|e| format!("a folder for the credentials Job: {e}"))?;
    let script_dir = dir.path().join("script");
    let account = dir.path().join("serviceaccount");
    for d in [&script_dir, &account] {
        fs::create_dir_all(d).map_err(|e| format!("creating {}: {e}", d.display()))?;
    }
    for key in ["ensure_generated.py", "plan.json"] {
        let text = config["data"][key]
            .as_str()
            .ok_or(format!("ConfigMap {name} has no {key}"))?;
        fs::write(script_dir.join(key), text).map_err(|e| e.to_string())?;
    }
    let token = ctx
        .plane
        .kubectl(&["create", "token", &name, "-n", namespace])
        .map_err(|e| format!("a token for ServiceAccount {name}: {e}"))?;
    let certificate = ctx.plane.dir.join("certs").join("apiserver.crt");
    fs::copy(&certificate, account.join("ca.crt"))
        .map_err(|e| format!("copying {}: {e}", certificate.display()))?;
    fs::write(account.join("token"), token.trim()).map_err(|e| e.to_string())?;
    fs::write(account.join("namespace"), namespace).map_err(|e| e.to_string())?;
    let mut python = Command::new("python3");
    python
        .arg(script_dir.join("ensure_generated.py"))
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", api_server_port(ctx)?)
        .env("SERVICE_ACCOUNT_DIR", &account)
        .env("RELEASE_NAME", RELEASE)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    crate::cluster::run(python).map_err(|e| format!("the credentials Job's script failed: {e}"))
}

/// The API server's port, from the control plane's kubeconfig.
fn api_server_port(ctx: &Ctx) -> Result<String, String> {
    let kubeconfig = fs::read_to_string(&ctx.plane.kubeconfig).map_err(|e| e.to_string())?;
    kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: https://127.0.0.1:"))
        .map(str::to_string)
        .ok_or("no API server address in the kubeconfig".into())
}

/// Every Secret key a pod of the namespace reads (env, envFrom is not used) exists and is not
/// empty: the kubelet would start no container otherwise.
pub fn refs_resolve(ctx: &Ctx, namespace: &str) -> Result<(), String> {
    let secrets = super::items(ctx, "secrets", namespace);
    let mut missing = Vec::new();
    let mut checked = 0;
    for pod in super::items(ctx, "pods", namespace) {
        let pod_name = pod["metadata"]["name"].as_str().unwrap_or("?");
        for (container, reference) in secret_refs(&pod["spec"]) {
            checked += 1;
            let (secret, key) = (
                reference["name"].as_str().unwrap_or(""),
                reference["key"].as_str().unwrap_or(""),
            );
            let found = secrets.iter().any(|s| {
                s["metadata"]["name"] == secret
                    && s["data"][key].as_str().is_some_and(|v| !v.is_empty())
            });
            if !found && reference["optional"] != true {
                missing.push(format!("{pod_name}/{container}: {secret}[{key}]"));
            }
        }
    }
    if checked == 0 {
        return Err("no pod reads a Secret: the credentials are not wired".into());
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "pods read Secret keys that do not exist (they would never start): {}",
            missing.join(", ")
        ))
    }
}

/// (container name, secretKeyRef) of every container of a pod spec.
fn secret_refs(spec: &Value) -> Vec<(String, Value)> {
    crate::manifest::containers(spec)
        .flat_map(|(_, container)| {
            let name = container["name"].as_str().unwrap_or("?").to_string();
            container["env"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|var| &var["valueFrom"]["secretKeyRef"])
                .filter(|reference| reference.is_object())
                .map(move |reference| (name.clone(), reference.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_refs_come_from_containers_and_init_containers() {
        let spec = serde_json::json!({
            "initContainers": [{"name": "wait", "env": [
                {"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "a"}}}]}],
            "containers": [{"name": "main", "env": [
                {"name": "B", "value": "plain"},
                {"name": "C", "valueFrom": {"secretKeyRef": {"name": "s", "key": "c"}}}]}]
        });
        let refs = secret_refs(&spec);
        let names: Vec<(&str, &str)> = refs
            .iter()
            .map(|(c, r)| (c.as_str(), r["key"].as_str().unwrap()))
            .collect();
        assert_eq!(names, [("wait", "a"), ("main", "c")]);
    }
}
