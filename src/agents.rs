//! Agent actions aimed at endpoints named the way an analyst knows them:
//! host names or internal IP addresses (D3 "Broadcast Message", "Move
//! Agents", "Move Agents Between Sites").
//!
//! Every command first turns the host names and IPs into agent ids with
//! `GET /agents`, keeping only exact matches (a computer name equal to the
//! given name, ignoring case, or a network interface holding the given
//! address), so `lab1` never reaches `lab10`. The action is then sent with an
//! `ids` filter only. When no host matches, nothing is sent and the command
//! fails naming the hosts.

use std::net::IpAddr;

use futures_util::TryStreamExt;

use crate::constraints;
use crate::prelude::*;
use crate::raw::Operation;
use crate::raw::builder::{ListAgents, MoveGroupAgents};
use crate::raw::types::{
    AgentFilter, AgentViewListResponseDataItem, AgentsBroadcastActionRequest,
    AgentsBroadcastActionRequestData, AgentsMoveToSiteRequest, AgentsMoveToSiteRequestData,
    PutAddAgentsRequest, PutAddAgentsRequestFilter,
};
use crate::{Client, Error, validate};
use sentinelone_generated::Place;

/// Agent actions, reached from the client with [`Client::agents`].
///
/// ```no_run
/// # fn demo(client: &sentinelone::Client) {
/// let agents = client.agents();
/// # let _ = agents;
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Agents<'c> {
    client: &'c Client,
}

impl Client {
    /// Agent actions: broadcast a message, move agents to a group or a site.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// client.agents().broadcast(&sentinelone::agents::Broadcast::new("Reboot at noon").hosts(["web-01"])).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn agents(&self) -> Agents<'_> {
        Agents { client: self }
    }
}

impl<'c> Agents<'c> {
    /// Sends a broadcast message (`POST /agents/actions/broadcast`) to the
    /// agents of the given hosts and/or groups.
    ///
    /// Fails with [`Error::InvalidInput`] before sending anything when the
    /// message is blank or longer than 140 characters, when neither hosts nor
    /// group ids are given, or when hosts were given and none matched an agent.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::agents::Broadcast;
    ///
    /// let message = Broadcast::new("Maintenance starts in one hour.")
    ///     .hosts(["lab3-pc1", "10.0.4.17"]);
    /// let result = client.agents().broadcast(&message).await?;
    /// println!("{:?} agents notified", result.affected);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn broadcast(self, request: &Broadcast) -> Result<AgentActionResult, Error> {
        broadcast(self.client, request).await
    }

    /// Moves the agents of `hosts` (host names or internal IPs) into the group
    /// `group_id` (`PUT /groups/{group_id}/move-agents`). The group must be in
    /// the agents' site; move them between sites first with [`Agents::move_to_site`].
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let hosts = ["lab3-pc1".to_string()];
    /// let moved = client.agents().move_to_group(&hosts, "1511111111111111111").await?;
    /// println!("{:?} moved", moved.affected);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn move_to_group(
        self,
        hosts: &[String],
        group_id: &str,
    ) -> Result<AgentActionResult, Error> {
        move_to_group(self.client, hosts, group_id).await
    }

    /// Moves the agents of `hosts` (host names or internal IPs) to the site
    /// `site_id` (`POST /agents/actions/move-to-site`); they land in the best
    /// matching dynamic group there, or its default group.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let hosts = ["10.0.4.17".to_string()];
    /// let moved = client.agents().move_to_site(&hosts, "947111111111111111").await?;
    /// println!("{:?} moved", moved.affected);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn move_to_site(
        self,
        hosts: &[String],
        site_id: &str,
    ) -> Result<AgentActionResult, Error> {
        move_to_site(self.client, hosts, site_id).await
    }
}

/// Longest message a broadcast may carry, in characters.
pub const MAX_BROADCAST_CHARS: usize = 140;

