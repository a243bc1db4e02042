//! Decoding that survives what real consoles send.
//!
//! Consoles add fields every release and older agents report values in
//! other JSON shapes than the spec declares (`"True"` for a boolean, `"12"`
//! for a number, one value where a list is declared). `codegen` marks every
//! response type so that:
//!
//! - fields the spec does not name are kept, as sent, in the struct's
//!   `extra` map (and serialised back in place);
//! - optional booleans, numbers and strings accept each other's shapes
//!   ([`scalar`]), and a list accepts a single value ([`list`],
//!   [`scalar_list`]);
//! - each item of a response's `data` list decodes on its own ([`items`]):
//!   an item that still does not decode arrives as [`Decoded::Raw`], with
//!   the field path that failed and the item as sent, while the rest of the
//!   page decodes as usual; a `tracing` warning says so. Read from JSON
//!   text, each item's text goes straight into its type; a
//!   `serde_json::Value` is built only for an item that fails.
//!
//! A value that fits none of the accepted shapes (`"abc"` for a number) is
//! still an error: nothing is dropped or guessed silently.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{
    BoolDeserializer, F64Deserializer, I64Deserializer, MapAccessDeserializer, StrDeserializer,
    U64Deserializer,
};
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// A value of a response list that either decoded as `T` or, when it did
/// not, is kept as the console sent it.
///
/// ```
/// use sentinelone_generated::{Decoded, types};
///
/// let page: types::AgentViewListResponse = serde_json::from_str(
///     r#"{"data": [{"id": "1", "isUpToDate": "True"}, {"id": "2", "networkInterfaces": 7}]}"#,
/// )
/// .unwrap();
/// let data = page.data.unwrap();
/// assert_eq!(data[0].typed().unwrap().is_up_to_date, Some(true));
/// let Decoded::Raw(odd) = &data[1] else { panic!("item 2 decodes") };
/// assert_eq!(odd.path, "data[1].networkInterfaces");
/// assert_eq!(odd.value["id"], "2");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded<T> {
    /// The item, typed.
    Typed(T),
    /// The item as sent, with where and why its typed decoding failed.
    Raw(Box<Undecoded>),
}

/// An item the typed decoding could not read, kept whole.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Undecoded {
    /// The Rust type it was decoded as.
    pub type_name: &'static str,
    /// Where in the answer decoding failed (`data[3].networkInterfaces`).
    pub path: String,
    /// What did not match.
    pub message: String,
    /// The item exactly as the console sent it.
    pub value: Value,
}

impl fmt::Display for Undecoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} did not decode at {}: {}",
            short_type_name(self.type_name),
            self.path,
            self.message
        )
    }
}

fn short_type_name(name: &str) -> &str {
    name.rsplit("::").next().unwrap_or(name)
}

impl<T> Decoded<T> {
    /// The typed item, if it decoded.
    pub fn typed(&self) -> Option<&T> {
        match self {
            Decoded::Typed(item) => Some(item),
            Decoded::Raw(_) => None,
        }
    }

    /// The typed item, or the raw one with why it did not decode.
    pub fn into_typed(self) -> Result<T, Box<Undecoded>> {
        match self {
            Decoded::Typed(item) => Ok(item),
            Decoded::Raw(raw) => Err(raw),
        }
    }

    /// The raw item, if it did not decode.
    pub fn raw(&self) -> Option<&Undecoded> {
        match self {
            Decoded::Typed(_) => None,
            Decoded::Raw(raw) => Some(raw),
        }
    }
}

impl<T: DeserializeOwned> Decoded<T> {
    /// Decodes `value` as `T`; `at` names where it sits in the answer (for
    /// the path of a failure).
    pub fn from_value(value: Value, at: &str) -> Self {
        Self::decode(value, || at.to_string())
    }

