//! PowerQuery tables: typed columns and cells, timestamps by digit count,
//! and the merge of per-slice tables.

use futures_util::future::try_join_all;

use super::*;

/// What a column holds (`type` or `cellType` of the console's column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnKind {
    /// Numbers.
    Number,
    /// Numbers meant as percentages.
    Percentage,
    /// Text.
    String,
    /// Instants (epoch numbers on the wire; see [`epoch_to_utc`]).
    Timestamp,
    /// A kind this library does not know, as sent.
    Other(String),
}

impl ColumnKind {
    /// Reads the console's name of a kind (any case).
    pub fn parse(name: &str) -> Self {
        match name.trim().to_ascii_uppercase().as_str() {
            "NUMBER" => ColumnKind::Number,
            "PERCENTAGE" => ColumnKind::Percentage,
            "STRING" => ColumnKind::String,
            "TIMESTAMP" => ColumnKind::Timestamp,
            _ => ColumnKind::Other(name.to_string()),
        }
    }
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// What it holds.
    pub kind: ColumnKind,
    /// Decimals to show, when the console says.
    pub decimal_places: Option<i64>,
}

/// One cell of a table, read by its column's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value.
    Null,
    /// A NUMBER or PERCENTAGE cell.
    Number(f64),
    /// A STRING cell.
    String(String),
    /// A TIMESTAMP cell.
    Timestamp(DateTime<Utc>),
    /// A value that does not read as its column's kind (or of an unknown
    /// kind), as sent.
    Other(Value),
}

impl Cell {
    /// Reads `value` as a cell of a `kind` column.
    pub fn read(kind: &ColumnKind, value: Value) -> Cell {
        let number = |v: &Value| match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match (kind, value) {
            (_, Value::Null) => Cell::Null,
            (ColumnKind::Number | ColumnKind::Percentage, v) => match number(&v) {
                Some(n) => Cell::Number(n),
                None => Cell::Other(v),
            },
            (ColumnKind::String, Value::String(s)) => Cell::String(s),
            (ColumnKind::Timestamp, v) => match epoch_to_utc(&v) {
                Some(t) => Cell::Timestamp(t),
                None => Cell::Other(v),
            },
            (_, v) => Cell::Other(v),
        }
    }

    /// The number in a NUMBER or PERCENTAGE cell.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Number(n) => Some(*n),
            _ => None,
        }
    }
}

/// An epoch number (or its digits as text) as an instant, its unit read
/// from its digit count: up to 11 digits seconds (10 today), 12 to 14
/// milliseconds (13), 15 to 17 microseconds (16), 18 or more nanoseconds
/// (19). Fractions are cut; `None` for anything else.
///
/// ```
/// use sentinelone::lrq::epoch_to_utc;
/// use serde_json::json;
///
/// let s = epoch_to_utc(&json!(1776729600)).unwrap();
/// assert_eq!(s.to_rfc3339(), "2026-04-21T00:00:00+00:00");
/// assert_eq!(epoch_to_utc(&json!(1776729600000_i64)), Some(s));
/// assert_eq!(epoch_to_utc(&json!(1776729600000000_i64)), Some(s));
/// assert_eq!(epoch_to_utc(&json!("1776729600000000000")), Some(s));
/// ```
pub fn epoch_to_utc(value: &Value) -> Option<DateTime<Utc>> {
    let n: i128 = match value {
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i128::from(i),
            (_, Some(u), _) => i128::from(u),
            (_, _, Some(f)) if f.is_finite() && f.abs() < 1e21 => f.trunc() as i128,
            _ => return None,
        },
        Value::String(s) => {
            let s = s.trim();
            let whole = s.split('.').next().unwrap_or(s);
            whole.parse::<i128>().ok()?
        }
        _ => return None,
    };
    let digits = n.unsigned_abs().checked_ilog10().map_or(1, |d| d + 1);
    let nanos_per_unit: i128 = match digits {
        0..=11 => 1_000_000_000,
        12..=14 => 1_000_000,
        15..=17 => 1_000,
        _ => 1,
    };
    let nanos = n.checked_mul(nanos_per_unit)?;
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).ok()?;
    let sub = u32::try_from(nanos.rem_euclid(1_000_000_000)).ok()?;
    DateTime::from_timestamp(secs, sub)
}

