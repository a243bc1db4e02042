//! Exclusions, the hash blocklist (restrictions) and firewall rules.

use serde_json::{Value, json};

use super::super::http::{Reply, Req, one_of, page};
use super::super::state::State;
use super::inventory::filter_is_empty;

pub(super) fn route(state: &mut State, req: &Req, segments: &[&str]) -> Option<Reply> {
    Some(match (req.method.as_str(), segments) {
        ("GET", ["exclusions"]) => {
            let kind = req.list("type");
            let os = req.list("osTypes");
            let ids = req.list("ids");
            let items = state
                .exclusions
                .iter()
                .filter(|e| one_of(text(e, "type"), &kind))
                .filter(|e| one_of(text(e, "osType"), &os))
                .filter(|e| one_of(text(e, "id"), &ids))
                .cloned()
                .collect();
            page(req, items)
        }
        ("POST", ["exclusions"]) => {
            let id = state.id();
            let mut item = req.body.get("data").cloned().unwrap_or(json!({}));
            item["id"] = json!(id);
            state.exclusions.push(item.clone());
            Reply::data(json!([item]))
        }
        ("DELETE", ["exclusions"]) => {
            let ids = req.body_list("/data/ids");
            if ids.is_empty() {
                return Some(Reply::invalid("data.ids is required"));
            }
            let before = state.exclusions.len();
            state
                .exclusions
                .retain(|e| !ids.iter().any(|id| id == text(e, "id")));
            Reply::affected(before - state.exclusions.len())
        }
        ("GET", ["restrictions"]) => page(req, state.restrictions.clone()),
        ("POST", ["restrictions"]) => {
            let value = req
                .body_str("/data/value")
                .unwrap_or_default()
                .to_lowercase();
            if value.is_empty() || req.body_str("/data/osType").is_none() {
                return Some(Reply::invalid("data.value and data.osType are required"));
            }
            if filter_is_empty(req, "/filter") {
                return Some(Reply::invalid("filter: a scope is required"));
            }
            if state.restrictions.iter().any(|r| text(r, "value") == value) {
                return Some(Reply::invalid(&format!("Hash '{value}' already exists")));
            }
            let mut item = req.body.get("data").cloned().unwrap_or(json!({}));
            item["id"] = json!(state.id());
            item["value"] = json!(value);
            state.restrictions.push(item.clone());
            Reply::data(json!([item]))
        }
        ("POST", ["firewall-control"]) => {
            if req.body_str("/data/name").is_none() || req.body_str("/data/action").is_none() {
                return Some(Reply::invalid("data.name and data.action are required"));
            }
            let mut item = req.body.get("data").cloned().unwrap_or(json!({}));
            item["id"] = json!(state.id());
            state.firewall_rules.push(item.clone());
            Reply::data(json!([item]))
        }
        _ => return None,
    })
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}