    /// [`Decoded::from_value`] with the place named by `at`, called only
    /// when the item fails (the common, typed case formats nothing).
    fn decode(value: Value, at: impl FnOnce() -> String) -> Self {
        if let Ok(item) = T::deserialize(&value) {
            return Decoded::Typed(item);
        }
        // Decode again, tracking the path, only for the rare item that fails.
        let (path, message) = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(item) => return Decoded::Typed(item),
            Err(e) => {
                let inner = e.path().to_string();
                let at = at();
                let path = match inner.as_str() {
                    "." => at,
                    p if p.starts_with('[') => format!("{at}{p}"),
                    p => format!("{at}.{p}"),
                };
                (path, e.into_inner().to_string())
            }
        };
        let raw = Undecoded {
            type_name: std::any::type_name::<T>(),
            path,
            message,
            value,
        };
        tracing::warn!(
            target: "sentinelone::decode",
            path = %raw.path,
            "{raw}; the item is delivered raw"
        );
        Decoded::Raw(Box::new(raw))
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Decoded<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Decoded::from_value(Value::deserialize(deserializer)?, ""))
    }
}

impl<T: Serialize> Serialize for Decoded<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Decoded::Typed(item) => item.serialize(serializer),
            Decoded::Raw(raw) => raw.value.serialize(serializer),
        }
    }
}

/// Decodes a response's `data` list item by item (see [`Decoded`]): an
/// item that does not decode is kept raw with its path (`data[3].…`).
/// `null` or an absent list is `None`; a single object counts as a list
/// of one.
pub fn items<'de, D, T>(deserializer: D) -> Result<Option<Vec<Decoded<T>>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let sent = deserializer.deserialize_any(ListVisitor::<Sent>(PhantomData))?;
    Ok(sent.map(|sent| {
        sent.into_iter()
            .enumerate()
            .map(|(i, item)| item.decode(|| format!("data[{i}]")))
            .collect()
    }))
}

/// One item of a `data` list as the console sent it.
enum SentItem {
    /// Its JSON text, when the answer is read from text (the usual case):
    /// decoded straight into the typed item, with no `Value` built unless
    /// that fails.
    Text(Box<RawValue>),
    /// The value, when the list came as one value or from a `Value`
    /// deserializer that hands out no text.
    Value(Value),
}

impl<'de> Deserialize<'de> for SentItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(SentItem::Text)
    }
}

impl SentItem {
    fn decode<T: DeserializeOwned>(self, at: impl FnOnce() -> String) -> Decoded<T> {
        let value = match self {
            SentItem::Text(text) => {
                if let Ok(item) = serde_json::from_str(text.get()) {
                    return Decoded::Typed(item);
                }
                match serde_json::from_str(text.get()) {
                    Ok(value) => value,
                    // Text the parser already accepted as JSON always
                    // parses again; kept raw as a string if it ever did not.
                    Err(_) => Value::String(text.get().to_owned()),
                }
            }
            SentItem::Value(value) => value,
        };
        Decoded::decode(value, at)
    }
}

/// A scalar that consoles send in more than one JSON shape.
pub trait Scalar: Sized {
    /// What the field holds, for error messages.
    const EXPECTED: &'static str;
    /// From a JSON boolean.
    fn from_bool(value: bool) -> Option<Self>;
    /// From a JSON integer.
    fn from_i64(value: i64) -> Option<Self>;
    /// From a JSON integer above `i64::MAX`.
    fn from_u64(value: u64) -> Option<Self>;
    /// From a JSON number with a fraction or exponent.
    fn from_f64(value: f64) -> Option<Self>;
    /// From a JSON string.
    fn from_str(value: &str) -> Option<Self>;
}

