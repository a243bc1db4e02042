//! Console profiles: named consoles in one TOML file, for running the same
//! work against many of them (an MSSP's tenants, a team's regions).
//!
//! The file is `$S1_CONFIG` when set, else
//! `$XDG_CONFIG_HOME/s1/profiles.toml`, else
//! `$HOME/.config/s1/profiles.toml` ([`Profiles::default_path`]):
//!
//! ```toml
//! [profiles.acme]
//! console_url = "https://acme.sentinelone.net"
//! token_env = "ACME_S1_TOKEN"          # the token from this environment variable
//! # token_file = "acme.token"          # or a file only its owner can read (0600)
//! # token = "..."                      # or inline, only when this file is 0600
//! proxy = "https://proxy.corp.example:3128"  # optional
//! ca_file = "/etc/ssl/corp-root.pem"         # optional extra root certificate (PEM)
//! redis_url = "redis://127.0.0.1:6379/0"     # optional
//! ```
//!
//! Each profile has exactly one token source. A token file, or a profile
//! file holding an inline token, that its group or others can read is
//! refused. Relative `token_file` and `ca_file` paths are relative to the
//! profile file's directory. A console URL is `https://`, or `http://` on a
//! loopback host only (a stand-in console on this machine). Unknown keys are errors, and every error names
//! the file, the line and the key
//! (`~/.config/s1/profiles.toml line 3: profiles.acme.console_url: ...`);
//! none ever holds a token.
//!
//! ```no_run
//! use sentinelone::profile::Profiles;
//!
//! # fn demo() -> Result<(), sentinelone::Error> {
//! let profiles = Profiles::load_default()?;
//! for name in profiles.names() {
//!     let client = profiles.get(name)?.client_builder()?.build()?;
//!     println!("{name}: {}", client.console_url());
//! }
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::client::{parse_console_url, root_certificates};
use crate::quota_store::QuotaStore;
use crate::{Client, ClientBuilder, Error};

/// The environment variable naming the profile file.
///
/// ```
/// assert_eq!(sentinelone::profile::ENV_CONFIG, "S1_CONFIG");
/// ```
pub const ENV_CONFIG: &str = "S1_CONFIG";

/// The most bytes a profile file, a token file or a CA file may hold.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The profiles of one file, by name.
///
/// ```no_run
/// use sentinelone::profile::Profiles;
///
/// # fn demo() -> Result<(), sentinelone::Error> {
/// let profiles = Profiles::load("/etc/s1/profiles.toml")?;
/// let acme = profiles.get("acme")?;
/// assert_eq!(acme.name(), "acme");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Profiles {
    path: PathBuf,
    profiles: BTreeMap<String, Profile>,
}

impl Profiles {
    /// Reads and checks the profile file at `path`. Token sources are only
    /// checked for their shape here: environment variables and token files
    /// are read by [`Profile::client_builder`]. An inline `token` is
    /// refused unless the file is private to its owner (mode 0600 or
    /// stricter).
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// let mut file = tempfile::NamedTempFile::new().unwrap();
    /// writeln!(file, "[profiles.acme]").unwrap();
    /// writeln!(file, "console_url = \"https://acme.sentinelone.net\"").unwrap();
    /// writeln!(file, "token_env = \"ACME_S1_TOKEN\"").unwrap();
    /// let profiles = sentinelone::profile::Profiles::load(file.path()).unwrap();
    /// assert_eq!(profiles.names().collect::<Vec<_>>(), ["acme"]);
    ///
    /// writeln!(file, "colour = \"blue\"").unwrap();
    /// let error = sentinelone::profile::Profiles::load(file.path()).unwrap_err();
    /// assert!(error.to_string().contains("line 4: profiles.acme.colour: unknown field"));
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Profiles, Error> {
        let path = path.as_ref();
        let file: Arc<str> = shown(path).into();
        let (mut text, mode) = read_file(path)
            .map_err(|e| Error::invalid(format!("{file}: cannot read the profile file: {e}")))?;
        let parsed = parse(&text, path, &file, mode);
        text.zeroize();
        Ok(Profiles {
            path: path.to_path_buf(),
            profiles: parsed?,
        })
    }

