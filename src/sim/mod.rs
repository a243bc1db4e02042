//! A simulated SentinelOne console on a local port, for trying the library
//! without a tenant and for tests (ours and yours). Feature `sim`.
//!
//! It is stateful and seeded: sites, groups and agents, threats whose
//! mitigation state changes when acted on, activities, fetched-file uploads
//! that appear after a delay, Deep Visibility queries that progress over
//! time and can be cancelled, Power Queries, remote script tasks, alerts,
//! exclusions, blocklist and firewall rules. Lists page by cursor; the
//! documented rate limits are enforced with 429 and Retry-After; errors come
//! in SentinelOne's error format; and [`SimConsole::counters`] tells what it
//! received.
//!
//! ```no_run
//! use sentinelone::prelude::*;
//! use sentinelone::sim::SimConsole;
//!
//! # async fn demo() -> Result<(), sentinelone::Error> {
//! let console = SimConsole::builder().agents(25).start().await;
//! let client = console.client()?;
//! let agents = client.list_agents().limit(10).call().await?;
//! assert_eq!(agents.data.unwrap_or_default().len(), 10);
//! assert_eq!(console.counters().requests("GET", "/agents"), 1);
//! # Ok(())
//! # }
//! ```

mod http;
mod routes;
mod state;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use httpmock::MockServer;

use crate::quota::{Limiter, Quotas};
use crate::{Client, Error};

pub use state::Fault;

/// The token the simulated console accepts unless told otherwise.
pub const DEFAULT_TOKEN: &str = "sim-token-0000000000000000000000000000";

/// How the simulated console is seeded and how fast it works.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The API token it accepts.
    pub token: String,
    /// Seed of everything generated: the same seed gives the same tenant.
    pub seed: u64,
    /// Number of agents (spread over the sites and groups).
    pub agents: usize,
    /// Number of threats (on the first agents).
    pub threats: usize,
    /// Number of sites.
    pub sites: usize,
    /// How long after a fetch-files request the upload activity appears.
    pub upload_delay: Duration,
    /// How long a Deep Visibility query runs before it finishes.
    pub dv_duration: Duration,
    /// The state a Deep Visibility query ends in (`FINISHED` unless told).
    pub dv_final_state: String,
    /// How long a Power Query runs.
    pub pq_duration: Duration,
    /// How long a remote script task runs.
    pub script_duration: Duration,
    /// Whether the documented rate limits are enforced.
    pub rate_limits: bool,
    /// How long a Long Running Query runs before its data is there.
    pub lrq_duration: Duration,
    /// How much longer a Long Running Query runs per day of its time range
    /// (zero unless told): a query over a longer window takes more steps'
    /// time, so cutting the window into slices run at once pays.
    pub lrq_duration_per_day: Duration,
    /// How long a Long Running Query lives after its last poll (30 s).
    pub lrq_expiry: Duration,
    /// How far apart the simulated log events are (one event per this).
    pub lrq_event_spacing: Duration,
    /// How long the answers of a route wait before they are sent, by
    /// route (`GET /agents`, as in [`Counters::requests`]); none unless told.
    pub route_delays: BTreeMap<String, Duration>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            token: DEFAULT_TOKEN.to_string(),
            seed: 1,
            agents: 12,
            threats: 6,
            sites: 2,
            upload_delay: Duration::from_millis(1500),
            dv_duration: Duration::from_secs(3),
            dv_final_state: "FINISHED".to_string(),
            pq_duration: Duration::from_secs(2),
            script_duration: Duration::from_secs(2),
            rate_limits: true,
            lrq_duration: Duration::from_secs(2),
            lrq_duration_per_day: Duration::ZERO,
            lrq_expiry: Duration::from_secs(30),
            lrq_event_spacing: Duration::from_secs(60),
            route_delays: BTreeMap::new(),
        }
    }
}

/// Configures a [`SimConsole`].
#[derive(Debug, Clone, Default)]
pub struct SimBuilder {
    config: SimConfig,
}