/// One agent a host name or IP resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedAgent {
    /// The agent id.
    pub id: String,
    /// Its computer name, as the console reports it.
    pub computer_name: Option<String>,
}

/// What an agent action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentActionResult {
    /// How many agents the console says it acted on; `None` when the
    /// answer carried no count.
    pub affected: Option<u64>,
    /// The agents the given hosts resolved to (the action's `ids`).
    pub agents: Vec<MatchedAgent>,
    /// Given host names or IPs that matched no agent.
    pub unmatched: Vec<String>,
}

/// A message shown to the users of the targeted endpoints (Windows and
/// macOS agents).
///
/// Targets are host names or internal IPs, group ids, or both; the console
/// combines the two as "in these groups *and* among these hosts".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broadcast {
    message: String,
    hosts: Vec<String>,
    group_ids: Vec<String>,
}

impl Broadcast {
    /// A broadcast of `message` (at most 140 characters); give hosts or
    /// group ids next.
    pub fn new(message: impl Into<String>) -> Self {
        Broadcast {
            message: message.into(),
            hosts: Vec::new(),
            group_ids: Vec::new(),
        }
    }

    /// Host names or internal IP addresses to reach.
    pub fn hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Groups whose agents to reach.
    pub fn group_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.group_ids = ids.into_iter().map(Into::into).collect();
        self
    }
}

/// The body of [`Agents::broadcast`].
async fn broadcast(client: &Client, request: &Broadcast) -> Result<AgentActionResult, Error> {
    let message = validate::required("message", &request.message)?;
    validate::max_chars("message", &message, MAX_BROADCAST_CHARS)?;
    let hosts = validate::optional_list("hosts", &request.hosts)?;
    let group_ids = validate::ids("group_ids", &request.group_ids)?;
    if hosts.is_empty() && group_ids.is_empty() {
        return Err(Error::invalid(
            "broadcast: give host names or IPs, group ids, or both",
        ));
    }
    let resolved = if hosts.is_empty() {
        MatchedAgents::default()
    } else {
        resolve_hosts(client, &hosts).await?
    };
    let filter = AgentFilter {
        ids: resolved.ids(),
        group_ids,
        ..Default::default()
    };
    let body = AgentsBroadcastActionRequest {
        data: AgentsBroadcastActionRequestData { message },
        filter,
    };
    tracing::info!(agents = resolved.agents.len(), "broadcasting a message");
    let answer = client.broadcast_agents().body(body).call().await?;
    Ok(resolved.into_result(affected(answer.data.and_then(|d| d.affected))))
}

/// The body of [`Agents::move_to_group`].
async fn move_to_group(
    client: &Client,
    hosts: &[String],
    group_id: &str,
) -> Result<AgentActionResult, Error> {
    let hosts = validate::required_list("hosts", hosts)?;
    let group_id = validate::id("group_id", group_id)?;
    let resolved = resolve_hosts(client, &hosts).await?;
    let body = PutAddAgentsRequest {
        // `ids`, not `agentIds`: the vendor marks `agentIds` deprecated here
        // ("use 'ids' instead"), and the other actions filter by `ids` too.
        filter: PutAddAgentsRequestFilter {
            ids: resolved.ids(),
            ..Default::default()
        },
    };
    tracing::info!(
        agents = resolved.agents.len(),
        group_id,
        "moving agents to a group"
    );
    let request = client.move_group_agents().group_id(group_id).body(body);
    let moved = match request.send().await {
        Ok(answer) => answer.into_inner().data.and_then(|d| d.agents_moved),
        // The vendor documents a bodiless 204; consoles answer 200 with the
        // count (see spec/curation.toml). Both mean the agents moved.
        Err(progenitor_client::Error::UnexpectedResponse(r))
            if r.status() == reqwest::StatusCode::NO_CONTENT =>
        {
            None
        }
        Err(e) => return Err(Error::from_raw(MoveGroupAgents::OPERATION_ID, e)),
    };
    Ok(resolved.into_result(affected(moved)))
}

