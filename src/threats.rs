//! Threat response on named computers: kill, quarantine, remediate, roll
//! back or un-quarantine the threats a [`ThreatTarget`] selects, and mark
//! threats resolved.
//!
//! A target always names at least one computer. It becomes a server-side
//! threat filter (`computerName__contains`, `originatedProcess__contains`,
//! `ids`, `filePath__contains`, `contentHashes`). Every action first lists
//! the matching threats (the preview), keeps those whose computer name
//! matches exactly, and then acts on exactly those threat ids, so what was
//! previewed is what is acted on, and a threat on `lab10` is never touched
//! when `lab1` was named.
//!
//! The console takes at most 10 computer names per filter: longer lists go
//! out in batches of 10 (the limit is read from the generated table), one
//! listing each, the threats merged and each kept once; the action then
//! goes out once per batch that found threats. Every other list must fit
//! one filter, and every value its length limits: both are checked before
//! anything is sent.
//!
//! ```no_run
//! use sentinelone::threats::ThreatTarget;
//!
//! # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
//! let target = ThreatTarget::computers(["lab3-pc1"]).process_names(["svchost.exe"]);
//! let matched = client.threats().preview(&target).await?;
//! println!("{} threats would be quarantined", matched.len());
//! let done = client.threats().quarantine(&target).await?;
//! println!("quarantine affected {}", done.affected);
//! # Ok(())
//! # }
//! ```

use std::fmt;

use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;
use tracing::Instrument;

use crate::constraints;
use crate::pagination::{self, DEFAULT_PAGE_SIZE, Prefetch};
use crate::prelude::*;
use crate::raw::Operation;
use crate::raw::builder::{ListThreats, MitigateThreats, SetThreatIncidentStatus};
use crate::raw::types::{
    MitigateThreatsAction, ThreatFilter, ThreatIncidentStatusesItem, ThreatListResponseDataItem,
    ThreatsIncidentRequest, ThreatsIncidentRequestData, ThreatsMitigateRequest,
};
use crate::{Client, Error, steps, validate};
use sentinelone_generated::Place;

/// Threat responses, reached from the client with [`Client::threats`].
///
/// ```no_run
/// # fn demo(client: &sentinelone::Client) {
/// let threats = client.threats();
/// # let _ = threats;
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Threats<'c> {
    client: &'c Client,
}

impl Client {
    /// Threat responses: preview, kill, quarantine, remediate, roll back, resolve.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::threats::ThreatTarget;
    /// let matched = client.threats().preview(&ThreatTarget::computers(["lab3-pc1"])).await?;
    /// println!("{} threats", matched.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn threats(&self) -> Threats<'_> {
        Threats { client: self }
    }
}

