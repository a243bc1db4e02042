//! Files from endpoints, in one call each: the D3 SOAR "Collect Files",
//! "Download Files", "Fetch Files", "Fetch Threat File", "Download Threat
//! Files" behaviours.
//!
//! Getting a file off an endpoint takes three steps on the console: ask the
//! agent for it (the console answers at once), wait until the agent has
//! uploaded the password-protected zip (an activity appears), then download
//! that zip. [`fetch`] does all three for files named by path,
//! [`fetch_threat_file`] for the file of a threat; [`collect`],
//! [`wait_for_upload`] and [`download`] are the steps on their own, for
//! callers who ask now and download later. [`extract`] opens a downloaded
//! archive safely; [`download_threat_from_cloud`] fetches the copy of a
//! threat's file the console keeps in its cloud storage.
//!
//! How an upload is recognised: the console logs the request as an activity
//! of type [`FETCH_REQUEST_ACTIVITY`] carrying a `commandBatchUuid`, and the
//! agent's upload as an activity of type [`AGENT_UPLOAD_ACTIVITY`] carrying
//! the same uuid and a `downloadUrl`. The wait looks at activities of the
//! agent created after the request (less [`CLOCK_SKEW`]), takes the request
//! activity closest in time to the request as ours, and picks the first upload
//! of that batch; an upload of another batch is never taken. Where the
//! console leaves the uuid out, the first upload after the request is taken.
//!
//! Downloads stream to disk and are atomic: a temporary file beside the
//! destination is renamed into place once complete, and removed on failure
//! or cancellation. An existing file is replaced only when asked
//! ([`FetchOptions::overwrite`]); extraction never replaces one.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::poll::Poll;
use crate::prelude::*;
use crate::raw::types;
use crate::{
    API_PREFIX, Client, Downloaded, Error, Polling, download, extract as unpack, validate,
};

pub use crate::extract::{
    DEFAULT_MAX_ENTRIES, DEFAULT_MAX_ENTRY_BYTES, DEFAULT_MAX_TOTAL_BYTES, ExtractLimits,
};

/// Most paths one fetch-files request may name.
pub const MAX_FILES: usize = 10;

/// How far the console's clock may lag ours: uploads created up to this long
/// before the request (by our clock) are still considered.
pub const CLOCK_SKEW: Duration = Duration::from_secs(30);

/// Activity type of an agent's upload of fetched files.
pub const AGENT_UPLOAD_ACTIVITY: i64 = 80;

/// Activity type of a user's fetch-file request to an agent.
pub const FETCH_REQUEST_ACTIVITY: i64 = 81;

/// Activity type of an agent's upload of a threat's file.
pub const THREAT_UPLOAD_ACTIVITY: i64 = 86;

/// Activities read per check; far more than one agent logs of these types
/// while a fetch is under way.
const PAGE: i32 = 100;

/// Operation name of every upload download (agent and threat files alike).
const DOWNLOAD_UPLOAD: &str = "download_agent_upload";

/// Operation name of the download of a cloud copy.
const DOWNLOAD_CLOUD_FILE: &str = "download_threat_cloud_file";

/// Files to fetch from an agent, and the password the console will protect
/// their archive with. The password never shows in `Debug` output.
///
/// ```
/// use sentinelone::files::FetchRequest;
///
/// let request = FetchRequest::new(["C:\\Windows\\Temp\\dropper.exe"], "Str0ng!Passw0rd");
/// assert!(!format!("{request:?}").contains("Str0ng"));
/// ```
#[derive(Clone)]
pub struct FetchRequest {
    paths: Vec<String>,
    password: SecretString,
}

impl FetchRequest {
    /// Up to [`MAX_FILES`] absolute paths on the endpoint, and the archive
    /// password: 10 or more characters with upper and lower case letters, a
    /// digit and a symbol. Both are checked when the request is used.
    pub fn new<I, S>(paths: I, password: impl Into<SecretString>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        FetchRequest {
            paths: paths.into_iter().map(Into::into).collect(),
            password: password.into(),
        }
    }

    /// The paths, as given.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// The archive password.
    pub fn password(&self) -> &SecretString {
        &self.password
    }

    /// The paths, trimmed, once every rule holds.
    fn checked(&self) -> Result<Vec<String>, Error> {
        let paths = validate::required_list("paths", &self.paths)?;
        validate::at_most("paths", &paths, MAX_FILES)?;
        for (i, path) in paths.iter().enumerate() {
            validate::absolute_path(&format!("paths[{i}]"), path)?;
        }
        validate::archive_password("password", &self.password)?;
        Ok(paths)
    }
}

