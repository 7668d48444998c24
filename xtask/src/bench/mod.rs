//! `cargo xtask bench`: the chart's configuration against upstream's own (geonode-project's
//! uwsgi.ini and entrypoint steps, geonode-docker's nginx), on one site with the contract's real
//! software (GeoNode 5.1.1, PostgreSQL + PostGIS, Redis, nginx) on 127.0.0.1, in interleaved
//! rounds, plus the machine's ceiling for static files. It is a benchmark, not a test: it fails
//! only when something does not run, never on a time. It prints a table and writes it, with
//! every value, to `target/bench/bench.md` and `bench.json`.

mod load;
mod site;
mod stacks;
mod table;
mod upstream;

use crate::contract::{postgresql, redis, software};
use crate::error::{Context, Error};
use crate::project::Project;
use crate::report::Report;
use load::{Load, Request};
use stacks::Stack;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};
use table::{Figures, CEILING, CHART, CHART_PROCESS_CACHE, UPSTREAM};

/// How much to measure.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub rounds: usize,
    /// Seconds per load run.
    pub seconds: u64,
}

impl Options {
    pub const FULL: Options = Options {
        rounds: 5,
        seconds: 10,
    };
    /// One short round: what CI runs, so the bench cannot rot (3 s: a page that takes over a
    /// second on a busy machine still completes).
    pub const SMOKE: Options = Options {
        rounds: 1,
        seconds: 3,
    };
}

/// The pages under load: what a visitor's browser asks Django for.
fn pages(document: u64) -> Vec<(String, String)> {
    vec![
        ("API /api/v2/resources/".into(), "/api/v2/resources/".into()),
        ("home page /".into(), "/".into()),
        (
            "document detail /api/v2/documents/<pk>/".into(),
            format!("/api/v2/documents/{document}/"),
        ),
    ]
}
const CONCURRENCY: [u32; 2] = [8, 32];

pub fn run(project: &Project, options: Options) -> Result<Report, Error> {
    let started = Instant::now();
    let mut report = Report::default();
    report.step("software", |step| match software::install() {
        Ok(versions) => {
            step.passed += 1;
            step.detail = versions;
        }
        Err(e) => step.fail(e.to_string()),
    });
    let mut inputs = None;
    report.step("render", |step| {
        match software::render_defaults(project, &[]) {
            Ok(objects) => {
                step.passed += 1;
                step.detail = format!(
                    "{} objects: the defaults with the render pins",
                    objects.len()
                );
                inputs = Some(crate::contract::inputs::Inputs { objects });
            }
            Err(e) => step.fail(e),
        }
    });
    let Some(inputs) = inputs else {
        report.finish(started.elapsed());
        return Ok(report);
    };
    let work = tempfile::Builder::new()
        .prefix("geonode-bench-")
        .tempdir()
        .context("creating a work folder")?;
    // The postgres user must reach the folder: PostgreSQL refuses to run as root.
    crate::process::chmod(work.path(), 0o755)?;
    let (mut database, mut broker) = (None, None);
    report.step("postgresql", |step| {
        database = postgresql::run(&inputs, work.path(), step)
    });
    report.step("redis", |step| {
        broker = redis::run(&inputs, work.path(), step)
    });
    let (Some(database), Some(broker)) = (database, broker) else {
        report.finish(started.elapsed());
        return Ok(report);
    };
    let mut prepared = None;
    report.step("site", |step| {
        match site::prepare(inputs, work.path(), database.port, broker.ports()) {
            Ok(p) => {
                step.passed += 1;
                step.detail = format!(
                    "the init Job's command on empty databases ({:.0} s), a document, {} collected static files",
                    p.init_seconds, p.static_files
                );
                prepared = Some(p);
            }
            Err(e) => step.fail(e),
        }
    });
    if let Some(prepared) = prepared {
        if let Some((figures, headers)) = measure(&prepared, options, &mut report) {
            write_out(project, &figures, &headers, options, &prepared)?;
        }
    }
    report.finish(started.elapsed());
    Ok(report)
}

