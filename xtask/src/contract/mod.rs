//! `cargo xtask contract`: what the chart renders, run by the real programs on this machine.
//!
//! Inputs come from the rendered chart (the defaults, with the render pins): the nginx
//! configuration from its ConfigMap, the database init script from its ConfigMap, Redis's
//! configuration and command from its ConfigMap and StatefulSet, passwords from the rendered
//! Secrets. Only host names, ports and paths are changed, in `Mapping` below, so the programs can
//! run as local processes on 127.0.0.1 in a temporary folder; everything is stopped and removed
//! at the end. GeoServer is on no registry reachable here: `/geoserver` reaches a recording
//! stand-in, and so does `/` until GeoNode itself runs here.

pub(crate) mod geonode;
pub(crate) mod geoserver;
pub(crate) mod inputs;
mod jdbc;
mod logs;
mod map_routing;
pub(crate) mod metrics;
pub(crate) mod nginx;
pub(crate) mod postgresql;
pub(crate) mod redis;
pub mod s3;
pub(crate) mod software;

use crate::error::{Context, Error};
use crate::process::chmod;
use crate::project::Project;
use crate::report::Report;
use inputs::Inputs;
use std::time::Instant;

/// Values for the contract render on top of the defaults and pins: a small upload limit, so
/// "an upload over the limit gets 413" needs no 10 GB request.
const CONTRACT_SETS: &[&str] = &["nginx.maxBodySize=1m"];
/// A second render, with another upload limit (see geonode-init).
const CHANGED_SETS: &[&str] = &["nginx.maxBodySize=2m"];
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The parts `--parts` may name, in the order they run.
pub const PARTS: &[&str] = &[
    "postgresql",
    "redis",
    "nginx",
    "metrics",
    "geoserver",
    "geonode",
];