/// The body of [`Agents::move_to_site`].
async fn move_to_site(
    client: &Client,
    hosts: &[String],
    site_id: &str,
) -> Result<AgentActionResult, Error> {
    let hosts = validate::required_list("hosts", hosts)?;
    let site_id = validate::id("site_id", site_id)?;
    let resolved = resolve_hosts(client, &hosts).await?;
    let body = AgentsMoveToSiteRequest {
        data: AgentsMoveToSiteRequestData {
            target_site_id: site_id,
        },
        filter: AgentFilter {
            ids: resolved.ids(),
            ..Default::default()
        },
    };
    tracing::info!(agents = resolved.agents.len(), "moving agents to a site");
    let answer = client.move_agent_to_site().body(body).call().await?;
    Ok(resolved.into_result(affected(answer.data.and_then(|d| d.affected))))
}

fn affected(count: Option<i64>) -> Option<u64> {
    count.and_then(|n| u64::try_from(n).ok())
}

/// Hosts turned into agents.
#[derive(Debug, Default)]
pub(crate) struct MatchedAgents {
    /// Matched agents, each once, in the order found.
    pub(crate) agents: Vec<MatchedAgent>,
    /// Inputs that matched nothing.
    pub(crate) unmatched: Vec<String>,
}

impl MatchedAgents {
    pub(crate) fn ids(&self) -> Vec<String> {
        self.agents.iter().map(|a| a.id.clone()).collect()
    }

    fn into_result(self, affected: Option<u64>) -> AgentActionResult {
        AgentActionResult {
            affected,
            agents: self.agents,
            unmatched: self.unmatched,
        }
    }
}

/// A host as given: an IP address or a computer name.
enum Host<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

fn classify(host: &str) -> Host<'_> {
    match host.parse::<IpAddr>() {
        Ok(ip) => Host::Ip(ip),
        Err(_) => Host::Name(host),
    }
}

/// The list agents parameters host names and IPs go in.
const NAMES_PARAM: &str = "computerName__contains";
const IPS_PARAM: &str = "networkInterfaceInet__contains";

/// Resolves host names and IPs (already trimmed, non-blank) to agents with
/// exact matches only, in batches of what one listing takes. Fails naming
/// the hosts when none matches, and before anything is sent when a name
/// is shorter than the console takes.
pub(crate) async fn resolve_hosts(
    client: &Client,
    hosts: &[String],
) -> Result<MatchedAgents, Error> {
    crate::steps::step("preview", matching_agents(client, hosts)).await
}

/// The body of [`resolve_hosts`].
async fn matching_agents(client: &Client, hosts: &[String]) -> Result<MatchedAgents, Error> {
    let mut names = Vec::new();
    let mut ips = Vec::new();
    for host in hosts {
        match classify(host) {
            Host::Ip(ip) => ips.push(ip),
            Host::Name(name) => names.push(name.to_string()),
        }
    }
    let as_text: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
    let list = ListAgents::OPERATION_ID;
    constraints::check_list("hosts", list, Place::Query, NAMES_PARAM, &names, false)?;
    constraints::check_list("hosts", list, Place::Query, IPS_PARAM, &as_text, false)?;
    // The console takes at most 10 of each per listing: longer lists go
    // out in batches; `match_hosts` keeps each agent once.
    let mut candidates = Vec::new();
    for batch in names.chunks(constraints::batch_size(list, Place::Query, NAMES_PARAM)) {
        let request = client.list_agents().computer_name_contains(batch.to_vec());
        candidates.extend(request.items().try_collect::<Vec<_>>().await?);
    }
    for batch in as_text.chunks(constraints::batch_size(list, Place::Query, IPS_PARAM)) {
        let request = client
            .list_agents()
            .network_interface_inet_contains(batch.to_vec());
        candidates.extend(request.items().try_collect::<Vec<_>>().await?);
    }
    let resolved = match_hosts(hosts, &candidates)?;
    if resolved.agents.is_empty() {
        return Err(Error::invalid(format!(
            "no agent matches the host names or IPs {hosts:?}; nothing was sent"
        )));
    }
    if !resolved.unmatched.is_empty() {
        tracing::info!(unmatched = ?resolved.unmatched, "some hosts matched no agent");
    }
    Ok(resolved)
}