impl SimBuilder {
    /// The API token the console accepts.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.config.token = token.into();
        self
    }

    /// The seed of the generated tenant.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// How many agents.
    pub fn agents(mut self, n: usize) -> Self {
        self.config.agents = n;
        self
    }

    /// How many threats.
    pub fn threats(mut self, n: usize) -> Self {
        self.config.threats = n;
        self
    }

    /// How many sites.
    pub fn sites(mut self, n: usize) -> Self {
        self.config.sites = n.max(1);
        self
    }

    /// Delay before a fetched file's upload appears.
    pub fn upload_delay(mut self, delay: Duration) -> Self {
        self.config.upload_delay = delay;
        self
    }

    /// How long Deep Visibility queries run.
    pub fn dv_duration(mut self, duration: Duration) -> Self {
        self.config.dv_duration = duration;
        self
    }

    /// The state Deep Visibility queries end in (`FAILED`, `EMPTY_RESULTS`…).
    pub fn dv_final_state(mut self, state: impl Into<String>) -> Self {
        self.config.dv_final_state = state.into();
        self
    }

    /// How long Power Queries run.
    pub fn pq_duration(mut self, duration: Duration) -> Self {
        self.config.pq_duration = duration;
        self
    }

    /// How long remote script tasks run.
    pub fn script_duration(mut self, duration: Duration) -> Self {
        self.config.script_duration = duration;
        self
    }

    /// Enforce the documented rate limits (on by default).
    pub fn rate_limits(mut self, on: bool) -> Self {
        self.config.rate_limits = on;
        self
    }

    /// How long Long Running Queries run (their steps advance evenly).
    pub fn lrq_duration(mut self, duration: Duration) -> Self {
        self.config.lrq_duration = duration;
        self
    }

    /// How much longer a Long Running Query runs per day of its range (on
    /// top of [`SimBuilder::lrq_duration`]): a 30-day query with 1 s a day
    /// takes 30 s more, each of six 5-day slices 5 s more.
    pub fn lrq_duration_per_day(mut self, per_day: Duration) -> Self {
        self.config.lrq_duration_per_day = per_day;
        self
    }

    /// How long a Long Running Query lives after its launch or last poll
    /// (30 s, as on a real console); shorter for tests.
    pub fn lrq_expiry(mut self, expiry: Duration) -> Self {
        self.config.lrq_expiry = expiry;
        self
    }

    /// How far apart the simulated log events are (one a minute unless
    /// told): LOG queries match one event per this, at its whole multiples
    /// since the epoch.
    pub fn lrq_event_spacing(mut self, spacing: Duration) -> Self {
        self.config.lrq_event_spacing = spacing;
        self
    }

    /// Answers of `method` on `path` (written as in [`Counters::requests`],
    /// `("GET", "/agents")`, ids as `{id}`) wait `delay` before they are
    /// sent, as from a console far away or slow to build a page. Requests
    /// wait apart: two at once both take `delay`, not twice it.
    pub fn route_delay(mut self, method: &str, path: &str, delay: Duration) -> Self {
        self.config.route_delays.insert(route(method, path), delay);
        self
    }

    /// Starts the console on a free local port.
    pub async fn start(self) -> SimConsole {
        let server = MockServer::start_async().await;
        let state = Arc::new(Mutex::new(state::State::seeded(&self.config)));
        // The first mock that matches answers: the delayed routes first.
        for (route, delay) in &self.config.route_delays {
            let (method, pattern) = http::route_pattern(route);
            let (handler, delay) = (state.clone(), *delay);
            server
                .mock_async(move |when, then| {
                    when.method(method.as_str()).path_matches(pattern.as_str());
                    then.delay(delay)
                        .respond_with(move |request| routes::handle(&handler, request));
                })
                .await;
        }
        let handler = state.clone();
        server
            .mock_async(move |_, then| {
                then.respond_with(move |request| routes::handle(&handler, request));
            })
            .await;
        SimConsole {
            server,
            state,
            token: self.config.token,
        }
    }
}

/// A running simulated console. Dropping it stops the server.
pub struct SimConsole {
    server: MockServer,
    state: Arc<Mutex<state::State>>,
    token: String,
}

