//! `CsvList`, the comma-joined query parameter: never panics; parsing
//! yields trimmed, non-empty values without commas; display and parse
//! round-trip every list of such values; serde agrees with both.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinelone::CsvList;

/// A value that survives display and parse unchanged.
fn clean(value: &str) -> bool {
    !value.is_empty() && value.trim() == value && !value.contains(',')
}

fuzz_target!(|values: Vec<String>| {
    let list = CsvList::from(values.clone());
    assert_eq!(list.values(), values.as_slice());
    let text = list.to_string();

    let parsed: CsvList = text.parse().unwrap();
    assert!(parsed.values().iter().all(|v| clean(v)), "{parsed:?}");
    if values.iter().all(|v| clean(v)) {
        assert_eq!(parsed, list, "display then parse changed {values:?}");
    }
    // Parsing is a fixed point after one pass.
    assert_eq!(parsed.to_string().parse::<CsvList>().unwrap(), parsed);

    // serde: a list serializes as its comma-joined text, which reads back
    // as the parsed list; a JSON array reads back as the values.
    let json = serde_json::to_string(&list).unwrap();
    assert_eq!(json, serde_json::to_string(&text).unwrap());
    let back: CsvList = serde_json::from_str(&json).unwrap();
    assert_eq!(back, parsed);
    let array = serde_json::to_string(&values).unwrap();
    let from_array: CsvList = serde_json::from_str(&array).unwrap();
    assert_eq!(from_array.values(), values.as_slice());

    // Any text as JSON: decoded or refused, never a panic.
    if let Some(first) = values.first() {
        let _ = serde_json::from_str::<CsvList>(first);
    }
});