/// `true`/`false`, the strings `"true"`/`"false"` in any case, and `0`/`1`
/// (as numbers or strings).
impl Scalar for bool {
    const EXPECTED: &'static str = "a boolean (or \"true\"/\"false\"/0/1)";
    fn from_bool(value: bool) -> Option<Self> {
        Some(value)
    }
    fn from_i64(value: i64) -> Option<Self> {
        match value {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn from_u64(value: u64) -> Option<Self> {
        i64::try_from(value).ok().and_then(Self::from_i64)
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
    fn from_str(value: &str) -> Option<Self> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("true") || value == "1" {
            Some(true)
        } else if value.eq_ignore_ascii_case("false") || value == "0" {
            Some(false)
        } else {
            None
        }
    }
}

/// Integers, integral floats (`3.0`) and strings that hold either.
impl Scalar for i64 {
    const EXPECTED: &'static str = "an integer (or a string holding one)";
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
    fn from_i64(value: i64) -> Option<Self> {
        Some(value)
    }
    fn from_u64(value: u64) -> Option<Self> {
        i64::try_from(value).ok()
    }
    fn from_f64(value: f64) -> Option<Self> {
        // `as` saturates; the round trip rejects fractions and out-of-range values.
        let whole = value as i64;
        (whole as f64 == value).then_some(whole)
    }
    fn from_str(value: &str) -> Option<Self> {
        let value = value.trim();
        value
            .parse()
            .ok()
            .or_else(|| value.parse().ok().and_then(Self::from_f64))
    }
}

/// Numbers and strings that hold a finite one.
impl Scalar for f64 {
    const EXPECTED: &'static str = "a number (or a string holding one)";
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
    fn from_i64(value: i64) -> Option<Self> {
        Some(value as f64)
    }
    fn from_u64(value: u64) -> Option<Self> {
        Some(value as f64)
    }
    fn from_f64(value: f64) -> Option<Self> {
        Some(value)
    }
    fn from_str(value: &str) -> Option<Self> {
        value.trim().parse().ok().filter(|v: &f64| v.is_finite())
    }
}

/// Strings, and numbers and booleans as their JSON text.
impl Scalar for String {
    const EXPECTED: &'static str = "a string";
    fn from_bool(value: bool) -> Option<Self> {
        Some(value.to_string())
    }
    fn from_i64(value: i64) -> Option<Self> {
        Some(value.to_string())
    }
    fn from_u64(value: u64) -> Option<Self> {
        Some(value.to_string())
    }
    fn from_f64(value: f64) -> Option<Self> {
        Some(value.to_string())
    }
    fn from_str(value: &str) -> Option<Self> {
        Some(value.to_string())
    }
}

/// Reads one optional scalar of any accepted shape.
struct ScalarVisitor<T>(PhantomData<T>);

impl<T: Scalar> ScalarVisitor<T> {
    fn found<E: de::Error>(
        value: Option<T>,
        unexpected: de::Unexpected<'_>,
    ) -> Result<Option<T>, E> {
        match value {
            Some(value) => Ok(Some(value)),
            None => Err(E::invalid_value(unexpected, &T::EXPECTED)),
        }
    }
}

impl<'de, T: Scalar> Visitor<'de> for ScalarVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTED)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Self::found(T::from_bool(v), de::Unexpected::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Self::found(T::from_i64(v), de::Unexpected::Signed(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Self::found(T::from_u64(v), de::Unexpected::Unsigned(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Self::found(T::from_f64(v), de::Unexpected::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Self::found(T::from_str(v), de::Unexpected::Str(v))
    }
}

/// An optional scalar field of a response: `null` or absent is `None`;
/// other shapes as [`Scalar`] accepts them.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Agent {
///     #[serde(default, deserialize_with = "sentinelone_generated::lenient::scalar")]
///     up_to_date: Option<bool>,
/// }
/// let agent: Agent = serde_json::from_str(r#"{"up_to_date": "True"}"#).unwrap();
/// assert_eq!(agent.up_to_date, Some(true));
/// ```
pub fn scalar<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Scalar,
{
    deserializer.deserialize_any(ScalarVisitor(PhantomData))
}

/// One element of a [`scalar_list`].
struct LenientScalar<T>(T);

impl<'de, T: Scalar> Deserialize<'de> for LenientScalar<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match scalar(deserializer)? {
            Some(value) => Ok(LenientScalar(value)),
            None => Err(de::Error::invalid_type(de::Unexpected::Unit, &T::EXPECTED)),
        }
    }
}

/// An optional list of scalars: each element as [`scalar`] reads it, and a
/// single value as a list of one.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Rule {
///     #[serde(default, deserialize_with = "sentinelone_generated::lenient::scalar_list")]
///     scope_id: Option<Vec<String>>,
/// }
/// let rule: Rule = serde_json::from_str(r#"{"scope_id": "123"}"#).unwrap();
/// assert_eq!(rule.scope_id, Some(vec!["123".to_string()]));
/// ```
pub fn scalar_list<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Scalar,
{
    let values: Option<Vec<LenientScalar<T>>> = list(deserializer)?;
    Ok(values.map(|values| values.into_iter().map(|v| v.0).collect()))
}

/// What [`ListVisitor`] reads each element as, from a list entry or from
/// the single value sent where a list is declared.
trait Element<'de> {
    type Item: Deserialize<'de>;

    /// The element from a single value (a map or a scalar).
    fn one<D: Deserializer<'de>>(deserializer: D) -> Result<Self::Item, D::Error>;
}

/// Elements read as `T` either way.
struct Plain<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Element<'de> for Plain<T> {
    type Item = T;

    fn one<D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
        T::deserialize(deserializer)
    }
}

