//! Decoding of response structs.
//!
//! codegen does not derive `Deserialize` for response structs. It writes an
//! [`Object`] impl for each (a `match` from JSON field name to field) and a
//! `Deserialize` impl that calls [`object`]. The loop over the JSON object,
//! and keeping unknown fields in `extra`, are written once, here. Each field
//! decodes as `lenient` describes: the four `*Field` seeds below apply
//! [`scalar`], [`scalar_list`], [`list`] and [`items`].
//!
//! A response struct decodes exactly as a serde derive with every field
//! `Option` (`#[serde(default)]`) and `#[serde(flatten)] extra` would, but
//! that a key sent twice keeps its last value rather than failing.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::lenient::{Decoded, Scalar, items, list, scalar, scalar_list};

/// A response struct: every field optional, unknown fields kept in `extra`.
pub(crate) trait Object: Default {
    /// The type's name, for "expected struct X" errors.
    const NAME: &'static str;

    /// Decodes the value of the field named `key` in JSON from `map` into
    /// `self`; `false`, with the value left unread, when no field has that
    /// name.
    fn field<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error>;

    /// Where fields the spec does not name are kept.
    fn extra(&mut self) -> &mut Map<String, Value>;
}

/// Decodes a response struct from a JSON object.
pub(crate) fn object<'de, D: Deserializer<'de>, T: Object>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

struct ObjectVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T: Object> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut object = T::default();
        while let Some(Key(key)) = map.next_key()? {
            if !object.field(&key, &mut map)? {
                let value: Value = map.next_value()?;
                object.extra().insert(key.into_owned(), value);
            }
        }
        Ok(object)
    }
}

/// A field name, borrowed from the input when it can be.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(key)))
    }

    fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key.to_owned())))
    }

    fn visit_string<E>(self, key: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key)))
    }
}

/// Declares a seed that decodes one field through a `lenient` function.
macro_rules! field_seed {
    ($(#[$doc:meta])* $seed:ident, $value:ty, $read:ident, $($bound:tt)+) => {
        $(#[$doc])*
        pub(crate) struct $seed<T>(PhantomData<fn() -> T>);

        impl<T> $seed<T> {
            pub(crate) fn new() -> Self {
                Self(PhantomData)
            }
        }

        impl<'de, T: $($bound)+> DeserializeSeed<'de> for $seed<T> {
            type Value = $value;

            fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<$value, D::Error> {
                $read(deserializer)
            }
        }
    };
}

field_seed!(
    /// An optional scalar in any of the shapes [`scalar`] accepts.
    ScalarField, Option<T>, scalar, Scalar
);
field_seed!(
    /// An optional list of scalars ([`scalar_list`]).
    ScalarListField, Option<Vec<T>>, scalar_list, Scalar
);
field_seed!(
    /// An optional list, one value counting as a list of one ([`list`]).
    ListField, Option<Vec<T>>, list, Deserialize<'de>
);
field_seed!(
    /// A response's `data` list, item by item ([`items`]).
    ItemsField, Option<Vec<Decoded<T>>>, items, DeserializeOwned
);

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use crate::types::AccountGetResponseData;

    #[test]
    fn fields_decode_by_json_name_leniently_and_unknown_ones_are_kept_in_order() {
        let data: AccountGetResponseData = serde_json::from_str(
            r#"{"zNew": 1, "activeAgents": "12", "isDefault": "True", "name": "Acme", "aNew": [true]}"#,
        )
        .unwrap();
        assert_eq!(data.active_agents, Some(12));
        assert_eq!(data.is_default, Some(true));
        assert_eq!(data.name.as_deref(), Some("Acme"));
        let extra: Vec<_> = data
            .extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_string()))
            .collect();
        assert_eq!(
            extra,
            [("zNew", "1".to_string()), ("aNew", "[true]".to_string())]
        );
    }

    #[test]
    fn escaped_keys_and_keys_read_from_a_value_find_their_field() {
        let escaped: AccountGetResponseData =
            serde_json::from_str(r#"{"n\u0061me": "Acme"}"#).unwrap();
        assert_eq!(escaped.name.as_deref(), Some("Acme"));
        let value = serde_json::json!({"name": "Acme", "other": null});
        let from_value = AccountGetResponseData::deserialize(&value).unwrap();
        assert_eq!(from_value.name.as_deref(), Some("Acme"));
        assert_eq!(from_value.extra["other"], serde_json::Value::Null);
    }

    #[test]
    fn a_key_sent_twice_keeps_its_last_value() {
        let data: AccountGetResponseData =
            serde_json::from_str(r#"{"name": "first", "name": "last"}"#).unwrap();
        assert_eq!(data.name.as_deref(), Some("last"));
    }

    #[test]
    fn what_is_not_an_object_fails_naming_the_struct_and_a_bad_field_names_its_path() {
        let error = serde_json::from_str::<AccountGetResponseData>("[1]").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("expected struct AccountGetResponseData"),
            "{error}"
        );
        let json = r#"{"name": "Acme", "activeAgents": "many"}"#;
        let error = serde_path_to_error::deserialize::<_, AccountGetResponseData>(
            &mut serde_json::Deserializer::from_str(json),
        )
        .unwrap_err();
        assert_eq!(error.path().to_string(), "activeAgents");
    }
}