    /// Reads the profile file at [`Profiles::default_path`].
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), sentinelone::Error> {
    /// let profiles = sentinelone::profile::Profiles::load_default()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn load_default() -> Result<Profiles, Error> {
        Profiles::load(Profiles::default_path()?)
    }

    /// Where the profile file is looked for: `$S1_CONFIG` when set, else
    /// `$XDG_CONFIG_HOME/s1/profiles.toml` (an absolute `XDG_CONFIG_HOME`),
    /// else `$HOME/.config/s1/profiles.toml`.
    ///
    /// ```no_run
    /// let path = sentinelone::profile::Profiles::default_path().unwrap();
    /// assert!(path.ends_with("profiles.toml") || std::env::var_os("S1_CONFIG").is_some());
    /// ```
    pub fn default_path() -> Result<PathBuf, Error> {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(path) = var(ENV_CONFIG) {
            return Ok(PathBuf::from(path));
        }
        let config_home = var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
            .or_else(|| var("HOME").map(|home| Path::new(&home).join(".config")))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "no profile file: set {ENV_CONFIG}, XDG_CONFIG_HOME or HOME"
                ))
            })?;
        Ok(config_home.join("s1").join("profiles.toml"))
    }

    /// The file the profiles were read from.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), sentinelone::Error> {
    /// let profiles = sentinelone::profile::Profiles::load("profiles.toml")?;
    /// assert_eq!(profiles.path(), std::path::Path::new("profiles.toml"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The names of the profiles, sorted.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), sentinelone::Error> {
    /// let profiles = sentinelone::profile::Profiles::load_default()?;
    /// let names: Vec<&str> = profiles.names().collect();
    /// # Ok(())
    /// # }
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.profiles.keys().map(String::as_str)
    }

    /// The profile called `name`; an error listing the profiles there are
    /// when there is none.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), sentinelone::Error> {
    /// let profiles = sentinelone::profile::Profiles::load_default()?;
    /// let acme = profiles.get("acme")?;
    /// println!("{}", acme.console_url());
    /// # Ok(())
    /// # }
    /// ```
    pub fn get(&self, name: &str) -> Result<&Profile, Error> {
        self.profiles.get(name).ok_or_else(|| {
            let file = shown(&self.path);
            let known = self.names().collect::<Vec<_>>();
            Error::invalid(if known.is_empty() {
                format!("no profile {name:?}: {file} has no profiles")
            } else {
                format!(
                    "no profile {name:?} in {file}; its profiles are: {}",
                    known.join(", ")
                )
            })
        })
    }
}

/// Where a profile's API token comes from. Its `Debug` never shows an
/// inline token.
///
/// ```
/// use sentinelone::profile::TokenSource;
///
/// let source = TokenSource::Inline("secret-token".to_string().into());
/// assert!(!format!("{source:?}").contains("secret-token"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TokenSource {
    /// The environment variable holding the token (`token_env`).
    Env(String),
    /// A file holding the token, readable by its owner only (`token_file`).
    File(PathBuf),
    /// The token itself, in the profile file (`token`).
    Inline(SecretString),
}

impl TokenSource {
    /// The profile key this source is given with.
    fn key(&self) -> &'static str {
        match self {
            TokenSource::Env(_) => "token_env",
            TokenSource::File(_) => "token_file",
            TokenSource::Inline(_) => "token",
        }
    }
}

/// One console: its URL, where its token comes from, how to reach it.
///
/// ```no_run
/// # fn demo() -> Result<(), sentinelone::Error> {
/// let profiles = sentinelone::profile::Profiles::load_default()?;
/// let acme = profiles.get("acme")?;
/// let client = acme.client_builder()?.build()?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Profile {
    name: String,
    /// The profile file, as errors name it.
    file: Arc<str>,
    console_url: Located<String>,
    token: Located<TokenSource>,
    proxy: Option<Located<String>>,
    ca_file: Option<Located<PathBuf>>,
    redis_url: Option<String>,
}

