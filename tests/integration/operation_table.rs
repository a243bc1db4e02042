//! The generated operation table (what `s1 api` is built on): every spec
//! operation is listed once, in order, with its parameters; JSON answers
//! decode through their typed response, real fixtures included.

use crate::support;

use sentinelone::raw::{
    BodyUse, OPERATIONS, OperationAnswer, ParamKind, ParamLocation, ResponseKind, answer,
    decode_typed, operation,
};
use serde_json::json;

#[test]
fn every_operation_is_listed_once_in_order() {
    assert_eq!(OPERATIONS.len(), 366);
    for pair in OPERATIONS.windows(2) {
        assert!(
            pair[0].id < pair[1].id,
            "{} then {}",
            pair[0].id,
            pair[1].id
        );
    }
    for op in OPERATIONS {
        assert_eq!(operation(op.id).map(|o| o.path), Some(op.path));
        // Below the API prefix, or at the console root below /sdl/ (the
        // Long Running Query operations).
        assert!(
            op.path
                .starts_with(&format!("{}/", sentinelone::API_PREFIX))
                || sentinelone::uses_bearer(op.path) && op.id.ends_with("_lrq_query"),
            "{}",
            op.path
        );
        // The small table the transport reads (built without the feature
        // `operations`) agrees with this one.
        let expected = OperationAnswer {
            path: op.path,
            response: op.response,
            paged: op.paged,
        };
        assert_eq!(answer(op.id), Some(expected), "{}", op.id);
        for p in op
            .params
            .iter()
            .filter(|p| p.location == ParamLocation::Path)
        {
            assert!(
                op.path.contains(&format!("{{{}}}", p.name)),
                "{} {}",
                op.id,
                p.name
            );
            assert!(p.required, "{} {}", op.id, p.name);
        }
    }
    assert!(operation("no_such_operation").is_none());
    assert!(answer("no_such_operation").is_none());
}

#[test]
fn parameters_bodies_and_answers_are_described() {
    let agents = operation("list_agents").unwrap();
    assert_eq!((agents.method, agents.tag), ("GET", "Agents"));
    assert!(agents.paged);
    assert_eq!(agents.body, BodyUse::None);
    assert_eq!(agents.response, ResponseKind::Json);
    let kind = |name: &str| agents.params.iter().find(|p| p.name == name).unwrap().kind;
    assert_eq!(kind("computerName__contains"), ParamKind::List);
    assert_eq!(kind("limit"), ParamKind::Integer);
    assert_eq!(kind("isActive"), ParamKind::Boolean);
    assert_eq!(kind("createdAt__gte"), ParamKind::DateTime);
    assert!(matches!(kind("sortOrder"), ParamKind::OneOf(v) if v == ["asc", "desc"]));

    let mitigate = operation("mitigate_threats").unwrap();
    assert_eq!(mitigate.body, BodyUse::Required);
    assert!(!mitigate.paged);
    let upload = operation("download_agent_upload").unwrap();
    assert_eq!(upload.response, ResponseKind::Binary("application/zip"));
}

#[test]
fn json_answers_decode_through_their_typed_response() {
    let body = json!({ "data": [{ "id": "1", "computerName": "pc1", "newField": 1 }],
                       "pagination": { "nextCursor": null } });
    let decoded = decode_typed("list_agents", body.to_string().as_bytes())
        .expect("list_agents answers JSON")
        .expect("it decodes");
    assert_eq!(decoded["data"][0]["computerName"], "pc1");
    // What the typed response does not know is kept, as sent.
    assert_eq!(decoded["data"][0]["newField"], 1);
    assert!(
        decode_typed("list_agents", b"{\"pagination\": 5}")
            .unwrap()
            .is_err()
    );
    assert!(decode_typed("download_agent_upload", b"PK").is_none());
}

#[test]
fn real_fixtures_decode_through_the_table() {
    let Some(shared) = support::shared_dir() else {
        return;
    };
    for (file, op) in [
        ("agents-list.json", "list_agents"),
        ("threats-timeline.json", "get_threat_timeline"),
        ("dv-events-pq-ping.json", "ping_power_query"),
    ] {
        let bytes = std::fs::read(shared.join("s1-fixtures").join(file)).unwrap();
        let decoded = decode_typed(op, &bytes).unwrap().unwrap();
        assert!(
            decoded["data"].is_object() || decoded["data"].is_array(),
            "{file}"
        );
    }
}
