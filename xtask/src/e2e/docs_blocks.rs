//! The docs' shell blocks, run as a reader would run them: page by page, each block in order
//! with `bash -euo pipefail`, in a folder holding `chart/` and `values/` (what the pages'
//! commands name), `tests/docs/` (the setup scripts) and `tests/crd-schemas/` (CRDs they
//! apply), with `helm` (Helm 4) and `kubectl` on PATH and the control plane as the
//! cluster. A page may need a release it does not install itself (troubleshooting looks at the
//! quickstart's): a line `<!-- e2e setup: <command> -->` on the page, invisible on the site, runs
//! first. kwok plays the credentials Job's pod, so after the setup and after each block the
//! harness plays the Job's script as e2e's install does. Pages run at once, three at a time,
//! beside e2e's other steps:
//! the one thing changed in what a reader types is the namespace — each one a page names
//! (`-n geonode`) becomes the page's own (`docs<n>-geonode`) — and those are deleted after it.
//!
//! Blocks marked `# not runnable here: <reason>` are skipped and counted (docs::blocks).

use super::{credentials, Ctx};
use crate::docs::blocks::{self, Block};
use crate::report::Step;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const SETUP: &str = "<!-- e2e setup:";

/// Pages run at once: each mostly waits on the control plane (Helm's waits, kwok's stages).
const PAGES_AT_ONCE: usize = 3;

/// The step `docs-shell-blocks`.
pub fn run(ctx: &Ctx, step: &mut Step) {
    let found = match blocks::all(&ctx.project.root) {
        Ok(found) => found,
        Err(e) => return step.fail(e.to_string()),
    };
    let mut pages: Vec<&str> = found
        .iter()
        .filter(|b| b.not_runnable.is_none())
        .map(|b| b.page.as_str())
        .collect();
    pages.dedup();
    let numbered: Vec<(usize, &str)> = pages.into_iter().enumerate().collect();
    let runs = crate::parallel::map_with(PAGES_AT_ONCE, &numbered, |&(number, page)| {
        run_page(ctx, &found, number, page)
    });
    for run in runs {
        step.passed += run.passed;
        step.failures.extend(run.failures);
        step.notes.push(run.note);
    }
    step.detail = crate::docs::site::block_counts(&found);
}

/// What one page's run gives the step.
struct PageRun {
    passed: usize,
    failures: Vec<String>,
    note: String,
}

/// One page: its setup lines, then its runnable blocks in order, each namespace its commands
/// name made the page's own (`docs<number>-<name>`: pages run at once, and a page's namespace
/// need not be gone before the next one makes it), then those namespaces deleted.
fn run_page(ctx: &Ctx, found: &[Block], number: usize, page: &str) -> PageRun {
    let started = Instant::now();
    let runnable: Vec<&Block> = found
        .iter()
        .filter(|b| b.page == page && b.not_runnable.is_none())
        .collect();
    let mut run = PageRun {
        passed: 0,
        failures: Vec::new(),
        note: String::new(),
    };
    let setup = setup_lines(ctx, page);
    let own: BTreeMap<String, String> = runnable
        .iter()
        .map(|b| b.script.as_str())
        .chain(setup.iter().flatten().map(String::as_str))
        .flat_map(namespaces_named)
        .map(|name| (name.clone(), format!("docs{number}-{name}")))
        .collect();
    let namespaces: BTreeSet<String> = own.values().cloned().collect();
    let result = workspace(ctx).and_then(|work| {
        for command in setup? {
            shell(ctx, work.path(), &in_namespaces(&command, &own))
                .map_err(|e| format!("{page}: the page's `{SETUP} {command} -->` failed: {e}"))?;
        }
        // The setup's install made the credentials Job, which a real cluster would have run.
        settle_credentials(ctx, &namespaces);
        for block in &runnable {
            shell(ctx, work.path(), &in_namespaces(&block.script, &own))
                .map_err(|e| format!("{}: the block failed: {e}\n{}", block.at(), block.script))?;
            settle_credentials(ctx, &namespaces);
            run.passed += 1;
        }
        Ok(())
    });
    if let Err(e) = result {
        run.failures.push(e);
    }
    if let Err(e) = remove_namespaces(ctx, &namespaces) {
        run.failures.push(format!("{page}: {e}"));
    }
    run.note = format!(
        "{page}: {} blocks in {:.0} s",
        runnable.len(),
        started.elapsed().as_secs_f64()
    );
    run
}

