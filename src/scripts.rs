//! Remote scripts (D3 "Run Script", "Get Script Task Status", "Get Script
//! Results"): run a script of the library on chosen agents, wait until
//! every agent's task has ended, fetch the result links and download them.
//!
//! [`Scripts::run_and_collect`] does all of it in one call; [`Scripts::run`], [`Scripts::result_links`]
//! and [`Scripts::download_results`] are the steps on their own.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use futures_util::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};
use tracing::Instrument;

use crate::download::{self, Downloaded};
use crate::poll::Poll;
use crate::prelude::*;
use crate::raw::types::{
    ElevateSessionRequest, ElevateSessionRequestData, ExecuteScriptRequest,
    ExecuteScriptRequestData, ExecuteScriptRequestFilter, FetchScriptsResultsRequest,
    FetchScriptsResultsRequestData, GetRemoteScriptResultLinksResponseData,
    TaskListResponseDataItem,
};
use crate::{Client, Error, Polling, agents, steps, validate};

/// Remote scripts, reached from the client with [`Client::scripts`].
///
/// ```no_run
/// # fn demo(client: &sentinelone::Client) {
/// let scripts = client.scripts();
/// # let _ = scripts;
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Scripts<'c> {
    client: &'c Client,
}

impl Client {
    /// Remote scripts: run a script on agents, read and download its results.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let links = client.scripts().result_links(&["1819000000000000001".into()]).await?;
    /// # drop(links);
    /// # Ok(())
    /// # }
    /// ```
    pub fn scripts(&self) -> Scripts<'_> {
        Scripts { client: self }
    }
}

impl<'c> Scripts<'c> {
    /// Runs the script (`POST /remote-scripts/execute`) and waits until every
    /// agent's task is in a final state (`GET /remote-scripts/status`, every
    /// page, checked as `run`'s polling says).
    ///
    /// - Input is checked first ([`Error::InvalidInput`], nothing sent): a
    ///   script id, a description, at least one target, well-formed ids, the
    ///   archive password's strength, an output directory (absolute) with a
    ///   `Local` destination, a runtime timeout of at least a second. Hosts
    ///   that match no agent at all fail the same way.
    /// - When the console starts no task (`affected` 0) or holds the run for
    ///   approval, it returns at once without waiting.
    /// - Failed, canceled or expired tasks are reported in the result, not as
    ///   an error: check [`TaskStatus::state`].
    /// - When the polling limit passes first: [`Error::WaitTimeout`]; the tasks
    ///   keep running in the console.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::scripts::{OutputDestination, ScriptRun};
    ///
    /// let script = ScriptRun::new("1234567890123456789", "list services", OutputDestination::None)
    ///     .group_ids(["1511111111111111111"]);
    /// let result = client.scripts().run(&script).await?;
    /// for task in &result.tasks {
    ///     println!("{:?}: {}", task.computer_name, task.state);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run(self, script: &ScriptRun) -> Result<ScriptRunResult, Error> {
        run(self.client, script).await
    }

    /// Asks for the download links of the results of `task_ids`
    /// (`POST /remote-scripts/fetch-files`).
    ///
    /// The answer is read leniently: the links may sit in `data.downloadLinks`
    /// (as documented), `data.data.downloadLinks`, or `data.download_links` (as
    /// consoles have answered), with camelCase or snake_case keys; entries
    /// without a URL are skipped.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let links = client.scripts().result_links(&["1819000000000000001".into()]).await?;
    /// for link in &links.links {
    ///     println!("{:?} {:?}", link.task_id, link.file_name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn result_links(self, task_ids: &[String]) -> Result<ResultLinks, Error> {
        result_links(self.client, task_ids).await
    }

    /// Downloads each link into `dir` (created if missing), one file per link
    /// named after the console's file name (reduced to a safe file name: its
    /// last component; made unique with the task id when two links share one).
    ///
    /// A file that already exists in `dir` is replaced only when `overwrite`;
    /// otherwise it stops the command with [`Error::Io`] naming it, the file
    /// left as it was. Links on the console go through the client with the
    /// token; links on any other host (storage) are fetched without it. Each
    /// file is written atomically; the first failure stops the command, files
    /// already written stay.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    ///
    /// let links = client.scripts().result_links(&["1819000000000000001".into()]).await?;
    /// let files = client.scripts().download_results(&links.links, "results".as_ref(), false).await?;
    /// println!("{} files", files.len());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download_results(
        self,
        links: &[ResultLink],
        dir: &Path,
        overwrite: bool,
    ) -> Result<Vec<Downloaded>, Error> {
        download_results(self.client, links, dir, overwrite).await
    }

    /// Runs the script, waits for its tasks ([`Scripts::run`]), then fetches the result
    /// links of the completed tasks ([`Scripts::result_links`]) and downloads them into
    /// `dir` ([`Scripts::download_results`], replacing existing files only with
    /// [`ScriptRun::overwrite`]).
    ///
    /// Only runs whose output goes to `SentinelCloud` have results to fetch;
    /// with another destination, or when no task completed, no links are asked
    /// for and no file is written.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use std::time::Duration;
    /// use sentinelone::Polling;
    /// use sentinelone::scripts::{OutputDestination, ScriptRun};
    ///
    /// let run = ScriptRun::new("1234567890123456789", "collect autoruns", OutputDestination::SentinelCloud)
    ///     .hosts(["DESKTOP-0042"])
    ///     .password("Collect-2024!x".to_string().into())
    ///     .polling(Polling::default().timeout(Duration::from_secs(900)));
    /// let collected = client.scripts().run_and_collect(&run, "results".as_ref()).await?;
    /// for file in &collected.files {
    ///     println!("{} ({} bytes)", file.path.display(), file.bytes);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run_and_collect(
        self,
        script: &ScriptRun,
        dir: &Path,
    ) -> Result<CollectedResults, Error> {
        run_and_collect(self.client, script, dir).await
    }
}

