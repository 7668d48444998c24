//! The docs site: `mkdocs.yml` and `docs/`, built by the pinned generator in strict mode, so a
//! broken link or anchor, a page missing from the navigation or a navigation entry without its
//! page fails `check`. The generator is mkdocs-ng (the maintained fork of MkDocs 1.6, same
//! command and configuration), installed with pip from `docs/requirements.txt`, where every
//! package is pinned by version and sha256 (`--require-hashes`).
//!
//! The step also holds the pages to two rules of the project: every values file under
//! `values/` has a page that names it, and every shell block is either run by e2e or marked
//! with the reason it is not (see `blocks`).

use super::blocks::{self, Block};
use crate::error::{Context, Error};
use crate::process::exec;
use crate::project::Project;
use crate::report::Step;
use std::fs;
use std::path::{Path, PathBuf};

use std::process::Command;

/// The `check` step `docs-site`.
pub fn check_step(project: &Project, step: &mut Step) {
    if !project.root.join("mkdocs.yml").is_file() {
        step.notes
            .push("no mkdocs.yml: the project has no docs site".into());
        return;
    }
    let site = tempfile::tempdir().map_err(|e| format!("making a folder for the site: {e}"));
    step.record(site.and_then(|site| build(project, site.path()).map_err(|e| e.to_string())));
    step.record(values_files_documented(project));
    step.record(chart_page_linked_as_in_the_repository(project));
    match blocks::all(&project.root) {
        Ok(found) => {
            step.passed += 1;
            step.detail = format!("built strict with {}; {}", GENERATOR, block_counts(&found));
        }
        Err(e) => step.fail(e.to_string()),
    }
}

const GENERATOR: &str = "mkdocs-ng 1.8.0";

/// "N shell blocks: R run by e2e, M marked not runnable here".
pub fn block_counts(found: &[Block]) -> String {
    let marked = found.iter().filter(|b| b.not_runnable.is_some()).count();
    format!(
        "{} shell blocks: {} run by e2e, {marked} marked not runnable here",
        found.len(),
        found.len() - marked
    )
}

/// Builds the site into `out` with `mkdocs build --strict`; its warnings are the error. The
/// site is built from a staged copy: `docs/` and `mkdocs.yml`, and `chart/README.md` (the
/// chart's page on Artifact Hub) as `chart.md`, links between them turned into site links.
pub fn build(project: &Project, out: &Path) -> Result<(), Error> {
    let generator = ensure(&project.root.join("docs").join("requirements.txt"))?;
    let staged = stage(project)?;
    let output = Command::new(crate::tools::python())
        .env("PYTHONPATH", &generator)
        .args(["-m", "mkdocs", "build", "--strict", "--config-file"])
        .arg(staged.path().join("mkdocs.yml"))
        .arg("--site-dir")
        .arg(out)
        .output()
        .context("running mkdocs")?;
    if output.status.success() {
        return scripts_present(&project.root.join("mkdocs.yml"), out);
    }
    Err(Error::msg(format!(
        "the docs site does not build in strict mode; fix each warning below (a link to a missing page or anchor, a page missing from mkdocs.yml's nav, a link out of docs/ that should be a repository URL or `code`):\n{}",
        String::from_utf8_lossy(&output.stderr).trim()
    )))
}

