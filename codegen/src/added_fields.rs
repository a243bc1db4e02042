//! `[[response_fields]]`: properties consoles send that a vendor response
//! definition does not declare, added to the vendor file before it is
//! converted (so they are converted like every vendor property).

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use crate::curation::ResponseFields;

/// A copy of `vendor` with every `[[response_fields]]` entry added.
pub fn add_response_fields(vendor: &Value, entries: &[ResponseFields]) -> Result<Value> {
    let mut patched = vendor.clone();
    for entry in entries {
        add(&mut patched, entry).with_context(|| {
            format!(
                "curation [[response_fields]] of {} at {}",
                entry.definition, entry.at
            )
        })?;
    }
    Ok(patched)
}

fn add(vendor: &mut Value, entry: &ResponseFields) -> Result<()> {
    let added: Map<String, Value> =
        serde_json::from_str(&entry.properties).context("properties is not a JSON object")?;
    let Some(mut schema) = vendor
        .get_mut("definitions")
        .and_then(|d| d.get_mut(&entry.definition))
    else {
        bail!("the vendor file has no such definition");
    };
    for step in entry.at.split('.').filter(|s| !s.is_empty()) {
        let (name, into_items) = match step.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (step, false),
        };
        schema = schema
            .get_mut("properties")
            .and_then(|p| p.get_mut(name))
            .with_context(|| format!("no property {name}"))?;
        if into_items {
            schema = schema
                .get_mut("items")
                .with_context(|| format!("{name} is not a list"))?;
        }
    }
    if schema.get("$ref").is_some() {
        bail!("the place is a $ref: name the referenced definition instead");
    }
    let properties = schema
        .as_object_mut()
        .context("the place is not a schema")?
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .context("its properties are not an object")?;
    for (name, property) in added {
        if properties.contains_key(&name) {
            bail!("{name} is already declared by the vendor; remove it from the curation");
        }
        properties.insert(name, property);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(at: &str, properties: &str) -> ResponseFields {
        ResponseFields {
            definition: "page".into(),
            at: at.into(),
            properties: properties.into(),
        }
    }

    fn vendor() -> Value {
        json!({"definitions": {"page": {"properties": {"data": {
            "type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}
        }}}}})
    }

    #[test]
    fn adds_properties_inside_list_items() {
        let out = add_response_fields(
            &vendor(),
            &[entry("data[]", r#"{"siteId": {"type": "string"}}"#)],
        )
        .unwrap();
        assert_eq!(
            out["definitions"]["page"]["properties"]["data"]["items"]["properties"],
            json!({"id": {"type": "string"}, "siteId": {"type": "string"}})
        );
    }

    #[test]
    fn refuses_what_does_not_fit() {
        for (at, properties, expected) in [
            (
                "data[]",
                r#"{"id": {"type": "string"}}"#,
                "already declared",
            ),
            ("nothing", "{}", "no property nothing"),
            ("data[]", "[1]", "not a JSON object"),
        ] {
            let err = add_response_fields(&vendor(), &[entry(at, properties)]).unwrap_err();
            assert!(format!("{err:#}").contains(expected), "{err:#}");
        }
    }
}
