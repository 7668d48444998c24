//! The site on the node: `helm install --wait --wait-for-jobs` of the defaults (images only
//! overridden) into a namespace enforcing Pod Security "restricted", every container checked
//! from inside (its user, its root filesystem read-only where the chart says so), and
//! `helm test`.

use super::Ctx;
use crate::cluster::ControlPlane;
use crate::report::Step;
use serde_json::Value;

pub const NAMESPACE: &str = "geonode";
pub const RELEASE: &str = crate::project::RELEASE;
/// The first install runs GeoNode's migrations on two cores: minutes.
pub const WAIT: &str = "--timeout=20m";

pub fn install(ctx: &Ctx, step: &mut Step) {
    let namespace = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {NAMESPACE}\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/enforce-version: latest\n"
    );
    let result = ctx
        .plane
        .kubectl_stdin(&["apply", "-f", "-"], &namespace)
        .and_then(|_| ctx.release("install", &[]));
    match result {
        Ok(_) => step.passed += 1,
        Err(e) => step.fail(format!("helm install: {e}\n{}", ctx.diagnose())),
    }
}

/// Each running container, asked from inside: `id -u` is the user its security context names,
/// and its root filesystem refuses a write where the chart makes it read-only.
pub fn containers(ctx: &Ctx, step: &mut Step) {
    let pods = ctx.pods();
    let mut checked = 0;
    for pod in &pods {
        if pod["status"]["phase"] != "Running" {
            continue;
        }
        let name = pod["metadata"]["name"].as_str().unwrap_or("?");
        for container in pod["spec"]["containers"].as_array().into_iter().flatten() {
            let cname = container["name"].as_str().unwrap_or("?");
            let security = |key: &str| {
                let own = &container["securityContext"][key];
                if own.is_null() {
                    pod["spec"]["securityContext"][key].clone()
                } else {
                    own.clone()
                }
            };
            let uid = security("runAsUser");
            let read_only = security("readOnlyRootFilesystem") == Value::Bool(true);
            let answer = ctx.plane.kubectl(&[
                "exec",
                "-n",
                NAMESPACE,
                name,
                "-c",
                cname,
                "--",
                "sh",
                "-c",
                "id -u; if touch /.node-e2e 2>/dev/null; then rm -f /.node-e2e; echo writable; else echo read-only; fi",
            ]);
            let expected = format!(
                "{}\n{}",
                uid.as_i64().map(|u| u.to_string()).unwrap_or_default(),
                if read_only { "read-only" } else { "writable" }
            );
            match answer {
                Ok(text) if text.trim() == expected => checked += 1,
                Ok(text) => step.fail(format!(
                    "{name}/{cname}: answered {:?}, expected {expected:?} (uid, root filesystem)",
                    text.trim()
                )),
                Err(e) => step.fail(format!("{name}/{cname}: exec failed: {e}")),
            }
        }
    }
    if checked > 0 {
        step.passed += 1;
        step.detail = format!("{checked} containers: their users and read-only roots");
    } else if step.failures.is_empty() {
        step.fail("no running container to check");
    }
}

pub fn helm_test(ctx: &Ctx, step: &mut Step) {
    match ctx.helm(&["test", RELEASE, "-n", NAMESPACE, "--logs", "--timeout=5m"]) {
        Ok(out) => {
            step.passed += 1;
            step.detail = out
                .lines()
                .filter(|l| l.starts_with("ok: "))
                .collect::<Vec<_>>()
                .join("; ");
        }
        Err(e) => step.fail(format!("helm test: {e}\n{}", ctx.diagnose())),
    }
}

/// Before the chart: a restricted pod on the node runs as its user with a read-only root, turns
/// Ready on its own probe, and resolves a Service name through the cluster's DNS.
pub fn smoke(plane: &ControlPlane, step: &mut Step) {
    let manifest = r#"apiVersion: v1
kind: Namespace
metadata:
  name: node-smoke
  labels:
    pod-security.kubernetes.io/enforce: restricted
---
apiVersion: v1
kind: Pod
metadata:
  name: smoke
  namespace: node-smoke
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 101
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: smoke
    image: localhost/node-e2e/nginx:1.22-bookworm
    imagePullPolicy: Never
    command: ["sh", "-c", "id -u > /tmp/id && exec sleep 3600"]
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
    readinessProbe:
      exec: {command: ["cat", "/tmp/id"]}
      periodSeconds: 1
    volumeMounts: [{name: tmp, mountPath: /tmp}]
  volumes: [{name: tmp, emptyDir: {}}]
"#;
    let result = plane
        .kubectl_stdin(&["apply", "-f", "-"], manifest)
        .and_then(|_| {
            plane.kubectl(&[
                "wait",
                "-n",
                "node-smoke",
                "--for=condition=Ready",
                "pod/smoke",
                "--timeout=120s",
            ])
        })
        .and_then(|_| {
            plane.kubectl(&[
                "exec",
                "-n",
                "node-smoke",
                "smoke",
                "--",
                "sh",
                "-c",
                "cat /tmp/id && getent hosts kubernetes.default.svc.cluster.local",
            ])
        });
    match result {
        Ok(answer) if answer.split_whitespace().take(2).eq(["101", "10.96.0.1"]) => {
            step.passed += 1;
            step.detail = "uid 101, read-only root, kubernetes.default resolved by CoreDNS".into();
        }
        Ok(answer) => step.fail(format!(
            "the pod answered {answer:?}; expected its uid 101 and the kubernetes Service's 10.96.0.1"
        )),
        Err(e) => step.fail(e),
    }
}

/// The volumes GeoNode's pods share (statics, GeoServer's data) belong to GeoNode's group and
/// let it write, whichever pod mounted them first: kubelet gives a volume the fsGroup of the pod
/// that mounts it, and a `local` volume only at its first mount.
pub fn shared_volumes(ctx: &Ctx, step: &mut Step) {
    use std::os::unix::fs::MetadataExt;
    let group = ctx
        .plane
        .kubectl(&[
            "get",
            "deployment",
            &format!("{RELEASE}-django"),
            "-n",
            NAMESPACE,
            "-o",
            "jsonpath={.spec.template.spec.securityContext.fsGroup}",
        ])
        .unwrap_or_default();
    let mut seen = Vec::new();
    for claim in ["statics", "geoserver-data"] {
        let claim = format!("{RELEASE}-{claim}");
        let folder = match super::volumes::folder(ctx.plane, NAMESPACE, &claim) {
            Ok(f) => f,
            Err(e) => return step.fail(format!("{claim}: {e}")),
        };
        match std::fs::metadata(&folder) {
            Ok(meta) if meta.gid().to_string() == group.trim() && meta.mode() & 0o070 == 0o070 => {
                seen.push(format!(
                    "{claim} {}:{} {:o}",
                    meta.uid(),
                    meta.gid(),
                    meta.mode() & 0o7777
                ));
            }
            Ok(meta) => step.fail(format!(
                "{claim}'s volume ({}) is {}:{} mode {:o}: not writable by GeoNode's group {}",
                folder.display(),
                meta.uid(),
                meta.gid(),
                meta.mode() & 0o7777,
                group.trim()
            )),
            Err(e) => step.fail(format!("{}: {e}", folder.display())),
        }
    }
    if step.failures.is_empty() {
        step.passed += 1;
        step.detail = seen.join(", ");
    }
}