/// The staged site: mkdocs.yml, docs/ and docs/chart.md.
fn stage(project: &Project) -> Result<tempfile::TempDir, Error> {
    let staged = tempfile::tempdir().context("making a folder to stage the docs site")?;
    let config = project.root.join("mkdocs.yml");
    fs::copy(&config, staged.path().join("mkdocs.yml"))
        .context(format!("copying {}", config.display()))?;
    let docs = project.root.join("docs");
    for page in blocks::pages(&project.root)? {
        let (target, depth) = match page.strip_prefix(&docs) {
            Ok(rel) => (
                staged.path().join("docs").join(rel),
                rel.components().count() - 1,
            ),
            Err(_) => (staged.path().join("docs").join(CHART_PAGE), 0),
        };
        let text = fs::read_to_string(&page).context(format!("reading {}", page.display()))?;
        fs::create_dir_all(target.parent().expect("a page has a folder"))
            .context(format!("staging {}", target.display()))?;
        fs::write(&target, site_links(&text, depth))
            .context(format!("staging {}", target.display()))?;
    }
    let requirements = docs.join("requirements.txt");
    fs::copy(
        &requirements,
        staged.path().join("docs").join("requirements.txt"),
    )
    .context(format!("copying {}", requirements.display()))?;
    let scripts = staged.path().join("docs").join("js");
    fs::create_dir_all(&scripts).context(format!("creating {}", scripts.display()))?;
    for entry in fs::read_dir(docs.join("js"))
        .into_iter()
        .flatten()
        .flatten()
    {
        fs::copy(entry.path(), scripts.join(entry.file_name()))
            .context(format!("copying {}", entry.path().display()))?;
    }
    fs::copy(ensure_mermaid()?, scripts.join("mermaid.min.js")).context("copying Mermaid")?;
    Ok(staged)
}

/// Mermaid, which draws the architecture picture in the reader's browser: the npm package at a
/// pinned version (its tarball checked by sha256), served by the site itself.
const MERMAID_VERSION: &str = "12.3.0";
const MERMAID_TARBALL_SHA256: &str =
    "be0684e8d20bfc874df12c0f04927a5c482f57f2200eec54cca52a4583fd4040";

fn ensure_mermaid() -> Result<PathBuf, Error> {
    let entry = format!("mermaid-{MERMAID_VERSION}");
    let (cache, _lock) = crate::tools::lock_entry(&entry)?;
    let file = cache.join(&entry).join("mermaid.min.js");
    if file.is_file() {
        return Ok(file);
    }
    let work = tempfile::tempdir().context("making a folder for the Mermaid download")?;
    exec(
        Command::new("npm")
            .args(["pack", "--silent", "--pack-destination"])
            .arg(work.path())
            .arg(format!("mermaid@{MERMAID_VERSION}")),
    )
    .map_err(Error::msg)
    .context("Mermaid comes from the npm registry with npm (Node.js); install npm")?;
    let tarball = work.path().join(format!("mermaid-{MERMAID_VERSION}.tgz"));
    crate::tools::verify_sha256(&tarball, MERMAID_TARBALL_SHA256)?;
    exec(
        Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(work.path())
            .arg("package/dist/mermaid.min.js"),
    )
    .map_err(Error::msg)
    .context(format!("unpacking {}", tarball.display()))?;
    fs::create_dir_all(file.parent().expect("a folder")).context("creating Mermaid's folder")?;
    // Moved in last: a file in its place is a whole, checked one.
    fs::rename(work.path().join("package/dist/mermaid.min.js"), &file)
        .context(format!("moving Mermaid into {}", file.display()))?;
    Ok(file)
}

/// Every script mkdocs.yml's `extra_javascript` names is in the built site (mkdocs does not
/// check them, and a missing one is a page that silently lacks what the script does).
fn scripts_present(config: &Path, site: &Path) -> Result<(), Error> {
    let text = fs::read_to_string(config).context(format!("reading {}", config.display()))?;
    let config: serde_json::Value = yaml_serde::from_str(&text)
        .map_err(|e| Error::msg(format!("parsing {}: {e}", config.display())))?;
    let missing: Vec<&str> = config["extra_javascript"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .filter(|script| !site.join(script).is_file())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::msg(format!(
        "the built site lacks {} that mkdocs.yml's extra_javascript names; put them in docs/ (or let the staging provide them)",
        missing.join(", ")
    )))
}

/// Where `chart/README.md` goes in the site.
const CHART_PAGE: &str = "chart.md";

