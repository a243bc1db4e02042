//! Downloads streamed to disk atomically: the body goes chunk by chunk to a
//! temporary file beside the destination, which is renamed into place only
//! once complete. On any failure, or if the future is dropped, the temporary
//! file is removed and the destination is untouched. An existing destination
//! is replaced only when the caller asks for it.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::{Client, Error};

/// Progress of one download, reported to [`crate::ClientBuilder::on_download`]
/// after every chunk written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadProgress {
    /// The operation downloading.
    pub operation: String,
    /// The destination file.
    pub path: PathBuf,
    /// Bytes written so far.
    pub received: u64,
    /// The size announced by the server, when it announced one.
    pub total: Option<u64>,
    /// True on the last report, once the file is in place.
    pub done: bool,
}

/// A callback told about download progress.
pub type DownloadListener = std::sync::Arc<dyn Fn(&DownloadProgress) + Send + Sync>;

/// A file a composite command wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Downloads `path` of the console (below the console URL, e.g.
/// [`crate::API_PREFIX`]`/agents/1/uploads/2`) through the transport, to `dest`.
pub(crate) async fn console_file(
    client: &Client,
    path: &str,
    operation: &'static str,
    dest: &Path,
    overwrite: bool,
) -> Result<Downloaded, Error> {
    // Sent as a file answer: not capped, and under the download timeout.
    let request = client
        .request(reqwest::Method::GET, path)
        .build()
        .map_err(|e| Error::invalid(format!("{operation}: {e}")))?;
    let response = client.execute_file(request, operation).await?;
    save(client, response, operation, dest, overwrite).await
}

/// Downloads a link the console handed out. A link on the console itself
/// goes through the transport (with the token); any other host gets a plain
/// request without the token. `dest` is replaced only when `overwrite`.
pub(crate) async fn link(
    client: &Client,
    url: &str,
    operation: &'static str,
    dest: &Path,
    overwrite: bool,
) -> Result<Downloaded, Error> {
    if url.starts_with('/') {
        return console_file(client, url, operation, dest, overwrite).await;
    }
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::invalid(format!("{operation}: download link is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(Error::invalid(format!(
            "{operation}: download link has scheme {:?}; only http(s) is followed",
            parsed.scheme()
        )));
    }
    let origin = parsed.origin().ascii_serialization();
    if origin == client.console_url() {
        let mut path = parsed.path().to_string();
        if let Some(q) = parsed.query() {
            path.push('?');
            path.push_str(q);
        }
        return console_file(client, &path, operation, dest, overwrite).await;
    }
    let response = client
        .link_client()
        .get(parsed)
        .timeout(client.download_timeout())
        .send()
        .await
        .map_err(|e| Error::transport(operation, e))?;
    if !response.status().is_success() {
        let status = response.status().as_u16();
        let url = response.url();
        return Err(crate::error::answered(
            operation,
            status,
            response.headers(),
            Some(url),
            Vec::new(),
        ));
    }
    save(client, response, operation, dest, overwrite).await
}

/// Saving file answers to disk, reached from the client with
/// [`Client::downloads`].
#[derive(Debug, Clone, Copy)]
pub struct Downloads<'c> {
    client: &'c Client,
}

impl Client {
    /// Saving file answers to disk the way the composite commands do.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let request = client.request(reqwest::Method::GET, "/web/api/v2.1/agents/export").build().expect("a request");
    /// let response = client.execute(request, "export_agents").await?;
    /// client.downloads().save(response, "export_agents", "agents.csv".as_ref(), false).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn downloads(&self) -> Downloads<'_> {
        Downloads { client: self }
    }
}

