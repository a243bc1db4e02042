//! What goes to stdout, decided in one place: JSON (pretty on a terminal,
//! compact when piped), JSON Lines, tables that fit the terminal, and CSV.
//!
//! Commands build an [`Output`] (the result as JSON, the rows a person
//! reads, the lines that go with them) and hand it to [`Output::print`]
//! with the [`Choice`] the command line made; nothing else looks at the
//! format.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use clap::ValueEnum;
use serde::Serialize;
use serde_json::Value;

use crate::exit::Failure;

/// The environment variable that sets the output format when `--output`
/// is not given.
pub const ENV_OUTPUT: &str = "S1_OUTPUT";

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text for people: tables (as wide as the terminal) and short lines.
    Table,
    /// One JSON document (indented on a terminal).
    Json,
    /// JSON Lines: one compact JSON value per line (one item of a list
    /// per line).
    Jsonl,
    /// CSV: a header and one row per item; cells starting with = + - @
    /// get a leading ' so spreadsheets do not run them.
    Csv,
}

/// The format of one run: the one asked for, or the one that suits
/// stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The format.
    pub format: Format,
    /// Whether it was asked for (`--output`, an alias, or `S1_OUTPUT`)
    /// rather than chosen from stdout.
    pub explicit: bool,
}

impl Choice {
    /// `asked` when given; else `S1_OUTPUT` when set; else a table on a
    /// terminal and JSON when piped. A `S1_OUTPUT` that names no format is
    /// a usage error.
    pub fn resolve(asked: Option<Format>) -> Result<Choice, Failure> {
        if let Some(format) = asked {
            return Ok(Choice::explicit(format));
        }
        match std::env::var(ENV_OUTPUT) {
            Ok(text) if !text.trim().is_empty() => {
                <Format as ValueEnum>::from_str(text.trim(), true)
                    .map(Choice::explicit)
                    .map_err(|_| {
                        Failure::usage(format!(
                            "{ENV_OUTPUT}={:?} is not one of table, json, jsonl, csv",
                            printable(&text)
                        ))
                    })
            }
            _ => Ok(Choice::automatic(io::stdout().is_terminal())),
        }
    }

    /// A format asked for.
    pub fn explicit(format: Format) -> Choice {
        Choice {
            format,
            explicit: true,
        }
    }

    /// The default: a table when stdout is a terminal, JSON otherwise.
    pub fn automatic(terminal: bool) -> Choice {
        Choice {
            format: if terminal {
                Format::Table
            } else {
                Format::Json
            },
            explicit: false,
        }
    }

    /// The format for a command whose answer is JSON from the console
    /// (`s1 api`, `s1 request`): JSON unless another format was asked
    /// for.
    pub fn json_unless_asked(self) -> Format {
        if self.explicit {
            self.format
        } else {
            Format::Json
        }
    }
}

/// What `--output jsonl` prints.
#[derive(Debug, Clone)]
enum Lines {
    /// The document, on one line.
    Document,
    /// The items of the list at this JSON pointer of the document ("" for
    /// the document itself), one a line.
    ItemsAt(&'static str),
    /// These values, one a line.
    Values(Vec<Value>),
}

/// The result of a command, in every form it can be printed in.
#[derive(Debug, Clone)]
pub struct Output {
    document: Value,
    lines: Lines,
    table: Table,
    notes: Vec<String>,
}

impl Output {
    /// A list: `items` as one JSON array, one item a line in JSON Lines,
    /// `table` for tables and CSV.
    pub fn list(items: Vec<Value>, table: Table) -> Output {
        Output {
            document: Value::Array(items),
            lines: Lines::ItemsAt(""),
            table,
            notes: Vec::new(),
        }
    }

    /// One result: `document` as JSON (on one line in JSON Lines),
    /// `table` for tables and CSV.
    pub fn document(document: Value, table: Table) -> Output {
        Output {
            document,
            lines: Lines::Document,
            table,
            notes: Vec::new(),
        }
    }