/// Where a script's output goes.
pub type OutputDestination = crate::raw::types::ExecuteScriptRequestDataOutputDestination;

const DOWNLOAD: &str = "download_remote_script_result";

/// A script to run and the agents to run it on.
///
/// Targets: host names or internal IPs (resolved to agents by exact match,
/// as in [`crate::agents`]), agent ids, group ids, site ids; at least one
/// is required. Hosts and agent ids together name one set of agents; group
/// and site ids narrow it, the console combining its filters with "and".
#[derive(Clone)]
pub struct ScriptRun {
    script_id: String,
    description: String,
    destination: OutputDestination,
    hosts: Vec<String>,
    agent_ids: Vec<String>,
    group_ids: Vec<String>,
    site_ids: Vec<String>,
    password: Option<SecretString>,
    output_directory: Option<String>,
    input_params: Option<String>,
    runtime_timeout: Option<Duration>,
    polling: Polling,
    overwrite: bool,
    elevation_code: Option<SecretString>,
}

impl fmt::Debug for ScriptRun {
    /// Leaves out the password and the input parameters (which may carry
    /// credentials).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptRun")
            .field("script_id", &self.script_id)
            .field("description", &self.description)
            .field("destination", &self.destination)
            .field("hosts", &self.hosts)
            .field("agent_ids", &self.agent_ids)
            .field("group_ids", &self.group_ids)
            .field("site_ids", &self.site_ids)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("output_directory", &self.output_directory)
            .field(
                "input_params",
                &self.input_params.as_ref().map(|_| "[redacted]"),
            )
            .field("runtime_timeout", &self.runtime_timeout)
            .field("polling", &self.polling)
            .field("overwrite", &self.overwrite)
            .field(
                "elevation_code",
                &self.elevation_code.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl ScriptRun {
    /// Runs script `script_id` of the library, described as `description`
    /// in the console, its output going to `destination`. Give targets next.
    pub fn new(
        script_id: impl Into<String>,
        description: impl Into<String>,
        destination: OutputDestination,
    ) -> Self {
        ScriptRun {
            script_id: script_id.into(),
            description: description.into(),
            destination,
            hosts: Vec::new(),
            agent_ids: Vec::new(),
            group_ids: Vec::new(),
            site_ids: Vec::new(),
            password: None,
            output_directory: None,
            input_params: None,
            runtime_timeout: None,
            polling: Polling::default(),
            overwrite: false,
            elevation_code: None,
        }
    }

    /// Host names or internal IPs of the agents to run on.
    pub fn hosts<I: IntoIterator<Item = S>, S: Into<String>>(mut self, hosts: I) -> Self {
        self.hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Ids of the agents to run on.
    pub fn agent_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.agent_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Runs on the agents of these groups.
    pub fn group_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.group_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Runs on the agents of these sites.
    pub fn site_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.site_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// The password of the result archive: 10 or more characters with upper
    /// and lower case letters, a digit and a symbol.
    pub fn password(mut self, password: SecretString) -> Self {
        self.password = Some(password);
        self
    }

    /// The directory results are written to; required with
    /// [`OutputDestination::Local`].
    pub fn output_directory(mut self, directory: impl Into<String>) -> Self {
        self.output_directory = Some(directory.into());
        self
    }

    /// The script's input parameters (needed when the script says so).
    pub fn input_params(mut self, params: impl Into<String>) -> Self {
        self.input_params = Some(params.into());
        self
    }

    /// How long the script may run on each endpoint (whole seconds, at
    /// least one).
    pub fn runtime_timeout(mut self, timeout: Duration) -> Self {
        self.runtime_timeout = Some(timeout);
        self
    }

    /// How to wait for the tasks to end (default: [`Polling::default`]).
    pub fn polling(mut self, polling: Polling) -> Self {
        self.polling = polling;
        self
    }

    /// A one-time code from the user's authenticator app, for consoles that
    /// protect remote scripts behind re-authentication: when the console
    /// refuses the run asking for an elevated session, the code is sent to
    /// `POST users/auth/elevate` and the run is sent once more. Without it
    /// such a refusal is returned as it came ([`Error::Api`]). The code is
    /// never logged nor shown in errors.
    ///
    /// ```
    /// use sentinelone::scripts::{OutputDestination, ScriptRun};
    ///
    /// let run = ScriptRun::new("s-1", "triage", OutputDestination::SentinelCloud)
    ///     .hosts(["win-lab-001"])
    ///     .elevation_code("492039".to_string().into());
    /// assert!(!format!("{run:?}").contains("492039"));
    /// ```
    pub fn elevation_code(mut self, code: SecretString) -> Self {
        self.elevation_code = Some(code);
        self
    }

    /// Let [`Scripts::run_and_collect`] replace files that already exist in the
    /// results directory (default: an existing file stops it with
    /// [`Error::Io`] naming the file, and is left as it was).
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }
}

/// The state of one agent's task, as the console reports it. Unknown
/// states are kept as [`TaskState::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// `created`
    Created,
    /// `scheduled`
    Scheduled,
    /// `pending`
    Pending,
    /// `pending_user_action`: waits for someone to approve or act.
    PendingUserAction,
    /// `in_progress`
    InProgress,
    /// `completed`
    Completed,
    /// `partially_completed`
    PartiallyCompleted,
    /// `failed`
    Failed,
    /// `canceled`
    Canceled,
    /// `expired`
    Expired,
    /// A state this library does not know; never treated as final.
    Other(String),
}

impl TaskState {
    /// The state from the console's spelling.
    pub fn parse(status: &str) -> Self {
        match status {
            "created" => TaskState::Created,
            "scheduled" => TaskState::Scheduled,
            "pending" => TaskState::Pending,
            "pending_user_action" => TaskState::PendingUserAction,
            "in_progress" => TaskState::InProgress,
            "completed" => TaskState::Completed,
            "partially_completed" => TaskState::PartiallyCompleted,
            "failed" => TaskState::Failed,
            "canceled" => TaskState::Canceled,
            "expired" => TaskState::Expired,
            other => TaskState::Other(other.to_string()),
        }
    }