/// Starts the stacks, then the rounds; the figures and each stack's cache headers for the
/// largest script, or None when a stack did not start.
fn measure(
    prepared: &site::Prepared,
    options: Options,
    report: &mut Report,
) -> Option<(Figures, Vec<String>)> {
    let site = &prepared.site;
    let mut stacks: Option<([Stack; 3], (crate::process::Running, u16))> = None;
    report.step("stacks", |step| {
        let made = (|| -> Result<_, String> {
            // The chart as it was before its shared cache: GeoNode's default, one per process.
            let mut process_cache = site.run.clone();
            process_cache.env.remove("GEONODE_K8S_CACHE_HOST");
            Ok((
                [
                    stacks::chart(site, CHART, &site.run)?,
                    stacks::chart(site, CHART_PROCESS_CACHE, &process_cache)?,
                    upstream::stack(site)?,
                ],
                stacks::ceiling(&site.run.statics, &site.work.join("ceiling"))?,
            ))
        })();
        match made {
            Ok(s) => {
                step.passed += 1;
                step.detail = "the chart's nginx and uwsgi, with its shared cache and with GeoNode's cache per process; upstream's nginx and uwsgi.ini with its entrypoint steps; nginx with a minimal configuration".into();
                stacks = Some(s);
            }
            Err(e) => step.fail(e),
        }
    });
    let (mut stacks, ceiling) = stacks?;
    let mut figures = Figures::default();
    let mut headers = Vec::new();
    for round in 0..options.rounds {
        report.step(format!("round {}", round + 1), |step| {
            // Interleaved: each round starts with the next stack.
            stacks.rotate_left(usize::from(round > 0));
            for stack in stacks.iter_mut() {
                step.record(one_stack(stack, prepared, options, &mut figures));
            }
            step.record(static_ceiling(prepared, ceiling.1, options, &mut figures));
            if round == 0 {
                let bases = stacks.iter().map(|s| (s.name, s.base()));
                let ceiling = (CEILING, format!("http://127.0.0.1:{}", ceiling.1));
                for (name, base) in bases.chain([ceiling]) {
                    let url = format!("{base}{}", prepared.largest_script.0);
                    let got = crate::contract::nginx::http_headers(&prepared.site.host, &url)
                        .map(|h| site::cache_headers(&h))
                        .unwrap_or_else(|e| e);
                    headers.push(format!("- {name}: {got}"));
                }
            }
            step.detail = format!(
                "{}, {} s per load run",
                stacks
                    .iter()
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(" then "),
                options.seconds
            );
        });
    }
    Some((figures, headers))
}

/// A load run, warmed up or recorded; its errors (if any) go to `problems`, the figures stay.
#[allow(clippy::too_many_arguments)]
fn load(
    problems: &mut Vec<String>,
    base: &str,
    path: &str,
    host: &str,
    connections: u32,
    seconds: u64,
    gzip: bool,
    dir: &Path,
) -> Result<Load, String> {
    let url = format!("{base}{path}");
    let result = load::run(
        &Request {
            url: &url,
            host,
            connections,
            duration: Duration::from_secs(seconds),
            gzip,
        },
        dir,
    )?;
    if result.errors > 0 {
        problems.push(format!(
            "{url} at c={connections}: {} errors ({}) in {:.0} requests",
            result.errors,
            result.error_kinds,
            result.rps * seconds as f64
        ));
    }
    Ok(result)
}

