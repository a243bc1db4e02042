//! Files from an agent by path: ask for them, wait for the upload, download it (and extract it).

use super::*;

impl<'c> Files<'c> {
    /// Asks agent `agent_id` to upload the files of `request` (D3 "Collect
    /// Files"). Returns at once; the upload comes later (see
    /// [`Files::wait_for_upload`]).
    ///
    /// ```no_run
    /// use sentinelone::files::FetchRequest;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let request = FetchRequest::new(["/tmp/payload.sh"], "Str0ng!Passw0rd");
    /// let collection = client.files().collect("1234567890", &request).await?;
    /// println!("asked at {}", collection.requested_at);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn collect(
        self,
        agent_id: &str,
        request: &FetchRequest,
    ) -> Result<Collection, Error> {
        collect(self.client, agent_id, request).await
    }

    /// Waits until the agent of `collection` has uploaded the archive, checking
    /// the activity log as `polling` says. Fails with [`Error::WaitTimeout`] once
    /// the time limit has passed (the agent may be offline).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use sentinelone::Polling;
    /// use sentinelone::files::Collection;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let asked = chrono::Utc::now() - chrono::TimeDelta::minutes(5);
    /// let collection = Collection::new("1234567890", asked);
    /// let polling = Polling::default().timeout(Duration::from_secs(120));
    /// let upload = client.files().wait_for_upload(&collection, polling).await?;
    /// println!("uploaded as activity {}", upload.activity_id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_upload(
        self,
        collection: &Collection,
        polling: Polling,
    ) -> Result<AgentUpload, Error> {
        wait_for_upload(self.client, collection, polling).await
    }

    /// Downloads `upload` to the file `dest` (D3 "Download Files"), streamed and
    /// atomic: `dest` appears only once complete; on failure nothing is left.
    /// An existing `dest` is never replaced ([`Error::Io`] naming it); [`Files::fetch`]
    /// with [`FetchOptions::overwrite`] replaces it.
    ///
    /// ```no_run
    /// use sentinelone::files::AgentUpload;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let upload = AgentUpload::new("1234567890", "9876543210")?;
    /// let saved = client.files().download(&upload, "evidence/files.zip".as_ref()).await?;
    /// println!("{} bytes in {}", saved.bytes, saved.path.display());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download(self, upload: &AgentUpload, dest: &Path) -> Result<Downloaded, Error> {
        download(self.client, upload, dest).await
    }

    /// Fetches files from agent `agent_id` (D3 "Fetch Files"): asks for them,
    /// waits for the upload, downloads the archive to `options.dest` and, when
    /// asked, extracts it with the request's password.
    ///
    /// ```no_run
    /// use sentinelone::files::{FetchOptions, FetchRequest};
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let request = FetchRequest::new(["C:\\Users\\Public\\dropper.exe"], "Str0ng!Passw0rd");
    /// let options = FetchOptions::new("evidence/dropper.zip").extract_into("evidence/dropper");
    /// let fetched = client.files().fetch("1234567890", &request, &options).await?;
    /// for path in &fetched.extracted {
    ///     println!("{}", path.display());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn fetch(
        self,
        agent_id: &str,
        request: &FetchRequest,
        options: &FetchOptions,
    ) -> Result<FetchedFiles, Error> {
        fetch(self.client, agent_id, request, options).await
    }
}

/// The body of [`Files::collect`].
pub(super) async fn collect(
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
    // An answer that echoes the password must not show it in an error.
    let _redacted = crate::redact::register(request.password.expose_secret());
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

/// The body of [`Files::wait_for_upload`].
pub(super) async fn wait_for_upload(
    client: &Client,
    collection: &Collection,
    polling: Polling,
) -> Result<AgentUpload, Error> {
    let agent_id = validate::id("agent_id", &collection.agent_id)?;
    if let Some(uuid) = &collection.command_batch_uuid {
        validate::required("command_batch_uuid", uuid)?;
    }
    let since = collection.since();
    let mut poll = Poll::start(polling)?;
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
        poll.pause(waiting).await?;
    }
}

/// The body of [`Files::download`].
pub(super) async fn download(
    client: &Client,
    upload: &AgentUpload,
    dest: &Path,
) -> Result<Downloaded, Error> {
    download_to(client, upload, dest, false).await
}

/// [`Files::download`], replacing an existing `dest` when `overwrite`.
pub(super) async fn download_to(
    client: &Client,
    upload: &AgentUpload,
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

/// The body of [`Files::fetch`].
pub(super) async fn fetch(
    client: &Client,
    agent_id: &str,
    request: &FetchRequest,
    options: &FetchOptions,
) -> Result<FetchedFiles, Error> {
    validate::id("agent_id", agent_id)?;
    request.checked()?;
    options.check()?;
    async {
        let collection = steps::step("act", collect(client, agent_id, request)).await?;
        let upload = steps::step(
            "poll",
            wait_for_upload(client, &collection, options.polling),
        )
        .await?;
        steps::step(
            "download",
            save_upload(client, upload, &request.password, options),
        )
        .await
    }
    .instrument(steps::composite("files.fetch"))
    .await
}

/// Downloads `upload` to `options.dest` and extracts it when asked.
pub(super) async fn save_upload(
    client: &Client,
    upload: AgentUpload,
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
pub(super) async fn agent_activities(
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
pub(super) fn pick_agent_upload(
    entries: &[Entry],
    agent: &str,
    collection: &Collection,
    since: DateTime<Utc>,
) -> Option<AgentUpload> {
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