/// Items of a `data` list: their text when listed; a single value, which
/// has no text to hand out, as a `Value`.
struct Sent;

impl<'de> Element<'de> for Sent {
    type Item = SentItem;

    fn one<D: Deserializer<'de>>(deserializer: D) -> Result<SentItem, D::Error> {
        Value::deserialize(deserializer).map(SentItem::Value)
    }
}

/// Reads a list, or one value as a list of one.
struct ListVisitor<L>(PhantomData<L>);

impl<'de, L: Element<'de>> ListVisitor<L> {
    fn one<E: de::Error>(item: Result<L::Item, E>) -> Result<Option<Vec<L::Item>>, E> {
        item.map(|item| Some(vec![item]))
    }
}

impl<'de, L: Element<'de>> Visitor<'de> for ListVisitor<L> {
    type Value = Option<Vec<L::Item>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list, or one value")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Some(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Self::one(L::one(MapAccessDeserializer::new(map)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Self::one(L::one(BoolDeserializer::new(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Self::one(L::one(I64Deserializer::new(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Self::one(L::one(U64Deserializer::new(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Self::one(L::one(F64Deserializer::new(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Self::one(L::one(StrDeserializer::new(v)))
    }
}

/// An optional list field of a response: `null` or absent is `None`, and a
/// single value counts as a list of one.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Group {
///     #[serde(default, deserialize_with = "sentinelone_generated::lenient::list")]
///     ranks: Option<Vec<serde_json::Value>>,
/// }
/// let group: Group = serde_json::from_str(r#"{"ranks": {"a": 1}}"#).unwrap();
/// assert_eq!(group.ranks.unwrap().len(), 1);
/// ```
pub fn list<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_any(ListVisitor::<Plain<T>>(PhantomData))
}

/// The paths of the values of `sent` (a console's answer) that `kept` (the
/// typed decoding of it, serialised back) does not hold: a check that
/// decoding lost nothing. `null`s count as nothing sent. A value counts as
/// kept in any shape the decoding accepts for it (`"True"` kept as `true`,
/// `7` as `"7"`, one value as a list of one).
///
/// ```
/// use sentinelone_generated::{lenient::lost_values, types};
///
/// let sent: serde_json::Value = serde_json::json!({"data": [
///     {"id": "1", "isUpToDate": "True", "addedIn2027": {"x": [1, 2]}}
/// ]});
/// let page: types::AgentViewListResponse = serde_json::from_value(sent.clone()).unwrap();
/// let kept = serde_json::to_value(&page).unwrap();
/// assert!(lost_values(&sent, &kept).is_empty());
/// assert_eq!(lost_values(&sent, &serde_json::json!({"data": [{"id": "1"}]})).len(), 3);
/// ```
pub fn lost_values(sent: &Value, kept: &Value) -> Vec<String> {
    let mut lost = Vec::new();
    compare("", sent, kept, &mut lost);
    lost
}