/// A page's links as the site sees them: in the repository, `docs/<depth folders>/page.md`
/// links the chart's page as `../…/chart/README.md` and the chart's page links `../docs/…`.
fn site_links(text: &str, depth: usize) -> String {
    let up = "../".repeat(depth);
    text.replace(
        &format!("]({up}../chart/README.md"),
        &format!("]({up}{CHART_PAGE}"),
    )
    .replace("](../docs/", "](")
}

/// The generator's packages, installed once per requirements file into the tool cache.
fn ensure(requirements: &Path) -> Result<PathBuf, Error> {
    let pins = fs::read(requirements).context(format!(
        "reading {} (the docs generator's pinned packages)",
        requirements.display()
    ))?;
    let digest = crate::tools::sha256_bytes(&pins);
    let entry = format!("docs-generator-{}", &digest[..12]);
    let (cache, _lock) = crate::tools::lock_entry(&entry)?;
    let target = cache.join(&entry);
    let stamp = target.join(".installed");
    if stamp.is_file() {
        return Ok(target);
    }
    if target.exists() {
        fs::remove_dir_all(&target)
            .context(format!("removing the incomplete {}", target.display()))?;
    }
    exec(
        Command::new(crate::tools::python())
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(["--require-hashes", "--no-deps", "--only-binary=:all:", "--target"])
            .arg(&target)
            .arg("-r")
            .arg(requirements),
    )
    .map_err(Error::msg)
    .context(format!(
        "installing the docs generator from {} (a package without a hash for this Python or platform needs its line there)",
        requirements.display()
    ))?;
    fs::write(&stamp, &digest).context(format!("writing {}", stamp.display()))?;
    Ok(target)
}

/// Pages link the chart's page as the repository has it (`../chart/README.md`, which the staging
/// turns into the site's `chart.md`), so the links work on the repository's pages too.
fn chart_page_linked_as_in_the_repository(project: &Project) -> Result<(), String> {
    let docs = project.root.join("docs");
    let mut wrong = Vec::new();
    for page in blocks::pages(&project.root).map_err(|e| e.to_string())? {
        let Ok(rel) = page.strip_prefix(&docs) else {
            continue;
        };
        let text = fs::read_to_string(&page).unwrap_or_default();
        if text.contains(&format!("]({CHART_PAGE}")) || text.contains(&format!("/{CHART_PAGE}")) {
            wrong.push(format!("docs/{}", rel.display()));
        }
    }
    if wrong.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} link {CHART_PAGE}, which only the built site has; link ../chart/README.md (with its #anchor) instead",
        wrong.join(", ")
    ))
}

/// Every file of `values/` is named (`values/<file>`) on some page of `docs/`.
fn values_files_documented(project: &Project) -> Result<(), String> {
    let mut text = String::new();
    for page in blocks::pages(&project.root).map_err(|e| e.to_string())? {
        if page.starts_with(project.root.join("docs")) {
            text.push_str(&fs::read_to_string(&page).unwrap_or_default());
        }
    }
    let mut missing = Vec::new();
    for entry in fs::read_dir(&project.values_dir)
        .map_err(|e| format!("listing {}: {e}", project.values_dir.display()))?
        .flatten()
    {
        let name = format!("values/{}", entry.file_name().to_string_lossy());
        if name.ends_with(".yaml") && !text.contains(&name) {
            missing.push(name);
        }
    }
    missing.sort();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "no page under docs/ tells how to use {}: add one (what to set, the install command) and list it in mkdocs.yml",
            missing.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_between_the_chart_page_and_the_docs_become_site_links() {
        assert_eq!(
            site_links("see [credentials](../chart/README.md#credentials)", 0),
            "see [credentials](chart.md#credentials)"
        );
        assert_eq!(
            site_links("[x](../../chart/README.md)", 1),
            "[x](../chart.md)"
        );
        assert_eq!(
            site_links("[backups](../docs/backup-and-restore.md)", 0),
            "[backups](backup-and-restore.md)"
        );
    }
}
