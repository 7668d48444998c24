//! The documentation: the values reference of `chart/README.md` generated from the schema
//! (`values_table`), the docs site (`docs/` with the chart's README as its chart page) built by a
//! pinned static-site generator in strict mode (`site`), and the shell blocks of those pages,
//! each either run by `cargo xtask e2e` or marked as not runnable here with the reason
//! (`blocks`).

pub mod architecture;
pub mod blocks;
pub mod site;
mod values_table;

use crate::error::Error;
use std::path::Path;

pub use values_table::{coverage_gaps, expected_readme};

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
