//! What to fetch and how: the request, the collection it started, the agent's upload, the download options and the result.

use super::*;

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
    pub(super) paths: Vec<String>,
    pub(super) password: SecretString,
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

    /// Up to [`MAX_FILES`] absolute paths, with a fresh archive password
    /// from the operating system's secure random source (read it back with
    /// [`FetchRequest::password`] to open the archive).
    ///
    /// ```
    /// use secrecy::ExposeSecret;
    /// use sentinelone::files::FetchRequest;
    ///
    /// let a = FetchRequest::with_random_password(["/tmp/x"]).unwrap();
    /// let b = FetchRequest::with_random_password(["/tmp/x"]).unwrap();
    /// assert_ne!(a.password().expose_secret(), b.password().expose_secret());
    /// assert!(a.password().expose_secret().len() >= 20);
    /// ```
    pub fn with_random_password<I, S>(paths: I) -> std::io::Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Ok(FetchRequest::new(paths, random_password()?))
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
    pub(super) fn checked(&self) -> Result<Vec<String>, Error> {
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

/// A fetch-files request the console accepted: what [`Files::wait_for_upload`]
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

/// An archive an agent uploaded to the console, ready for [`Files::download`].
#[derive(Debug, Clone, PartialEq)]
pub struct AgentUpload {
    /// The agent that uploaded it, when known.
    pub agent_id: Option<String>,
    /// The upload activity's id.
    pub activity_id: String,
    /// Where to download it: a path on the console
    /// (`/web/api/v2.1/agents/{agent}/uploads/{activity}`) or a full URL.
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

impl AgentUpload {
    /// The agent whose upload this is, when it is downloaded from that
    /// agent's upload path (the `download_agent_upload` operation) rather
    /// than from a link of its own.
    pub(super) fn agent_upload(&self) -> Option<&str> {
        let agent_id = self.agent_id.as_deref()?;
        (self.download_path == agent_upload_path(agent_id, &self.activity_id)).then_some(agent_id)
    }

    /// The upload logged as activity `activity_id` of agent `agent_id` (for
    /// downloading an upload found elsewhere, e.g. in the activity log).
    pub fn new(agent_id: &str, activity_id: &str) -> Result<Self, Error> {
        let agent_id = validate::id("agent_id", agent_id)?;
        let activity_id = validate::id("activity_id", activity_id)?;
        Ok(AgentUpload {
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

/// Where [`Files::fetch`] and [`Files::fetch_threat_file`] put the archive, whether they
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

    pub(super) fn check(&self) -> Result<(), Error> {
        check_dest("dest", &self.dest)?;
        self.polling.check()?;
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

/// What [`Files::fetch`] and [`Files::fetch_threat_file`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedFiles {
    /// The upload that was downloaded.
    pub upload: AgentUpload,
    /// The archive on disk.
    pub archive: Downloaded,
    /// The files extracted from it (empty unless extraction was asked for).
    pub extracted: Vec<PathBuf>,
}

/// A password the console accepts (upper and lower case letters, digits,
/// symbols), with 119 bits from the operating system's secure random
/// source: 20 characters out of 62, drawn without bias.
pub fn random_password() -> std::io::Result<SecretString> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut random = String::with_capacity(20);
    while random.len() < 20 {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        // 248 = 4 * 62: bytes above it would favour the first letters.
        random.extend(
            bytes
                .iter()
                .filter(|b| **b < 248)
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                .take(20 - random.len()),
        );
    }
    Ok(SecretString::from(format!("S1-{random}-a9!")))
}