/// What the console left out of a table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Partial {
    /// `partialResultsDueToTimeLimit`: the query ran out of time.
    pub time_limit: bool,
    /// `omittedEvents`, when the console counted any.
    pub omitted_events: Option<f64>,
    /// `discardedArrayItems`, when the console counted any.
    pub discarded_array_items: Option<f64>,
}

impl Partial {
    /// Whether the table is known to be incomplete.
    pub fn any(&self) -> bool {
        self.time_limit
            || self.omitted_events.is_some_and(|n| n > 0.0)
            || self.discarded_array_items.is_some_and(|n| n > 0.0)
    }
}

/// A PowerQuery's table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PqTable {
    /// Its columns.
    pub columns: Vec<Column>,
    /// Its rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// `matchCount`: events the query matched.
    pub match_count: Option<f64>,
    /// The console's warnings.
    pub warnings: Vec<String>,
    /// What the console left out.
    pub partial: Partial,
    /// The ids of the queries run.
    pub query_ids: Vec<String>,
}

impl PqTable {
    /// The index of the column named `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The table in a query's final answer.
    pub fn from_answer(answer: &QueryResult) -> PqTable {
        let mut table = PqTable::default();
        table.query_ids.extend(answer.id.clone());
        let Some(data) = &answer.data else {
            return table;
        };
        table.columns = data
            .columns
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, c)| Column {
                name: c.name.clone().unwrap_or_else(|| format!("column{i}")),
                kind: ColumnKind::parse(
                    c.type_.as_deref().or(c.cell_type.as_deref()).unwrap_or(""),
                ),
                decimal_places: c.decimal_places,
            })
            .collect();
        let kinds: Vec<ColumnKind> = table.columns.iter().map(|c| c.kind.clone()).collect();
        table.rows = data
            .values
            .iter()
            .flatten()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let kind = kinds
                            .get(i)
                            .cloned()
                            .unwrap_or(ColumnKind::Other(String::new()));
                        Cell::read(&kind, v.clone())
                    })
                    .collect()
            })
            .collect();
        table.match_count = data.match_count;
        table.warnings = data.warnings.clone().unwrap_or_default();
        table.partial = Partial {
            time_limit: data.partial_results_due_to_time_limit.unwrap_or(false),
            omitted_events: data.omitted_events,
            discarded_array_items: data.discarded_array_items,
        };
        table
    }

    /// Merges per-slice tables: rows concatenated, or, with `merge`, rows
    /// agreeing on every other column combined column by column; match
    /// counts added, warnings gathered, partial flags joined. Every table
    /// must have the same column names.
    pub fn merge(tables: Vec<PqTable>, merge: &BTreeMap<String, Merge>) -> Result<PqTable, Error> {
        let mut tables = tables.into_iter();
        let Some(mut out) = tables.next() else {
            return Ok(PqTable::default());
        };
        let names = |t: &PqTable| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        for table in tables {
            if !table.columns.is_empty() && names(&table) != names(&out) {
                if out.columns.is_empty() {
                    out.columns = table.columns.clone();
                } else {
                    return Err(Error::invalid(format!(
                        "the slices' tables have different columns: {:?} and {:?}",
                        names(&out),
                        names(&table)
                    )));
                }
            }
            out.rows.extend(table.rows);
            out.match_count = match (out.match_count, table.match_count) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            for w in table.warnings {
                if !out.warnings.contains(&w) {
                    out.warnings.push(w);
                }
            }
            let add = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            out.partial.time_limit |= table.partial.time_limit;
            out.partial.omitted_events =
                add(out.partial.omitted_events, table.partial.omitted_events);
            out.partial.discarded_array_items = add(
                out.partial.discarded_array_items,
                table.partial.discarded_array_items,
            );
            out.query_ids.extend(table.query_ids);
        }
        if !merge.is_empty() {
            for column in merge.keys() {
                if out.column(column).is_none() {
                    return Err(Error::invalid(format!(
                        "merge names column {column:?}, which the table lacks (columns: {:?})",
                        names(&out)
                    )));
                }
            }
            let how: Vec<Option<Merge>> = out
                .columns
                .iter()
                .map(|c| merge.get(&c.name).copied())
                .collect();
            out.rows = combine(std::mem::take(&mut out.rows), &how);
        }
        Ok(out)
    }
}