    /// The console's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            TaskState::Created => "created",
            TaskState::Scheduled => "scheduled",
            TaskState::Pending => "pending",
            TaskState::PendingUserAction => "pending_user_action",
            TaskState::InProgress => "in_progress",
            TaskState::Completed => "completed",
            TaskState::PartiallyCompleted => "partially_completed",
            TaskState::Failed => "failed",
            TaskState::Canceled => "canceled",
            TaskState::Expired => "expired",
            TaskState::Other(s) => s,
        }
    }

    /// The task has ended and will not change any more.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TaskState::Completed
                | TaskState::PartiallyCompleted
                | TaskState::Failed
                | TaskState::Canceled
                | TaskState::Expired
        )
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One agent's task of a script run.
#[derive(Debug, Clone)]
pub struct TaskStatus {
    /// The task id (what [`Scripts::result_links`] takes).
    pub id: Option<String>,
    /// The agent it ran on.
    pub agent_id: Option<String>,
    /// The agent's computer name.
    pub computer_name: Option<String>,
    /// Its state.
    pub state: TaskState,
    /// The console's detail on the state.
    pub detailed_status: Option<String>,
    /// The task as the console listed it.
    pub task: TaskListResponseDataItem,
}

impl From<TaskListResponseDataItem> for TaskStatus {
    fn from(task: TaskListResponseDataItem) -> Self {
        TaskStatus {
            id: task.id.clone(),
            agent_id: task.agent_id.clone(),
            computer_name: task.agent_computer_name.clone(),
            state: TaskState::parse(task.status.as_deref().unwrap_or("")),
            detailed_status: task.detailed_status.clone(),
            task,
        }
    }
}