impl fmt::Debug for FetchRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetchRequest")
            .field("paths", &self.paths)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// A fetch-files request the console accepted: what [`wait_for_upload`]
/// needs to find its upload. Build one yourself to wait for a request sent
/// earlier (D3's "Download Files" with an activity time and a command batch
/// uuid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// The agent asked for the files.
    pub agent_id: String,
    /// When the request was sent, by our clock.
    pub requested_at: DateTime<Utc>,
    /// The console's `commandBatchUuid` of the request, when known; found
    /// from the request activity otherwise.
    pub command_batch_uuid: Option<String>,
}

impl Collection {
    /// A request to `agent_id` sent at `requested_at`.
    pub fn new(agent_id: impl Into<String>, requested_at: DateTime<Utc>) -> Self {
        Collection {
            agent_id: agent_id.into(),
            requested_at,
            command_batch_uuid: None,
        }
    }

    /// Only an upload of this command batch will do.
    pub fn command_batch_uuid(mut self, uuid: impl Into<String>) -> Self {
        self.command_batch_uuid = Some(uuid.into());
        self
    }

    /// The earliest creation time an upload of this request may have: the
    /// request time less [`CLOCK_SKEW`], in whole seconds.
    pub fn since(&self) -> DateTime<Utc> {
        earliest(self.requested_at)
    }
}

/// An archive an agent uploaded to the console, ready for [`download`].
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    /// The agent that uploaded it, when known.
    pub agent_id: Option<String>,
    /// The upload activity's id.
    pub activity_id: String,
    /// Where to download it: a path on the console
    /// ([`crate::API_PREFIX`]`/agents/{agent}/uploads/{activity}`) or a full URL.
    pub download_path: String,
    /// The archive's name on the console, when the activity names it.
    pub file_name: Option<String>,
    /// The command batch the upload answers, when the activity says.
    pub command_batch_uuid: Option<String>,
    /// When the console logged the upload.
    pub created_at: Option<DateTime<Utc>>,
    /// The activity's `data` object, as the console sent it.
    pub data: Map<String, Value>,
}

impl Upload {
    /// The agent whose upload this is, when it is downloaded from that
    /// agent's upload path (the `download_agent_upload` operation) rather
    /// than from a link of its own.
    fn agent_upload(&self) -> Option<&str> {
        let agent_id = self.agent_id.as_deref()?;
        (self.download_path == agent_upload_path(agent_id, &self.activity_id)).then_some(agent_id)
    }

    /// The upload logged as activity `activity_id` of agent `agent_id` (for
    /// downloading an upload found elsewhere, e.g. in the activity log).
    pub fn new(agent_id: &str, activity_id: &str) -> Result<Self, Error> {
        let agent_id = validate::id("agent_id", agent_id)?;
        let activity_id = validate::id("activity_id", activity_id)?;
        Ok(Upload {
            download_path: agent_upload_path(&agent_id, &activity_id),
            agent_id: Some(agent_id),
            activity_id,
            file_name: None,
            command_batch_uuid: None,
            created_at: None,
            data: Map::new(),
        })
    }
}

/// Where [`fetch`] and [`fetch_threat_file`] put the archive, whether they
/// extract it (and within which limits), whether an existing archive file
/// may be replaced, and how long they wait for the upload.
///
/// ```
/// use sentinelone::files::{ExtractLimits, FetchOptions};
///
/// let options = FetchOptions::new("evidence/files.zip")
///     .extract_into("evidence/files")
///     .extract_limits(ExtractLimits::default().max_total_bytes(1 << 30))
///     .overwrite(true);
/// assert!(options.overwrite);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FetchOptions {
    /// The zip file to write.
    pub dest: PathBuf,
    /// A directory to extract the archive into, if any.
    pub extract_into: Option<PathBuf>,
    /// How much the archive may unpack to (see [`ExtractLimits`]).
    pub extract_limits: ExtractLimits,
    /// Replace `dest` when it exists (default: refuse, with an
    /// [`Error::Io`] naming it). Extraction never replaces a file.
    pub overwrite: bool,
    /// How to wait for the agent's upload.
    pub polling: Polling,
}

impl FetchOptions {
    /// Download to the file `dest`, without extracting, waiting as
    /// [`Polling::default`] does.
    pub fn new(dest: impl Into<PathBuf>) -> Self {
        FetchOptions {
            dest: dest.into(),
            extract_into: None,
            extract_limits: ExtractLimits::default(),
            overwrite: false,
            polling: Polling::default(),
        }
    }