/// One stack's round: restart (and a new pod's start), warm-up, the pages, the largest script,
/// memory.
fn one_stack(
    stack: &mut Stack,
    prepared: &site::Prepared,
    options: Options,
    figures: &mut Figures,
) -> Result<(), String> {
    let site = &prepared.site;
    let variant = stack.name;
    // A new pod: everything a start runs; a restart of the chart's skips the migrations gate
    // (an init container runs once per pod), upstream's entrypoint runs whole either way.
    let new_pod = stack.restart(site, 0)?.as_secs_f64();
    figures.record("new pod → first 200 on /api/v2/", "s", variant, new_pod);
    let restart = if variant != UPSTREAM {
        stack.restart(site, 1)?.as_secs_f64()
    } else {
        new_pod
    };
    figures.record("restart → first 200 on /api/v2/", "s", variant, restart);
    let base = stack.base();
    let dir = &site.work;
    let mut problems = Vec::new();
    load(
        &mut problems,
        &base,
        "/",
        &site.host,
        8,
        options.seconds.min(5),
        false,
        dir,
    )?;
    for (name, path) in pages(prepared.document) {
        for c in CONCURRENCY {
            let l = load(
                &mut problems,
                &base,
                &path,
                &site.host,
                c,
                options.seconds,
                false,
                dir,
            )?;
            figures.record(&format!("{name} c={c}"), "req/s", variant, l.rps);
            figures.record(&format!("{name} c={c} p50"), "ms", variant, l.p50_ms);
            figures.record(&format!("{name} c={c} p99"), "ms", variant, l.p99_ms);
            figures.record(
                &format!("{name} c={c} connections in service, at most (req/s × mean latency)"),
                "",
                variant,
                l.served,
            );
        }
    }
    static_files(&mut problems, &base, prepared, options, variant, figures)?;
    if let Some(pid) = stack.uwsgi_pid() {
        let (processes, pss) = load::pss_mib(pid);
        figures.record("uwsgi PSS after the load", "MiB", variant, pss);
        figures.record(
            "uwsgi processes after the load",
            "",
            variant,
            processes as f64,
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {}", stack.name, problems.join("; ")))
    }
}

/// The largest collected script, gzipped and not, at c=32. The ceiling's nginx compresses
/// nothing: its "with gzip" figure is of the init Job's `.gz` copy asked for by name, the same
/// bytes from the same disk with no decision to make.
fn static_files(
    problems: &mut Vec<String>,
    base: &str,
    prepared: &site::Prepared,
    options: Options,
    variant: &str,
    figures: &mut Figures,
) -> Result<(), String> {
    let site = &prepared.site;
    let script = &prepared.largest_script;
    let name = format!("{} ({} B)", script.0, script.1);
    for gzip in [true, false] {
        let (path, accept_gzip) = match (gzip, variant == CEILING) {
            (true, true) => (format!("{}.gz", script.0), false),
            _ => (script.0.clone(), gzip),
        };
        let l = load(
            problems,
            base,
            &path,
            &site.host,
            32,
            options.seconds,
            accept_gzip,
            &site.work,
        )?;
        let how = if gzip { "with gzip" } else { "without gzip" };
        figures.record(&format!("{name} {how} c=32"), "req/s", variant, l.rps);
        if gzip {
            figures.record(
                &format!("{name} {how}: bytes per response"),
                "B",
                variant,
                l.bytes_per_response,
            );
        }
    }
    Ok(())
}

fn static_ceiling(
    prepared: &site::Prepared,
    port: u16,
    options: Options,
    figures: &mut Figures,
) -> Result<(), String> {
    let mut problems = Vec::new();
    static_files(
        &mut problems,
        &format!("http://127.0.0.1:{port}"),
        prepared,
        options,
        CEILING,
        figures,
    )?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{CEILING}: {}", problems.join("; ")))
    }
}

/// The table on stdout and in target/bench/ as Markdown and JSON.
fn write_out(
    project: &Project,
    figures: &Figures,
    headers: &[String],
    options: Options,
    prepared: &site::Prepared,
) -> Result<(), Error> {
    let dir = project.root.join("target/bench");
    fs::create_dir_all(&dir).context(format!("creating {}", dir.display()))?;
    let machine = site::machine();
    let markdown = format!(
        "{machine}; {} round(s), {} s per load run, wrk -t2; chart/upstream is paired by round; – : no request completed within a run; the ceiling is nginx with a minimal configuration serving the file as it is (with gzip: its .gz copy by name)\n\n{}\nCache headers of {}:\n{}",
        options.rounds,
        options.seconds,
        figures.markdown(),
        prepared.largest_script.0,
        headers.join("\n")
    );
    println!("\n{markdown}");
    fs::write(dir.join("bench.md"), &markdown).context("writing target/bench/bench.md")?;
    let json = figures.json(serde_json::json!({
        "machine": machine,
        "rounds": options.rounds,
        "seconds_per_load": options.seconds,
    }));
    fs::write(
        dir.join("bench.json"),
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    )
    .context("writing target/bench/bench.json")?;
    Ok(())
}
