//! Files from endpoints, in one call each: the D3 SOAR "Collect Files",
//! "Download Files", "Fetch Files", "Fetch Threat File", "Download Threat
//! Files" behaviours.
//!
//! Getting a file off an endpoint takes three steps on the console: ask the
//! agent for it (the console answers at once), wait until the agent has
//! uploaded the password-protected zip (an activity appears), then download
//! that zip. [`Files::fetch`] does all three for files named by path,
//! [`Files::fetch_threat_file`] for the file of a threat; [`Files::collect`],
//! [`Files::wait_for_upload`] and [`Files::download`] are the steps on their own, for
//! callers who ask now and download later. [`extract`] opens a downloaded
//! archive safely; [`Files::download_threat_from_cloud`] fetches the copy of a
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
use tracing::Instrument;

use crate::poll::Poll;
use crate::prelude::*;
use crate::raw::{Decoded, types};
use crate::steps;
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

mod activity;
mod agent;
mod options;
mod threat;

use activity::*;
use agent::*;
pub use options::*;
pub use threat::*;

/// Files from endpoints, reached from the client with [`Client::files`].
///
/// ```no_run
/// # fn demo(client: &sentinelone::Client) {
/// let files = client.files();
/// # let _ = files;
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Files<'c> {
    client: &'c Client,
}

impl Client {
    /// Files from endpoints: collect, wait, download, fetch; threat files and their cloud copies.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let link = client.files().threat_cloud_link("1503989642042428880").await?;
    /// # drop(link);
    /// # Ok(())
    /// # }
    /// ```
    pub fn files(&self) -> Files<'_> {
        Files { client: self }
    }
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

/// `value` when it is a SentinelOne id.
pub(super) fn digits(value: &str) -> Option<&str> {
    let v = value.trim();
    (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())).then_some(v)
}

/// A console time: RFC 3339, or without an offset (then UTC).
pub(super) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
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
pub(super) fn earliest(at: DateTime<Utc>) -> DateTime<Utc> {
    let skew = TimeDelta::seconds(CLOCK_SKEW.as_secs() as i64);
    let t = at.checked_sub_signed(skew).unwrap_or(at);
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// Where an agent's upload is downloaded from.
pub(super) fn agent_upload_path(agent_id: &str, activity_id: &str) -> String {
    format!("{API_PREFIX}/agents/{agent_id}/uploads/{activity_id}")
}

/// A download link as activities give it (`/agents/1/uploads/2`, with or
/// without the API prefix, or a full URL), as [`download::link`] takes it.
pub(super) fn console_path(url: &str) -> String {
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
pub(super) fn check_dest(name: &str, dest: &Path) -> Result<(), Error> {
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
