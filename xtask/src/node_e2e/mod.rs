//! `cargo xtask node-e2e`: the chart on a real node. The harness's control plane with one node
//! of kubelet, containerd and runc (built from pinned sources, `crate::node`) instead of kwok's,
//! the images built here from Debian's packages (`crate::node::images`). Every container runs
//! with the chart's security context in a namespace enforcing Pod Security "restricted".

mod backup;
mod client;
mod geoserver;
mod readers;
mod resilience;
mod site;
mod volumes;

use crate::cluster::{ControlPlane, Options};
use crate::error::Error;
use crate::helm::Helm;
use crate::node::config::NODE_IP;
use crate::node::host::Host;
use crate::node::images::{recipes, Built};
use crate::node::{programs, Node};
use crate::project::Project;
use crate::report::{Report, Step};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The node's folder: fixed, so a run cleans what a killed one left.
fn node_dir() -> PathBuf {
    crate::project::workspace_root()
        .join(".cache")
        .join("node-e2e")
}

/// Builds every image the chart's defaults run (two at a time: mmdebstrap mostly waits on
/// downloads and dpkg). Not memcached: it is off by default, and turning it on rolls Django,
/// whose second pod (0.5 CPU) does not fit beside the first on a 2-CPU node.
pub fn build_images(project: &Project) -> Result<Vec<Built>, Error> {
    programs::ensure_debian_packages()?;
    let recipes = vec![
        recipes::pause(),
        recipes::nginx(),
        recipes::redis(),
        recipes::postgis(project)?,
        crate::node::images::geoserver_recipe(project)?,
        crate::node::images::geonode_recipe()?,
    ];
    crate::parallel::map_with(2, &recipes, recipes::Recipe::build)
        .into_iter()
        .collect()
}

/// What the phases share.
pub struct Ctx<'a> {
    project: &'a Project,
    plane: &'a ControlPlane,
    helm: Helm,
}

impl Ctx<'_> {
    fn helm(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = self.helm.command(Some(&self.plane.kubeconfig));
        cmd.args(args);
        crate::cluster::run(cmd)
    }

    /// `helm install` or `helm upgrade` of the release with the node's values and `sets`
    /// (`path=value`), waiting for every workload and Job.
    fn release(&self, verb: &str, sets: &[&str]) -> Result<String, String> {
        let (chart, values) = (self.chart(), self.values());
        let mut args = vec![
            verb,
            site::RELEASE,
            &chart,
            "-n",
            site::NAMESPACE,
            "-f",
            &values,
        ];
        for set in sets {
            args.extend(["--set", set]);
        }
        args.extend(["--wait", "--wait-for-jobs", site::WAIT]);
        self.helm(&args)
    }

    fn chart(&self) -> String {
        self.project.chart.display().to_string()
    }

    /// The values file that points the chart at the node's images.
    fn values(&self) -> String {
        self.project
            .root
            .join("tests/node-e2e/values.yaml")
            .display()
            .to_string()
    }

    fn pods(&self) -> Vec<Value> {
        self.plane.items("pods", site::NAMESPACE)
    }

    /// What an operator looks at when the site does not come up: the pods, the namespace's
    /// latest events, and the end of the logs of every container not ready.
    fn diagnose(&self) -> String {
        let mut text = self
            .plane
            .kubectl(&["get", "pods", "-n", site::NAMESPACE, "-o", "wide"])
            .unwrap_or_else(|e| e);
        let events = self
            .plane
            .kubectl(&[
                "get",
                "events",
                "-n",
                site::NAMESPACE,
                "--sort-by=.lastTimestamp",
            ])
            .unwrap_or_default();
        let tail: Vec<&str> = events.lines().rev().take(25).collect();
        text.push_str("\nlatest events:\n");
        text.push_str(&tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        for pod in self.pods() {
            let name = pod["metadata"]["name"].as_str().unwrap_or("?");
            let statuses = pod["status"]["initContainerStatuses"]
                .as_array()
                .into_iter()
                .chain(pod["status"]["containerStatuses"].as_array())
                .flatten();
            for status in statuses {
                if status["ready"] == true || status["state"]["terminated"]["exitCode"] == 0 {
                    continue;
                }
                let container = status["name"].as_str().unwrap_or("?");
                for previous in ["--previous=false", "--previous=true"] {
                    if let Ok(log) = self.plane.kubectl(&[
                        "logs",
                        "-n",
                        site::NAMESPACE,
                        name,
                        "-c",
                        container,
                        "--tail=25",
                        previous,
                    ]) {
                        text.push_str(&format!("\n--- {name}/{container} ({previous}):\n{log}"));
                    }
                }
            }
        }
        text
    }
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
            step.notes = built
                .iter()
                .map(|b| {
                    format!(
                        "{} differs from the official image: {}",
                        b.reference, b.differences
                    )
                })
                .collect();
            images = built;
        }
        Err(e) => step.fail(e.to_string()),
    });
    let Some(programs) = programs.filter(|_| !images.is_empty()) else {
        report.finish(started.elapsed());
        return Ok(report);
    };
    let tools = crate::tools::ensure()?;
    let helm = Helm::all(&tools).pop().expect("Helm 4 is pinned");
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
    if let (Some(plane), Some(node)) = (&plane, &mut node) {
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    volumes::provision(plane, &host.dir);
                    std::thread::sleep(Duration::from_secs(1));
                }
            });
            report.add(Step::timed("node-smoke", |step| site::smoke(plane, step)));
            let ctx = Ctx {
                project,
                plane,
                helm: helm.clone(),
            };
            // A node that cannot run the smoke pod would fail the chart for its own reasons.
            if report.failed() == 0 {
                report.add(Step::timed("install", |step| site::install(&ctx, step)));
            }
            if report.failed() == 0 {
                report.add(Step::timed("containers", |step| {
                    site::containers(&ctx, step)
                }));
                report.add(Step::timed("shared-volumes", |step| {
                    site::shared_volumes(&ctx, step)
                }));
                report.add(Step::timed("helm-test", |step| site::helm_test(&ctx, step)));
                // kubelet restarted first: the killed pods' replacements are then the new
                // kubelet's work.
                report.add(Step::timed("kubelet-restarted", |step| {
                    resilience::kubelet_restarted(&ctx, node, step)
                }));
                report.add(Step::timed("pods-killed", |step| {
                    resilience::pods_killed(&ctx, step)
                }));
                report.add(Step::timed("upgrade-under-load", |step| {
                    resilience::upgrade_under_load(&ctx, step)
                }));
                report.add(Step::timed("geoserver-upgrade-one-at-a-time", |step| {
                    geoserver::upgrade_one_at_a_time(&ctx, step)
                }));
                report.add(Step::timed("geoserver-hang-restarted", |step| {
                    geoserver::hang_restarted(&ctx, step)
                }));
                report.add(Step::timed("geoserver-read-replicas", |step| {
                    readers::followed(&ctx, step)
                }));
                report.add(Step::timed("backup", |step| backup::backup_now(&ctx, step)));
            }
            stop.store(true, Ordering::Relaxed);
        });
    }
    drop(node);
    drop(plane);
    drop(host);
    report.finish(started.elapsed());
    Ok(report)
}