/// What [`Scripts::run`] did.
#[derive(Debug, Clone)]
pub struct ScriptRunResult {
    /// The run's parent task id.
    pub parent_task_id: Option<String>,
    /// How many agents the script was sent to.
    pub affected: u64,
    /// Set when the run waits for approval in the console: no task was
    /// started and none was awaited.
    pub pending_execution_id: Option<String>,
    /// Every agent's task, all in a final state (empty when nothing was
    /// sent or the run awaits approval).
    pub tasks: Vec<TaskStatus>,
    /// Given hosts that matched no agent.
    pub unmatched_hosts: Vec<String>,
}

/// The body of [`Scripts::run`].
async fn run(client: &Client, script: &ScriptRun) -> Result<ScriptRunResult, Error> {
    run_steps(client, script)
        .instrument(steps::composite("scripts.run"))
        .await
}

/// [`run`]'s steps: preview (hosts to agents), act (send the script),
/// poll (its tasks).
async fn run_steps(client: &Client, script: &ScriptRun) -> Result<ScriptRunResult, Error> {
    let checked = check(script)?;
    let (ids, unmatched_hosts) = target_agents(client, &checked).await?;
    let body = ExecuteScriptRequest {
        data: Some(checked.data),
        filter: ExecuteScriptRequestFilter {
            ids,
            group_ids: checked.group_ids,
            site_ids: checked.site_ids,
            ..Default::default()
        },
    };
    // An answer that echoes the result password must not show it in an error.
    let _redacted = script
        .password
        .as_ref()
        .map(|p| crate::redact::register(p.expose_secret()));
    let _code_redacted = script
        .elevation_code
        .as_ref()
        .map(|c| crate::redact::register(c.expose_secret()));
    let answer = steps::step("act", async {
        match client.run_remote_script().body(body.clone()).call().await {
            Err(refused) if asks_for_elevation(&refused) => {
                let Some(code) = &script.elevation_code else {
                    return Err(refused);
                };
                elevate(client, code).await?;
                client.run_remote_script().body(body).call().await
            }
            outcome => outcome,
        }
    })
    .await?;
    let data = answer.data.unwrap_or_default();
    let affected = data
        .affected
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0);
    tracing::info!(affected, parent_task_id = ?data.parent_task_id, "remote script sent");
    let mut result = ScriptRunResult {
        parent_task_id: data.parent_task_id,
        affected,
        pending_execution_id: None,
        tasks: Vec::new(),
        unmatched_hosts,
    };
    if data.pending == Some(true) {
        result.pending_execution_id = data.pending_execution_id;
        return Ok(result);
    }
    if affected == 0 {
        return Ok(result);
    }
    let parent = result.parent_task_id.clone().ok_or_else(|| {
        Error::decode(
            "run_remote_script",
            b"",
            format!("the script was sent to {affected} agents but no parentTaskId came back"),
        )
    })?;
    result.tasks = steps::step(
        "poll",
        wait_for_tasks(client, &parent, affected, script.polling),
    )
    .await?;
    Ok(result)
}

