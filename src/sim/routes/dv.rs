//! Deep Visibility queries that progress over time and can be cancelled,
//! their events by cursor and by type, and Power Queries.

use std::time::Instant;

use serde_json::{Value, json};

use super::super::http::{Reply, Req, page};
use super::super::state::{DvQuery, PowerQuery, State};

const PROCESSES: [&str; 4] = ["svchost.exe", "powershell.exe", "bash", "chrome.exe"];

pub(super) fn route(state: &mut State, req: &Req, segments: &[&str]) -> Option<Reply> {
    Some(match (req.method.as_str(), segments) {
        ("POST", ["dv", "init-query"]) => init(state, req),
        ("GET", ["dv", "query-status"]) => status(state, req),
        ("POST", ["dv", "cancel-query"]) => cancel(state, req),
        ("GET", ["dv", "events", "pq-ping"]) => ping(state, req),
        ("POST", ["dv", "events", "pq"]) => create_pq(state, req),
        ("GET", ["dv", "events"]) => events(state, req, None),
        ("GET", ["dv", "events", kind]) => events(state, req, Some(kind)),
        _ => return None,
    })
}

fn limit(req: &Req, max: usize) -> Result<usize, Reply> {
    match req.body.get("limit") {
        None | Some(Value::Null) => Ok(max.min(20_000)),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=max as u64).contains(&n) => Ok(n as usize),
            _ => Err(Reply::invalid(&format!("limit must be from 1 to {max}"))),
        },
    }
}

/// The query, fromDate and toDate every query needs, checked.
fn checked(req: &Req) -> Result<(), Reply> {
    let query = req.body_str("/query").unwrap_or_default();
    if query.trim().is_empty() {
        return Err(Reply::invalid("query is required"));
    }
    let from = req.body_str("/fromDate");
    let to = req.body_str("/toDate");
    let (Some(from), Some(to)) = (from, to) else {
        return Err(Reply::invalid("fromDate and toDate are required"));
    };
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    match (parse(&from), parse(&to)) {
        (Some(f), Some(t)) if f < t => Ok(()),
        (Some(_), Some(_)) => Err(Reply::invalid("fromDate must be before toDate")),
        _ => Err(Reply::invalid("fromDate and toDate must be ISO 8601 times")),
    }
}

fn init(state: &mut State, req: &Req) -> Reply {
    if let Err(reply) = checked(req) {
        return reply;
    }
    let limit = match limit(req, 100_000) {
        Ok(n) => n,
        Err(reply) => return reply,
    };
    let id = format!("q{:030x}", state.rng.u128(..));
    state.dv_queries.push(DvQuery {
        id: id.clone(),
        started: Instant::now(),
        limit,
        cancelled: false,
    });
    Reply::data(json!({ "queryId": id }))
}

fn find<'a>(state: &'a State, req: &Req) -> Result<&'a DvQuery, Reply> {
    let Some(id) = req
        .q("queryId")
        .or(req.body.get("queryId").and_then(Value::as_str))
    else {
        return Err(Reply::invalid("queryId is required"));
    };
    state
        .dv_queries
        .iter()
        .find(|q| q.id == id)
        .ok_or_else(|| Reply::error(404, 4040030, "Query not found", "QUERY_NOT_FOUND"))
}

/// A query's state and progress now.
fn progress(state: &State, query: &DvQuery) -> (String, u64) {
    if query.cancelled {
        return ("QUERY_CANCELLED".to_string(), 0);
    }
    let total = state.config.dv_duration.as_secs_f64();
    let elapsed = query.started.elapsed().as_secs_f64();
    if elapsed >= total {
        return (state.config.dv_final_state.clone(), 100);
    }
    let percent = (elapsed / total * 100.0) as u64;
    let running = if percent < 10 { "PLANNING" } else { "RUNNING" };
    (running.to_string(), percent)
}

fn status(state: &State, req: &Req) -> Reply {
    let query = match find(state, req) {
        Ok(q) => q,
        Err(reply) => return reply,
    };
    let (state_name, percent) = progress(state, query);
    let error = matches!(state_name.as_str(), "FAILED" | "FAILED_CLIENT" | "ERROR")
        .then_some("simulated query failure");
    Reply::data(json!({
        "responseState": state_name,
        "progressStatus": percent,
        "responseError": error,
    }))
}

