//! `cargo xtask e2e`: the chart's life on a real control plane. Install (Helm waits for every
//! workload and the init Job; the credentials Job's script creates the generated credentials),
//! upgrade with a changed setting (only the pods that use it roll, every Secret keeps its data),
//! re-apply as a GitOps tool does (two renders without a cluster are the same, and applying one
//! changes no Secret), upgrade from the previous commit's chart, roll back, uninstall (data
//! volumes, their Secrets and the backup volume stay) and install again on the kept data; where
//! backups are on, a Job made from their CronJob completes, and the reinstall restores the latest
//! backup in its init Job; then a server-side dry run
//! with strict field validation of every values file. The namespace enforces Pod Security
//! "restricted", so a pod the API server refuses fails the run.
//!
//! kwok plays the nodes: pods are scheduled and admitted for real, then marked Running and
//! Ready (and Job pods Succeeded) without running containers; probes and images are not run.

mod backup;
mod credentials;
mod docs_blocks;
pub mod oci;
mod placement;
mod server_side;
mod stand_ins;
mod upgrades;

use crate::cluster::binaries::MIGRATIONS_GATE;
use crate::cluster::ControlPlane;
use crate::error::Error;
use crate::helm::Helm;
use crate::project::{Project, Scenario, RELEASE};
use crate::report::{Report, Step};
use crate::tools;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const WAIT: &str = "--timeout=4m";
/// The empty namespace server-side dry runs go to.
const DRY_RUN_NAMESPACE: &str = "geonode-dry-run";

/// Nodes of the control plane: three amd64, one arm64 (see cluster::ControlPlane::create_nodes).
pub const NODES: usize = 4;

/// One release under test: a scenario in a namespace of its own.
struct Release {
    name: String,
    namespace: String,
    values: Vec<PathBuf>,
}

struct Ctx<'a> {
    project: &'a Project,
    plane: ControlPlane,
    helm: Helm,
}

pub fn run(project: &Project) -> Result<Report, Error> {
    let started = Instant::now();
    let mut report = Report::default();
    let tools = tools::ensure()?;
    let helms = Helm::all(&tools);
    let helm = helms.last().cloned().expect("Helm 4 is pinned");
    let cache = crate::project::workspace_root().join(".cache");
    remove_stale_runs(&cache);
    let dir = cache.join(format!("e2e-{}", std::process::id()));
    let mut plane = None;
    report.step("control-plane", |step| match ControlPlane::start(&dir, true, NODES) {
        Ok(p) => {
            step.passed += 1;
            step.detail = format!(
                "etcd, kube-apiserver, kube-controller-manager, kube-scheduler {}, kwok {}, {NODES} nodes (one arm64)",
                crate::cluster::binaries::KUBERNETES_VERSION,
                crate::cluster::binaries::KWOK_VERSION
            );
            plane = Some(p);
        }
        Err(e) => step.fail(e.to_string()),
    });
    let Some(plane) = plane else {
        report.finish(started.elapsed());
        return Ok(report);
    };
    let ctx = Ctx {
        project,
        plane,
        helm,
    };
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        // What the cluster lacks: a storage provisioner, and containers that run (the gate).
        scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                stand_ins::provision_volumes(&ctx);
                stand_ins::open_migrations_gates(&ctx);
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        // The docs' blocks use namespaces of their own (`docs<n>-geonode`), so they run beside
        // the other steps, which mostly wait on the control plane.
        let docs =
            scope.spawn(|| Step::timed("docs-shell-blocks", |step| docs_blocks::run(&ctx, step)));
        for scenario in ["default", "production-ha"] {
            let values: Vec<PathBuf> = if scenario == "default" {
                Vec::new()
            } else {
                vec![project.values_dir.join(format!("{scenario}.yaml"))]
            };
            let release = Release {
                name: scenario.to_string(),
                namespace: format!("geonode-e2e-{scenario}"),
                values,
            };
            lifecycle(&ctx, &release, &mut report);
        }
        for (label, previous) in upgrades::previous_charts(project) {
            report.step(format!("upgrade-from-{label}"), |step| {
                upgrades::upgrade_from_previous(&ctx, &previous, step)
            });
        }
        report.step("release-from-oci", |step| {
            oci::release_from_registry(&ctx, &helms, step)
        });
        report.step("server-dry-run", |step| {
            server_side::server_dry_run(&ctx, step)
        });
        report.step("negative-controls", |step| {
            server_side::negative_controls(&ctx, step)
        });
        match docs.join() {
            Ok(step) => report.add(step),
            Err(_) => report.step("docs-shell-blocks", |step| {
                step.fail("the docs' blocks panicked (see above)")
            }),
        }
        stop.store(true, Ordering::Relaxed);
    });
    report.finish(started.elapsed());
    Ok(report)
}

