//! The documentation: the values reference of `chart/README.md` generated from the schema
//! (`values_table`), the docs site (`docs/` with the chart's README as its chart page) built by a
//! pinned static-site generator in strict mode (`site`), and the shell blocks of those pages,
//! each either run by `cargo xtask e2e` or marked as not runnable here with the reason
//! (`blocks`).

pub mod architecture;
pub mod blocks;
pub mod site;
mod values_table;

use crate::error::{Context, Error};
use crate::manifest::Object;
use crate::project::Project;
use std::path::{Path, PathBuf};

pub use values_table::coverage_gaps;

/// Every page with generated parts, as (path, what it holds, what it should hold):
/// `chart/README.md` (its values table; and, in a project with a docs site, the defaults'
/// architecture picture) and `docs/architecture.md` (both pictures). `defaults` is the render of
/// the defaults without pins, as an installation makes it, `production_ha` values/production-ha.yaml's;
/// without them (their render failed) the pictures are left out.
pub fn generated_pages(
    project: &Project,
    defaults: Option<&[Object]>,
    production_ha: Option<&[Object]>,
) -> Result<Vec<(PathBuf, String, String)>, Error> {
    use architecture::Picture;
    let (readme_path, readme, mut readme_expected) = values_table::expected_readme(&project.chart)?;
    let mut pages = Vec::new();
    if let (Some(defaults), Some(production_ha), true) = (
        defaults,
        production_ha,
        project.root.join("mkdocs.yml").is_file(),
    ) {
        let picture = architecture::flowchart(defaults);
        readme_expected =
            architecture::splice(&readme_expected, Picture::Defaults, &picture, &readme_path)?;
        let page = project.root.join("docs").join("architecture.md");
        let text = std::fs::read_to_string(&page).context(format!("reading {}", page.display()))?;
        let expected = architecture::splice(&text, Picture::Defaults, &picture, &page)?;
        let ha = architecture::flowchart(production_ha);
        let expected = architecture::splice(&expected, Picture::ProductionHa, &ha, &page)?;
        pages.push((page, text, expected));
    }
    pages.insert(0, (readme_path, readme, readme_expected));
    Ok(pages)
}

/// `text` with the part between the `markers` lines replaced by `generated`; an error names the
/// file and where the markers must go (`what` is what goes between them).
pub fn splice_between(
    text: &str,
    generated: &str,
    path: &Path,
    (start_marker, end_marker): (&str, &str),
    what: &str,
) -> Result<String, Error> {
    let start = text.find(start_marker).ok_or_else(|| {
        Error::msg(format!(
            "{} lacks the line {start_marker}; put it (and {end_marker}) where {what} goes",
            path.display()
        ))
    })?;
    let end = text[start..]
        .find(end_marker)
        .map(|i| start + i)
        .ok_or_else(|| {
            Error::msg(format!(
                "{} lacks the line {end_marker} after {start_marker}",
                path.display()
            ))
        })?;
    Ok(format!(
        "{}{start_marker}\n{generated}{}",
        &text[..start],
        &text[end..]
    ))
}