    /// Also extract the archive into `dir` (see [`extract`]).
    pub fn extract_into(mut self, dir: impl Into<PathBuf>) -> Self {
        self.extract_into = Some(dir.into());
        self
    }

    /// Extract within these limits instead of the defaults.
    pub fn extract_limits(mut self, limits: ExtractLimits) -> Self {
        self.extract_limits = limits;
        self
    }

    /// Replace an existing `dest` (default: refuse).
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Wait for the upload this way.
    pub fn polling(mut self, polling: Polling) -> Self {
        self.polling = polling;
        self
    }

    fn check(&self) -> Result<(), Error> {
        check_dest("dest", &self.dest)?;
        if !self.overwrite {
            // Refused before anything is asked of the agent.
            download::refuse_existing(&self.dest)?;
        }
        if let Some(dir) = &self.extract_into {
            if dir.as_os_str().is_empty() {
                return Err(Error::invalid("extract_into is empty"));
            }
            if dir.exists() && !dir.is_dir() {
                return Err(Error::invalid(format!(
                    "extract_into {} is not a directory",
                    dir.display()
                )));
            }
        }
        Ok(())
    }
}

/// What [`fetch`] and [`fetch_threat_file`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedFiles {
    /// The upload that was downloaded.
    pub upload: Upload,
    /// The archive on disk.
    pub archive: Downloaded,
    /// The files extracted from it (empty unless extraction was asked for).
    pub extracted: Vec<PathBuf>,
}

/// The console's link to the cloud copy of a threat's file. The link is a
/// pre-signed storage URL, so `Debug` leaves out its query (the signature).
#[derive(Clone, PartialEq, Eq)]
pub struct CloudLink {
    /// The download URL.
    pub url: String,
    /// The file's name, when the console gives it.
    pub file_name: Option<String>,
}

impl fmt::Debug for CloudLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = match self.url.split_once('?') {
            Some((base, _)) => format!("{base}?[redacted]"),
            None => self.url.clone(),
        };
        f.debug_struct("CloudLink")
            .field("url", &shown)
            .field("file_name", &self.file_name)
            .finish()
    }
}

/// Asks agent `agent_id` to upload the files of `request` (D3 "Collect
/// Files"). Returns at once; the upload comes later (see
/// [`wait_for_upload`]).
///
/// ```no_run
/// use sentinelone::files::{self, FetchRequest};
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let request = FetchRequest::new(["/tmp/payload.sh"], "Str0ng!Passw0rd");
/// let collection = files::collect(client, "1234567890", &request).await?;
/// println!("asked at {}", collection.requested_at);
/// # Ok(())
/// # }
/// ```
pub async fn collect(
    client: &Client,
    agent_id: &str,
    request: &FetchRequest,
) -> Result<Collection, Error> {
    let agent_id = validate::id("agent_id", agent_id)?;
    let files = request.checked()?;
    let body = types::AgentFetchFilesActionRequest {
        data: types::AgentFetchFilesActionRequestData {
            files,
            password: request.password.expose_secret().to_string(),
        },
    };
    let requested_at = Utc::now();
    tracing::info!(agent_id = %agent_id, files = body.data.files.len(), "asking the agent for files");
    let answer = client
        .fetch_agent_files()
        .agent_id(agent_id.as_str())
        .body(body)
        .call()
        .await?;
    if answer.data.and_then(|d| d.success) == Some(false) {
        return Err(Error::JobFailed {
            job: format!("fetch-files on agent {agent_id}"),
            state: "not accepted".into(),
            detail: Some("the console answered success: false".into()),
        });
    }
    Ok(Collection::new(agent_id, requested_at))
}

