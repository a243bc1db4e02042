//! Response decoding never panics, whatever the console (or something in
//! front of it) sends.
//!
//! Input: an operationId, a newline, then the body (`list_agents\n{...}`).
//! An unknown or missing operationId picks one of the table by hash, so
//! every operation's typed response gets fuzzed.
//!
//! Checked: `decode_typed` of every operation keeps every value of the
//! body (`lost_values`), what it keeps decodes again to itself, direct decoding into the responses the composite
//! commands read, the facade's decode error built from the body, and the
//! open enums of query and task states.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinelone::Error;
use sentinelone::dv::QueryState;
use sentinelone::raw::lenient::lost_values;
use sentinelone::raw::types::{
    AgentViewListResponse, AlertInformationListResponse, ApiError,
    DeepVisibilityQueryStatusResponse, ExclusionSchemaGetListResponse, ThreatListResponse,
};
use sentinelone::raw::{OPERATIONS, decode_typed};
use sentinelone::scripts::TaskState;

fn operation(selector: &[u8]) -> &'static str {
    if let Some(op) = OPERATIONS.iter().find(|op| op.id.as_bytes() == selector) {
        return op.id;
    }
    let hash = selector.iter().fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(*b))
    });
    OPERATIONS[hash % OPERATIONS.len()].id
}

fn typed_round_trip(op: &str, body: &[u8]) {
    let Some(Ok(kept)) = decode_typed(op, body) else {
        return;
    };
    // Fidelity: every value the body holds is in what was kept, in a shape
    // the lenient decoding reads it as.
    if let Ok(sent) = serde_json::from_slice::<serde_json::Value>(body) {
        let lost = lost_values(&sent, &kept);
        assert!(lost.is_empty(), "{op}: decoding lost {lost:?}");
    }
    // What the typed client keeps is itself a valid body of the operation.
    let encoded = serde_json::to_vec(&kept).expect("a decoded value encodes");
    match decode_typed(op, &encoded) {
        Some(Ok(again)) => assert_eq!(again, kept, "{op}: decoding is not stable"),
        other => panic!("{op}: what was kept does not decode again: {other:?}"),
    }
}

fn direct(body: &[u8]) {
    let _ = serde_json::from_slice::<AgentViewListResponse>(body);
    let _ = serde_json::from_slice::<ThreatListResponse>(body);
    let _ = serde_json::from_slice::<AlertInformationListResponse>(body);
    let _ = serde_json::from_slice::<DeepVisibilityQueryStatusResponse>(body);
    let _ = serde_json::from_slice::<ExclusionSchemaGetListResponse>(body);
    let _ = serde_json::from_slice::<ApiError>(body);
}

fn decode_error(op: &str, body: &[u8]) {
    let Err(e) = serde_json::from_slice::<ThreatListResponse>(body) else {
        return;
    };
    let raw =
        progenitor_client::Error::InvalidResponsePayload(bytes::Bytes::copy_from_slice(body), e);
    let err = Error::from_raw(op, raw);
    let text = err.to_string();
    assert!(text.starts_with(op), "{text}");
    match err {
        Error::Decode { excerpt, .. } => assert!(excerpt.chars().count() <= 301),
        other => panic!("not a decode error: {other:?}"),
    }
}

fn states(body: &[u8]) {
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    let query = QueryState::parse(text);
    assert_eq!(QueryState::parse(query.as_str()), query);
    let task = TaskState::parse(text);
    assert_eq!(TaskState::parse(task.as_str()), task);
}

fuzz_target!(|data: &[u8]| {
    let (selector, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&data[..0], data),
    };
    let op = operation(selector);
    typed_round_trip(op, body);
    direct(body);
    decode_error(op, body);
    states(body);
});