impl<'c> Threats<'c> {
    /// Lists the threats `target` selects, without acting: the preview every
    /// action starts with.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::threats::{self, ThreatTarget};
    /// let target = ThreatTarget::computers(["lab3-pc1"]);
    /// for threat in client.threats().preview(&target).await? {
    ///     println!("{:?} on {:?}", threat.id, threats::computer_name(&threat));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn preview(
        self,
        target: &ThreatTarget,
    ) -> Result<Vec<ThreatListResponseDataItem>, Error> {
        preview(self.client, target).await
    }

    /// Previews `target`, then applies `action` to exactly the threats
    /// listed. When nothing matches, nothing is sent and `affected` is 0.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::threats::{ThreatAction, ThreatTarget};
    /// let target = ThreatTarget::computers(["lab3-pc1"]).threat_ids(["1503989642042428880"]);
    /// let done = client.threats().respond(ThreatAction::Kill, &target).await?;
    /// println!("{} of {} threats affected", done.affected, done.matched.len());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn respond(
        self,
        action: ThreatAction,
        target: &ThreatTarget,
    ) -> Result<ThreatResponse, Error> {
        respond(self.client, action, target).await
    }

    /// Kills the processes of the threats `target` selects (D3 "Kill
    /// Processes"). See [`Threats::respond`].
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::threats::ThreatTarget;
    /// client.threats().kill(&ThreatTarget::computers(["lab3-pc1"])).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn kill(self, target: &ThreatTarget) -> Result<ThreatResponse, Error> {
        kill(self.client, target).await
    }

    /// Quarantines the files of the threats `target` selects (D3 "Quarantine
    /// Files"). See [`Threats::respond`].
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::threats::ThreatTarget;
    /// let target = ThreatTarget::computers(["lab3-pc1"])
    ///     .content_hashes(["b691598c45658e76b2c328275db988baed3b8689"]);
    /// client.threats().quarantine(&target).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn quarantine(self, target: &ThreatTarget) -> Result<ThreatResponse, Error> {
        quarantine(self.client, target).await
    }

    /// Remediates the threats `target` selects. See [`Threats::respond`].
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::threats::ThreatTarget;
    /// client.threats().remediate(&ThreatTarget::computers(["lab3-pc1"])).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn remediate(self, target: &ThreatTarget) -> Result<ThreatResponse, Error> {
        remediate(self.client, target).await
    }

    /// Rolls back what the threats `target` selects changed (D3 "Rollback
    /// Remediation"; Windows only). See [`Threats::respond`].
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::threats::ThreatTarget;
    /// client.threats().rollback(&ThreatTarget::computers(["lab3-pc1"])).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn rollback(self, target: &ThreatTarget) -> Result<ThreatResponse, Error> {
        rollback(self.client, target).await
    }

    /// Releases the files of the threats `target` selects from quarantine.
    /// See [`Threats::respond`].
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::threats::ThreatTarget;
    /// client.threats().unquarantine(&ThreatTarget::computers(["lab3-pc1"])).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn unquarantine(self, target: &ThreatTarget) -> Result<ThreatResponse, Error> {
        unquarantine(self.client, target).await
    }

    /// Marks threats of one agent resolved (D3 "Resolve Threat") by setting
    /// their incident status (`POST /threats/incident`, `incidentStatus`
    /// `resolved`): both the threat ids (at least one) and the agent id are
    /// required, and the console only changes threats that belong to that
    /// agent.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let done = client.threats().resolve(
    ///     &["1503989642042428880".to_string()],
    ///     "1286438987267469377",
    /// )
    /// .await?;
    /// println!("{:?} resolved", done.affected);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resolve(
        self,
        threat_ids: &[String],
        agent_id: &str,
    ) -> Result<ResolvedThreats, Error> {
        resolve(self.client, threat_ids, agent_id).await
    }
}

/// Threats a response acts on. At most this many unless raised with
/// [`ThreatTarget::max_threats`].
pub const DEFAULT_MAX_THREATS: usize = 1000;

/// The highest [`ThreatTarget::max_threats`] accepted: a million threats.
pub const MAX_THREATS_LIMIT: usize = 1_000_000;

/// Which threats to act on: computer names (required) narrowed by optional
/// originating process names, threat ids, file paths and SHA-1 hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreatTarget {
    computer_names: Vec<String>,
    process_names: Vec<String>,
    threat_ids: Vec<String>,
    file_paths: Vec<String>,
    content_hashes: Vec<String>,
    partial_names: bool,
    max_threats: usize,
}

