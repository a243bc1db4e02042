//! A list sent as one comma-joined query value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A list of values that SentinelOne takes as one comma-joined query
/// parameter: `ids=1,2` rather than `ids=1&ids=2`.
///
/// Build it from any iterator or collection of displayable values:
///
/// ```
/// use sentinelone_generated::CsvList;
/// let ids: CsvList = ["225494730938493804", "225494730938493915"].into();
/// assert_eq!(ids.to_string(), "225494730938493804,225494730938493915");
/// let one: CsvList = "windows".into();
/// assert_eq!(one.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CsvList(Vec<String>);

impl CsvList {
    /// The values, in order.
    pub fn values(&self) -> &[String] {
        &self.0
    }

    /// How many values the list holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list holds no value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for CsvList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

impl FromStr for CsvList {
    type Err = std::convert::Infallible;

    /// Splits on commas; empty items are dropped.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(CsvList(
            s.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect(),
        ))
    }
}

impl<T: fmt::Display> FromIterator<T> for CsvList {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        CsvList(iter.into_iter().map(|v| v.to_string()).collect())
    }
}

impl<T: fmt::Display> From<Vec<T>> for CsvList {
    fn from(values: Vec<T>) -> Self {
        values.into_iter().collect()
    }
}

impl<T: fmt::Display> From<&[T]> for CsvList {
    fn from(values: &[T]) -> Self {
        values.iter().collect()
    }
}

impl<T: fmt::Display, const N: usize> From<[T; N]> for CsvList {
    fn from(values: [T; N]) -> Self {
        values.into_iter().collect()
    }
}

impl From<&str> for CsvList {
    /// One value (not split: use `parse` to split a comma-joined string).
    fn from(value: &str) -> Self {
        CsvList(vec![value.to_string()])
    }
}

impl From<String> for CsvList {
    /// One value (not split: use `parse` to split a comma-joined string).
    fn from(value: String) -> Self {
        CsvList(vec![value])
    }
}

impl Serialize for CsvList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for CsvList {
    /// Accepts a comma-joined string or a JSON array of values.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Joined(String),
            List(Vec<serde_json::Value>),
        }
        Ok(match Form::deserialize(deserializer)? {
            Form::Joined(s) => s.parse().unwrap_or_default(),
            Form::List(items) => items
                .into_iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect(),
        })
    }
}