/// A run stopped by Ctrl-C (its processes die with it) leaves its folder: remove the folders of
/// runs whose process is gone.
fn remove_stale_runs(cache: &Path) {
    for entry in std::fs::read_dir(cache).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("e2e-") {
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

fn lifecycle(ctx: &Ctx, release: &Release, report: &mut Report) {
    let chart = ctx.project.chart.clone();
    let ns = release.namespace.as_str();
    let values: Vec<String> = release
        .values
        .iter()
        .flat_map(|v| ["-f".to_string(), v.display().to_string()])
        .collect();
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    let name = |what: &str| format!("{what} [{}]", release.name);
    report.step(name("install"), |step| {
        step.record(create_namespace(ctx, ns));
        step.record(helm_install(ctx, &chart, ns, &values));
        credentials::settle(ctx, ns, step);
        check_release(ctx, ns, step);
        step.record(check_migrations_first(ctx, ns));
        if backup::enabled(ctx, ns) {
            step.record(backup::backup_now(ctx, ns));
        }
    });
    let backups = backup::enabled(ctx, ns);
    let before = workload_templates(ctx, ns);
    let secrets_before = secret_data(ctx, ns);
    let jobs_before = init_job_names(ctx, ns);
    report.step(name("upgrade"), |step| {
        step.record(ctx.helm(&["upgrade", RELEASE, path(&chart), "-n", ns, "--wait", WAIT, "--reuse-values", "--set", UPGRADE_SET]).map(|_| ()));
        credentials::settle(ctx, ns, step);
        let after = workload_templates(ctx, ns);
        let rolled: Vec<&String> = after.iter().filter(|(k, v)| before.get(*k) != Some(v)).map(|(k, _)| k).collect();
        // nginx's limit, and GeoNode's (DEFAULT_MAX_UPLOAD_SIZE): nginx and GeoNode's pods roll,
        // and a new init Job (Helm removes the old) brings the limits stored in the database in line.
        step.record(if rolled.iter().map(|s| s.as_str()).eq(UPLOAD_LIMIT_ROLLS) {
            Ok(())
        } else {
            Err(format!("changing nginx.maxBodySize must roll {UPLOAD_LIMIT_ROLLS:?} and nothing else; these workloads changed: {rolled:?}"))
        });
        let jobs_after = init_job_names(ctx, ns);
        step.record(if jobs_after.len() == 1 && jobs_after.is_disjoint(&jobs_before) {
            Ok(())
        } else {
            Err(format!("changing nginx.maxBodySize must replace the init Job with a new one (GeoNode's stored upload limits follow it); Jobs before {jobs_before:?}, after {jobs_after:?}"))
        });
        step.record(if secret_data(ctx, ns) == secrets_before {
            Ok(())
        } else {
            Err("the upgrade changed the data of a Secret; credentials must be kept".into())
        });
        check_release(ctx, ns, step);
    });
    report.step(name("gitops-reapply"), |step| {
        gitops_reapply(ctx, ns, &values, &secrets_before, step)
    });
    report.step(name("rollback"), |step| {
        step.record(
            ctx.helm(&["rollback", RELEASE, "1", "-n", ns, "--wait", WAIT])
                .map(|_| ()),
        );
        step.record(if workload_templates(ctx, ns) == before {
            Ok(())
        } else {
            Err(
                "after `helm rollback` to revision 1 the workloads differ from the first install"
                    .into(),
            )
        });
        check_release(ctx, ns, step);
    });
    report.step(name("uninstall-keeps-data"), |step| {
        let mut kept = kept_objects();
        if backups {
            kept.push(("pvc", backup::claim()));
        }
        step.record(ctx.helm(&["uninstall", RELEASE, "-n", ns, "--wait", WAIT]).map(|_| ()));
        for (kind, object) in kept {
            step.record(ctx.plane.kubectl(&["get", kind, &object, "-n", ns]).map(|_| ()).map_err(|e| {
                format!("{kind} {object} must survive `helm uninstall` (it holds data or the key to it): {e}")
            }));
        }
    });
    report.step(name("reinstall"), |step| {
        // With backups, the reinstall also restores the latest one, as a site moving in would.
        let mut args = values.clone();
        if backups {
            args.extend_from_slice(&backup::RESTORE_SETS);
        }
        step.record(helm_install(ctx, &chart, ns, &args));
        if backups {
            step.record(backup::restore_admitted(ctx, ns));
        }
        credentials::settle(ctx, ns, step);
        step.record(if secret_data(ctx, ns) == secrets_before {
            Ok(())
        } else {
            Err("a reinstall generated new credentials instead of reusing the kept Secrets".into())
        });
        check_release(ctx, ns, step);
        step.record(
            ctx.helm(&["uninstall", RELEASE, "-n", ns, "--wait", WAIT])
                .map(|_| ()),
        );
    });
}

/// What the upgrade step changes (with --reuse-values).
const UPGRADE_SET: &str = "nginx.maxBodySize=5g";

/// What Argo CD, Flux with a plain render, or `helm template | kubectl apply` do: render without
/// a cluster, twice (the renders must be the same), and apply the render over the release. No
/// Secret may change, a re-run of the credentials Job keeps them, and every pod finds its keys.
fn gitops_reapply(
    ctx: &Ctx,
    ns: &str,
    values: &[&str],
    secrets_before: &BTreeMap<String, String>,
    step: &mut Step,
) {
    let chart = path(&ctx.project.chart);
    let mut args = vec![
        "template",
        RELEASE,
        chart,
        "-n",
        ns,
        "--skip-tests",
        "--set",
        UPGRADE_SET,
    ];
    args.extend_from_slice(values);
    let (first, second) = match (ctx.helm(&args), ctx.helm(&args)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return step.fail(format!("helm template: {e}")),
    };
    step.record(if first == second {
        Ok(())
    } else {
        Err("two renders without a cluster differ: a GitOps tool would change the release at every sync".into())
    });
    step.record(
        ctx.plane
            .kubectl_stdin(&["apply", "-n", ns, "-f", "-"], &first)
            .map(|_| ())
            .map_err(|e| format!("applying the render (kubectl apply): {e}")),
    );
    credentials::settle(ctx, ns, step);
    step.record(if secret_data(ctx, ns) == *secrets_before {
        Ok(())
    } else {
        Err("applying a render made without a cluster changed the data of a Secret".into())
    });
    check_release(ctx, ns, step);
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

/// Objects an uninstall must leave: the shared data volumes, the databases' claims, the
/// Secrets that open them.
fn kept_objects() -> Vec<(&'static str, String)> {
    vec![
        ("pvc", format!("{RELEASE}-statics")),
        ("pvc", format!("{RELEASE}-geoserver-data")),
        ("pvc", format!("data-{RELEASE}-postgresql-0")),
        ("pvc", format!("{RELEASE}-redis-data")),
        ("secret", format!("{RELEASE}-secrets")),
        ("secret", format!("{RELEASE}-postgresql")),
        ("secret", format!("{RELEASE}-redis")),
    ]
}

impl Ctx<'_> {
    fn helm(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = self.helm.command(Some(&self.plane.kubeconfig));
        cmd.args(args);
        crate::cluster::run(cmd)
    }
}

fn create_namespace(ctx: &Ctx, namespace: &str) -> Result<(), String> {
    let manifest = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/enforce-version: latest\n"
    );
    ctx.plane
        .kubectl_stdin(&["apply", "-f", "-"], &manifest)
        .map(|_| ())
}

fn helm_install(ctx: &Ctx, chart: &Path, namespace: &str, extra: &[&str]) -> Result<(), String> {
    let mut args = vec![
        "install",
        RELEASE,
        path(chart),
        "-n",
        namespace,
        "--wait",
        "--wait-for-jobs",
        WAIT,
    ];
    args.extend_from_slice(extra);
    ctx.helm(&args).map(|_| ()).map_err(|e| {
        format!(
            "helm install failed: {e}\n{}",
            why_not_ready(ctx, namespace)
        )
    })
}

/// What Kubernetes said about pods it could not create or schedule.
fn why_not_ready(ctx: &Ctx, namespace: &str) -> String {
    let columns = "custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message";
    ctx.plane
        .kubectl(&[
            "get",
            "events",
            "-n",
            namespace,
            "--field-selector=type=Warning",
            "-o",
            columns,
        ])
        .unwrap_or_default()
}

/// Every object of the release exists; every pod is Ready (or Succeeded, for the Job's).
fn check_release(ctx: &Ctx, namespace: &str, step: &mut Step) {
    match ctx.helm(&["get", "manifest", RELEASE, "-n", namespace]) {
        Err(e) => step.fail(format!("helm get manifest: {e}")),
        Ok(manifest) => step.record(
            ctx.plane
                .kubectl_stdin(
                    &["get", "-n", namespace, "-f", "-", "-o", "name"],
                    &manifest,
                )
                .map(|_| ())
                .map_err(|e| format!("not every rendered object exists on the server: {e}")),
        ),
    }
    let pods = ctx
        .plane
        .kubectl(&["get", "pods", "-n", namespace, "-o", "json"]);
    step.record(pods.and_then(|text| {
        let pods: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let items = pods["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return Err("the release has no pods".into());
        }
        let unready: Vec<String> = items
            .iter()
            .filter(|p| {
                let phase = p["status"]["phase"].as_str().unwrap_or("");
                let ready = p["status"]["conditions"].as_array().is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                });
                !(phase == "Succeeded" || (phase == "Running" && ready))
            })
            .map(|p| {
                format!(
                    "{} ({})",
                    p["metadata"]["name"].as_str().unwrap_or("?"),
                    p["status"]["phase"].as_str().unwrap_or("?")
                )
            })
            .collect();
        if unready.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "pods not Ready: {}\n{}",
                unready.join(", "),
                why_not_ready(ctx, namespace)
            ))
        }
    }));
    step.record(placement::architectures_respected(ctx, namespace));
}