fn compare(at: &str, sent: &Value, kept: &Value, lost: &mut Vec<String>) {
    match (sent, kept) {
        (Value::Null, _) => {}
        (Value::Object(sent), Value::Object(kept)) => {
            for (key, value) in sent {
                let at = format!("{at}.{key}");
                match kept.get(key) {
                    Some(kept) => compare(&at, value, kept, lost),
                    None => leaves(&at, value, lost),
                }
            }
        }
        (Value::Array(sent), Value::Array(kept)) if sent.len() == kept.len() => {
            for (i, (sent, kept)) in sent.iter().zip(kept).enumerate() {
                compare(&format!("{at}[{i}]"), sent, kept, lost);
            }
        }
        // One value read as a list of one.
        (sent, Value::Array(kept)) if !sent.is_array() && kept.len() == 1 => {
            compare(at, sent, &kept[0], lost);
        }
        (sent, kept) if same_scalar(sent, kept) => {}
        (sent, _) => leaves(at, sent, lost),
    }
}

/// Pushes the paths of the non-null leaves of `value`.
fn leaves(at: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Null => {}
        Value::Object(map) => map
            .iter()
            .for_each(|(key, value)| leaves(&format!("{at}.{key}"), value, out)),
        Value::Array(list) => list
            .iter()
            .enumerate()
            .for_each(|(i, value)| leaves(&format!("{at}[{i}]"), value, out)),
        _ => out.push(at.to_string()),
    }
}