/// A value and the line it was given on.
#[derive(Debug, Clone)]
struct Located<T> {
    value: T,
    line: usize,
}

impl Profile {
    /// The profile's name (`acme` for `[profiles.acme]`).
    ///
    /// ```no_run
    /// # fn demo(profile: &sentinelone::profile::Profile) {
    /// println!("{}", profile.name());
    /// # }
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The console URL, as given.
    ///
    /// ```no_run
    /// # fn demo(profile: &sentinelone::profile::Profile) {
    /// assert!(profile.console_url().starts_with("https://"));
    /// # }
    /// ```
    pub fn console_url(&self) -> &str {
        &self.console_url.value
    }

    /// Where the token comes from.
    ///
    /// ```no_run
    /// use sentinelone::profile::TokenSource;
    ///
    /// # fn demo(profile: &sentinelone::profile::Profile) {
    /// if let TokenSource::Env(var) = profile.token_source() {
    ///     println!("token from ${var}");
    /// }
    /// # }
    /// ```
    pub fn token_source(&self) -> &TokenSource {
        &self.token.value
    }

    /// The proxy every request to the console goes through, if any.
    ///
    /// ```no_run
    /// # fn demo(profile: &sentinelone::profile::Profile) {
    /// if let Some(proxy) = profile.proxy() {
    ///     println!("through {proxy}");
    /// }
    /// # }
    /// ```
    pub fn proxy(&self) -> Option<&str> {
        self.proxy.as_ref().map(|p| p.value.as_str())
    }

    /// The extra root certificate file (PEM), resolved against the profile
    /// file's directory, if any.
    ///
    /// ```no_run
    /// # fn demo(profile: &sentinelone::profile::Profile) {
    /// if let Some(pem) = profile.ca_file() {
    ///     println!("trusting {}", pem.display());
    /// }
    /// # }
    /// ```
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_ref().map(|c| c.value.as_path())
    }

    /// The Redis URL quotas are shared through, if any (not used by the
    /// client yet).
    ///
    /// ```no_run
    /// # fn demo(profile: &sentinelone::profile::Profile) {
    /// let shared = profile.redis_url().is_some();
    /// # }
    /// ```
    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url.as_deref()
    }

    /// A client builder for this console: the console URL, the token (read
    /// now from its environment variable or file), the proxy and the extra
    /// root certificate. An `http://` console URL is only allowed on a
    /// loopback host ([`ClientBuilder::allow_http_on_loopback`]). Adjust
    /// it, then [`ClientBuilder::build`].
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// # fn demo() -> Result<(), sentinelone::Error> {
    /// let profiles = sentinelone::profile::Profiles::load_default()?;
    /// let client = profiles
    ///     .get("acme")?
    ///     .client_builder()?
    ///     .call_deadline(Duration::from_secs(60))
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_builder(&self) -> Result<ClientBuilder, Error> {
        let mut builder = Client::builder()
            .console_url(self.console_url.value.as_str())
            .api_token(self.read_token()?)
            .allow_http_on_loopback(true);
        if let Some(proxy) = &self.proxy {
            builder = builder.proxy(proxy.value.as_str());
        }
        if let Some(ca) = &self.ca_file {
            let pem = read_file(&ca.value)
                .map(|(text, _)| text)
                .map_err(|e| format!("cannot read {}: {e}", shown(&ca.value)))
                .and_then(|pem| match root_certificates(pem.as_bytes()) {
                    Ok(_) => Ok(pem),
                    Err(e) => Err(format!("{}: {}", shown(&ca.value), reason(e))),
                })
                .map_err(|message| self.error(ca.line, "ca_file", message))?;
            builder = builder.add_root_certificate_pem(pem);
        }
        if let Some(redis) = &self.redis_url {
            let store = QuotaStore::from_redis_url(redis).map_err(|e| {
                Error::invalid(format!(
                    "{}: profiles.{}.redis_url: {e}",
                    self.file,
                    segment(&self.name)
                ))
            })?;
            builder = builder.quota_store(store);
        }
        Ok(builder)
    }

    /// The token, from wherever the profile says.
    fn read_token(&self) -> Result<String, Error> {
        let token = match &self.token.value {
            TokenSource::Env(var) => match std::env::var(var) {
                Ok(token) if !token.trim().is_empty() => Ok(token),
                Ok(_) => Err(format!("environment variable {var} is empty")),
                Err(std::env::VarError::NotPresent) => {
                    Err(format!("environment variable {var} is not set"))
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    Err(format!("environment variable {var} is not valid UTF-8"))
                }
            },
            TokenSource::File(path) => read_token_file(path),
            TokenSource::Inline(token) => Ok(token.expose_secret().to_string()),
        };
        token.map_err(|message| self.error(self.token.line, self.token.value.key(), message))
    }

    /// An error about `key` of this profile, given on `line`.
    fn error(&self, line: usize, key: &str, message: impl fmt::Display) -> Error {
        Error::invalid(format!(
            "{} line {line}: profiles.{}.{key}: {message}",
            self.file,
            segment(&self.name)
        ))
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("console_url", &self.console_url.value)
            .field("token_source", &self.token.value)
            .field("proxy", &self.proxy().map(without_password))
            .field("ca_file", &self.ca_file())
            .field("redis_url", &self.redis_url().map(without_password))
            .finish()
    }
}