/// The workloads a change of nginx.maxBodySize rolls, in name order.
const UPLOAD_LIMIT_ROLLS: [&str; 4] = [
    "Deployment/geonode-celery-beat",
    "Deployment/geonode-celery-worker",
    "Deployment/geonode-django",
    "Deployment/geonode-nginx",
];

/// The names of the init Jobs of a namespace.
fn init_job_names(ctx: &Ctx, namespace: &str) -> std::collections::BTreeSet<String> {
    items(ctx, "jobs", namespace)
        .iter()
        .filter(|j| j["metadata"]["labels"]["app.kubernetes.io/component"] == "init")
        .filter_map(|j| j["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

/// The items of `kubectl get <kinds> -o json` in a namespace (or all, with "").
fn items(ctx: &Ctx, kinds: &str, namespace: &str) -> Vec<Value> {
    ctx.plane.items(kinds, namespace)
}

/// Deployment and StatefulSet pod templates, by `Kind/name`.
fn workload_templates(ctx: &Ctx, namespace: &str) -> BTreeMap<String, String> {
    items(ctx, "deployments,statefulsets", namespace)
        .iter()
        .map(|o| {
            (
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or("?"),
                    o["metadata"]["name"].as_str().unwrap_or("?")
                ),
                o["spec"]["template"].to_string(),
            )
        })
        .collect()
}

/// The data of the namespace's Opaque Secrets, by name.
fn secret_data(ctx: &Ctx, namespace: &str) -> BTreeMap<String, String> {
    items(ctx, "secrets", namespace)
        .iter()
        .filter(|o| o["type"] == "Opaque")
        .map(|o| {
            (
                o["metadata"]["name"].as_str().unwrap_or("?").to_string(),
                o["data"].to_string(),
            )
        })
        .collect()
}

/// Django and Celery pods turn Ready only after the init Job completed.
fn check_migrations_first(ctx: &Ctx, namespace: &str) -> Result<(), String> {
    let completed: Vec<String> = items(ctx, "jobs", namespace)
        .iter()
        .filter(|j| j["metadata"]["labels"]["app.kubernetes.io/component"] == "init")
        .filter_map(|j| j["status"]["completionTime"].as_str().map(str::to_string))
        .collect();
    let Some(first_completion) = completed.iter().min() else {
        return Err("no completed init Job in the release".into());
    };
    let mut early = Vec::new();
    let mut ungated = Vec::new();
    let mut gated = 0;
    for pod in items(ctx, "pods", namespace) {
        let name = pod["metadata"]["name"].as_str().unwrap_or("?").to_string();
        let runs_geonode = ["django", "celery-worker", "celery-beat"]
            .iter()
            .any(|c| pod["metadata"]["labels"]["app.kubernetes.io/component"] == *c);
        if !pod["spec"]["initContainers"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["name"] == MIGRATIONS_GATE))
        {
            if runs_geonode {
                ungated.push(name);
            }
            continue;
        }
        gated += 1;
        let ready_at = pod["status"]["conditions"]
            .as_array()
            .and_then(|c| {
                c.iter()
                    .find(|c| c["type"] == "Ready" && c["status"] == "True")
            })
            .and_then(|c| c["lastTransitionTime"].as_str());
        // RFC 3339 times in UTC compare as text.
        if ready_at.is_some_and(|t| t < first_completion.as_str()) {
            early.push(name);
        }
    }
    if !ungated.is_empty() {
        return Err(format!(
            "Django/Celery pods without the {MIGRATIONS_GATE} init container: {}",
            ungated.join(", ")
        ));
    }
    if gated == 0 {
        return Err(format!(
            "no pod waits for migrations (no {MIGRATIONS_GATE} init container)"
        ));
    }
    if early.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "pods Ready before the init Job completed: {}",
            early.join(", ")
        ))
    }
}
