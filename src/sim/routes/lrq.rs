//! Long Running Queries at the console root (`/sdl/v2/api/queries`):
//! Bearer authentication, forward tags, steps advancing over time, expiry
//! 30 s (configurable) after the last poll, delete, the 3/s per-token limit,
//! PowerQuery tables with every column kind and LOG matches capped at the
//! launch's limit.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::super::http::{Reply, Req};
use super::super::state::{LrqQuery, State};

/// Steps every simulated query takes.
const STEPS: i64 = 10;
/// Requests a second the console admits per token.
const PER_SECOND: usize = 3;
/// Most events one LOG query may ask for.
const MAX_LIMIT: u64 = 5000;
const EVENT_TYPES: [&str; 3] = ["Process Creation", "File Creation", "DNS Resolved"];

fn not_found() -> Reply {
    Reply::json(404, json!({"code": "not_found"}))
}

fn bad_request(message: &str) -> Reply {
    Reply::json(400, json!({"code": "bad_request", "message": message}))
}

/// Authentication, the rate limit, then the route.
pub(super) fn serve(state: &mut State, req: &Req) -> Reply {
    let auth = req.authorization.as_deref().unwrap_or_default();
    let Some(token) = auth.strip_prefix("Bearer ") else {
        state.counters.unauthorized += 1;
        // What the real console answers an `ApiToken` header with.
        return Reply::json(
            500,
            json!({"code": "internal_error", "message": "Header must start with Bearer"}),
        );
    };
    if token != state.config.token {
        state.counters.unauthorized += 1;
        return Reply::json(401, json!({"code": "unauthorized"}));
    }
    if let Some(reply) = throttle(state) {
        state.counters.throttled += 1;
        return reply;
    }
    sweep(state);
    let segments = req.segments();
    match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["sdl", "v2", "api", "queries"]) => launch(state, req),
        ("GET", ["sdl", "v2", "api", "queries", id]) => poll(state, req, id),
        ("DELETE", ["sdl", "v2", "api", "queries", id]) => delete(state, req, id),
        _ => not_found(),
    }
}

/// At most [`PER_SECOND`] requests in any second, when rate limits are on.
fn throttle(state: &mut State) -> Option<Reply> {
    if !state.config.rate_limits {
        return None;
    }
    let now = Instant::now();
    let window = Duration::from_secs(1);
    while state
        .lrq_calls
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        state.lrq_calls.pop_front();
    }
    if state.lrq_calls.len() >= PER_SECOND {
        return Some(
            Reply::json(429, json!({"code": "rate_limited"})).header("retry-after", "1".into()),
        );
    }
    state.lrq_calls.push_back(now);
    None
}

/// Forgets the queries nobody polled in time, counting them as expired.
pub(crate) fn sweep(state: &mut State) {
    let expiry = state.config.lrq_expiry;
    let expired: Vec<String> = state
        .lrq_queries
        .iter()
        .filter(|(_, q)| q.last_seen.elapsed() > expiry)
        .map(|(id, _)| id.clone())
        .collect();
    for id in expired {
        state.lrq_queries.remove(&id);
        state.counters.lrq_expired.push(id);
    }
}

fn time(req: &Req, name: &str) -> Result<DateTime<Utc>, Reply> {
    let text = req
        .body_str(&format!("/{name}"))
        .ok_or_else(|| bad_request(&format!("{name} is required")))?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| bad_request(&format!("{name} is not a time")))
}

fn launch(state: &mut State, req: &Req) -> Reply {
    let kind = match req.body_str("/queryType").as_deref() {
        None => return bad_request("queryType is required"),
        Some(k @ ("PQ" | "LOG")) => k.to_string(),
        Some(other) => return bad_request(&format!("queryType {other} is not simulated")),
    };
    let tenant = req.body.pointer("/tenant") == Some(&Value::Bool(true));
    let accounts = req.body_list("/accountIds");
    if tenant && !accounts.is_empty() {
        return bad_request("accountIds cannot be combined with tenant: true");
    }
    let (start, end) = match (time(req, "startTime"), time(req, "endTime")) {
        (Ok(s), Ok(e)) if s < e => (s, e),
        (Ok(_), Ok(_)) => return bad_request("startTime must be before endTime"),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let limit = match kind.as_str() {
        "PQ" => {
            if req.body.pointer("/pq/resultType").and_then(Value::as_str) == Some("LOG") {
                return bad_request("resultType LOG is not a PowerQuery result");
            }
            if req
                .body_str("/pq/query")
                .unwrap_or_default()
                .trim()
                .is_empty()
            {
                return bad_request("pq.query is required");
            }
            0
        }
        _ => match req.body.pointer("/log/limit") {
            None | Some(Value::Null) => 1000,
            Some(v) => match v.as_u64() {
                Some(n) if (1..=MAX_LIMIT).contains(&n) => n as usize,
                _ => return bad_request("log.limit must be from 1 to 5000"),
            },
        },
    };
    let id = format!("{:032x}", state.rng.u128(..));
    let tag = format!("node-{}", state.rng.u32(1..100));
    let now = Instant::now();
    let query = LrqQuery {
        tag: tag.clone(),
        kind,
        launched: now,
        last_seen: now,
        start,
        end,
        limit,
        empty_scope: !tenant && accounts.is_empty(),
        cursor: req.body_str("/log/cursor"),
    };
    let body = answer(state, &id, &query, false);
    state.lrq_queries.insert(id.clone(), query);
    state.counters.lrq_launched.push(id);
    state.counters.lrq_most_alive = state.counters.lrq_most_alive.max(state.lrq_queries.len());
    Reply::json(200, body).header("x-dataset-query-forward-tag", tag)
}

/// The query with this id, when the forward tag is its own.
fn find<'a>(state: &'a mut State, req: &Req, id: &str) -> Option<&'a mut LrqQuery> {
    let query = state.lrq_queries.get_mut(id)?;
    (req.forward_tag.as_deref() == Some(query.tag.as_str())).then_some(query)
}