/// Runs the parts named in `only` (all when it is empty), and the servers they need.
pub fn run(project: &Project, only: &[String]) -> Result<Report, Error> {
    let wanted = |part: &str| {
        only.is_empty()
            || only.iter().any(|p| p == part)
            || (matches!(part, "postgresql" | "redis") && only.iter().any(|p| p == "geonode"))
    };
    let started = Instant::now();
    let mut report = Report::default();
    let mut inputs = None;
    report.step("software", |step| match software::install() {
        Ok(versions) => {
            step.passed += 1;
            step.detail = versions;
        }
        Err(e) => step.fail(e.to_string()),
    });
    let mut changed_limit = String::new();
    let mut variants = None;
    let mut with_metrics = None;
    report.step("render", |step| {
        let result = (|| -> Result<Vec<crate::manifest::Object>, String> {
            // Each render with the operator's Secret of the OIDC client's secret (named by
            // geonode.oidc.clientSecret in tests/contract/values.yaml): the chart never renders it.
            let oidc_secret = geonode::oidc::operator_secret()?;
            let render = |sets: &[&str]| -> Result<Vec<crate::manifest::Object>, String> {
                let mut objects = software::render(project, sets)?;
                objects.push(oidc_secret.clone());
                Ok(objects)
            };
            let objects = render(CONTRACT_SETS)?;
            // And for an external PostgreSQL over TLS (see geonode/database_tls.rs).
            // And with backups and a restore (see geonode/backup.rs).
            let with = |more: &[&'static str]| -> Result<Inputs, String> {
                let sets: Vec<&str> = CONTRACT_SETS.iter().chain(more).copied().collect();
                Ok(Inputs { objects: render(&sets)? })
            };
            // Through S3 too, with the access key in the operator's Secret.
            let s3_keys = (inputs::random_hex(10)?, inputs::random_hex(20)?);
            let in_the_bucket = |sets: &[&'static str]| -> Result<Inputs, String> {
                let mut inputs = with(&[geonode::S3_TARGET, sets].concat())?;
                inputs.objects.push(inputs::operator_secret(
                    geonode::S3_SECRET,
                    &[("access-key-id", &s3_keys.0), ("secret-access-key", &s3_keys.1)],
                ));
                Ok(inputs)
            };
            // With metrics, alerts and the dashboard on (see metrics/).
            with_metrics = Some(with(metrics::SETS)?);
            let s3 = in_the_bucket(geonode::BACKUP_SETS)?;
            let import_s3 = in_the_bucket(geonode::IMPORT_SETS)?;
            variants = Some(geonode::Variants {
                tls: with(geonode::TLS_SETS)?,
                backup: with(geonode::BACKUP_SETS)?,
                s3,
                s3_keys,
                no_email: with(geonode::NO_EMAIL_SETS)?,
                memcached: with(geonode::MEMCACHED_SETS)?,
                readers: with(map_routing::READER_SETS)?,
                import: with(geonode::IMPORT_SETS)?,
                import_s3,
            });
            // The same with another upload limit: GeoNode's limits must follow it, so the init
            // Job (named by a hash of its inputs) must be a new one.
            let changed = Inputs {
                objects: render(CHANGED_SETS)?,
            };
            let job = |objects: &[crate::manifest::Object]| {
                objects
                    .iter()
                    .find(|o| o.kind == "Job")
                    .map(|o| o.name.clone())
            };
            if job(&objects) == job(&changed.objects) {
                return Err(format!(
                    "the init Job keeps its name when {} changes, so it would not run again",
                    CHANGED_SETS.join(", ")
                ));
            }
            changed_limit = changed
                .env(
                    "Deployment",
                    &format!("{}-django", crate::project::RELEASE),
                    "django",
                )?
                .remove("DEFAULT_MAX_UPLOAD_SIZE")
                .ok_or("the django container has no DEFAULT_MAX_UPLOAD_SIZE")?;
            Ok(objects)
        })();
        match result {
            Ok(objects) => {
                step.passed += 1;
                step.detail = format!(
                    "{} objects from the defaults with pins, tests/contract/values.yaml (GeoNode as a site's own project) and {}, with the operator's OIDC client Secret; again with {}; and for an external PostgreSQL over TLS, backups to a volume, backups to S3, metrics on",
                    objects.len(),
                    CONTRACT_SETS.join(", "),
                    CHANGED_SETS.join(", ")
                );
                inputs = Some(objects);
            }
            Err(e) => step.fail(e),
        }
    });
    if let Some(objects) = inputs {
        let work = tempfile::Builder::new()
            .prefix("geonode-contract-")
            .tempdir()
            .context("creating a work folder")?;
        // The postgres user must reach the folder: PostgreSQL refuses to run as root.
        chmod(work.path(), 0o755)?;
        crate::process::keep_container_logs(&logs::folder(work.path())).map_err(Error::msg)?;
        let inputs = Inputs { objects };
        let (mut database, mut broker) = (None, None);
        if wanted("postgresql") {
            report.step("postgresql", |step| {
                database = postgresql::run(&inputs, work.path(), step)
            });
        }
        if wanted("redis") {
            report.step("redis", |step| {
                broker = redis::run(&inputs, work.path(), step)
            });
        }
        if wanted("nginx") {
            report.step("nginx", |step| nginx::run(&inputs, work.path(), step));
            if let Some(variants) = &variants {
                report.step("nginx-readers", |step| {
                    map_routing::run(&variants.readers, work.path(), step)
                });
            }
        }
        if let (true, Some(with_metrics)) = (wanted("metrics"), &with_metrics) {
            metrics::run(with_metrics, work.path(), &mut report);
        }
        if let (true, Some(variants)) = (wanted("geoserver"), &variants) {
            let renders = (&variants.tls, &variants.readers);
            geoserver::run(project, &inputs, renders, work.path(), &mut report);
        }
        let mut geonode_ran = false;
        if let (true, Some(database), Some(broker), Some(variants)) =
            (wanted("geonode"), &database, &broker, &variants)
        {
            geonode::run(
                &inputs,
                variants,
                &changed_limit,
                work.path(),
                database.port,
                broker.ports(),
                &mut report,
            );
            geonode_ran = true;
        }
        // Last: what every part's programs printed.
        report.step("credentials-in-logs", |step| {
            let mut renders = vec![&inputs];
            if let Some(v) = &variants {
                renders.extend([&v.tls, &v.backup, &v.s3, &v.no_email]);
            }
            let carried: &[(&str, &str)] = if geonode_ran {
                &[("nginx.log", "/geoserver/ows?[query not logged"), ("django.log", "/gs/ows")]
            } else {
                &[]
            };
            let database = database.as_ref().filter(|_| geonode_ran).map(|d| d.port);
            logs::run(&renders, database, carried, step);
            step.detail = "what the chart's programs printed (nginx, PostgreSQL, Redis, uwsgi, Celery, the init Job, the gate, backup and restore, GeoServer's scripts) holds no value of any rendered Secret, no token GeoNode issued, no password-reset link; the requests that carried a token are there".into();
        });
    }
    report.finish(started.elapsed());
    Ok(report)
}