impl<'c> Downloads<'c> {
    /// Streams the body of a file answer to `dest` the way the composite
    /// commands do: chunk by chunk into a temporary file beside `dest`
    /// (its directory is created if missing), moved into place once
    /// complete and removed on any failure. An existing `dest` is replaced
    /// only when `overwrite`; otherwise the answer fails with [`Error::Io`]
    /// naming it (and the body is not read). Progress goes to
    /// [`crate::ClientBuilder::on_download`]; `operation` names the download
    /// there and in errors. For a response from [`Client::execute`] or a
    /// generated operation's raw response.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let request = client
    ///     .request(reqwest::Method::GET, &format!("{}/agents/export", sentinelone::API_PREFIX))
    ///     .build()
    ///     .expect("a valid request");
    /// let response = client.execute(request, "export_agents").await?;
    /// let saved = client
    ///     .downloads()
    ///     .save(response, "export_agents", "agents.csv".as_ref(), false)
    ///     .await?;
    /// println!("{} bytes", saved.bytes);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn save(
        self,
        response: reqwest::Response,
        operation: &str,
        dest: &Path,
        overwrite: bool,
    ) -> Result<Downloaded, Error> {
        save(self.client, response, operation, dest, overwrite).await
    }
}

/// Streams `response`'s body to `dest` with [`save_stream`].
pub(crate) async fn save(
    client: &Client,
    response: reqwest::Response,
    operation: &str,
    dest: &Path,
    overwrite: bool,
) -> Result<Downloaded, Error> {
    let total = response.content_length();
    save_stream(
        client,
        response.bytes_stream(),
        total,
        operation,
        dest,
        overwrite,
    )
    .await
}

/// Streams `body` (`total` bytes, when announced) to `dest` through a
/// temporary file in the same directory (created if missing), then moves it
/// into place: replacing an existing `dest` only when `overwrite`.
pub(crate) async fn save_stream(
    client: &Client,
    body: impl Stream<Item = reqwest::Result<Bytes>>,
    total: Option<u64>,
    operation: &str,
    dest: &Path,
    overwrite: bool,
) -> Result<Downloaded, Error> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if dest.file_name().is_none() {
        return Err(Error::invalid(format!(
            "{operation}: destination {} is not a file path",
            dest.display()
        )));
    }
    if !overwrite {
        refuse_existing(dest)?;
    }
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| Error::io(&dir, e))?;
    let temp = tempfile::Builder::new()
        .prefix(".s1-download-")
        .suffix(".part")
        .tempfile_in(&dir)
        .map_err(|e| Error::io(&dir, e))?;
    let writer = temp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io(temp.path(), e))?;
    let mut file = tokio::fs::File::from_std(writer);
    let mut progress = DownloadProgress {
        operation: operation.to_string(),
        path: dest.to_path_buf(),
        received: 0,
        total,
        done: false,
    };
    let listener = client.download_listener();
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Error::transport(operation, e))?;
        file.write_all(&chunk)
            .await
            .map_err(|e| Error::io(temp.path(), e))?;
        progress.received += chunk.len() as u64;
        if let Some(listener) = listener {
            listener(&progress);
        }
    }
    file.flush().await.map_err(|e| Error::io(temp.path(), e))?;
    file.sync_all()
        .await
        .map_err(|e| Error::io(temp.path(), e))?;
    drop(file);
    let placed = if overwrite {
        temp.persist(dest)
    } else {
        temp.persist_noclobber(dest)
    };
    placed.map_err(|e| match e.error.kind() {
        std::io::ErrorKind::AlreadyExists => exists(dest),
        _ => Error::io(dest, e.error),
    })?;
    progress.done = true;
    if let Some(listener) = listener {
        listener(&progress);
    }
    Ok(Downloaded {
        path: dest.to_path_buf(),
        bytes: progress.received,
    })
}

/// Fails with [`exists`] when something (a link included) is at `dest`.
pub(crate) fn refuse_existing(dest: &Path) -> Result<(), Error> {
    match std::fs::symlink_metadata(dest) {
        Ok(_) => Err(exists(dest)),
        Err(_) => Ok(()),
    }
}

/// The refusal to replace `dest`.
fn exists(dest: &Path) -> Error {
    Error::io(
        dest,
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "already exists; not replaced (ask for overwrite to replace it)",
        ),
    )
}