fn poll(state: &mut State, req: &Req, id: &str) -> Reply {
    if req
        .q("lastStepSeen")
        .and_then(|s| s.parse::<i64>().ok())
        .is_none()
    {
        return bad_request("lastStepSeen is required");
    }
    let Some(query) = find(state, req, id) else {
        return not_found();
    };
    query.last_seen = Instant::now();
    let query = query.clone();
    Reply::json(200, answer(state, id, &query, true))
}

fn delete(state: &mut State, req: &Req, id: &str) -> Reply {
    if find(state, req, id).is_none() {
        return not_found();
    }
    state.lrq_queries.remove(id);
    state.counters.lrq_deleted.push(id.to_string());
    Reply {
        status: 204,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

/// A QueryResult: steps so far, and the data once every step is done. The
/// launch reads 0/0 unless the query is done at once; polls name the total
/// both ways (`stepsTotal`, `totalSteps`).
fn answer(state: &State, id: &str, query: &LrqQuery, polled: bool) -> Value {
    let days = (query.end - query.start).num_milliseconds().max(0) as f64 / 86_400_000.0;
    let duration = state.config.lrq_duration.as_secs_f64()
        + state.config.lrq_duration_per_day.as_secs_f64() * days;
    let elapsed = query.launched.elapsed().as_secs_f64();
    let done = duration <= 0.0 || elapsed >= duration;
    let completed = if done {
        STEPS
    } else {
        ((elapsed / duration) * STEPS as f64) as i64
    };
    let mut body = json!({
        "id": id,
        "stepsCompleted": completed,
        "cpuUsage": 400_000,
        "resolvedTimeRange": {
            "start": nanos(query.start),
            "end": nanos(query.end),
        },
        "error": null,
        "data": null,
    });
    match (done, polled) {
        (false, false) => {
            body["stepsCompleted"] = json!(0);
            body["stepsTotal"] = json!(0);
        }
        (_, true) => {
            body["stepsTotal"] = json!(STEPS);
            body["totalSteps"] = json!(STEPS);
        }
        (true, false) => body["stepsTotal"] = json!(STEPS),
    }
    if done {
        body["data"] = match query.kind.as_str() {
            "PQ" => table(state, query),
            _ => log(state, query),
        };
    }
    body
}

fn nanos(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt().unwrap_or_default()
}

/// The simulated events in a query's range: one per spacing, at its whole
/// multiples since the epoch (none for the near-empty scope).
fn events(state: &State, query: &LrqQuery) -> Vec<DateTime<Utc>> {
    if query.empty_scope {
        return Vec::new();
    }
    let step = state.config.lrq_event_spacing.as_millis().max(1) as i64;
    let first = query.start.timestamp_millis().div_euclid(step)
        + i64::from(query.start.timestamp_millis().rem_euclid(step) != 0);
    let mut out = Vec::new();
    let mut k = first;
    while let Some(at) = DateTime::from_timestamp_millis(k * step) {
        if at >= query.end || out.len() > 1_000_000 {
            break;
        }
        out.push(at);
        k += 1;
    }
    out
}

fn table(state: &State, query: &LrqQuery) -> Value {
    let all = events(state, query);
    let rows: Vec<Value> = EVENT_TYPES
        .iter()
        .enumerate()
        .filter_map(|(i, kind)| {
            let mine: Vec<&DateTime<Utc>> = all
                .iter()
                .filter(|t| (t.timestamp() / 60).rem_euclid(3) as usize == i)
                .collect();
            let (first, last) = (mine.first()?, mine.last()?);
            Some(json!([
                kind,
                mine.len(),
                (mine.len() as f64) * 100.0 / all.len() as f64,
                first.timestamp_millis(),
                nanos(**last).to_string(),
            ]))
        })
        .collect();
    json!({
        "columns": [
            {"name": "event.type", "type": "STRING"},
            {"name": "count", "type": "NUMBER"},
            {"name": "share", "type": "PERCENTAGE", "decimalPlaces": 1},
            {"name": "first_seen", "type": "TIMESTAMP"},
            {"name": "last_seen", "cellType": "TIMESTAMP"},
        ],
        "values": rows,
        "matchCount": all.len(),
        "keyColumns": ["event.type"],
        "warnings": [],
        "partialResultsDueToTimeLimit": false,
        "omittedEvents": 0,
    })
}

fn log(state: &State, query: &LrqQuery) -> Value {
    let all = events(state, query);
    // A cursor (`c<epoch ms>`) continues from its event, inclusive.
    let from = query
        .cursor
        .as_deref()
        .and_then(|c| c.strip_prefix('c')?.parse::<i64>().ok())
        .unwrap_or(i64::MIN);
    let matches: Vec<Value> = all
        .iter()
        .filter(|at| at.timestamp_millis() >= from)
        .take(query.limit)
        .map(|at| {
            let kind = EVENT_TYPES[(at.timestamp() / 60).rem_euclid(3) as usize];
            json!({
                "cursor": format!("c{}", at.timestamp_millis()),
                "serverInfo": {"serverHost": "scalyr-sim"},
                "sessionId": "sim-session",
                "severity": 3,
                "threadId": "1",
                "timestamp": nanos(*at).to_string(),
                "values": {"event.type": kind, "endpoint.name": "win-lab-001"},
            })
        })
        .collect();
    json!({"estimatedMatchCount": all.len(), "matches": matches})
}