/// Whether the console refused a request until the session is elevated:
/// a 401 or 403 whose error names elevation (SentinelOne does not publish
/// the error code, so the words are what is matched).
fn asks_for_elevation(error: &Error) -> bool {
    let Error::Api { status, errors, .. } = error else {
        return false;
    };
    (*status == 401 || *status == 403)
        && errors.iter().any(|e| {
            [&e.title, &e.detail]
                .into_iter()
                .flatten()
                .any(|text| text.to_ascii_lowercase().contains("elevat"))
        })
}

/// Elevates the session with a one-time code (`POST users/auth/elevate`).
async fn elevate(client: &Client, code: &SecretString) -> Result<(), Error> {
    let body = ElevateSessionRequest {
        data: ElevateSessionRequestData {
            code: code.expose_secret().to_string(),
        },
    };
    let answer = client.elevate_auth().body(body).call().await?;
    let seconds = answer.data.and_then(|d| d.duration);
    tracing::info!(?seconds, "session elevated for protected actions");
    Ok(())
}

/// A [`ScriptRun`] checked, its request data ready.
struct Checked {
    data: ExecuteScriptRequestData,
    hosts: Vec<String>,
    agent_ids: Vec<String>,
    group_ids: Vec<String>,
    site_ids: Vec<String>,
}

fn check(run: &ScriptRun) -> Result<Checked, Error> {
    let script_id = validate::id("script_id", &run.script_id)?;
    run.polling.check()?;
    let description = validate::required("description", &run.description)?;
    let hosts = validate::optional_list("hosts", &run.hosts)?;
    let agent_ids = validate::ids("agent_ids", &run.agent_ids)?;
    let group_ids = validate::ids("group_ids", &run.group_ids)?;
    let site_ids = validate::ids("site_ids", &run.site_ids)?;
    if hosts.is_empty() && agent_ids.is_empty() && group_ids.is_empty() && site_ids.is_empty() {
        return Err(Error::invalid(
            "script targets: give hosts, agent ids, group ids or site ids",
        ));
    }
    if let Some(password) = &run.password {
        validate::archive_password("password", password)?;
    }
    let output_directory = match (&run.output_directory, run.destination) {
        (Some(dir), _) => Some(validate::absolute_path("output_directory", dir)?),
        (None, OutputDestination::Local) => {
            return Err(Error::invalid(
                "output_directory is required when the destination is Local",
            ));
        }
        (None, _) => None,
    };
    let runtime_timeout = match run.runtime_timeout {
        Some(t) => {
            let secs =
                validate::in_range("runtime_timeout (seconds)", t.as_secs(), 1, i32::MAX as u64)?;
            Some(secs as i32)
        }
        None => None,
    };
    let data = ExecuteScriptRequestData {
        script_id,
        task_description: description,
        output_destination: run.destination,
        output_directory,
        password: run.password.as_ref().map(|p| p.expose_secret().to_string()),
        input_params: run.input_params.clone(),
        script_runtime_timeout_seconds: runtime_timeout,
        // Left to the console.
        api_key: None,
        destination_profile_id: None,
        destination_profile_keyword: None,
        output_file_paths: Vec::new(),
        password_from_scope: None,
        requires_approval: None,
        singularityxdr_keyword: None,
        singularityxdr_url: None,
    };
    Ok(Checked {
        data,
        hosts,
        agent_ids,
        group_ids,
        site_ids,
    })
}