/// The file as read: a table of profiles.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [profiles] table")]
struct FileTable {
    #[serde(default)]
    profiles: BTreeMap<String, Spanned<ProfileTable>>,
}

/// One profile as read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a profile table")]
struct ProfileTable {
    console_url: Spanned<String>,
    token_env: Option<Spanned<String>>,
    token_file: Option<Spanned<PathBuf>>,
    token: Option<Spanned<String>>,
    proxy: Option<Spanned<String>>,
    ca_file: Option<Spanned<PathBuf>>,
    redis_url: Option<String>,
}

/// Parses and checks the text of the profile file at `path` (shown as
/// `file`, with permissions `mode` where there are any).
fn parse(
    text: &str,
    path: &Path,
    file: &Arc<str>,
    mode: Option<u32>,
) -> Result<BTreeMap<String, Profile>, Error> {
    let table: FileTable = toml::from_str(text).map_err(|e| toml_error(text, file, &e))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut profiles = BTreeMap::new();
    for (name, spanned) in table.profiles {
        let line = line_of(text, spanned.span());
        let raw = spanned.into_inner();
        let at = |span: Range<usize>| line_of(text, span);
        let error = |line: usize, key: &str, message: &str| {
            Error::invalid(format!(
                "{file} line {line}: profiles.{}.{key}: {message}",
                segment(&name)
            ))
        };

        let console = &raw.console_url;
        parse_console_url(Some(console.get_ref()), true)
            .map_err(|e| error(at(console.span()), "console_url", &reason(e)))?;

        // Each source given: where, whether it is empty, what it says.
        let mut sources = Vec::new();
        if let Some(var) = raw.token_env {
            let empty = var.get_ref().trim().is_empty();
            sources.push((var.span(), empty, TokenSource::Env(var.into_inner())));
        }
        if let Some(path) = raw.token_file {
            let empty = path.get_ref().as_os_str().is_empty();
            let resolved = TokenSource::File(dir.join(path.get_ref()));
            sources.push((path.span(), empty, resolved));
        }
        if let Some(mut inline) = raw.token {
            let token = std::mem::take(inline.get_mut());
            let empty = token.trim().is_empty();
            sources.push((inline.span(), empty, TokenSource::Inline(token.into())));
        }
        sources.sort_by_key(|(span, _, _)| span.start);
        let (span, empty, source) = match sources.len() {
            0 => {
                return Err(Error::invalid(format!(
                    "{file} line {line}: profiles.{}: no token source: give one of token_env, token_file or token",
                    segment(&name)
                )));
            }
            1 => sources.remove(0),
            _ => {
                // Pointing at the second in the file.
                let (span, _, second) = &sources[1];
                let given = sources.iter().map(|(_, _, s)| s.key()).collect::<Vec<_>>();
                return Err(error(
                    at(span.clone()),
                    second.key(),
                    &format!(
                        "{} given: a profile takes exactly one token source",
                        given.join(" and ")
                    ),
                ));
            }
        };
        if empty {
            return Err(error(at(span), source.key(), "is empty"));
        }
        if let (TokenSource::Inline(_), Some(mode)) = (&source, mode)
            && !private(mode)
        {
            return Err(error(
                at(span),
                "token",
                &format!(
                    "an inline token needs a private file: {}",
                    readable_by_others(file, mode)
                ),
            ));
        }

        let proxy = match raw.proxy {
            Some(proxy) => {
                check_proxy(proxy.get_ref())
                    .map_err(|message| error(at(proxy.span()), "proxy", &message))?;
                Some(Located {
                    line: at(proxy.span()),
                    value: proxy.into_inner(),
                })
            }
            None => None,
        };
        let ca_file = match raw.ca_file {
            Some(ca) if ca.get_ref().as_os_str().is_empty() => {
                return Err(error(at(ca.span()), "ca_file", "is empty"));
            }
            Some(ca) => Some(Located {
                line: at(ca.span()),
                value: dir.join(ca.get_ref()),
            }),
            None => None,
        };
        let profile = Profile {
            name: name.clone(),
            file: file.clone(),
            console_url: Located {
                line: at(raw.console_url.span()),
                value: raw.console_url.into_inner(),
            },
            token: Located {
                line: at(span),
                value: source,
            },
            proxy,
            ca_file,
            redis_url: raw.redis_url,
        };
        profiles.insert(name, profile);
    }
    Ok(profiles)
}

