//! The shell blocks of the documentation (the docs site's pages and `chart/README.md`, the
//! chart's page on Artifact Hub): every block fenced as `sh`, `bash` or `shell` is something a
//! reader would run. Each is either run by `cargo xtask e2e` against its control plane, page by
//! page in order, or starts with a line `# not runnable here: <reason>` that the reader sees too.

use crate::error::{Context, Error};
use std::path::{Path, PathBuf};

/// The first line of a block the harness does not run, followed by the reason.
pub const NOT_RUNNABLE: &str = "# not runnable here:";
const SHELL_LANGUAGES: [&str; 3] = ["sh", "bash", "shell"];

/// One shell block of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The page, relative to the project root.
    pub page: String,
    /// The line of the opening fence (1-based).
    pub line: usize,
    pub script: String,
    /// Why it is not run, for a marked block.
    pub not_runnable: Option<String>,
}

impl Block {
    pub fn at(&self) -> String {
        format!("{}:{}", self.page, self.line)
    }
}

/// The pages whose blocks count, in the order they are run: `chart/README.md`, then every
/// Markdown file under `docs/` by path.
pub fn pages(root: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut pages = vec![root.join("chart").join("README.md")];
    let mut found = Vec::new();
    markdown_under(&root.join("docs"), &mut found)?;
    found.sort();
    pages.extend(found);
    Ok(pages)
}

fn markdown_under(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), Error> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).context(format!("listing {}", dir.display()))? {
        let path = entry.context(format!("listing {}", dir.display()))?.path();
        if path.is_dir() {
            markdown_under(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
    Ok(())
}

/// Every shell block of every page; a problem (an unclosed fence, a marker without a reason, a
/// prompt before a command) names the page and line and what to change.
pub fn all(root: &Path) -> Result<Vec<Block>, Error> {
    let mut blocks = Vec::new();
    for page in pages(root)? {
        let text = std::fs::read_to_string(&page).context(format!("reading {}", page.display()))?;
        let rel = page
            .strip_prefix(root)
            .unwrap_or(&page)
            .display()
            .to_string();
        blocks.extend(extract(&rel, &text).map_err(Error::msg)?);
    }
    Ok(blocks)
}

/// The shell blocks of one page.
pub fn extract(page: &str, markdown: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let trimmed = line.trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            continue;
        };
        let indent = line.len() - trimmed.len();
        let mut body = Vec::new();
        let mut closed = false;
        for (_, inner) in lines.by_ref() {
            if inner.trim() == "```" {
                closed = true;
                break;
            }
            // A fence inside a list item is indented; its lines carry that indentation.
            let cut = inner.len() - inner.trim_start().len();
            body.push(&inner[cut.min(indent)..]);
        }
        let at = format!("{page}:{}", index + 1);
        if !closed {
            return Err(format!(
                "{at}: a code fence is never closed; end it with ```"
            ));
        }
        if !SHELL_LANGUAGES.contains(&info.trim()) {
            continue;
        }
        blocks.push(block(page, index + 1, &body)?);
    }
    Ok(blocks)
}

fn block(page: &str, line: usize, body: &[&str]) -> Result<Block, String> {
    let at = format!("{page}:{line}");
    let not_runnable = match body.first().and_then(|l| l.strip_prefix(NOT_RUNNABLE)) {
        Some(reason) if reason.trim().is_empty() => {
            return Err(format!(
                "{at}: `{NOT_RUNNABLE}` needs its reason on the same line (what the block needs that the test cluster lacks)"
            ))
        }
        Some(reason) => Some(reason.trim().to_string()),
        None => None,
    };
    if not_runnable.is_none() {
        if let Some(prompt) = body.iter().find(|l| l.starts_with("$ ")) {
            return Err(format!(
                "{at}: `{prompt}`: write commands without a prompt, so the block can be copied and run as it is"
            ));
        }
    }
    Ok(Block {
        page: page.to_string(),
        line,
        script: body.join("\n") + "\n",
        not_runnable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_shell_blocks_and_their_markers() {
        let page = "# T\n\n```sh\nhelm list\n```\n\n```yaml\na: 1\n```\n\n```bash\n# not runnable here: needs a cloud account\ngcloud auth login\n```\n";
        let blocks = extract("docs/t.md", page).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].line, 3);
        assert_eq!(blocks[0].script, "helm list\n");
        assert_eq!(blocks[0].not_runnable, None);
        assert_eq!(
            blocks[1].not_runnable.as_deref(),
            Some("needs a cloud account")
        );
    }

    #[test]
    fn a_fence_in_a_list_item_loses_its_indentation() {
        let page = "1. Do this:\n\n   ```sh\n   kubectl get pods\n     --watch\n   ```\n";
        let blocks = extract("docs/t.md", page).unwrap();
        assert_eq!(blocks[0].script, "kubectl get pods\n  --watch\n");
    }

    #[test]
    fn problems_name_the_line_and_the_fix() {
        let unclosed = extract("docs/t.md", "text\n```sh\nls\n").unwrap_err();
        assert!(unclosed.contains("docs/t.md:2") && unclosed.contains("never closed"));
        let no_reason = extract("docs/t.md", "```sh\n# not runnable here:\nls\n```\n").unwrap_err();
        assert!(no_reason.contains("needs its reason"));
        let prompt = extract("docs/t.md", "```sh\n$ helm list\n```\n").unwrap_err();
        assert!(prompt.contains("without a prompt"));
    }
}