/// Rows agreeing on every column without a merge rule become one, in the
/// order first seen.
fn combine(rows: Vec<Vec<Cell>>, how: &[Option<Merge>]) -> Vec<Vec<Cell>> {
    let key = |row: &[Cell]| -> String {
        row.iter()
            .enumerate()
            .filter(|(i, _)| how.get(*i).copied().flatten().is_none())
            .map(|(_, c)| format!("{c:?}"))
            .collect::<Vec<_>>()
            .join("\u{1f}")
    };
    let mut order: Vec<String> = Vec::new();
    let mut merged: std::collections::HashMap<String, Vec<Cell>> = Default::default();
    for row in rows {
        let k = key(&row);
        match merged.get_mut(&k) {
            None => {
                order.push(k.clone());
                merged.insert(k, row);
            }
            Some(kept) => {
                for (i, cell) in row.into_iter().enumerate() {
                    let (Some(Some(rule)), Some(slot)) = (how.get(i), kept.get_mut(i)) else {
                        continue;
                    };
                    *slot = match (&*slot, &cell) {
                        (Cell::Number(a), Cell::Number(b)) => Cell::Number(match rule {
                            Merge::Sum => a + b,
                            Merge::Min => a.min(*b),
                            Merge::Max => a.max(*b),
                        }),
                        // Instants take min and max (a sum means nothing).
                        (Cell::Timestamp(a), Cell::Timestamp(b)) => Cell::Timestamp(match rule {
                            Merge::Sum => continue,
                            Merge::Min => *a.min(b),
                            Merge::Max => *a.max(b),
                        }),
                        (Cell::Null, _) => cell,
                        _ => continue,
                    };
                }
            }
        }
    }
    order
        .into_iter()
        .filter_map(|k| merged.remove(&k))
        .collect()
}