/// A proxy URL the client can use: `http://` or `https://`, with a host.
/// The message never shows the URL (it may carry a password).
fn check_proxy(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("expected an http:// or https:// URL with a host".to_string());
    }
    Ok(())
}

/// The token in the file at `path`, which only its owner may read.
fn read_token_file(path: &Path) -> Result<String, String> {
    let (mut text, mode) =
        read_file(path).map_err(|e| format!("cannot read {}: {e}", shown(path)))?;
    if let Some(mode) = mode
        && !private(mode)
    {
        text.zeroize();
        return Err(readable_by_others(&shown(path), mode));
    }
    if text.trim().is_empty() {
        return Err(format!("{} is empty", shown(path)));
    }
    Ok(text)
}

/// The text of the file at `path` (at most [`MAX_FILE_BYTES`]) and its
/// permission bits (on Unix), both from the one open file.
fn read_file(path: &Path) -> std::io::Result<(String, Option<u32>)> {
    let file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    if metadata.is_dir() {
        return Err(std::io::Error::other("it is a directory"));
    }
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        text.zeroize();
        return Err(std::io::Error::other(format!(
            "larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    Ok((text, mode_of(&metadata)))
}

#[cfg(unix)]
fn mode_of(metadata: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(metadata.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_: &std::fs::Metadata) -> Option<u32> {
    None
}

/// Whether a file of this mode is closed to its group and others.
fn private(mode: u32) -> bool {
    mode & 0o077 == 0
}

/// The refusal of a secret-holding `file` others may read.
fn readable_by_others(file: &str, mode: u32) -> String {
    format!("{file} has mode {mode:04o}: its group or others can read it; run chmod 600 {file}")
}

/// A TOML error as `file line N: key: message`, from its span. The message
/// is the parser's, with any string value it quotes left out (it may be a
/// token written in the wrong place); the offending text is never shown.
fn toml_error(text: &str, file: &str, error: &toml::de::Error) -> Error {
    let message = without_strings(error.message());
    let Some(span) = error.span() else {
        return Error::invalid(format!("{file}: {message}"));
    };
    let line = line_of(text, span.clone());
    let key = DeTable::parse(text)
        .ok()
        .map(|table| key_at(table.get_ref(), span.start))
        .filter(|key| !key.is_empty());
    Error::invalid(match key {
        Some(key) => format!("{file} line {line}: {}: {message}", key.join(".")),
        None => format!("{file} line {line}: {message}"),
    })
}

/// The dotted key whose name or value holds byte `at`, innermost first
/// searched: `["profiles", "acme", "console_url"]`.
fn key_at(table: &DeTable<'_>, at: usize) -> Vec<String> {
    for (key, value) in table {
        let name = || segment(key.get_ref()).into_owned();
        if key.span().contains(&at) {
            return vec![name()];
        }
        if let DeValue::Table(inner) = value.get_ref() {
            let found = key_at(inner, at);
            if !found.is_empty() {
                return std::iter::once(name()).chain(found).collect();
            }
        }
        if value.span().contains(&at) {
            return vec![name()];
        }
    }
    Vec::new()
}

/// `message` with every `string "..."` it quotes written `a string`.
fn without_strings(message: &str) -> Cow<'_, str> {
    const QUOTED: &str = "string \"";
    if !message.contains(QUOTED) {
        return Cow::Borrowed(message);
    }
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(QUOTED) {
        out.push_str(&rest[..start]);
        let after = &rest[start + QUOTED.len()..];
        // The closing quote: the first one no backslash escapes.
        let mut escaped = false;
        let end = after.char_indices().find_map(|(i, c)| match (c, escaped) {
            ('"', false) => Some(i),
            ('\\', false) => {
                escaped = true;
                None
            }
            _ => {
                escaped = false;
                None
            }
        });
        match end {
            Some(end) => {
                out.push_str("a string");
                rest = &after[end + 1..];
            }
            None => {
                // Unterminated: nothing of it is shown.
                out.push_str("a string");
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The 1-based line where `span` starts.
fn line_of(text: &str, span: Range<usize>) -> usize {
    let start = span.start.min(text.len());
    text.as_bytes()[..start]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A key as TOML writes it: bare when it can be, quoted otherwise.
fn segment(key: &str) -> Cow<'_, str> {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        Cow::Borrowed(key)
    } else {
        Cow::Owned(format!("{key:?}"))
    }
}

/// `path` for messages, with the home directory written `~`.
fn shown(path: &Path) -> String {
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty())
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return Path::new("~").join(rest).display().to_string();
    }
    path.display().to_string()
}

/// A URL with its password, if any, written `***`.
fn without_password(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => text.to_string(),
    }
}

/// The message of an [`Error::InvalidInput`], without its prefix.
fn reason(error: Error) -> String {
    match error {
        Error::InvalidInput { message } => message,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_keys() {
        assert_eq!(line_of("a\nb\nc", 4..5), 3);
        assert_eq!(line_of("a", 9..9), 1);
        assert_eq!(segment("acme"), "acme");
        assert_eq!(segment("a.b"), "\"a.b\"");
        assert_eq!(segment(""), "\"\"");
    }

    #[test]
    fn quoted_strings_are_left_out_of_messages() {
        assert_eq!(
            without_strings(r#"invalid type: string "s3cr\"et", expected a profile table"#),
            "invalid type: a string, expected a profile table"
        );
    }

    #[test]
    fn passwords_are_left_out_of_urls() {
        assert_eq!(
            without_password("redis://user:pw@127.0.0.1:6379/0"),
            "redis://user:***@127.0.0.1:6379/0"
        );
        assert_eq!(without_password("http://p:3128"), "http://p:3128");
    }

    #[test]
    fn modes() {
        assert!(private(0o600));
        assert!(private(0o400));
        assert!(!private(0o640));
        assert!(!private(0o604));
    }
}