/// Waits until the agent of `collection` has uploaded the archive, checking
/// the activity log as `polling` says. Fails with [`Error::WaitTimeout`] once
/// the time limit has passed (the agent may be offline).
///
/// ```no_run
/// use std::time::Duration;
/// use sentinelone::Polling;
/// use sentinelone::files::{self, Collection};
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let asked = chrono::Utc::now() - chrono::TimeDelta::minutes(5);
/// let collection = Collection::new("1234567890", asked);
/// let polling = Polling::default().timeout(Duration::from_secs(120));
/// let upload = files::wait_for_upload(client, &collection, polling).await?;
/// println!("uploaded as activity {}", upload.activity_id);
/// # Ok(())
/// # }
/// ```
pub async fn wait_for_upload(
    client: &Client,
    collection: &Collection,
    polling: Polling,
) -> Result<Upload, Error> {
    let agent_id = validate::id("agent_id", &collection.agent_id)?;
    if let Some(uuid) = &collection.command_batch_uuid {
        validate::required("command_batch_uuid", uuid)?;
    }
    let since = collection.since();
    let mut poll = Poll::start(polling);
    loop {
        let waiting = || format!("the upload of the files fetched from agent {agent_id}");
        let entries = poll
            .within(waiting, agent_activities(client, &agent_id, since))
            .await?;
        if let Some(upload) = pick_agent_upload(&entries, &agent_id, collection, since) {
            tracing::info!(agent_id = %agent_id, activity_id = %upload.activity_id, "files uploaded");
            return Ok(upload);
        }
        tracing::debug!(agent_id = %agent_id, elapsed = ?poll.elapsed(), "no upload yet");
        poll.pause(|| format!("the upload of the files fetched from agent {agent_id}"))
            .await?;
    }
}

/// Downloads `upload` to the file `dest` (D3 "Download Files"), streamed and
/// atomic: `dest` appears only once complete; on failure nothing is left.
/// An existing `dest` is never replaced ([`Error::Io`] naming it); [`fetch`]
/// with [`FetchOptions::overwrite`] replaces it.
///
/// ```no_run
/// use sentinelone::files::{self, Upload};
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let upload = Upload::new("1234567890", "9876543210")?;
/// let saved = files::download(client, &upload, "evidence/files.zip".as_ref()).await?;
/// println!("{} bytes in {}", saved.bytes, saved.path.display());
/// # Ok(())
/// # }
/// ```
pub async fn download(client: &Client, upload: &Upload, dest: &Path) -> Result<Downloaded, Error> {
    download_to(client, upload, dest, false).await
}

/// [`download`], replacing an existing `dest` when `overwrite`.
async fn download_to(
    client: &Client,
    upload: &Upload,
    dest: &Path,
    overwrite: bool,
) -> Result<Downloaded, Error> {
    validate::required("download_path", &upload.download_path)?;
    check_dest("dest", dest)?;
    tracing::debug!(activity_id = %upload.activity_id, dest = %dest.display(), "downloading an upload");
    match upload.agent_upload() {
        Some(agent_id) => {
            let answer = client
                .download_agent_upload()
                .agent_id(agent_id)
                .activity_id(&upload.activity_id)
                .send()
                .await
                .map_err(|e| Error::from_raw(DOWNLOAD_UPLOAD, e))?;
            let total = answer.content_length();
            let body = answer.into_inner_stream();
            download::save_stream(client, body, total, DOWNLOAD_UPLOAD, dest, overwrite).await
        }
        None => {
            download::link(
                client,
                &upload.download_path,
                DOWNLOAD_UPLOAD,
                dest,
                overwrite,
            )
            .await
        }
    }
}

/// Fetches files from agent `agent_id` (D3 "Fetch Files"): asks for them,
/// waits for the upload, downloads the archive to `options.dest` and, when
/// asked, extracts it with the request's password.
///
/// ```no_run
/// use sentinelone::files::{self, FetchOptions, FetchRequest};
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let request = FetchRequest::new(["C:\\Users\\Public\\dropper.exe"], "Str0ng!Passw0rd");
/// let options = FetchOptions::new("evidence/dropper.zip").extract_into("evidence/dropper");
/// let fetched = files::fetch(client, "1234567890", &request, &options).await?;
/// for path in &fetched.extracted {
///     println!("{}", path.display());
/// }
/// # Ok(())
/// # }
/// ```
pub async fn fetch(
    client: &Client,
    agent_id: &str,
    request: &FetchRequest,
    options: &FetchOptions,
) -> Result<FetchedFiles, Error> {
    validate::id("agent_id", agent_id)?;
    request.checked()?;
    options.check()?;
    let collection = collect(client, agent_id, request).await?;
    let upload = wait_for_upload(client, &collection, options.polling).await?;
    save_upload(client, upload, &request.password, options).await
}