impl<'c> Lrq<'c> {
    /// Runs a PowerQuery over `range` and returns its table (columns typed,
    /// TIMESTAMP cells as instants), deleting the query afterwards.
    ///
    /// With [`LrqOptions::slices`] above 1 the window is cut into that many
    /// slices, run at once within the token's quota, and their tables
    /// merged ([`PqTable::merge`]): name in [`LrqOptions::merge`] how each
    /// aggregate column combines (a `count` sums, a `min` takes the
    /// minimum, ...); without any, the rows are concatenated (right for
    /// queries without aggregation, not for `group ... by`).
    ///
    /// Nothing is sent when the query is empty, the range empty, the scope
    /// wrong ([`LrqScope::check`]) or an option out of range.
    ///
    /// ```no_run
    /// use chrono::TimeDelta;
    /// use sentinelone::lrq::{LrqOptions, LrqScope, Merge, TimeRange};
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let options = LrqOptions::default().slices(7).merge("n", Merge::Sum);
    /// let table = client
    ///     .lrq()
    ///     .power_query(
    ///         "dataSource.name='SentinelOne' | group n=count() by endpoint.name",
    ///         TimeRange::last(TimeDelta::days(7)),
    ///         &LrqScope::accounts(["225494730938493804"]),
    ///         &options,
    ///     )
    ///     .await?;
    /// println!("{} rows, {:?} matches", table.rows.len(), table.match_count);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn power_query(
        self,
        query: &str,
        range: TimeRange,
        scope: &LrqScope,
        options: &LrqOptions,
    ) -> Result<PqTable, Error> {
        let query = text("query", query, true)?;
        range.check()?;
        let scope = scope.check()?;
        options.check()?;
        let clock = run::Clock::start(options.timeout);
        let slices = range.slices(options.slices);
        let runs = slices.into_iter().map(|slice| {
            let mut body = launch_body(
                types::LaunchLrqQueryBodyQueryType::Pq,
                slice,
                &scope,
                options.priority,
            );
            body.pq = Some(types::LaunchLrqQueryBodyPq {
                query: query.clone(),
                result_type: Some(types::LaunchLrqQueryBodyPqResultType::Table),
            });
            let clock = &clock;
            let client = self.client;
            async move {
                let answer = run::run_query(client, body, slice, options, clock).await?;
                Ok::<_, Error>(PqTable::from_answer(&answer))
            }
        });
        let tables = try_join_all(runs).await?;
        PqTable::merge(tables, &options.merge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_by_digit_count() {
        let t = DateTime::from_timestamp(1_776_729_600, 0).unwrap();
        assert_eq!(epoch_to_utc(&json!(1_776_729_600_i64)), Some(t));
        assert_eq!(epoch_to_utc(&json!(1_776_729_600_000_i64)), Some(t));
        assert_eq!(epoch_to_utc(&json!(1_776_729_600_000_000_i64)), Some(t));
        assert_eq!(epoch_to_utc(&json!(1_776_729_600_000_000_000_i64)), Some(t));
        let precise = epoch_to_utc(&json!(1_776_729_600_123_456_789_i64)).unwrap();
        assert_eq!(precise.timestamp_subsec_nanos(), 123_456_789);
        let ms = epoch_to_utc(&json!("1776729600123")).unwrap();
        assert_eq!(ms.timestamp_subsec_millis(), 123);
        let us = epoch_to_utc(&json!(1_776_729_600_123_456_i64)).unwrap();
        assert_eq!(us.timestamp_subsec_micros(), 123_456);
        assert_eq!(epoch_to_utc(&json!(1.7767296e12)), Some(t));
        assert_eq!(epoch_to_utc(&json!("soon")), None);
        assert_eq!(epoch_to_utc(&json!(null)), None);
    }

    #[test]
    fn cells_read_by_kind() {
        assert_eq!(Cell::read(&ColumnKind::Number, json!(3)), Cell::Number(3.0));
        assert_eq!(
            Cell::read(&ColumnKind::Percentage, json!("12.5")),
            Cell::Number(12.5)
        );
        assert_eq!(
            Cell::read(&ColumnKind::String, json!("x")),
            Cell::String("x".into())
        );
        assert!(matches!(
            Cell::read(&ColumnKind::Timestamp, json!(1_776_729_600_000_i64)),
            Cell::Timestamp(_)
        ));
        assert_eq!(Cell::read(&ColumnKind::Number, json!(null)), Cell::Null);
        assert_eq!(
            Cell::read(&ColumnKind::Number, json!("n/a")),
            Cell::Other(json!("n/a"))
        );
        assert_eq!(ColumnKind::parse("timestamp"), ColumnKind::Timestamp);
        assert_eq!(ColumnKind::parse("LIST"), ColumnKind::Other("LIST".into()));
    }

    fn table(rows: Vec<(&str, f64, f64)>, matches: f64) -> PqTable {
        let col = |name: &str, kind| Column {
            name: name.into(),
            kind,
            decimal_places: None,
        };
        PqTable {
            columns: vec![
                col("host", ColumnKind::String),
                col("n", ColumnKind::Number),
                col("first", ColumnKind::Number),
            ],
            rows: rows
                .into_iter()
                .map(|(h, n, f)| vec![Cell::String(h.into()), Cell::Number(n), Cell::Number(f)])
                .collect(),
            match_count: Some(matches),
            warnings: vec!["w".into()],
            partial: Partial::default(),
            query_ids: vec![],
        }
    }

    #[test]
    fn sliced_tables_merge_per_column() {
        let a = table(vec![("a", 2.0, 5.0), ("b", 1.0, 7.0)], 3.0);
        let mut b = table(vec![("a", 3.0, 4.0)], 3.0);
        b.partial.time_limit = true;
        let how = BTreeMap::from([("n".to_string(), Merge::Sum), ("first".into(), Merge::Min)]);
        let merged = PqTable::merge(vec![a.clone(), b.clone()], &how).unwrap();
        assert_eq!(
            merged.rows,
            vec![
                vec![
                    Cell::String("a".into()),
                    Cell::Number(5.0),
                    Cell::Number(4.0)
                ],
                vec![
                    Cell::String("b".into()),
                    Cell::Number(1.0),
                    Cell::Number(7.0)
                ],
            ]
        );
        assert_eq!(merged.match_count, Some(6.0));
        assert_eq!(merged.warnings, vec!["w".to_string()]);
        assert!(merged.partial.any());
        let concatenated = PqTable::merge(vec![a.clone(), b], &BTreeMap::new()).unwrap();
        assert_eq!(concatenated.rows.len(), 3);
        let unknown = BTreeMap::from([("nope".to_string(), Merge::Max)]);
        assert!(PqTable::merge(vec![a], &unknown).is_err());
    }
}