/// The agent ids to target: the given ones and those the hosts resolve to.
async fn target_agents(
    client: &Client,
    checked: &Checked,
) -> Result<(Vec<String>, Vec<String>), Error> {
    let mut ids = checked.agent_ids.clone();
    if checked.hosts.is_empty() {
        return Ok((ids, Vec::new()));
    }
    let resolved = agents::resolve_hosts(client, &checked.hosts).await?;
    for id in resolved.ids() {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok((ids, resolved.unmatched))
}

/// Polls the tasks of `parent` until at least `expected` are listed and
/// all listed ones are final.
async fn wait_for_tasks(
    client: &Client,
    parent: &str,
    expected: u64,
    polling: Polling,
) -> Result<Vec<TaskStatus>, Error> {
    let mut poll = Poll::start(polling)?;
    let mut done = 0;
    loop {
        let waiting_for = |done: usize| {
            format!("remote script tasks of parent task {parent} ({done} of {expected} finished)")
        };
        let tasks = poll
            .within(|| waiting_for(done), task_statuses(client, parent))
            .await?;
        done = tasks.iter().filter(|t| t.state.is_final()).count();
        if done == tasks.len() && done as u64 >= expected {
            return Ok(tasks);
        }
        tracing::debug!(parent, done, expected, "remote script tasks still running");
        poll.pause(|| waiting_for(done)).await?;
    }
}

async fn task_statuses(client: &Client, parent: &str) -> Result<Vec<TaskStatus>, Error> {
    let items: Vec<TaskListResponseDataItem> = client
        .list_remote_script_statuses()
        .parent_task_id(parent)
        .items()
        .try_collect()
        .await?;
    Ok(items.into_iter().map(TaskStatus::from).collect())
}

/// A download link for one task's results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultLink {
    /// The task the results belong to.
    pub task_id: Option<String>,
    /// The file name the console gave.
    pub file_name: Option<String>,
    /// Where to download it (often a pre-signed storage URL on another
    /// host).
    pub download_url: String,
}

/// A task whose results could not be linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkError {
    /// The task.
    pub task_id: Option<String>,
    /// The console's reason.
    pub message: Option<String>,
}

/// What [`Scripts::result_links`] returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultLinks {
    /// One link per result file.
    pub links: Vec<ResultLink>,
    /// Tasks the console could not give a link for.
    pub errors: Vec<LinkError>,
}

/// The body of [`Scripts::result_links`].
async fn result_links(client: &Client, task_ids: &[String]) -> Result<ResultLinks, Error> {
    let task_ids = validate::required_list("task_ids", task_ids)?;
    let body = FetchScriptsResultsRequest {
        data: FetchScriptsResultsRequestData {
            task_ids,
            ..Default::default()
        },
    };
    let answer = client
        .get_remote_script_result_links()
        .body(body)
        .call()
        .await?;
    Ok(answer.data.map(ResultLinks::from).unwrap_or_default())
}

impl From<GetRemoteScriptResultLinksResponseData> for ResultLinks {
    fn from(data: GetRemoteScriptResultLinksResponseData) -> Self {
        let links = data
            .download_links
            .unwrap_or_default()
            .into_iter()
            .filter_map(|link| {
                Some(ResultLink {
                    download_url: non_empty(link.download_url)?,
                    task_id: non_empty(link.task_id),
                    file_name: non_empty(link.file_name),
                })
            })
            .collect();
        let errors = data
            .errors
            .unwrap_or_default()
            .into_iter()
            .map(|error| LinkError {
                task_id: non_empty(error.task_id),
                message: non_empty(error.error_string),
            })
            .collect();
        ResultLinks { links, errors }
    }
}

/// `text` unless it is missing or empty.
fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.is_empty())
}

/// The body of [`Scripts::download_results`].
async fn download_results(
    client: &Client,
    links: &[ResultLink],
    dir: &Path,
    overwrite: bool,
) -> Result<Vec<Downloaded>, Error> {
    let mut used = HashSet::new();
    let mut files = Vec::with_capacity(links.len());
    for (i, link) in links.iter().enumerate() {
        let name = unique_name(link, i, &mut used);
        let dest = dir.join(name);
        let file = download::link(client, &link.download_url, DOWNLOAD, &dest, overwrite).await?;
        tracing::info!(path = %file.path.display(), bytes = file.bytes, "script result saved");
        files.push(file);
    }
    Ok(files)
}