impl ThreatTarget {
    /// Threats on these computers (at least one name).
    pub fn computers<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ThreatTarget {
            computer_names: names.into_iter().map(Into::into).collect(),
            process_names: Vec::new(),
            threat_ids: Vec::new(),
            file_paths: Vec::new(),
            content_hashes: Vec::new(),
            partial_names: false,
            max_threats: DEFAULT_MAX_THREATS,
        }
    }

    /// Only threats whose originating process name contains one of these.
    pub fn process_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.process_names = names.into_iter().map(Into::into).collect();
        self
    }

    /// Only these threat ids.
    pub fn threat_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.threat_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Only threats whose file path contains one of these.
    pub fn file_paths<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.file_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Only threats whose file has one of these SHA-1 hashes.
    pub fn content_hashes<I, S>(mut self, hashes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.content_hashes = hashes.into_iter().map(Into::into).collect();
        self
    }

    /// Also act on computers whose name merely contains a given name (as the
    /// console's `computerName__contains` does). Off by default: names must
    /// match exactly, ignoring case.
    pub fn match_partial_names(mut self, partial: bool) -> Self {
        self.partial_names = partial;
        self
    }

    /// Refuse to act when more than `max` threats match (default
    /// [`DEFAULT_MAX_THREATS`], at most [`MAX_THREATS_LIMIT`]), so a loose
    /// target cannot sweep a tenant.
    pub fn max_threats(mut self, max: usize) -> Self {
        self.max_threats = max;
        self
    }

    /// Checks the target without sending anything: at least one computer
    /// name, no blank value, ids and SHA-1 hashes well formed, and
    /// `max_threats` from 1 to [`MAX_THREATS_LIMIT`]. Every action and
    /// the preview do this first; the error names the input.
    ///
    /// ```
    /// use sentinelone::threats::ThreatTarget;
    ///
    /// assert!(ThreatTarget::computers(["lab3-pc1"]).check().is_ok());
    /// assert!(ThreatTarget::computers(["lab3-pc1"]).max_threats(usize::MAX).check().is_err());
    /// ```
    pub fn check(&self) -> Result<(), Error> {
        self.checked().map(drop)
    }

    /// The checked target: trimmed values, ids and hashes validated.
    fn checked(&self) -> Result<ThreatTarget, Error> {
        Ok(ThreatTarget {
            computer_names: validate::required_list("computer_names", &self.computer_names)?,
            process_names: validate::optional_list("process_names", &self.process_names)?,
            threat_ids: validate::ids("threat_ids", &self.threat_ids)?,
            file_paths: validate::optional_list("file_paths", &self.file_paths)?,
            content_hashes: validate::sha1s("content_hashes", &self.content_hashes)?,
            partial_names: self.partial_names,
            max_threats: validate::in_range("max_threats", self.max_threats, 1, MAX_THREATS_LIMIT)?,
        })
    }

    /// The console filter for this (checked) target, acting on `ids`.
    fn filter(&self, ids: Vec<String>) -> ThreatFilter {
        ThreatFilter {
            computer_name_contains: self.computer_names.clone(),
            originated_process_contains: self.process_names.clone(),
            file_path_contains: self.file_paths.clone(),
            content_hashes: self.content_hashes.clone(),
            ids,
            ..Default::default()
        }
    }

    /// True when `threat` ran on one of the named computers.
    fn names(&self, threat: &ThreatListResponseDataItem) -> bool {
        let Some(name) = computer_name(threat) else {
            return false;
        };
        let name = name.to_lowercase();
        self.computer_names.iter().any(|wanted| {
            let wanted = wanted.to_lowercase();
            if self.partial_names {
                name.contains(&wanted)
            } else {
                name == wanted
            }
        })
    }
}

/// The computer a threat was detected on, as the console reports it.
pub fn computer_name(threat: &ThreatListResponseDataItem) -> Option<&str> {
    threat
        .agent_realtime_info
        .as_ref()
        .and_then(|i| i.agent_computer_name.as_deref())
}

/// A mitigation action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThreatAction {
    /// Stop the processes of the threat.
    Kill,
    /// Encrypt and move the threat's files to quarantine (kills first).
    Quarantine,
    /// Undo the threat's changes to files, registry and configuration.
    Remediate,
    /// Restore files from the volume snapshot (Windows only).
    Rollback,
    /// Release the threat's files from quarantine.
    Unquarantine,
}

impl ThreatAction {
    /// The `{action}` path segment of `threats/mitigate/{action}`.
    pub fn as_str(self) -> &'static str {
        match self {
            ThreatAction::Kill => "kill",
            ThreatAction::Quarantine => "quarantine",
            ThreatAction::Remediate => "remediate",
            ThreatAction::Rollback => "rollback-remediation",
            ThreatAction::Unquarantine => "un-quarantine",
        }
    }

    fn raw(self) -> MitigateThreatsAction {
        match self {
            ThreatAction::Kill => MitigateThreatsAction::Kill,
            ThreatAction::Quarantine => MitigateThreatsAction::Quarantine,
            ThreatAction::Remediate => MitigateThreatsAction::Remediate,
            ThreatAction::Rollback => MitigateThreatsAction::RollbackRemediation,
            ThreatAction::Unquarantine => MitigateThreatsAction::UnQuarantine,
        }
    }
}

impl fmt::Display for ThreatAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a threat response did.
#[derive(Debug, Clone)]
pub struct ThreatResponse {
    /// The action taken.
    pub action: ThreatAction,
    /// How many threats the console says the action affected (0 when
    /// nothing matched and nothing was sent).
    pub affected: i64,
    /// The threats the action was sent for, as the preview listed them.
    pub matched: Vec<ThreatListResponseDataItem>,
}

/// The body of [`Threats::preview`].
async fn preview(
    client: &Client,
    target: &ThreatTarget,
) -> Result<Vec<ThreatListResponseDataItem>, Error> {
    let target = target.checked()?;
    let batches = matching(client, &target).await?;
    Ok(batches.into_iter().flat_map(|b| b.threats).collect())
}

/// The operation that lists threats, and the one that acts on them.
const LIST: &str = ListThreats::OPERATION_ID;
const MITIGATE: &str = MitigateThreats::OPERATION_ID;

