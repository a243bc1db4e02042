//! System, token, sites, groups, agents and agent actions.

use serde_json::{Value, json};

use super::super::http::{Reply, Req, contains_any, one_of, page, page_of};
use super::super::state::{Agent, State};

pub(super) fn route(state: &mut State, req: &Req, segments: &[&str]) -> Option<Reply> {
    Some(match (req.method.as_str(), segments) {
        ("GET", ["system", "info"]) => Reply::data(json!({
            "version": "S-23.4.2",
            "build": "sim",
            "release": "Simulated",
            "patch": "0",
            "latestAgentVersion": "23.4.2.14",
        })),
        ("GET", ["system", "status"]) => Reply::data(json!({ "health": "ok" })),
        ("POST", ["users", "api-token-details"]) => token_details(state, req),
        ("GET", ["sites"]) => sites(state, req),
        ("GET", ["groups"]) => groups(state, req),
        ("GET", ["agents"]) => {
            let agents = matching_agents(state, |key| req.list(key));
            page_of(req, &agents, |a| state.agent_json(a))
        }
        ("POST", ["agents", "actions", "broadcast"]) => {
            if req.body_str("/data/message").is_none_or(|m| m.is_empty()) {
                return Some(Reply::invalid("data.message is required"));
            }
            act_on_filter(state, req, "/filter", |_| {})
        }
        ("POST", ["agents", "actions", "move-to-site"]) => {
            let Some(target) = req.body_str("/data/targetSiteId") else {
                return Some(Reply::invalid("data.targetSiteId is required"));
            };
            let Some(site) = state.sites.iter().position(|s| s.id == target) else {
                return Some(Reply::not_found("no such site"));
            };
            let group = state
                .groups
                .iter()
                .position(|g| g.site == site)
                .unwrap_or(0);
            act_on_filter(state, req, "/filter", |a| {
                a.site = site;
                a.group = group;
            })
        }
        ("PUT", ["groups", group_id, "move-agents"]) => {
            let Some(group) = state.groups.iter().position(|g| g.id == *group_id) else {
                return Some(Reply::not_found("no such group"));
            };
            let site = state.groups[group].site;
            // `ids`; the deprecated `agentIds` still works on a console.
            let mut ids = req.body_list("/filter/ids");
            if ids.is_empty() {
                ids = req.body_list("/filter/agentIds");
            }
            if ids.is_empty() {
                return Some(Reply::invalid("filter.ids is required"));
            }
            let mut moved = 0;
            for agent in state.agents.iter_mut().filter(|a| ids.contains(&a.id)) {
                if agent.site == site {
                    agent.group = group;
                    moved += 1;
                }
            }
            Reply::data(json!({ "agentsMoved": moved }))
        }
        ("POST", ["agents", "actions", action @ ("connect" | "disconnect")]) => {
            let status = if *action == "connect" {
                "connected"
            } else {
                "disconnected"
            };
            act_on_filter(state, req, "/filter", |a| {
                a.network_status = status.to_string()
            })
        }
        _ => return None,
    })
}

fn token_details(state: &State, req: &Req) -> Reply {
    if req.body_str("/data/apiToken").as_deref() != Some(state.config.token.as_str()) {
        return Reply::invalid("data.apiToken is not this user's token");
    }
    let expires = state.started + chrono::Duration::days(180);
    Reply::data(json!({
        "createdAt": state.started.to_rfc3339(),
        "expiresAt": expires.to_rfc3339(),
    }))
}

fn sites(state: &State, req: &Req) -> Reply {
    let sites: Vec<Value> = state
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "id": s.id,
                "name": s.name,
                "state": "active",
                "accountId": "1000000000000000001",
                "accountName": "Simulated Account",
                "activeLicenses": state.agents.iter().filter(|a| a.site == i).count(),
            })
        })
        .collect();
    let total = sites.len();
    let mut reply = page(req, sites);
    // The sites list nests its items: {"data": {"sites": [...], "allSites": {...}}}.
    if let Ok(mut body) = serde_json::from_slice::<Value>(&reply.body)
        && reply.status == 200
    {
        let items = body["data"].take();
        body["data"] = json!({ "sites": items, "allSites": { "totalLicenses": total } });
        reply.body = serde_json::to_vec(&body).unwrap_or_default();
    }
    reply
}

fn groups(state: &State, req: &Req) -> Reply {
    let site_ids = req.list("siteIds");
    let items = state
        .groups
        .iter()
        .filter(|g| one_of(&state.sites[g.site].id, &site_ids))
        .map(|g| {
            json!({
                "id": g.id,
                "name": g.name,
                "siteId": state.sites[g.site].id,
                "type": "static",
                "totalAgents": state.agents.iter().filter(|a| state.groups[a.group].id == g.id).count(),
            })
        })
        .collect();
    page(req, items)
}

/// Agents matching an agent filter, whose values `get` returns by key
/// (from the query string or a request body).
pub(super) fn matching_agents(state: &State, get: impl Fn(&str) -> Vec<String>) -> Vec<Agent> {
    let ids = get("ids");
    let agent_ids = get("agentIds");
    let names = get("computerName__contains");
    let exact = get("computerName");
    let ips = get("networkInterfaceInet__contains");
    let sites = get("siteIds");
    let groups = get("groupIds");
    let os_types = get("osTypes");
    state
        .agents
        .iter()
        .filter(|a| one_of(&a.id, &ids) && one_of(&a.id, &agent_ids))
        .filter(|a| contains_any(&a.computer_name, &names) && one_of(&a.computer_name, &exact))
        .filter(|a| contains_any(&a.ip, &ips))
        .filter(|a| one_of(&state.sites[a.site].id, &sites))
        .filter(|a| one_of(&state.groups[a.group].id, &groups))
        .filter(|a| one_of(a.os_type, &os_types))
        .cloned()
        .collect()
}

/// True when a body filter at `pointer` has no criterion at all.
pub(super) fn filter_is_empty(req: &Req, pointer: &str) -> bool {
    match req.body.pointer(pointer) {
        Some(Value::Object(map)) => map.values().all(|v| match v {
            Value::Array(a) => a.is_empty(),
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        }),
        _ => true,
    }
}

/// Applies `change` to the agents the body filter selects; answers the
/// affected count. An empty filter is refused, as a careful console would.
fn act_on_filter(
    state: &mut State,
    req: &Req,
    pointer: &str,
    change: impl Fn(&mut Agent),
) -> Reply {
    if filter_is_empty(req, pointer) {
        return Reply::invalid("filter: at least one criterion is required");
    }
    let selected: Vec<String> =
        matching_agents(state, |key| req.body_list(&format!("{pointer}/{key}")))
            .into_iter()
            .map(|a| a.id)
            .collect();
    for agent in state.agents.iter_mut().filter(|a| selected.contains(&a.id)) {
        change(agent);
    }
    Reply::affected(selected.len())
}