/// A file name for `link` not in `used`.
fn unique_name(link: &ResultLink, index: usize, used: &mut HashSet<String>) -> String {
    let fallback = match link.task_id.as_deref().and_then(safe_file_name) {
        Some(task) => format!("{task}.zip"),
        None => format!("result-{index}.zip"),
    };
    let base = link
        .file_name
        .as_deref()
        .and_then(safe_file_name)
        .unwrap_or(fallback);
    let mut name = base.clone();
    if used.contains(&name) {
        let prefix = link
            .task_id
            .as_deref()
            .and_then(safe_file_name)
            .unwrap_or_else(|| index.to_string());
        name = format!("{prefix}_{base}");
    }
    let mut n = 1;
    while used.contains(&name) {
        name = format!("{n}_{base}");
        n += 1;
    }
    used.insert(name.clone());
    name
}

/// The last path component of `name`, with characters outside letters,
/// digits, `.`, `-` and `_` replaced and leading dots removed; `None` when
/// nothing is left.
fn safe_file_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

/// What [`Scripts::run_and_collect`] did.
#[derive(Debug, Clone)]
pub struct CollectedResults {
    /// The run and its tasks.
    pub run: ScriptRunResult,
    /// The links of the completed tasks' results, and the tasks without one.
    pub links: ResultLinks,
    /// The downloaded files.
    pub files: Vec<Downloaded>,
}

/// The body of [`Scripts::run_and_collect`].
async fn run_and_collect(
    client: &Client,
    script: &ScriptRun,
    dir: &Path,
) -> Result<CollectedResults, Error> {
    run_and_collect_steps(client, script, dir)
        .instrument(steps::composite("scripts.run_and_collect"))
        .await
}

/// [`run_and_collect`]'s steps: those of [`run_steps`], then download.
async fn run_and_collect_steps(
    client: &Client,
    script: &ScriptRun,
    dir: &Path,
) -> Result<CollectedResults, Error> {
    let result = run_steps(client, script).await?;
    let completed = result
        .tasks
        .iter()
        .filter(|t| t.state == TaskState::Completed);
    let completed: Vec<String> = validate::listed_ids("task", completed, |t| t.id.as_deref())?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    if script.destination != OutputDestination::SentinelCloud || completed.is_empty() {
        return Ok(CollectedResults {
            run: result,
            links: ResultLinks::default(),
            files: Vec::new(),
        });
    }
    let (links, files) = steps::step("download", async {
        let links = result_links(client, &completed).await?;
        let files = download_results(client, &links.links, dir, script.overwrite).await?;
        Ok::<_, Error>((links, files))
    })
    .await?;
    Ok(CollectedResults {
        run: result,
        links,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_unknown_ones_are_not_final() {
        for s in [
            "created",
            "scheduled",
            "pending",
            "pending_user_action",
            "in_progress",
            "completed",
            "partially_completed",
            "failed",
            "canceled",
            "expired",
            "rebooting",
        ] {
            assert_eq!(TaskState::parse(s).as_str(), s);
        }
        assert!(TaskState::parse("expired").is_final());
        assert!(!TaskState::parse("pending_user_action").is_final());
        assert!(!TaskState::parse("rebooting").is_final());
    }

    #[test]
    fn file_names_are_safe_and_unique() {
        assert_eq!(
            safe_file_name("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            safe_file_name("C:\\x\\..\\r s.zip").as_deref(),
            Some("r_s.zip")
        );
        assert_eq!(safe_file_name(".."), None);
        let mut used = HashSet::new();
        let link = |task: &str, name: Option<&str>| ResultLink {
            task_id: Some(task.into()),
            file_name: name.map(Into::into),
            download_url: "https://s/x".into(),
        };
        assert_eq!(
            unique_name(&link("1", Some("out.zip")), 0, &mut used),
            "out.zip"
        );
        assert_eq!(
            unique_name(&link("2", Some("out.zip")), 1, &mut used),
            "2_out.zip"
        );
        assert_eq!(unique_name(&link("3", Some("..")), 2, &mut used), "3.zip");
    }
}