/// Whether `kept` is `sent` in a shape [`Scalar`] reads it as.
fn same_scalar(sent: &Value, kept: &Value) -> bool {
    match (sent, kept) {
        (Value::Number(a), Value::Number(b)) => a == b || a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::String(s), Value::Bool(b)) => <bool as Scalar>::from_str(s) == Some(*b),
        (Value::Number(n), Value::Bool(b)) => {
            n.as_i64().and_then(<bool as Scalar>::from_i64) == Some(*b)
        }
        (Value::String(s), Value::Number(n)) => <f64 as Scalar>::from_str(s) == n.as_f64(),
        (Value::Bool(b), Value::String(s)) => *s == b.to_string(),
        (Value::Number(n), Value::String(s)) => {
            *s == n.to_string() || <f64 as Scalar>::from_str(s) == n.as_f64()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Scalars {
        #[serde(default, deserialize_with = "scalar")]
        flag: Option<bool>,
        #[serde(default, deserialize_with = "scalar")]
        count: Option<i64>,
        #[serde(default, deserialize_with = "scalar")]
        ratio: Option<f64>,
        #[serde(default, deserialize_with = "scalar")]
        name: Option<String>,
        #[serde(default, deserialize_with = "scalar_list")]
        ids: Option<Vec<String>>,
    }

    fn scalars(value: Value) -> Result<Scalars, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn booleans_numbers_and_strings_in_other_shapes() {
        let s =
            scalars(json!({"flag": "True", "count": "12", "ratio": "0.5", "name": 7, "ids": 5}))
                .unwrap();
        assert_eq!(s.flag, Some(true));
        assert_eq!(s.count, Some(12));
        assert_eq!(s.ratio, Some(0.5));
        assert_eq!(s.name.as_deref(), Some("7"));
        assert_eq!(s.ids, Some(vec!["5".to_string()]));
        let s = scalars(json!({"flag": 0, "count": 3.0, "ratio": 2, "ids": ["a", 1]})).unwrap();
        assert_eq!(
            (s.flag, s.count, s.ratio),
            (Some(false), Some(3), Some(2.0))
        );
        assert_eq!(s.ids, Some(vec!["a".to_string(), "1".to_string()]));
    }

    #[test]
    fn null_and_absent_are_none() {
        let s = scalars(json!({"flag": null, "ids": null})).unwrap();
        assert_eq!((s.flag, s.count, s.ids), (None, None, None));
    }

    #[test]
    fn shapes_that_fit_nothing_are_errors() {
        for (value, expected) in [
            (json!({"flag": "maybe"}), "a boolean"),
            (json!({"flag": 2}), "a boolean"),
            (json!({"count": "twelve"}), "an integer"),
            (json!({"count": 1.5}), "an integer"),
            (json!({"ratio": "NaN"}), "a number"),
            (json!({"name": {"a": 1}}), "a string"),
            (json!({"ids": [null]}), "a string"),
        ] {
            let err = scalars(value.clone()).unwrap_err();
            assert!(err.contains(expected), "{value}: {err}");
        }
    }

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Item {
        id: String,
        #[serde(default)]
        size: Option<i64>,
    }

    #[derive(Debug, Deserialize)]
    struct Page {
        #[serde(default, deserialize_with = "items")]
        data: Option<Vec<Decoded<Item>>>,
    }

    /// The page decoded from JSON text (each item's text read straight into
    /// its type) and from a `Value` (items read from values).
    fn both_ways(sent: Value) -> [Page; 2] {
        [
            serde_json::from_str(&sent.to_string()).unwrap(),
            serde_json::from_value(sent).unwrap(),
        ]
    }

    #[test]
    fn an_item_that_does_not_decode_is_kept_raw_with_its_path() {
        for page in both_ways(json!({"data": [
            {"id": "1"}, {"id": "2", "size": "big"}, {"id": "3", "size": 4}
        ]})) {
            let data = page.data.unwrap();
            assert_eq!(data.len(), 3);
            assert_eq!(data[0].typed().map(|i| i.id.as_str()), Some("1"));
            assert_eq!(data[2].typed().and_then(|i| i.size), Some(4));
            let raw = data[1].raw().unwrap();
            assert_eq!(raw.path, "data[1].size");
            assert_eq!(raw.value, json!({"id": "2", "size": "big"}));
            assert!(raw.message.contains("invalid type"), "{}", raw.message);
            assert!(
                raw.to_string()
                    .starts_with("Item did not decode at data[1].size")
            );
            // Serialised back, the raw item is in its place, as sent.
            let back: Vec<Value> = data
                .iter()
                .map(|d| serde_json::to_value(d).unwrap())
                .collect();
            assert_eq!(back[1], json!({"id": "2", "size": "big"}));
        }
    }

    #[test]
    fn a_single_item_counts_as_a_list_and_a_scalar_item_is_raw() {
        for page in both_ways(json!({"data": {"id": "9"}})) {
            assert_eq!(page.data.unwrap()[0].typed().unwrap().id, "9");
        }
        for page in both_ways(json!({"data": ["x"]})) {
            assert_eq!(page.data.unwrap()[0].raw().unwrap().path, "data[0]");
        }
        for page in both_ways(json!({"data": 7})) {
            assert_eq!(page.data.unwrap()[0].raw().unwrap().value, json!(7));
        }
        for page in both_ways(json!({"data": null})) {
            assert!(page.data.is_none());
        }
    }

    #[test]
    fn an_item_read_from_text_keeps_escapes_and_nested_values() {
        let sent = r#"{"data": [{"id": "a\"b\u00e9", "size": 1, "more": {"x": [1, 2.5]}}]}"#;
        let page: Page = serde_json::from_str(sent).unwrap();
        let data = page.data.unwrap();
        assert_eq!(data[0].typed().unwrap().id, "a\"b\u{e9}");
        assert_eq!(data[0].typed().unwrap().size, Some(1));
    }
}