/// A folder with `chart`, `values`, `tests/docs` (the pages' setup scripts) and
/// `tests/crd-schemas` (the CRDs they apply) linked from the project, and `bin/` with helm and
/// kubectl.
fn workspace(ctx: &Ctx) -> Result<tempfile::TempDir, String> {
    let work = tempfile::tempdir().map_err(|e| format!("making the docs' working folder: {e}"))?;
    let link = |from: &Path, to: &Path| {
        std::os::unix::fs::symlink(from, to)
            .map_err(|e| format!("linking {} as {}: {e}", from.display(), to.display()))
    };
    link(&ctx.project.chart, &work.path().join("chart"))?;
    link(&ctx.project.values_dir, &work.path().join("values"))?;
    let tests = work.path().join("tests");
    std::fs::create_dir(&tests).map_err(|e| format!("creating {}: {e}", tests.display()))?;
    for folder in ["docs", "crd-schemas"] {
        link(
            &ctx.project.root.join("tests").join(folder),
            &tests.join(folder),
        )?;
    }
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).map_err(|e| format!("creating {}: {e}", bin.display()))?;
    link(ctx.helm.binary(), &bin.join("helm"))?;
    link(&ctx.plane.kubectl, &bin.join("kubectl"))?;
    Ok(work)
}

/// The page's `<!-- e2e setup: ... -->` commands, in order.
fn setup_lines(ctx: &Ctx, page: &str) -> Result<Vec<String>, String> {
    let path = ctx.project.root.join(page);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {page}: {e}"))?;
    Ok(text
        .lines()
        .filter_map(|l| l.trim().strip_prefix(SETUP))
        .filter_map(|l| l.trim().strip_suffix("-->"))
        .map(|l| l.trim().to_string())
        .collect())
}

/// `script` with bash in `work`, the control plane as the cluster; its output on failure.
fn shell(ctx: &Ctx, work: &Path, script: &str) -> Result<(), String> {
    let path = format!(
        "{}:{}",
        work.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(work)
        .env("PATH", path)
        .env("KUBECONFIG", &ctx.plane.kubeconfig)
        .env("NO_COLOR", "1")
        .envs(ctx.helm.homes())
        .output()
        .map_err(|e| format!("running bash: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "exit {}:\n{}{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// kwok does not run the credentials Job's pod: play its script in the page's namespaces.
fn settle_credentials(ctx: &Ctx, namespaces: &BTreeSet<String>) {
    for namespace in namespaces {
        let _ = credentials::play_job(ctx, namespace);
    }
}

/// The namespaces a script names: `-n X`, `--namespace X`, `--namespace=X`, `namespace X`
/// (`kubectl create namespace X`).
fn namespaces_named(script: &str) -> BTreeSet<String> {
    let words: Vec<&str> = script.split_whitespace().collect();
    let mut found = BTreeSet::new();
    for (i, word) in words.iter().enumerate() {
        if let Some(name) = word.strip_prefix("--namespace=") {
            found.insert(name.to_string());
        } else if matches!(*word, "-n" | "--namespace" | "namespace") {
            if let Some(next) = words.get(i + 1) {
                let name = next.trim_end_matches(';');
                // A name as the pages write them (`tail -n 20` names no namespace).
                let lowercase = |c: char| c.is_ascii_lowercase();
                if name.starts_with(lowercase)
                    && name
                        .chars()
                        .all(|c| lowercase(c) || c.is_ascii_digit() || c == '-')
                {
                    found.insert(name.to_string());
                }
            }
        }
    }
    found
}

/// `script` with each namespace it names (as `namespaces_named` finds them) renamed by `own`.
fn in_namespaces(script: &str, own: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(script.len());
    let mut previous = "";
    let mut rest = script;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        let (name, tail) = word.split_at(word.trim_end_matches(';').len());
        let renamed = match word.strip_prefix("--namespace=") {
            Some(name) => own.get(name).map(|to| format!("--namespace={to}")),
            None if matches!(previous, "-n" | "--namespace" | "namespace") => {
                own.get(name).map(|to| format!("{to}{tail}"))
            }
            None => None,
        };
        out.push_str(renamed.as_deref().unwrap_or(word));
        previous = word;
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Deletes those namespaces where they exist (without waiting: their names are the page's own).
fn remove_namespaces(ctx: &Ctx, namespaces: &BTreeSet<String>) -> Result<(), String> {
    if namespaces.is_empty() {
        return Ok(());
    }
    let mut args = vec!["delete", "namespace", "--ignore-not-found", "--wait=false"];
    args.extend(namespaces.iter().map(String::as_str));
    ctx.plane.kubectl(&args).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namespaces_a_script_names() {
        let script = "kubectl create namespace geonode\nhelm install geonode ./chart -n geonode\nkubectl --namespace=maps get pods; kubectl get ns --namespace other | tail -n 20\n";
        let found: Vec<String> = namespaces_named(script).into_iter().collect();
        assert_eq!(found, ["geonode", "maps", "other"]);
        let own = BTreeMap::from([
            ("geonode".to_string(), "docs1-geonode".to_string()),
            ("maps".to_string(), "docs1-maps".to_string()),
        ]);
        assert_eq!(
            in_namespaces(script, &own),
            "kubectl create namespace docs1-geonode\nhelm install geonode ./chart -n docs1-geonode\nkubectl --namespace=docs1-maps get pods; kubectl get ns --namespace other | tail -n 20\n"
        );
    }
}