    /// JSON Lines print the items of the list at `pointer` in the
    /// document, one a line.
    pub fn lines_at(mut self, pointer: &'static str) -> Output {
        self.lines = Lines::ItemsAt(pointer);
        self
    }

    /// JSON Lines print these values, one a line.
    pub fn lines_of(mut self, values: Vec<Value>) -> Output {
        self.lines = Lines::Values(values);
        self
    }

    /// A line for people after the table (on stderr with CSV, so the CSV
    /// stays whole; not printed with JSON).
    pub fn note(mut self, line: impl Into<String>) -> Output {
        self.notes.push(line.into());
        self
    }

    /// Prints the result as `format` says.
    pub fn print(&self, format: Format) -> Result<(), Failure> {
        match format {
            Format::Json => json(&self.document),
            Format::Jsonl => match &self.lines {
                Lines::Document => json_line(&self.document),
                Lines::ItemsAt(pointer) => match self.document.pointer(pointer) {
                    Some(Value::Array(items)) => items.iter().try_for_each(json_line),
                    Some(other) => json_line(other),
                    None => Ok(()),
                },
                Lines::Values(values) => values.iter().try_for_each(json_line),
            },
            Format::Table => {
                self.table.print()?;
                self.notes.iter().try_for_each(|note| line(note))
            }
            Format::Csv => {
                write_text(&self.table.csv())?;
                for note in &self.notes {
                    eprintln!("{}", printable(note));
                }
                Ok(())
            }
        }
    }
}

/// A console's JSON answer (`s1 api`, `s1 request`): as it is for JSON,
/// the items of its `data` list one a line for JSON Lines (the answer on
/// one line when it has none), and [`Table::of_json`] for tables and CSV.
pub fn answer(value: Value) -> Output {
    let table = Table::of_json(&value);
    let lines = match value.get("data") {
        Some(Value::Array(_)) => Lines::ItemsAt("/data"),
        _ => Lines::Document,
    };
    Output {
        document: value,
        lines,
        table,
        notes: Vec::new(),
    }
}

/// Items of a console's lists (`--all`): a JSON array, one item a line,
/// or a table of their fields.
pub fn items(items: Vec<Value>) -> Output {
    let items = Value::Array(items);
    let table = Table::of_json(&items);
    Output {
        document: items,
        lines: Lines::ItemsAt(""),
        table,
        notes: Vec::new(),
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

/// A CSV cell: [`printable`], then a leading `'` when it starts with
/// `=`, `+`, `-` or `@` and is neither that sign alone nor a plain
/// number, so that a spreadsheet shows console text instead of running it
/// as a formula.
pub fn csv_safe(text: &str) -> Cow<'_, str> {
    let text = printable(text);
    // A sign alone (`-` for "none") or a number is no formula.
    let formula = text.starts_with(['=', '+', '-', '@']) && text.chars().nth(1).is_some();
    if formula && text.parse::<f64>().is_err() {
        Cow::Owned(format!("'{text}"))
    } else {
        text
    }
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

/// Writes text as it is (it ends with its own line break).
fn write_text(text: &str) -> Result<(), Failure> {
    bytes(text.as_bytes())
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

/// One cell of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, shown as it is (escaped).
    Text(String),
    /// A time as the console wrote it: to the second in tables, as sent
    /// in CSV.
    Time(String),
    /// An instant: to the second in tables, RFC 3339 in CSV.
    Instant(DateTime<Utc>),
}

impl Cell {
    /// A time the console sent; `-` when there is none.
    pub fn time(text: Option<&str>) -> Cell {
        match text {
            Some(text) => Cell::Time(text.to_string()),
            None => Cell::Text("-".to_string()),
        }
    }

    /// The text a table shows: times to the second
    /// (`2026-12-03 10:07:05Z`), a time that does not read as RFC 3339 as
    /// it is.
    fn for_table(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(text) => printable(text),
            Cell::Time(text) => match DateTime::parse_from_rfc3339(text.trim()) {
                Ok(at) => Cow::Owned(to_second(&at.with_timezone(&Utc))),
                Err(_) => printable(text),
            },
            Cell::Instant(at) => Cow::Owned(to_second(at)),
        }
    }

    /// The text of a CSV cell, before [`csv_safe`].
    fn for_csv(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(text) | Cell::Time(text) => Cow::Borrowed(text),
            Cell::Instant(at) => Cow::Owned(at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::Text(text.to_string())
    }
}

impl From<DateTime<Utc>> for Cell {
    fn from(at: DateTime<Utc>) -> Cell {
        Cell::Instant(at)
    }
}

/// An instant to the second, for people: `2026-12-03 10:07:05Z`.
pub fn to_second(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// A table: a header row and rows of cells.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
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
    pub fn row<I: IntoIterator<Item = C>, C: Into<Cell>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// A table of any JSON: the items of a list (or of the list in `data`)
    /// as rows, with a column for every field some item has a value for,
    /// in the order first seen; an object as FIELD and VALUE rows; anything else as one
    /// VALUE. Text that reads as an RFC 3339 time is shown to the second.
    pub fn of_json(value: &Value) -> Table {
        let items = match value {
            Value::Array(items) => Some(items.as_slice()),
            Value::Object(fields) => match fields.get("data") {
                Some(Value::Array(items)) => Some(items.as_slice()),
                _ => None,
            },
            _ => None,
        };
        match (items, value) {
            (Some(items), _) if items.iter().all(Value::is_object) => {
                // Fields no item has a value for are left out.
                let mut columns: Vec<&str> = Vec::new();
                for item in items.iter().filter_map(Value::as_object) {
                    for (key, value) in item {
                        if !value.is_null() && !columns.contains(&key.as_str()) {
                            columns.push(key);
                        }
                    }
                }
                let mut table = Table::new(columns.iter().copied());
                for item in items {
                    table.row(columns.iter().map(|c| json_cell(item.get(*c))));
                }
                table
            }
            (Some(items), _) => {
                let mut table = Table::new(["VALUE"]);
                for item in items {
                    table.row([json_cell(Some(item))]);
                }
                table
            }
            (None, Value::Object(fields)) => {
                let mut table = Table::new(["FIELD", "VALUE"]);
                for (key, value) in fields {
                    table.row([Cell::from(key.as_str()), json_cell(Some(value))]);
                }
                table
            }
            (None, other) => {
                let mut table = Table::new(["VALUE"]);
                table.row([json_cell(Some(other))]);
                table
            }
        }
    }

    /// The table as text, as wide as `width` columns at most (cells wrap)
    /// or unlimited: cells made [`printable`], times to the second,
    /// columns two spaces apart, no trailing blanks.
    pub fn render(&self, width: Option<u16>) -> String {
        use comfy_table::{CellAlignment, ContentArrangement};
        let mut table = comfy_table::Table::new();
        table.load_style(comfy_table::presets::NOTHING);
        match width {
            Some(width) => {
                table
                    .set_content_arrangement(ContentArrangement::Dynamic)
                    .set_width(width);
            }
            None => {
                table.set_content_arrangement(ContentArrangement::Disabled);
            }
        }
        let columns = self.header.len();
        table.set_header(self.header.iter().map(|h| printable(h).into_owned()));
        for row in &self.rows {
            let cells: Vec<String> = (0..columns)
                .map(|i| {
                    row.get(i)
                        .map_or_else(String::new, |c| c.for_table().into())
                })
                .collect();
            table.add_row(cells);
        }
        let unbroken = width.map_or_else(Vec::new, |w| self.unbroken(usize::from(w)));
        for (i, column) in table.column_iter_mut().enumerate() {
            let right = if i + 1 < columns { 2 } else { 0 };
            column.set_padding((0, right));
            column.set_cell_alignment(CellAlignment::Left);
            if unbroken.contains(&i) {
                column.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
            }
        }
        table
            .lines()
            .map(|line| line.trim_end().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The columns kept whole when the table is wider than `width`: the
    /// narrowest first, each as long as it needs no more than an equal
    /// share of the width the others left, so that ids and names stay on
    /// one line and the widest text wraps.
    fn unbroken(&self, width: usize) -> Vec<usize> {
        let columns = self.header.len();
        // Each column with the two blanks after it.
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                let header = printable(&self.header[i]).chars().count();
                self.rows
                    .iter()
                    .filter_map(|row| row.get(i))
                    .map(|cell| cell.for_table().chars().count())
                    .fold(header, usize::max)
                    + 2
            })
            .collect();
        let mut available = width + 2;
        if widths.iter().sum::<usize>() <= available {
            return Vec::new();
        }
        let mut order: Vec<usize> = (0..columns).collect();
        order.sort_by_key(|&i| widths[i]);
        let mut unbroken = Vec::new();
        for (n, &i) in order.iter().enumerate() {
            if widths[i] > available / (columns - n) {
                break;
            }
            available -= widths[i];
            unbroken.push(i);
        }
        unbroken
    }

    /// The table as CSV: the header, then the rows, every cell through
    /// [`csv_safe`], quoted where CSV needs it.
    pub fn csv(&self) -> String {
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(Vec::new());
        let header = self.header.iter().map(|h| csv_safe(h).into_owned());
        // Writing to memory cannot fail.
        let _ = writer.write_record(header);
        for row in &self.rows {
            let cells = (0..self.header.len().max(row.len())).map(|i| {
                row.get(i)
                    .map_or_else(String::new, |c| csv_safe(&c.for_csv()).into_owned())
            });
            let _ = writer.write_record(cells);
        }
        let bytes = writer.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// Prints the table, as wide as the terminal when stdout is one.
    pub fn print(&self) -> Result<(), Failure> {
        write_line(&self.render(stdout_width()))
    }
}

/// The width of the terminal stderr is, none when it is not one.
pub fn stderr_width() -> Option<u16> {
    if !io::stderr().is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(io::stderr()).map(|(terminal_size::Width(w), _)| w)
}

/// The width of the terminal stdout is, none when it is not one.
pub fn stdout_width() -> Option<u16> {
    if !io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size().map(|(terminal_size::Width(w), _)| w)
}

/// The table cell of a JSON value: strings as they are (times to the
/// second), null or absent as `-`, other values as JSON.
fn json_cell(value: Option<&Value>) -> Cell {
    match value {
        None | Some(Value::Null) => Cell::from("-"),
        Some(Value::String(text)) if looks_like_time(text) => Cell::Time(text.clone()),
        Some(Value::String(text)) => Cell::Text(text.clone()),
        Some(other) => Cell::Text(other.to_string()),
    }
}

/// Whether `text` is an RFC 3339 time with a date and a clock.
fn looks_like_time(text: &str) -> bool {
    text.len() >= 20
        && text.as_bytes().get(10) == Some(&b'T')
        && DateTime::parse_from_rfc3339(text).is_ok()
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

/// The time at `pointer` in `value` for a table cell (see [`Cell::time`]).
pub fn time_cell(value: &Value, pointer: &str) -> Cell {
    Cell::time(value.pointer(pointer).and_then(Value::as_str))
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
        assert_eq!(
            table.render(None),
            "ID    NAME\n1     win-lab-001\n1234  mac"
        );
    }

    #[test]
    fn tables_fit_the_width_given() {
        let mut table = Table::new(["ID", "PATH"]);
        let path = "C:\\Users\\someone\\AppData\\Local\\Temp\\a-very-long-file-name.exe";
        table.row(["1", path]);
        let wide = table.render(None);
        assert_eq!(wide.lines().count(), 2);
        assert!(wide.contains(path));
        let narrow = table.render(Some(30));
        assert!(narrow.lines().count() > 2, "{narrow}");
        assert!(narrow.lines().all(|l| l.chars().count() <= 30), "{narrow}");
        let joined: String = narrow.lines().skip(1).map(|l| l[3..].trim()).collect();
        assert_eq!(joined, path, "{narrow}");

        // Short columns stay whole; the widest wraps.
        let mut table = Table::new(["ID", "COMPUTER", "PATH"]);
        table.row(["1900000000001003774", "win-lab-001", path]);
        let fitted = table.render(Some(60));
        assert!(fitted.lines().all(|l| l.chars().count() <= 60), "{fitted}");
        let first = fitted.lines().nth(1).unwrap();
        assert!(
            first.starts_with("1900000000001003774  win-lab-001  C:\\Users"),
            "{fitted}"
        );
    }

    #[test]
    fn times_show_to_the_second() {
        let mut table = Table::new(["CREATED", "SEEN"]);
        let at = DateTime::parse_from_rfc3339("2026-12-03T10:07:05.999999Z")
            .unwrap()
            .with_timezone(&Utc);
        table.row([Cell::time(Some("2026-12-03T10:07:05.123Z")), Cell::from(at)]);
        table.row([Cell::time(Some("yesterday")), Cell::time(None)]);
        assert_eq!(
            table.render(None),
            "CREATED               SEEN\n\
             2026-12-03 10:07:05Z  2026-12-03 10:07:05Z\n\
             yesterday             -"
        );
        assert_eq!(
            table.csv(),
            "CREATED,SEEN\n2026-12-03T10:07:05.123Z,2026-12-03T10:07:05.999999Z\nyesterday,-\n"
        );
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut table = Table::new(["NAME", "NOTE"]);
        table.row(["=HYPERLINK(\"http://x\")", "a,b"]);
        table.row(["+1+2", "-1.5"]);
        table.row(["@SUM(A1)", "line\nbreak \u{1b}[31m"]);
        table.row(["-cmd|' /C calc'!A0", "plain"]);
        assert_eq!(
            table.csv(),
            "NAME,NOTE\n\
             \"'=HYPERLINK(\"\"http://x\"\")\",\"a,b\"\n\
             '+1+2,-1.5\n\
             '@SUM(A1),line\\u{a}break \\u{1b}[31m\n\
             '-cmd|' /C calc'!A0,plain\n"
        );
    }

    #[test]
    fn json_becomes_a_table() {
        let list = json!({"data": [
            {"id": "1", "name": "a", "createdAt": "2026-12-03T10:07:05.120Z"},
            {"id": "2", "extra": {"k": 1}, "name": null}
        ], "pagination": {}});
        assert_eq!(
            Table::of_json(&list).render(None),
            "id  name  createdAt             extra\n\
             1   a     2026-12-03 10:07:05Z  -\n\
             2   -     -                     {\"k\":1}"
        );
        let object = json!({"version": "S-23", "n": 3});
        assert_eq!(
            Table::of_json(&object).render(None),
            "FIELD    VALUE\nversion  S-23\nn        3"
        );
        assert_eq!(Table::of_json(&json!([1, "x"])).csv(), "VALUE\n1\nx\n");
    }

    #[test]
    fn outputs_print_each_format() {
        let mut table = Table::new(["ID"]);
        table.row(["1"]);
        let output = Output::list(vec![json!({"id": "1"})], table).note("1 item");
        assert!(matches!(output.lines, Lines::ItemsAt("")));
        assert_eq!(output.document, json!([{"id": "1"}]));
    }

    #[test]
    fn the_default_follows_stdout() {
        assert_eq!(Choice::automatic(true).format, Format::Table);
        assert_eq!(Choice::automatic(false).format, Format::Json);
        assert!(!Choice::automatic(true).explicit);
        assert_eq!(Choice::automatic(true).json_unless_asked(), Format::Json);
        assert_eq!(
            Choice::explicit(Format::Csv).json_unless_asked(),
            Format::Csv
        );
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
        assert_eq!(table.render(None), "NAME\n\\u{1b}[31mred");
        assert_eq!(table.render(Some(80)), "NAME\n\\u{1b}[31mred");
    }
}
