//! Request handling of the simulated console: faults, authentication and
//! rate limits first, then the route.

mod dv;
mod inventory;
mod lrq;
mod policy;
mod scripts;
mod threats;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use httpmock::{HttpMockRequest, HttpMockResponse};

use super::http::{Reply, Req};
use super::state::{Fault, State};
use crate::quota::{Quotas, Scope};

pub(crate) use lrq::sweep as sweep_lrq;

/// Answers one request.
pub(crate) fn handle(state: &Arc<Mutex<State>>, request: &HttpMockRequest) -> HttpMockResponse {
    let req = Req::parse(request);
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    state.counters.record(req.route());
    serve(&mut state, &req).into_response()
}

fn serve(state: &mut State, req: &Req) -> Reply {
    let for_route = state
        .route_faults
        .get_mut(&req.route())
        .and_then(VecDeque::pop_front);
    if let Some(fault) = for_route.or_else(|| state.faults.pop_front()) {
        state.counters.faults += 1;
        return fault_reply(fault);
    }
    if crate::uses_bearer(&req.path) {
        return lrq::serve(state, req);
    }
    if req.token.as_deref() != Some(state.config.token.as_str()) {
        state.counters.unauthorized += 1;
        return Reply::error(401, 4010010, "Authentication Failed", "invalid API token");
    }
    if let Some(reply) = throttle(state, req) {
        state.counters.throttled += 1;
        return reply;
    }
    route(state, req)
}

fn fault_reply(fault: Fault) -> Reply {
    match fault {
        Fault::Throttle(seconds) => Reply::error(429, 4290010, "Too Many Requests", "slow down")
            .header("retry-after", seconds.to_string()),
        Fault::ServerError(status) => {
            Reply::error(status, 5000010, "Server Error", "simulated failure")
        }
        Fault::InvalidJson => Reply::bytes("application/json", b"{\"data\": [oops".to_vec()),
        Fault::HtmlPage(status) => Reply {
            status,
            headers: vec![("content-type".into(), "text/html".into())],
            body: b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
        },
        Fault::Truncated => Reply::bytes(
            "application/json",
            b"{\"data\": [{\"id\": \"1\"}, {\"id\": \"2\"".to_vec(),
        ),
    }
}

/// How much earlier than its slot a request may arrive and still count as
/// on time: requests a client spaced correctly reach the console a little
/// closer together when the network or the scheduler delays one of them.
const ARRIVAL_JITTER: std::time::Duration = std::time::Duration::from_millis(50);

/// 429 when the request exceeds a documented limit, else `None` (and the
/// request is counted against its allowance).
fn throttle(state: &mut State, req: &Req) -> Option<Reply> {
    if !state.config.rate_limits {
        return None;
    }
    let full_path = format!("{}{}", super::http::PREFIX, req.path);
    let rule =
        Quotas::default()
            .with_default_period(None)
            .rule_for(&req.method, &full_path, None)?;
    let key = match rule.scope {
        Scope::Token => format!("{} token", rule.bucket),
        Scope::Console => format!("{} ip", rule.bucket),
    };
    let now = tokio::time::Instant::now();
    let (slot, spent) = rule.next_slot(state.allowance.get(&key).copied(), now, false);
    if slot > now + ARRIVAL_JITTER {
        let wait = (slot - now).as_secs_f64().ceil().max(1.0) as u64;
        return Some(
            Reply::error(
                429,
                4290010,
                "Too Many Requests",
                &format!(
                    "{} allows {} call(s) at once, then one per {:?}",
                    rule.label, rule.burst, rule.period
                ),
            )
            .header("retry-after", wait.to_string()),
        );
    }
    state.allowance.insert(key, spent);
    None
}

fn route(state: &mut State, req: &Req) -> Reply {
    let segments = req.segments();
    let reply = inventory::route(state, req, &segments)
        .or_else(|| threats::route(state, req, &segments))
        .or_else(|| dv::route(state, req, &segments))
        .or_else(|| scripts::route(state, req, &segments))
        .or_else(|| policy::route(state, req, &segments));
    reply.unwrap_or_else(|| {
        Reply::error(
            404,
            4040000,
            "Not Found",
            &format!("the simulated console has no {} {}", req.method, req.path),
        )
    })
}