/// Fetches the file of threat `threat_id` (D3 "Fetch Threat File" and
/// "Download Threat Files"): asks the console for it with `password`, waits
/// for the agent's upload (an activity of type [`THREAT_UPLOAD_ACTIVITY`] or
/// a threat timeline entry with a download link), downloads the archive to
/// `options.dest` and, when asked, extracts it.
///
/// A request the console applies to no threat (`affected: 0`: an unknown
/// threat, or one out of the token's scope) fails at once with
/// [`Error::JobFailed`] instead of waiting.
///
/// ```no_run
/// use secrecy::SecretString;
/// use sentinelone::files::{self, FetchOptions};
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let password = SecretString::from("Str0ng!Passw0rd");
/// let options = FetchOptions::new("evidence/threat.zip");
/// let fetched = files::fetch_threat_file(client, "1503989642042428880", &password, &options).await?;
/// println!("{} bytes", fetched.archive.bytes);
/// # Ok(())
/// # }
/// ```
pub async fn fetch_threat_file(
    client: &Client,
    threat_id: &str,
    password: &SecretString,
    options: &FetchOptions,
) -> Result<FetchedFiles, Error> {
    let threat_id = validate::id("threat_id", threat_id)?;
    validate::archive_password("password", password)?;
    options.check()?;
    let requested_at = Utc::now();
    request_threat_file(client, &threat_id, password).await?;
    let upload = wait_for_threat_upload(client, &threat_id, requested_at, options.polling).await?;
    save_upload(client, upload, password, options).await
}

/// The console's link to the cloud copy of threat `threat_id`'s file.
///
/// ```no_run
/// use sentinelone::files;
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let link = files::threat_cloud_link(client, "1503989642042428880").await?;
/// println!("{:?}", link.file_name);
/// # Ok(())
/// # }
/// ```
pub async fn threat_cloud_link(client: &Client, threat_id: &str) -> Result<CloudLink, Error> {
    let threat_id = validate::id("threat_id", threat_id)?;
    let answer = client
        .download_threat_from_cloud()
        .threat_id(threat_id.as_str())
        .call()
        .await?;
    let data = answer.data.clone().unwrap_or_default();
    match data.download_url.filter(|u| !u.trim().is_empty()) {
        Some(url) => Ok(CloudLink {
            url: url.trim().to_string(),
            file_name: data.file_name.filter(|n| !n.is_empty()),
        }),
        None => Err(Error::Decode {
            operation: "download_threat_from_cloud".into(),
            excerpt: crate::error::excerpt(
                serde_json::to_string(&answer)
                    .unwrap_or_default()
                    .as_bytes(),
            ),
            message: format!("no downloadUrl for threat {threat_id}"),
        }),
    }
}

