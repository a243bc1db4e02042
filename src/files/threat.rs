//! A threat's file: fetched from its agent, or the copy in the console's cloud storage.

use super::*;

impl<'c> Files<'c> {
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
    /// use sentinelone::files::FetchOptions;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let password = SecretString::from("Str0ng!Passw0rd");
    /// let options = FetchOptions::new("evidence/threat.zip");
    /// let fetched = client.files().fetch_threat_file("1503989642042428880", &password, &options).await?;
    /// println!("{} bytes", fetched.archive.bytes);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn fetch_threat_file(
        self,
        threat_id: &str,
        password: &SecretString,
        options: &FetchOptions,
    ) -> Result<FetchedFiles, Error> {
        fetch_threat_file(self.client, threat_id, password, options).await
    }

    /// The console's link to the cloud copy of threat `threat_id`'s file.
    ///
    /// ```no_run
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let link = client.files().threat_cloud_link("1503989642042428880").await?;
    /// println!("{:?}", link.file_name);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn threat_cloud_link(self, threat_id: &str) -> Result<CloudLink, Error> {
        threat_cloud_link(self.client, threat_id).await
    }

    /// Downloads the cloud copy of threat `threat_id`'s file to `dest` (never
    /// replacing an existing file). The link leads to storage off the console,
    /// so the API token is not sent there.
    ///
    /// ```no_run
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let saved = client.files().download_threat_from_cloud(
    ///     "1503989642042428880",
    ///     "evidence/threat-cloud.zip".as_ref(),
    /// )
    /// .await?;
    /// println!("{} bytes", saved.bytes);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download_threat_from_cloud(
        self,
        threat_id: &str,
        dest: &Path,
    ) -> Result<Downloaded, Error> {
        download_threat_from_cloud(self.client, threat_id, dest).await
    }
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

/// The body of [`Files::fetch_threat_file`].
pub(super) async fn fetch_threat_file(
    client: &Client,
    threat_id: &str,
    password: &SecretString,
    options: &FetchOptions,
) -> Result<FetchedFiles, Error> {
    let threat_id = validate::id("threat_id", threat_id)?;
    validate::archive_password("password", password)?;
    options.check()?;
    let requested_at = Utc::now();
    async {
        steps::step("act", request_threat_file(client, &threat_id, password)).await?;
        let upload = steps::step(
            "poll",
            wait_for_threat_upload(client, &threat_id, requested_at, options.polling),
        )
        .await?;
        steps::step("download", save_upload(client, upload, password, options)).await
    }
    .instrument(steps::composite("files.fetch_threat_file"))
    .await
}

/// The body of [`Files::threat_cloud_link`].
pub(super) async fn threat_cloud_link(
    client: &Client,
    threat_id: &str,
) -> Result<CloudLink, Error> {
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
        None => Err(Error::decode(
            "download_threat_from_cloud",
            serde_json::to_string(&answer)
                .unwrap_or_default()
                .as_bytes(),
            format!("no downloadUrl for threat {threat_id}"),
        )),
    }
}

/// The body of [`Files::download_threat_from_cloud`].
pub(super) async fn download_threat_from_cloud(
    client: &Client,
    threat_id: &str,
    dest: &Path,
) -> Result<Downloaded, Error> {
    validate::id("threat_id", threat_id)?;
    check_dest("dest", dest)?;
    let link = threat_cloud_link(client, threat_id).await?;
    download::link(client, &link.url, DOWNLOAD_CLOUD_FILE, dest, false).await
}

/// Asks the console for the file of `threat_id`.
pub(super) async fn request_threat_file(
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
    // An answer that echoes the password must not show it in an error.
    let _redacted = crate::redact::register(password.expose_secret());
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
pub(super) async fn wait_for_threat_upload(
    client: &Client,
    threat_id: &str,
    requested_at: DateTime<Utc>,
    polling: Polling,
) -> Result<AgentUpload, Error> {
    let since = earliest(requested_at);
    let mut poll = Poll::start(polling)?;
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
        poll.pause(waiting).await?;
    }
}

/// One check for the upload of the file of `threat_id`: the activity log
/// first, then the threat's timeline.
pub(super) async fn find_threat_upload(
    client: &Client,
    threat_id: &str,
    since: DateTime<Utc>,
) -> Result<Option<AgentUpload>, Error> {
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