fn cancel(state: &mut State, req: &Req) -> Reply {
    let id = match find(state, req) {
        Ok(q) => q.id.clone(),
        Err(reply) => return reply,
    };
    if let Some(q) = state.dv_queries.iter_mut().find(|q| q.id == id) {
        q.cancelled = true;
    }
    state.counters.cancelled_queries.push(id);
    // The vendor description types `success` as a string.
    Reply::data(json!({ "success": "true" }))
}

/// Event type names as the console writes them, by path value.
fn event_type(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "process" => "Process Creation",
        "file" => "File Creation",
        "dns" => "DNS Resolved",
        "ip" => "IP Connect",
        "url" => "HTTP Request",
        "registry" => "Registry Value Modified",
        "logins" => "Login",
        "scheduled_task" => "Task Register",
        "events" => return None,
        _ => return None,
    })
}

fn events(state: &State, req: &Req, kind: Option<&str>) -> Reply {
    let query = match find(state, req) {
        Ok(q) => q,
        Err(reply) => return reply,
    };
    let (state_name, _) = progress(state, query);
    if state_name != "FINISHED" {
        return Reply::error(
            409,
            4090010,
            "Conflict",
            &format!("query is {state_name}; events are not available"),
        );
    }
    let only = kind.and_then(event_type);
    let kinds = [
        "process",
        "file",
        "dns",
        "ip",
        "url",
        "registry",
        "logins",
        "scheduled_task",
    ];
    let events: Vec<Value> = (0..query.limit.min(state.agents.len() * kinds.len()))
        .map(|i| {
            let agent = &state.agents[i % state.agents.len()];
            let kind = kinds[(i / state.agents.len()) % kinds.len()];
            let event_type = event_type(kind).unwrap_or("Process Creation");
            json!({
                "id": format!("{}-{i}", query.id),
                "eventType": event_type,
                "agentId": agent.id,
                "agentName": agent.computer_name,
                "agentUuid": agent.uuid,
                "agentOs": agent.os_type,
                "processName": PROCESSES[i % PROCESSES.len()],
                "pid": (1000 + i).to_string(),
                "processImagePath": "C:\\Windows\\System32\\svchost.exe",
                "createdAt": state.started.to_rfc3339(),
                "srcIp": agent.ip,
            })
        })
        .filter(|e| only.is_none_or(|t| e["eventType"] == t))
        .collect();
    page(req, events)
}

fn create_pq(state: &mut State, req: &Req) -> Reply {
    if let Err(reply) = checked(req) {
        return reply;
    }
    let limit = match limit(req, 100_000) {
        Ok(n) => n,
        Err(reply) => return reply,
    };
    let id = format!("pq{:030x}", state.rng.u128(..));
    state.power_queries.push(PowerQuery {
        id: id.clone(),
        started: Instant::now(),
        limit,
    });
    let query = state.power_queries.last().cloned();
    Reply::data(pq_body(state, query.as_ref()))
}

fn ping(state: &State, req: &Req) -> Reply {
    let Some(id) = req.q("queryId") else {
        return Reply::invalid("queryId is required");
    };
    match state.power_queries.iter().find(|q| q.id == id) {
        Some(query) => Reply::data(pq_body(state, Some(query))),
        None => Reply::error(404, 4040030, "Query not found", "no such power query"),
    }
}

fn pq_body(state: &State, query: Option<&PowerQuery>) -> Value {
    let Some(query) = query else {
        return json!({});
    };
    let total = state.config.pq_duration.as_secs_f64();
    let elapsed = query.started.elapsed().as_secs_f64();
    if elapsed < total {
        return json!({
            "queryId": query.id,
            "status": "RUNNING",
            "progress": (elapsed / total * 100.0) as u64,
            "columns": [],
            "data": [],
        });
    }
    let rows: Vec<Value> = state
        .agents
        .iter()
        .take(query.limit)
        .map(|a| {
            json!([
                a.computer_name,
                a.os_type,
                state
                    .threats
                    .iter()
                    .filter(|t| state.agents[t.agent].id == a.id)
                    .count()
            ])
        })
        .collect();
    json!({
        "queryId": query.id,
        "status": "FINISHED",
        "progress": 100,
        "columns": [
            { "name": "endpoint.name", "type": "STRING" },
            { "name": "endpoint.os", "type": "STRING" },
            { "name": "threats", "type": "NUMBER" },
        ],
        "data": rows,
        "recommendations": [],
    })
}