/// Downloads the cloud copy of threat `threat_id`'s file to `dest` (never
/// replacing an existing file). The link leads to storage off the console,
/// so the API token is not sent there.
///
/// ```no_run
/// use sentinelone::files;
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let saved = files::download_threat_from_cloud(
///     client,
///     "1503989642042428880",
///     "evidence/threat-cloud.zip".as_ref(),
/// )
/// .await?;
/// println!("{} bytes", saved.bytes);
/// # Ok(())
/// # }
/// ```
pub async fn download_threat_from_cloud(
    client: &Client,
    threat_id: &str,
    dest: &Path,
) -> Result<Downloaded, Error> {
    validate::id("threat_id", threat_id)?;
    check_dest("dest", dest)?;
    let link = threat_cloud_link(client, threat_id).await?;
    download::link(client, &link.url, DOWNLOAD_CLOUD_FILE, dest, false).await
}

/// Extracts the zip `zip` into the directory `into` (created if missing),
/// decrypting with `password` (ZipCrypto or AES), within the default
/// [`ExtractLimits`]. Returns the files written.
///
/// Every entry is checked before anything is written: an absolute name, a
/// drive letter, a `..` component, a symbolic link, two entries of one name,
/// or a file that already exists in `into` refuses the whole archive with
/// [`Error::Archive`] naming the entry. Nothing is ever written through a
/// symbolic link, whether it was in `into` already or not. An archive that
/// unpacks to more than the limits allow is refused as it is decompressed.
/// The entries are decompressed into a hidden directory inside `into` and
/// moved into place only once all of them were read; any failure leaves
/// nothing behind.
///
/// ```no_run
/// use secrecy::SecretString;
/// use sentinelone::files;
///
/// # async fn demo() -> Result<(), sentinelone::Error> {
/// let password = SecretString::from("Str0ng!Passw0rd");
/// let written = files::extract("evidence/files.zip".as_ref(), &password, "evidence/files".as_ref()).await?;
/// println!("{} files", written.len());
/// # Ok(())
/// # }
/// ```
pub async fn extract(
    zip: &Path,
    password: &SecretString,
    into: &Path,
) -> Result<Vec<PathBuf>, Error> {
    extract_with(zip, password, into, ExtractLimits::default()).await
}

/// [`extract`] within `limits`.
///
/// ```no_run
/// use secrecy::SecretString;
/// use sentinelone::files::{self, ExtractLimits};
///
/// # async fn demo() -> Result<(), sentinelone::Error> {
/// let password = SecretString::from("Str0ng!Passw0rd");
/// let limits = ExtractLimits::default().max_total_bytes(2 << 30).max_entry_bytes(2 << 30);
/// let written =
///     files::extract_with("big.zip".as_ref(), &password, "big".as_ref(), limits).await?;
/// println!("{} files", written.len());
/// # Ok(())
/// # }
/// ```
pub async fn extract_with(
    zip: &Path,
    password: &SecretString,
    into: &Path,
    limits: ExtractLimits,
) -> Result<Vec<PathBuf>, Error> {
    unpack::extract(zip, password, into, limits).await
}

// ---------------------------------------------------------------------------
// The steps behind the composites.

/// Downloads `upload` to `options.dest` and extracts it when asked.
async fn save_upload(
    client: &Client,
    upload: Upload,
    password: &SecretString,
    options: &FetchOptions,
) -> Result<FetchedFiles, Error> {
    let archive = download_to(client, &upload, &options.dest, options.overwrite).await?;
    let extracted = match &options.extract_into {
        Some(dir) => extract_with(&archive.path, password, dir, options.extract_limits).await?,
        None => Vec::new(),
    };
    Ok(FetchedFiles {
        upload,
        archive,
        extracted,
    })
}

/// The agent's fetch requests and uploads logged after `since`, oldest
/// first.
async fn agent_activities(
    client: &Client,
    agent_id: &str,
    since: DateTime<Utc>,
) -> Result<Vec<Entry>, Error> {
    let page = client
        .list_activities()
        .agent_ids([agent_id])
        .activity_types([AGENT_UPLOAD_ACTIVITY, FETCH_REQUEST_ACTIVITY])
        .created_at_gt(since)
        .sort_by(types::ListActivitiesSortBy::CreatedAt)
        .sort_order(types::ListActivitiesSortOrder::Asc)
        .limit(PAGE)
        .call()
        .await?;
    Ok(page
        .data
        .unwrap_or_default()
        .into_iter()
        .map(Entry::from)
        .collect())
}

/// The upload answering `collection` (to `agent`, its checked agent id)
/// among `entries`, if there is one yet.
fn pick_agent_upload(
    entries: &[Entry],
    agent: &str,
    collection: &Collection,
    since: DateTime<Utc>,
) -> Option<Upload> {
    let ours =
        |e: &&Entry| e.agent_id.as_deref().is_none_or(|a| a == agent) && e.logged_after(since);
    let batch = collection
        .command_batch_uuid
        .as_deref()
        .map(|b| b.trim().to_string())
        .or_else(|| {
            entries
                .iter()
                .filter(ours)
                .filter(|e| e.activity_type == Some(FETCH_REQUEST_ACTIVITY))
                .filter_map(|e| Some((e.batch()?, e.created_at?)))
                .min_by_key(|(_, at)| (*at - collection.requested_at).abs())
                .map(|(batch, _)| batch.to_string())
        });
    first_upload(entries.iter().filter(ours).filter(|e| {
        e.activity_type == Some(AGENT_UPLOAD_ACTIVITY)
            && match (&batch, e.batch()) {
                (Some(wanted), Some(got)) => wanted == got,
                _ => true,
            }
    }))
}

/// Asks the console for the file of `threat_id`.
async fn request_threat_file(
    client: &Client,
    threat_id: &str,
    password: &SecretString,
) -> Result<(), Error> {
    let body = types::ThreatsFetchFileRequest {
        data: types::ThreatsFetchFileRequestData {
            password: password.expose_secret().to_string(),
        },
        filter: types::ThreatsFetchFileRequestFilter {
            ids: vec![threat_id.to_string()],
            ..Default::default()
        },
    };
    tracing::info!(threat_id = %threat_id, "asking for the threat's file");
    let answer = client.fetch_threat_file().body(body).call().await?;
    match answer.data.and_then(|d| d.affected) {
        Some(0) => Err(Error::JobFailed {
            job: format!("fetch-file for threat {threat_id}"),
            state: "affected 0".into(),
            detail: Some(format!(
                "the console matched no threat {threat_id} (unknown, or out of the token's scope)"
            )),
        }),
        _ => Ok(()),
    }
}

/// Waits for the upload of the file of `threat_id` requested at
/// `requested_at`.
async fn wait_for_threat_upload(
    client: &Client,
    threat_id: &str,
    requested_at: DateTime<Utc>,
    polling: Polling,
) -> Result<Upload, Error> {
    let since = earliest(requested_at);
    let mut poll = Poll::start(polling);
    loop {
        let waiting = || format!("the upload of the file of threat {threat_id}");
        let found = poll
            .within(waiting, find_threat_upload(client, threat_id, since))
            .await?;
        if let Some(upload) = found {
            tracing::info!(threat_id = %threat_id, activity_id = %upload.activity_id, "threat file uploaded");
            return Ok(upload);
        }
        tracing::debug!(threat_id = %threat_id, elapsed = ?poll.elapsed(), "no threat file upload yet");
        poll.pause(|| format!("the upload of the file of threat {threat_id}"))
            .await?;
    }
}

/// One check for the upload of the file of `threat_id`: the activity log
/// first, then the threat's timeline.
async fn find_threat_upload(
    client: &Client,
    threat_id: &str,
    since: DateTime<Utc>,
) -> Result<Option<Upload>, Error> {
    let page = client
        .list_activities()
        .threat_ids([threat_id])
        .activity_types([THREAT_UPLOAD_ACTIVITY])
        .created_at_gt(since)
        .sort_by(types::ListActivitiesSortBy::CreatedAt)
        .sort_order(types::ListActivitiesSortOrder::Asc)
        .limit(PAGE)
        .call()
        .await?;
    let activities: Vec<Entry> = page
        .data
        .unwrap_or_default()
        .into_iter()
        .map(Entry::from)
        .collect();
    let found = first_upload(activities.iter().filter(|e| {
        e.activity_type == Some(THREAT_UPLOAD_ACTIVITY)
            && e.threat_id.as_deref().is_none_or(|t| t == threat_id)
            && e.logged_after(since)
    }));
    if found.is_some() {
        return Ok(found);
    }
    let timeline = client
        .get_threat_timeline()
        .threat_id(threat_id)
        .sort_by(types::GetThreatTimelineSortBy::CreatedAt)
        .sort_order(types::GetThreatTimelineSortOrder::Desc)
        .limit(PAGE)
        .call()
        .await?;
    let entries: Vec<Entry> = timeline
        .data
        .unwrap_or_default()
        .into_iter()
        .map(Entry::from)
        .collect();
    // The timeline has no time filter: only entries known to be newer count.
    Ok(first_upload(entries.iter().filter(|e| {
        e.text("downloadUrl").is_some() && e.created_at.is_some_and(|t| t > since)
    })))
}

/// The oldest of `entries` that can be downloaded.
fn first_upload<'a>(entries: impl Iterator<Item = &'a Entry>) -> Option<Upload> {
    let mut entries: Vec<&Entry> = entries.collect();
    entries.sort_by_key(|e| e.created_at);
    entries.into_iter().find_map(Entry::upload)
}