impl std::fmt::Debug for SimConsole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConsole")
            .field("url", &self.server.base_url())
            .finish_non_exhaustive()
    }
}

impl SimConsole {
    /// Configures a console.
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }

    /// A console with the default seed and sizes.
    pub async fn start() -> SimConsole {
        SimBuilder::default().start().await
    }

    /// Its URL (`http://127.0.0.1:port`).
    pub fn url(&self) -> String {
        self.server.base_url()
    }

    /// The token it accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A client of this console: plain HTTP allowed, a limiter of its own,
    /// the documented quotas.
    pub fn client(&self) -> Result<Client, Error> {
        self.client_builder().build()
    }

    /// A client builder pointed at this console, to adjust before building.
    pub fn client_builder(&self) -> crate::ClientBuilder {
        Client::builder()
            .console_url(self.url())
            .api_token(self.token.clone())
            .allow_http(true)
            .limiter(Limiter::new())
            .quotas(Quotas::default())
    }

    /// What the console has received so far.
    pub fn counters(&self) -> Counters {
        let mut state = self.lock();
        routes::sweep_lrq(&mut state);
        state.counters.clone()
    }

    /// Makes the next requests fail as `fault` says (one fault per
    /// request, in order), for reliability tests.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().faults.extend(faults);
    }

    /// Makes the next requests for `method` and `path` (written as in
    /// [`Counters::requests`], e.g. `("GET", "/dv/query-status")`) fail as
    /// `faults` says, one fault per request, in order; other routes are
    /// served as usual. Route faults come before those of [`inject`].
    ///
    /// [`inject`]: SimConsole::inject
    pub fn inject_on(&self, method: &str, path: &str, faults: impl IntoIterator<Item = Fault>) {
        self.lock()
            .route_faults
            .entry(route(method, path))
            .or_default()
            .extend(faults);
    }

    /// The ids of the seeded agents, in the order `GET /agents` lists them.
    pub fn agent_ids(&self) -> Vec<String> {
        self.lock().agents.iter().map(|a| a.id.clone()).collect()
    }

    /// A threat's mitigation status (`active`, `mitigated`, …), if it exists.
    pub fn threat_status(&self, threat_id: &str) -> Option<String> {
        self.lock()
            .threats
            .iter()
            .find(|t| t.id == threat_id)
            .map(|t| t.mitigation_status.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, state::State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A route as the console counts it: `GET /agents/{id}/uploads/{id}`.
fn route(method: &str, path: &str) -> String {
    format!("{} {path}", method.to_ascii_uppercase())
}

/// What a simulated console received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    by_route: BTreeMap<String, u64>,
    /// Requests answered 429.
    pub throttled: u64,
    /// Requests refused for a missing or wrong token.
    pub unauthorized: u64,
    /// Faults injected and served.
    pub faults: u64,
    /// Mitigation actions applied: (action, threat ids).
    pub mitigations: Vec<(String, Vec<String>)>,
    /// Deep Visibility queries cancelled, by id.
    pub cancelled_queries: Vec<String>,
    /// Long Running Queries launched, by id.
    pub lrq_launched: Vec<String>,
    /// Long Running Queries deleted, by id.
    pub lrq_deleted: Vec<String>,
    /// Long Running Queries that expired (not polled in time), by id.
    pub lrq_expired: Vec<String>,
    /// The most Long Running Queries alive at once.
    pub lrq_most_alive: usize,
}

impl Counters {
    /// Requests received for `method` and `path` (below `/web/api/v2.1`;
    /// ids in the path written as `{id}`, e.g. `/agents/{id}/uploads/{id}`),
    /// whatever the answer.
    pub fn requests(&self, method: &str, path: &str) -> u64 {
        self.by_route
            .get(&format!("{} {path}", method.to_ascii_uppercase()))
            .copied()
            .unwrap_or(0)
    }

    /// Every route and its count.
    pub fn routes(&self) -> &BTreeMap<String, u64> {
        &self.by_route
    }

    /// All requests received.
    pub fn total(&self) -> u64 {
        self.by_route.values().sum()
    }

    fn record(&mut self, route: String) {
        *self.by_route.entry(route).or_default() += 1;
    }
}
