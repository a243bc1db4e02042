//! [`ConsoleTime`]: an instant as the console writes it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant the client sends (query parameters such as `createdAt__gt`,
/// body fields such as `fromDate`), in the console's own form: UTC with
/// exactly three fractional digits and `Z` (`2026-12-01T10:00:00.000Z`).
/// Finer precision is cut to the millisecond when the value is made.
///
/// ```
/// use chrono::TimeZone;
/// use sentinelone_generated::ConsoleTime;
///
/// let at = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
/// assert_eq!(ConsoleTime::from(at).to_string(), "2026-12-01T10:00:00.000Z");
/// let fine: ConsoleTime = "2026-12-01T11:00:00.123456789+01:00".parse().unwrap();
/// assert_eq!(fine.to_string(), "2026-12-01T10:00:00.123Z");
/// assert_eq!(serde_json::to_string(&fine).unwrap(), "\"2026-12-01T10:00:00.123Z\"");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsoleTime(DateTime<Utc>);

impl ConsoleTime {
    /// The instant (already cut to the millisecond).
    pub fn instant(&self) -> DateTime<Utc> {
        self.0
    }
}

impl From<DateTime<Utc>> for ConsoleTime {
    fn from(at: DateTime<Utc>) -> Self {
        ConsoleTime(at.trunc_subsecs(3))
    }
}

impl From<ConsoleTime> for DateTime<Utc> {
    fn from(at: ConsoleTime) -> Self {
        at.0
    }
}

impl fmt::Display for ConsoleTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl FromStr for ConsoleTime {
    type Err = chrono::ParseError;

    /// An RFC 3339 time in any offset.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DateTime::parse_from_rfc3339(text).map(|at| ConsoleTime::from(at.with_timezone(&Utc)))
    }
}

impl Serialize for ConsoleTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ConsoleTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