// ---------------------------------------------------------------------------
// Activities, as far as this module reads them.

/// An activity or threat timeline entry.
#[derive(Debug, Clone)]
struct Entry {
    id: Option<String>,
    activity_type: Option<i64>,
    agent_id: Option<String>,
    threat_id: Option<String>,
    created_at: Option<DateTime<Utc>>,
    data: Map<String, Value>,
}

impl From<types::ActivityViewListResponseDataItem> for Entry {
    fn from(a: types::ActivityViewListResponseDataItem) -> Self {
        Entry {
            created_at: a.created_at.as_deref().and_then(parse_time),
            id: a.id,
            activity_type: a.activity_type,
            agent_id: a.agent_id,
            threat_id: a.threat_id,
            data: a.data.unwrap_or_default(),
        }
    }
}

impl From<types::TimelineViewListResponseDataItem> for Entry {
    fn from(a: types::TimelineViewListResponseDataItem) -> Self {
        Entry {
            created_at: a.created_at.as_deref().and_then(parse_time),
            id: a.id,
            activity_type: a.activity_type,
            agent_id: a.agent_id,
            threat_id: a.threat_id,
            data: a.data.unwrap_or_default(),
        }
    }
}

impl Entry {
    /// A non-blank text field of `data`.
    fn text(&self, key: &str) -> Option<&str> {
        self.data
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn batch(&self) -> Option<&str> {
        self.text("commandBatchUuid")
    }

    /// Logged after `since`; an entry without a readable time is trusted to
    /// the console's own `createdAt__gt` filter.
    fn logged_after(&self, since: DateTime<Utc>) -> bool {
        self.created_at.is_none_or(|t| t > since)
    }

    /// The upload this entry announces: its own download link, or the
    /// agent's upload path built from the ids.
    fn upload(&self) -> Option<Upload> {
        let activity_id = self.id.as_deref().and_then(digits)?.to_string();
        let agent_id = self
            .agent_id
            .as_deref()
            .and_then(digits)
            .map(str::to_string);
        let download_path = match self.text("downloadUrl") {
            Some(url) => console_path(url),
            None => agent_upload_path(agent_id.as_deref()?, &activity_id),
        };
        let file_name = ["uploadedFilename", "fileName", "filename"]
            .iter()
            .find_map(|k| self.text(k))
            .map(str::to_string);
        Some(Upload {
            agent_id,
            activity_id,
            download_path,
            file_name,
            command_batch_uuid: self.batch().map(str::to_string),
            created_at: self.created_at,
            data: self.data.clone(),
        })
    }
}

/// `value` when it is a SentinelOne id.
fn digits(value: &str) -> Option<&str> {
    let v = value.trim();
    (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())).then_some(v)
}

