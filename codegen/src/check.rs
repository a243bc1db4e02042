//! `codegen check`: regenerate in memory and compare with the committed files.

use std::path::Path;

use anyhow::{Context, Result};
use similar::TextDiff;

use crate::{generate, import};

/// Lines of diff shown per drifted file before the rest is summarised.
const MAX_DIFF_LINES: usize = 200;

/// One file whose committed text differs from what codegen produces.
pub struct Drift {
    pub path: String,
    pub diff: String,
}

/// Compares `expected` (what codegen produces) with the file at `root/path`.
pub fn compare(root: &Path, path: &Path, expected: &str) -> Option<Drift> {
    let full = root.join(path);
    let actual = std::fs::read_to_string(&full).unwrap_or_default();
    if actual == expected {
        return None;
    }
    let shown = path.display().to_string();
    let diff = TextDiff::from_lines(actual.as_str(), expected)
        .unified_diff()
        .context_radius(2)
        .header(
            &format!("{shown} (committed)"),
            &format!("{shown} (from codegen)"),
        )
        .to_string();
    let total = diff.lines().count();
    let mut text: String = diff
        .lines()
        .take(MAX_DIFF_LINES)
        .map(|l| format!("{l}\n"))
        .collect();
    if total > MAX_DIFF_LINES {
        text.push_str(&format!("... {} more diff lines\n", total - MAX_DIFF_LINES));
    }
    Some(Drift {
        path: shown,
        diff: text,
    })
}

/// Every drift between the committed files and codegen's output. With
/// `vendor`, spec/ is also compared with what the importer makes of it.
pub fn check(root: &Path, vendor: Option<&Path>) -> Result<Vec<Drift>> {
    let mut drifts = Vec::new();
    if let Some(vendor) = vendor {
        let spec =
            import::import_at(root, vendor, false).context("re-importing the vendor file")?;
        drifts.extend(compare(root, Path::new(generate::SPEC_PATH), &spec));
    }
    let generated = generate::generate_at(root)?;
    for (path, text) in &generated.files {
        drifts.extend(compare(root, path, text));
    }
    Ok(drifts)
}
