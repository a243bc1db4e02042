//! What goes to stdout: JSON (pretty on a terminal, compact when piped),
//! JSON Lines, and plain aligned tables.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

use clap::Args;
use serde::Serialize;
use serde_json::Value;

use crate::exit::Failure;

/// `--json` / `--table` for commands that can print either.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct FormatArgs {
    /// Print JSON (the default when stdout is not a terminal)
    #[arg(long, conflicts_with = "table")]
    pub json: bool,
    /// Print a table (the default on a terminal)
    #[arg(long)]
    pub table: bool,
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON document.
    Json,
    /// Text for people: tables and short lines.
    Table,
}

impl FormatArgs {
    /// The format asked for, or the one that suits stdout.
    pub fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else if self.table || io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Json
        }
    }
}

/// Prints `value` as JSON: indented on a terminal, one line otherwise.
pub fn json(value: &impl Serialize) -> Result<(), Failure> {
    let text = if io::stdout().is_terminal() {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .map_err(|e| Failure::usage(format!("cannot print the result as JSON: {e}")))?;
    write_line(&text)
}

/// Prints `value` as one line of JSON (JSON Lines).
pub fn json_line(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string(value)
        .map_err(|e| Failure::usage(format!("cannot print the result as JSON: {e}")))?;
    write_line(&text)
}

/// Prints one line of text for a person, control characters escaped (see
/// [`printable`]).
pub fn line(text: &str) -> Result<(), Failure> {
    write_line(&printable(text))
}

/// `text` as it may reach a terminal: control characters (C0 with tab and
/// line breaks, DEL, C1) and the bidirectional overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069) written as `\u{1b}`, so console text
/// can neither drive the terminal (colours, titles, OSC 52 clipboard
/// writes) nor reorder or split what is shown. Everything `s1` prints for
/// a person goes through it; JSON is escaped by its encoder.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether [`printable`] escapes `c`.
fn escaped(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Writes one line as it is. A closed pipe (`s1 … | head`) ends the
/// program quietly.
fn write_line(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure::Library(sentinelone::Error::io("<stdout>", e))),
    }
}

/// Writes raw bytes to stdout.
pub fn bytes(data: &[u8]) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    match out.write_all(data).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure::Library(sentinelone::Error::io("<stdout>", e))),
    }
}

/// A table: a header row and rows of cells, printed with aligned columns.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(header: I) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The table as text: cells made [`printable`], columns padded to
    /// their widest cell, separated by two spaces, no trailing blanks.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let header: Vec<String> = self.header.iter().map(|h| printable(h).into()).collect();
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(|c| printable(c).into()).collect())
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let render_row = |cells: &[String]| {
            let mut text = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(cell);
                text.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
            }
            text.trim_end().to_string()
        };
        let mut lines = vec![render_row(&header)];
        lines.extend(rows.iter().map(|r| render_row(r)));
        lines.join("\n")
    }

    /// Prints the table.
    pub fn print(&self) -> Result<(), Failure> {
        write_line(&self.render())
    }
}

/// The text at `pointer` in `value` for a table cell: strings as they are,
/// other values as JSON, `-` when absent or null.
pub fn cell(value: &Value, pointer: &str) -> String {
    match value.pointer(pointer) {
        None | Some(Value::Null) => "-".to_string(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// `value` serialized to a JSON value (for reading fields by pointer).
pub fn to_value(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_align_their_columns() {
        let mut table = Table::new(["ID", "NAME"]);
        table.row(["1", "win-lab-001"]);
        table.row(["1234", "mac"]);
        assert_eq!(table.render(), "ID    NAME\n1     win-lab-001\n1234  mac");
    }

    #[test]
    fn cells_read_by_pointer() {
        let value = json!({"a": {"b": "x", "n": 3, "z": null}});
        assert_eq!(cell(&value, "/a/b"), "x");
        assert_eq!(cell(&value, "/a/n"), "3");
        assert_eq!(cell(&value, "/a/z"), "-");
        assert_eq!(cell(&value, "/missing"), "-");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert!(matches!(printable("plain é"), Cow::Borrowed("plain é")));
        assert_eq!(
            printable("a\u{1b}]52;c;aGk=\u{7}b\n\u{7f}\u{9b}\u{202e}\u{2066}"),
            "a\\u{1b}]52;c;aGk=\\u{7}b\\u{a}\\u{7f}\\u{9b}\\u{202e}\\u{2066}"
        );
        let mut table = Table::new(["NAME"]);
        table.row(["\u{1b}[31mred"]);
        assert_eq!(table.render(), "NAME\n\\u{1b}[31mred");
    }
}
