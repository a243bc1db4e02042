//! `spec/catalog.tsv`: every catalog action and what implements it.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Prefix of `implemented_by` entries that name a facade call, written the
/// way a user calls it: `client.<handler>().<method>`, or `client.<method>`
/// for a method of the client itself (`client.api_request`).
pub const FACADE_PREFIX: &str = "client.";

/// One catalog row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRow {
    pub source: String,
    pub category: String,
    pub action: String,
    /// operationIds of the spec, `client.<handler>().<method>` or
    /// `client.<method>`.
    pub implemented_by: Vec<String>,
}

/// The header line of `spec/catalog.tsv`.
pub const HEADER: &str = "source\tcategory\taction\timplemented_by";

/// Parses catalog TSV text.
pub fn parse(text: &str) -> Result<Vec<CatalogRow>> {
    let mut lines = text.lines();
    match lines.next() {
        Some(h) if h == HEADER => {}
        other => bail!("catalog header must be {HEADER:?}, found {other:?}"),
    }
    lines
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, line)| {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() != 4 {
                bail!(
                    "catalog line {}: expected 4 columns, found {}",
                    i + 2,
                    cols.len()
                );
            }
            Ok(CatalogRow {
                source: cols[0].to_string(),
                category: cols[1].to_string(),
                action: cols[2].to_string(),
                implemented_by: cols[3].split_whitespace().map(str::to_string).collect(),
            })
        })
        .collect()
}

/// Reads `spec/catalog.tsv`.
pub fn load(path: &Path) -> Result<Vec<CatalogRow>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The operationIds the catalog names (facade entries left out).
pub fn operation_ids(rows: &[CatalogRow]) -> BTreeSet<String> {
    rows.iter()
        .flat_map(|r| r.implemented_by.iter())
        .filter(|id| !id.starts_with(FACADE_PREFIX))
        .cloned()
        .collect()
}