/// Keeps the candidates whose computer name equals a given name (ignoring
/// case) or whose interfaces hold a given IP, each agent once. A matching
/// agent without a proper id is an error: its id would be acted on.
fn match_hosts(
    hosts: &[String],
    candidates: &[AgentViewListResponseDataItem],
) -> Result<MatchedAgents, Error> {
    let mut matched = Vec::new();
    let mut unmatched = Vec::new();
    for host in hosts {
        let before = matched.len();
        matched.extend(candidates.iter().filter(|a| agent_matches(a, host)));
        if matched.len() == before {
            unmatched.push(host.clone());
        }
    }
    let agents = validate::listed_ids("agent", matched, |a| a.id.as_deref())?
        .into_iter()
        .map(|(id, agent)| MatchedAgent {
            id,
            computer_name: agent.computer_name.clone(),
        })
        .collect();
    Ok(MatchedAgents { agents, unmatched })
}

fn agent_matches(agent: &AgentViewListResponseDataItem, host: &str) -> bool {
    match classify(host) {
        Host::Name(name) => agent
            .computer_name
            .as_deref()
            .is_some_and(|c| c.to_lowercase() == name.to_lowercase()),
        Host::Ip(ip) => agent
            .network_interfaces
            .iter()
            .flatten()
            .flat_map(|nic| nic.inet.iter().flatten().chain(nic.inet6.iter().flatten()))
            .any(|addr| addr.trim().parse::<IpAddr>() == Ok(ip)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, name: &str, inet: &[&str]) -> AgentViewListResponseDataItem {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "computerName": name,
            "networkInterfaces": [{ "inet": inet, "inet6": ["fe80::1"] }],
        }))
        .unwrap()
    }

    #[test]
    fn only_exact_names_and_addresses_match() {
        let candidates = [
            agent("1", "LAB1", &["10.0.0.1"]),
            agent("2", "lab10", &["10.0.0.10"]),
            agent("3", "other", &["10.0.0.100"]),
        ];
        let hosts = ["lab1".to_string(), "10.0.0.10".into(), "10.0.0.2".into()];
        let resolved = match_hosts(&hosts, &candidates).unwrap();
        assert_eq!(resolved.ids(), ["1", "2"]);
        assert_eq!(resolved.unmatched, ["10.0.0.2"]);
        assert_eq!(resolved.agents[0].computer_name.as_deref(), Some("LAB1"));
    }

    #[test]
    fn an_agent_found_twice_is_listed_once() {
        let candidates = [
            agent("1", "pc", &["10.0.0.1"]),
            agent("1", "pc", &["10.0.0.1"]),
        ];
        let hosts = ["pc".to_string(), "10.0.0.1".into(), "fe80::1".into()];
        let resolved = match_hosts(&hosts, &candidates).unwrap();
        assert_eq!(resolved.ids(), ["1"]);
        assert!(resolved.unmatched.is_empty());
    }

    #[test]
    fn a_matching_agent_without_a_proper_id_is_refused() {
        let candidates = [agent("1", "pc", &[]), agent("", "pc", &[])];
        let Err(Error::InvalidInput { message }) = match_hosts(&["pc".to_string()], &candidates)
        else {
            panic!("accepted an empty id");
        };
        assert_eq!(
            message,
            "the console listed agent #2 with id \"\", not a SentinelOne id (decimal digits); nothing was sent"
        );
    }
}