/// The target's list inputs: the name the caller knows, the list threats
/// parameter and the mitigation filter's property carrying it.
const LISTS: [(&str, &str, &str); 5] = [
    (
        "computer_names",
        "computerName__contains",
        "filter.computerName__contains",
    ),
    (
        "process_names",
        "originatedProcess__contains",
        "filter.originatedProcess__contains",
    ),
    ("threat_ids", "ids", "filter.ids"),
    (
        "file_paths",
        "filePath__contains",
        "filter.filePath__contains",
    ),
    ("content_hashes", "contentHashes", "filter.contentHashes"),
];

impl ThreatTarget {
    /// The target's lists, in the order of [`LISTS`].
    fn lists(&self) -> [&[String]; 5] {
        [
            &self.computer_names,
            &self.process_names,
            &self.threat_ids,
            &self.file_paths,
            &self.content_hashes,
        ]
    }

    /// Checks a checked target against the limits the console declares
    /// for the listing and the mitigation, before anything is sent. The
    /// computer names are split into batches, so only their items are
    /// checked; every other list goes whole into each request.
    fn within_limits(&self) -> Result<(), Error> {
        for ((input, param, property), values) in LISTS.into_iter().zip(self.lists()) {
            let counted = input != "computer_names";
            constraints::check_list(input, LIST, Place::Query, param, values, counted)?;
            constraints::check_list(input, MITIGATE, Place::Body, property, values, counted)?;
        }
        Ok(())
    }

    /// How many computer names one listing (and one mitigation) carries.
    fn names_per_request(&self) -> usize {
        constraints::batch_size(LIST, Place::Query, "computerName__contains").min(
            constraints::batch_size(MITIGATE, Place::Body, "filter.computerName__contains"),
        )
    }
}

/// The threats one batch of computer names found.
struct Batch {
    /// The names of the batch.
    names: Vec<String>,
    /// The threats on them no earlier batch found.
    threats: Vec<ThreatListResponseDataItem>,
}

/// The threats of a checked target, refusing more than its maximum. The
/// computer names go out in batches of at most what one listing takes
/// (`computerName__contains` holds at most 10); each threat is kept once,
/// in the first batch that found it.
async fn matching(client: &Client, target: &ThreatTarget) -> Result<Vec<Batch>, Error> {
    target.within_limits()?;
    let mut batches = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut found = 0usize;
    for names in target.computer_names.chunks(target.names_per_request()) {
        let mut request = client.list_threats().computer_name_contains(names.to_vec());
        if !target.process_names.is_empty() {
            request = request.originated_process_contains(target.process_names.clone());
        }
        if !target.threat_ids.is_empty() {
            request = request.ids(target.threat_ids.clone());
        }
        if !target.file_paths.is_empty() {
            request = request.file_path_contains(target.file_paths.clone());
        }
        if !target.content_hashes.is_empty() {
            request = request.content_hashes(target.content_hashes.clone());
        }
        let room = target.max_threats.saturating_add(1) - found;
        // It stops at `room`: no page is asked for before it is wanted.
        let threats: Vec<_> = pagination::items_with(request, DEFAULT_PAGE_SIZE, Prefetch::Off)
            .try_filter(|t| {
                // A threat without an id is kept every time: acting on it
                // fails on its id (`validate::listed_ids`).
                let new = t.id.as_ref().is_none_or(|id| !seen.contains(id));
                std::future::ready(new && target.names(t))
            })
            .take(room)
            .try_collect()
            .await?;
        seen.extend(threats.iter().filter_map(|t| t.id.clone()));
        found += threats.len();
        if found > target.max_threats {
            return Err(Error::invalid(format!(
                "more than {} threats match the target; narrow it or raise max_threats",
                target.max_threats
            )));
        }
        batches.push(Batch {
            names: names.to_vec(),
            threats,
        });
    }
    Ok(batches)
}

/// The body of [`Threats::respond`].
///
/// The mitigation goes out once per batch of computer names that found
/// threats, naming that batch's computers and exactly the ids it found
/// (at most as many ids as one filter takes); never with an empty filter.
async fn respond(
    client: &Client,
    action: ThreatAction,
    target: &ThreatTarget,
) -> Result<ThreatResponse, Error> {
    let span = steps::composite(&format!("threats.{action}"));
    respond_steps(client, action, target).instrument(span).await
}

