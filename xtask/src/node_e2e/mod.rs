//! `cargo xtask node-e2e`: the chart on a real node. The harness's control plane with one node
//! of kubelet, containerd and runc (built from pinned sources, `crate::node`) instead of kwok's,
//! the images built here from Debian's packages (`crate::node::images`). Every container runs
//! with the chart's security context in a namespace enforcing Pod Security "restricted".

mod volumes;

use crate::cluster::{ControlPlane, Options};
use crate::error::Error;
use crate::node::config::NODE_IP;
use crate::node::host::Host;
use crate::node::images::{recipes, Built};
use crate::node::{programs, Node};
use crate::project::Project;
use crate::report::{Report, Step};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The node's folder: fixed, so a run cleans what a killed one left.
fn node_dir() -> PathBuf {
    crate::workspace_root().join(".cache").join("node-e2e")
}

/// Builds every image the chart's defaults run (two at a time: mmdebstrap mostly waits on
/// downloads and dpkg).
pub fn build_images(project: &Project) -> Result<Vec<Built>, Error> {
    let recipes = vec![
        recipes::pause(),
        recipes::nginx(),
        recipes::redis(),
        recipes::memcached(),
        recipes::postgis(project)?,
    ];
    crate::parallel::map_with(2, &recipes, recipes::Recipe::build)
        .into_iter()
        .collect()
}

pub fn run(project: &Project) -> Result<Report, Error> {
    let started = Instant::now();
    let mut report = Report::default();
    let mut programs = None;
    report.step("node-programs", |step| match programs::ensure() {
        Ok(p) => {
            step.passed += 1;
            step.detail = format!(
                "kubelet, kube-proxy {}, containerd {}, runc {}, CoreDNS {}",
                crate::cluster::binaries::KUBERNETES_VERSION,
                programs::CONTAINERD.version,
                programs::RUNC.version,
                programs::COREDNS.version
            );
            programs = Some(p);
        }
        Err(e) => step.fail(e.to_string()),
    });
    let mut images = Vec::new();
    report.step("node-images", |step| match build_images(project) {
        Ok(built) => {
            step.passed += built.len();
            step.detail = built
                .iter()
                .map(|b| format!("{} ({:.0} s)", b.reference, b.seconds))
                .collect::<Vec<_>>()
                .join(", ");
            images = built;
        }
        Err(e) => step.fail(e.to_string()),
    });
    let Some(programs) = programs.filter(|_| !images.is_empty()) else {
        report.finish(started.elapsed());
        return Ok(report);
    };
    let dir = node_dir();
    let host = Host::prepare(&dir)?;
    let mut plane = None;
    let mut node = None;
    report.step("node-start", |step| {
        let result = ControlPlane::start_with(
            &dir.join("control-plane"),
            true,
            &Options {
                address: NODE_IP,
                fake_nodes: 0,
            },
        )
        .and_then(|p| {
            let n = Node::start(&host.dir, &p, programs, &images)?;
            Ok((p, n))
        });
        match result {
            Ok((p, n)) => {
                step.passed += 1;
                step.detail = format!("{} images imported; node Ready", images.len());
                plane = Some(p);
                node = Some(n);
            }
            Err(e) => step.fail(e.to_string()),
        }
    });
    if let (Some(plane), Some(_node)) = (&plane, &node) {
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    volumes::provision(plane, &host.dir);
                    std::thread::sleep(Duration::from_secs(1));
                }
            });
            report.add(Step::timed("node-smoke", |step| smoke(plane, step)));
            stop.store(true, Ordering::Relaxed);
        });
    }
    drop(node);
    drop(plane);
    drop(host);
    report.finish(started.elapsed());
    Ok(report)
}

/// A restricted pod on the node: runs as its user with a read-only root, turns Ready on its own
/// probe, and resolves a Service name through the cluster's DNS.
fn smoke(plane: &ControlPlane, step: &mut Step) {
    let manifest = format!(
        r#"apiVersion: v1
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
    seccompProfile: {{type: RuntimeDefault}}
  containers:
  - name: smoke
    image: localhost/node-e2e/nginx:bookworm
    imagePullPolicy: Never
    command: ["sh", "-c", "id -u > /tmp/id && exec sleep 3600"]
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {{drop: [ALL]}}
    readinessProbe:
      exec: {{command: ["cat", "/tmp/id"]}}
      periodSeconds: 1
    volumeMounts: [{{name: tmp, mountPath: /tmp}}]
  volumes: [{{name: tmp, emptyDir: {{}}}}]
"#
    );
    let _ = NODE_IP;
    let result = plane
        .kubectl_stdin(&["apply", "-f", "-"], &manifest)
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
            plane.kubectl(&["exec", "-n", "node-smoke", "smoke", "--", "cat", "/tmp/id"])
        });
    match result {
        Ok(id) if id.trim() == "101" => step.passed += 1,
        Ok(id) => step.fail(format!("the pod ran as uid {id}, not 101")),
        Err(e) => step.fail(e),
    }
}