/// A console time: RFC 3339, or without an offset (then UTC).
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// `at` less [`CLOCK_SKEW`], in whole seconds.
fn earliest(at: DateTime<Utc>) -> DateTime<Utc> {
    let skew = TimeDelta::seconds(CLOCK_SKEW.as_secs() as i64);
    let t = at - skew;
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// Where an agent's upload is downloaded from.
fn agent_upload_path(agent_id: &str, activity_id: &str) -> String {
    format!("{API_PREFIX}/agents/{agent_id}/uploads/{activity_id}")
}

/// A download link as activities give it (`/agents/1/uploads/2`, with or
/// without the API prefix, or a full URL), as [`download::link`] takes it.
fn console_path(url: &str) -> String {
    let url = url.trim();
    if url.starts_with("https://") || url.starts_with("http://") {
        return url.to_string();
    }
    let rest = url.trim_start_matches('/');
    if rest.starts_with("web/api/") {
        format!("/{rest}")
    } else {
        format!("{API_PREFIX}/{rest}")
    }
}

/// `dest` can be a downloaded file: it names a file, not a directory.
fn check_dest(name: &str, dest: &Path) -> Result<(), Error> {
    if dest.as_os_str().is_empty() || dest.file_name().is_none() {
        return Err(Error::invalid(format!(
            "{name} {} is not a file path",
            dest.display()
        )));
    }
    if dest.is_dir() {
        return Err(Error::invalid(format!(
            "{name} {} is a directory",
            dest.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_links_become_console_paths() {
        assert_eq!(
            console_path("/agents/1/uploads/2"),
            "/web/api/v2.1/agents/1/uploads/2"
        );
        assert_eq!(
            console_path("agents/1/uploads/2"),
            "/web/api/v2.1/agents/1/uploads/2"
        );
        assert_eq!(
            console_path("/web/api/v2.1/agents/1/uploads/2"),
            "/web/api/v2.1/agents/1/uploads/2"
        );
        assert_eq!(
            console_path(" https://files.example/x?sig=1 "),
            "https://files.example/x?sig=1"
        );
    }

    #[test]
    fn console_times() {
        let t = parse_time("2022-11-14T20:10:56.882863Z").unwrap();
        assert_eq!(t.timestamp(), 1_668_456_656);
        assert_eq!(parse_time("2022-11-14T20:10:56.882863"), Some(t));
        assert_eq!(parse_time("2022-11-14T21:10:56.882863+01:00"), Some(t));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn the_window_starts_before_the_request() {
        let at = parse_time("2024-05-01T10:00:10.750Z").unwrap();
        assert_eq!(
            Collection::new("1", at).since(),
            parse_time("2024-05-01T09:59:40Z").unwrap()
        );
    }

    #[test]
    fn cloud_links_hide_their_signature() {
        let link = CloudLink {
            url: "https://store.example/f?X-Amz-Signature=abc".into(),
            file_name: None,
        };
        let shown = format!("{link:?}");
        assert!(shown.contains("https://store.example/f?[redacted]"));
        assert!(!shown.contains("abc"));
    }
}