/// [`respond`]'s steps: preview (the matching threats), act (mitigate).
async fn respond_steps(
    client: &Client,
    action: ThreatAction,
    target: &ThreatTarget,
) -> Result<ThreatResponse, Error> {
    let target = target.checked()?;
    let batches = steps::step("preview", matching(client, &target)).await?;
    let mut plans = Vec::new();
    for batch in &batches {
        let ids: Vec<String> = validate::listed_ids("threat", &batch.threats, |t| t.id.as_deref())?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        if !ids.is_empty() {
            plans.push((&batch.names, ids));
        }
    }
    let matched: Vec<ThreatListResponseDataItem> = batches
        .iter()
        .flat_map(|b| b.threats.iter().cloned())
        .collect();
    if plans.is_empty() {
        tracing::info!(%action, "no threat matches the target; nothing sent");
        return Ok(ThreatResponse {
            action,
            affected: 0,
            matched,
        });
    }
    let ids_per_request = constraints::batch_size(MITIGATE, Place::Body, "filter.ids");
    let affected = steps::step(
        "act",
        mitigate(client, action, &target, plans, ids_per_request),
    )
    .await?;
    Ok(ThreatResponse {
        action,
        affected,
        matched,
    })
}

/// Sends the mitigation for each planned batch, at most `ids_per_request`
/// ids at a time; returns how many threats the console says it affected.
async fn mitigate(
    client: &Client,
    action: ThreatAction,
    target: &ThreatTarget,
    plans: Vec<(&Vec<String>, Vec<String>)>,
    ids_per_request: usize,
) -> Result<i64, Error> {
    let mut affected = 0;
    for (names, ids) in plans {
        for ids in ids.chunks(ids_per_request) {
            tracing::info!(%action, threats = ids.len(), "mitigating threats");
            let filter = ThreatTarget {
                computer_names: names.clone(),
                ..target.clone()
            }
            .filter(ids.to_vec());
            let answer = client
                .mitigate_threats()
                .action(action.raw())
                .body(ThreatsMitigateRequest {
                    data: Default::default(),
                    filter,
                })
                .call()
                .await?;
            affected += answer.data.and_then(|d| d.affected).unwrap_or(0);
        }
    }
    Ok(affected)
}

/// The body of [`Threats::kill`].
async fn kill(client: &Client, target: &ThreatTarget) -> Result<ThreatResponse, Error> {
    respond(client, ThreatAction::Kill, target).await
}

/// The body of [`Threats::quarantine`].
async fn quarantine(client: &Client, target: &ThreatTarget) -> Result<ThreatResponse, Error> {
    respond(client, ThreatAction::Quarantine, target).await
}

/// The body of [`Threats::remediate`].
async fn remediate(client: &Client, target: &ThreatTarget) -> Result<ThreatResponse, Error> {
    respond(client, ThreatAction::Remediate, target).await
}

/// The body of [`Threats::rollback`].
async fn rollback(client: &Client, target: &ThreatTarget) -> Result<ThreatResponse, Error> {
    respond(client, ThreatAction::Rollback, target).await
}

/// The body of [`Threats::unquarantine`].
async fn unquarantine(client: &Client, target: &ThreatTarget) -> Result<ThreatResponse, Error> {
    respond(client, ThreatAction::Unquarantine, target).await
}

/// What marking threats resolved did.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedThreats {
    /// How many threats the console says it changed, when it says.
    pub affected: Option<i64>,
    /// The console's answer, as decoded (`POST /threats/incident`).
    pub response: Value,
}

/// The body of [`Threats::resolve`].
async fn resolve(
    client: &Client,
    threat_ids: &[String],
    agent_id: &str,
) -> Result<ResolvedThreats, Error> {
    let threat_ids = validate::ids("threat_ids", threat_ids)?;
    if threat_ids.is_empty() {
        return Err(Error::invalid("threat_ids: at least one value is required"));
    }
    let agent_id = validate::id("agent_id", agent_id)?;
    // v2.1 has no `threats/mark-as-resolved` (only v2.0 does): a threat is
    // resolved by setting its incident status.
    let body = ThreatsIncidentRequest {
        filter: ThreatFilter {
            ids: threat_ids,
            agent_ids: vec![agent_id],
            ..Default::default()
        },
        data: ThreatsIncidentRequestData {
            incident_status: ThreatIncidentStatusesItem::Resolved,
            analyst_verdict: None,
        },
    };
    let answer = client
        .set_threat_incident_status()
        .body(body)
        .call()
        .await?;
    let affected = answer.data.as_ref().and_then(|d| d.affected);
    let response = serde_json::to_value(&answer)
        .map_err(|e| Error::decode(SetThreatIncidentStatus::OPERATION_ID, &[], e))?;
    Ok(ResolvedThreats { affected, response })
}
