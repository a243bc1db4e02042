//! Blocking: SHA-1 hashes on a site's blocklist (D3 "Block Hash") and
//! remote hosts through a firewall control rule (D3 "Block Remote Hosts").

use std::net::IpAddr;

use serde_json::Value;

use crate::prelude::*;
use crate::raw::types::{
    DeviceFilter, FirewallAction, FirewallDataItemResponse, FirewallRemoteHost, FirewallStatus,
    PostFirewallRequest, PostFirewallRequestData, PostRestrictionRequest,
    PostRestrictionRequestData, RestrictionType,
};
use crate::vocab::{OsType, Scope};
use crate::{Client, Error, validate};

/// Blocking, reached from the client with [`Client::blocking`].
///
/// ```no_run
/// # fn demo(client: &sentinelone::Client) {
/// let blocking = client.blocking();
/// # let _ = blocking;
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Blocking<'c> {
    client: &'c Client,
}

impl Client {
    /// Blocking: hashes on a blocklist, remote hosts through a firewall rule.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::{blocking::BlockHashes, vocab::OsType};
    /// let hashes = BlockHashes::new(["3395856ce81f2b7382dee72602f798b642f14140"], OsType::Windows, "225494730938493804");
    /// client.blocking().block_hashes(&hashes).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn blocking(&self) -> Blocking<'_> {
        Blocking { client: self }
    }
}

impl<'c> Blocking<'c> {
    /// Adds each SHA-1 hash to the site's blocklist (`POST /restrictions`,
    /// one request per hash), and reports per hash: blocked, already blocked,
    /// or failed. A failure for one hash does not stop the others.
    ///
    /// Every hash is checked first: an MD5, a SHA-256 or anything else that is
    /// not 40 hexadecimal characters, or a missing site id, is refused with
    /// [`Error::InvalidInput`] and nothing is sent.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::blocking::{BlockHashes, HashOutcome};
    /// use sentinelone::vocab::OsType;
    ///
    /// let request = BlockHashes::new(
    ///     ["3395856ce81f2b7382dee72602f798b642f14140"],
    ///     OsType::Windows,
    ///     "947111111111111111",
    /// )
    /// .description("dropper seen in incident 42");
    /// for result in client.blocking().block_hashes(&request).await? {
    ///     match result.outcome {
    ///         HashOutcome::Blocked { .. } | HashOutcome::AlreadyBlocked => {}
    ///         HashOutcome::Failed(e) => eprintln!("{}: {e}", result.hash),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn block_hashes(self, request: &BlockHashes) -> Result<Vec<HashBlock>, Error> {
        block_hashes(self.client, request).await
    }

    /// Creates a firewall control rule blocking the given remote hosts
    /// (`POST /firewall-control`, action `Block`).
    ///
    /// Checked before anything is sent ([`Error::InvalidInput`]): a rule name,
    /// at least one value, each value well formed for its type (IP address,
    /// CIDR with a prefix in range, an ascending range of one address family, a
    /// host name), at least one OS type, and a scope: the tenant, or at least one
    /// account, site or group id.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::blocking::{BlockRemoteHosts, RemoteHostType};
    ///
    /// let rule = BlockRemoteHosts::new("block-c2", RemoteHostType::Cidr, ["203.0.113.0/24"])
    ///     .site_ids(["947111111111111111"])
    ///     .description("C2 range from incident 42");
    /// let created = client.blocking().block_remote_hosts(&rule).await?;
    /// println!("rule {:?}", created.rule_id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn block_remote_hosts(
        self,
        request: &BlockRemoteHosts,
    ) -> Result<BlockedHosts, Error> {
        block_remote_hosts(self.client, request).await
    }
}

/// How the values of a firewall rule's remote hosts are written.
pub type RemoteHostType = crate::raw::types::FirewallRemoteHostType;

/// Which traffic a firewall rule covers.
pub type Direction = crate::raw::types::FirewallDirection;

/// Whether a firewall rule is active.
pub type RuleStatus = crate::raw::types::FirewallStatus;

/// SHA-1 hashes to block on one site, for one operating system.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockHashes {
    hashes: Vec<String>,
    os_type: OsType,
    site_id: String,
    description: Option<String>,
    source: Option<String>,
}

impl BlockHashes {
    /// Blocks `hashes` (SHA-1 only) for `os_type` on site `site_id`.
    pub fn new<I, S>(hashes: I, os_type: OsType, site_id: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        BlockHashes {
            hashes: hashes.into_iter().map(Into::into).collect(),
            os_type,
            site_id: site_id.into(),
            description: None,
            source: None,
        }
    }

    /// A description stored with each blocklist entry.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The source recorded with each entry.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }
}

/// What happened to one hash.
#[derive(Debug)]
pub enum HashOutcome {
    /// A new blocklist entry was created.
    Blocked {
        /// The entry's id, when the console returned it.
        id: Option<String>,
    },
    /// The console already had the hash on its blocklist (it answered that
    /// the hash already exists).
    AlreadyBlocked,
    /// The request for this hash failed; the other hashes were still tried.
    Failed(Error),
}

/// One hash and its outcome.
#[derive(Debug)]
pub struct HashBlock {
    /// The hash, in lower case.
    pub hash: String,
    /// What happened to it.
    pub outcome: HashOutcome,
}

/// The body of [`Blocking::block_hashes`].
async fn block_hashes(client: &Client, request: &BlockHashes) -> Result<Vec<HashBlock>, Error> {
    validate::required_list("hashes", &request.hashes)?;
    let hashes = validate::sha1s("hashes", &request.hashes)?;
    let site_id = validate::id("site_id", &request.site_id)?;
    let mut results = Vec::with_capacity(hashes.len());
    for hash in hashes {
        let outcome = block_one(client, request, &site_id, &hash).await;
        results.push(HashBlock { hash, outcome });
    }
    Ok(results)
}

async fn block_one(
    client: &Client,
    request: &BlockHashes,
    site_id: &str,
    hash: &str,
) -> HashOutcome {
    let body = PostRestrictionRequest {
        data: PostRestrictionRequestData {
            type_: RestrictionType::BlackHash,
            value: Value::String(hash.to_string()),
            os_type: request.os_type,
            description: request.description.clone(),
            source: request.source.clone(),
        },
        filter: DeviceFilter {
            site_ids: vec![site_id.to_string()],
            ..Default::default()
        },
    };
    match client.create_restriction().body(body).call().await {
        Ok(answer) => {
            tracing::info!(hash, "hash blocked");
            let id = answer
                .data
                .into_iter()
                .flatten()
                .find_map(|entry| entry.typed().and_then(|e| e.id.clone()));
            HashOutcome::Blocked { id }
        }
        Err(e) if already_exists(&e) => {
            tracing::info!(hash, "hash was already blocked");
            HashOutcome::AlreadyBlocked
        }
        Err(e) => HashOutcome::Failed(e),
    }
}

/// The console's "Hash '…' already exists" answer (a 400, or a 409).
fn already_exists(error: &Error) -> bool {
    let Error::Api { status, errors, .. } = error else {
        return false;
    };
    matches!(status, 400 | 409)
        && errors.iter().any(|e| {
            [e.title.as_deref(), e.detail.as_deref()]
                .into_iter()
                .flatten()
                .any(|text| text.to_lowercase().contains("already exist"))
        })
}

/// A firewall control rule blocking remote hosts.
///
/// The scope is the whole tenant ([`BlockRemoteHosts::tenant`]) or at least
/// one account, site or group id. Defaults: status `Enabled`, OS types
/// `windows`.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockRemoteHosts {
    name: String,
    host_type: RemoteHostType,
    values: Vec<String>,
    scope: Scope,
    status: RuleStatus,
    os_types: Vec<OsType>,
    direction: Option<Direction>,
    description: Option<String>,
}

impl BlockRemoteHosts {
    /// A rule named `name` blocking the remote hosts `values`, written as
    /// `host_type` says: `Addresses` (IPv4/IPv6 addresses), `Cidr`
    /// (`203.0.113.0/24`), `Range` (`10.0.0.1-10.0.0.9`) or `Fqdn`
    /// (`c2.example.com`). `Any` is refused: it would block every host.
    pub fn new<I, S>(name: impl Into<String>, host_type: RemoteHostType, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        BlockRemoteHosts {
            name: name.into(),
            host_type,
            values: values.into_iter().map(Into::into).collect(),
            scope: Scope::default(),
            status: FirewallStatus::Enabled,
            os_types: vec![OsType::Windows],
            direction: None,
            description: None,
        }
    }

    /// Applies the rule to the whole tenant (needs tenant permissions);
    /// account, site and group ids must then stay empty.
    pub fn tenant(mut self, tenant: bool) -> Self {
        self.scope.tenant = tenant;
        self
    }

    /// Applies the rule to these accounts.
    pub fn account_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.scope.account_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Applies the rule to these sites.
    pub fn site_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.scope.site_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Applies the rule to these groups.
    pub fn group_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.scope.group_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Creates the rule enabled (default) or disabled.
    pub fn status(mut self, status: RuleStatus) -> Self {
        self.status = status;
        self
    }

    /// The operating systems the rule applies to (default: windows).
    pub fn os_types(mut self, os_types: impl IntoIterator<Item = OsType>) -> Self {
        self.os_types = os_types.into_iter().collect();
        self
    }

    /// The traffic direction the rule covers (the console's default when
    /// not given).
    pub fn direction(mut self, direction: Direction) -> Self {
        self.direction = Some(direction);
        self
    }

    /// A description of the rule.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// The firewall rule the console created.
#[derive(Debug, Clone)]
pub struct BlockedHosts {
    /// The new rule's id.
    pub rule_id: Option<String>,
    /// The rule as the console returned it.
    pub rule: FirewallDataItemResponse,
}

/// The body of [`Blocking::block_remote_hosts`].
async fn block_remote_hosts(
    client: &Client,
    request: &BlockRemoteHosts,
) -> Result<BlockedHosts, Error> {
    let body = firewall_body(request)?;
    let answer = client.create_firewall_rule().body(body).call().await?;
    let rule = answer.data.unwrap_or_default();
    tracing::info!(rule_id = ?rule.id, "firewall rule created");
    Ok(BlockedHosts {
        rule_id: rule.id.clone(),
        rule,
    })
}

fn firewall_body(request: &BlockRemoteHosts) -> Result<PostFirewallRequest, Error> {
    let name = validate::required("name", &request.name)?;
    let values = validate::required_list("values", &request.values)?;
    for (i, value) in values.iter().enumerate() {
        check_remote_host(&format!("values[{i}]"), request.host_type, value)?;
    }
    if request.os_types.is_empty() {
        return Err(Error::invalid("os_types: at least one value is required"));
    }
    let filter = scope_filter(&request.scope)?;
    Ok(PostFirewallRequest {
        data: PostFirewallRequestData {
            name,
            action: FirewallAction::Block,
            status: request.status,
            os_types: Some(request.os_types.clone()),
            remote_hosts: vec![FirewallRemoteHost {
                type_: Some(request.host_type),
                values: Some(values.into_iter().map(Some).collect()),
            }],
            direction: request.direction,
            description: request.description.clone(),
            // Left to the console.
            application: None,
            local_host: None,
            local_port: None,
            location: None,
            os_type: None,
            protocol: None,
            remote_host: None,
            remote_port: None,
            tag: None,
            tag_ids: Vec::new(),
        },
        filter,
    })
}

fn scope_filter(scope: &Scope) -> Result<DeviceFilter, Error> {
    let account_ids = validate::ids("account_ids", &scope.account_ids)?;
    let site_ids = validate::ids("site_ids", &scope.site_ids)?;
    let group_ids = validate::ids("group_ids", &scope.group_ids)?;
    let any_ids = !(account_ids.is_empty() && site_ids.is_empty() && group_ids.is_empty());
    match (scope.tenant, any_ids) {
        (true, true) => Err(Error::invalid(
            "scope: the tenant scope takes no account, site or group ids",
        )),
        (false, false) => Err(Error::invalid(
            "scope: give the tenant, or at least one account, site or group id",
        )),
        _ => Ok(DeviceFilter {
            tenant: scope.tenant.then_some(true),
            account_ids,
            site_ids,
            group_ids,
        }),
    }
}

/// `value` is well formed for `host_type`.
fn check_remote_host(name: &str, host_type: RemoteHostType, value: &str) -> Result<(), Error> {
    let ok = match host_type {
        RemoteHostType::Addresses => value.parse::<IpAddr>().is_ok(),
        RemoteHostType::Cidr => is_cidr(value),
        RemoteHostType::Range => is_range(value),
        RemoteHostType::Fqdn => is_host_name(value),
        RemoteHostType::Any => {
            return Err(Error::invalid(
                "host_type any would block every remote host; name the hosts",
            ));
        }
    };
    if ok {
        return Ok(());
    }
    let expected = match host_type {
        RemoteHostType::Addresses => "an IPv4 or IPv6 address",
        RemoteHostType::Cidr => "a CIDR block (address/prefix)",
        RemoteHostType::Range => "an address range (first-last, same family, ascending)",
        _ => "a host name (letters, digits, hyphens, dot-separated labels)",
    };
    Err(Error::invalid(format!(
        "{name} {value:?} is not {expected}"
    )))
}

fn is_cidr(value: &str) -> bool {
    let Some((addr, prefix)) = value.split_once('/') else {
        return false;
    };
    let Ok(addr) = addr.trim().parse::<IpAddr>() else {
        return false;
    };
    let prefix = prefix.trim();
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let max = if addr.is_ipv4() { 32 } else { 128 };
    prefix.parse::<u8>().is_ok_and(|p| p <= max)
}

fn is_range(value: &str) -> bool {
    let Some((first, last)) = value.split_once('-') else {
        return false;
    };
    match (
        first.trim().parse::<IpAddr>(),
        last.trim().parse::<IpAddr>(),
    ) {
        (Ok(IpAddr::V4(a)), Ok(IpAddr::V4(b))) => a <= b,
        (Ok(IpAddr::V6(a)), Ok(IpAddr::V6(b))) => a <= b,
        _ => false,
    }
}

/// A DNS host name: dot-separated labels of letters, digits and inner
/// hyphens (1–63 characters each), 253 characters at most, a trailing dot
/// allowed, not all digits (that would be an address).
fn is_host_name(value: &str) -> bool {
    let name = value.strip_suffix('.').unwrap_or(value);
    if name.is_empty() || name.len() > 253 || name.parse::<IpAddr>().is_ok() {
        return false;
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let all_numeric = name.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    name.split('.').all(label_ok) && !all_numeric
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks() {
        for ok in [
            "10.0.0.0/8",
            "203.193.22.248/31",
            "0.0.0.0/0",
            "2001:db8::/32",
            "::1/128",
        ] {
            assert!(is_cidr(ok), "{ok}");
        }
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0/8",
            "2001:db8::/129",
            "a/8",
            "10.0.0.0/+8",
        ] {
            assert!(!is_cidr(bad), "{bad}");
        }
    }

    #[test]
    fn ranges() {
        assert!(is_range("10.0.0.1-10.0.0.9"));
        assert!(is_range("10.0.0.1 - 10.0.0.1"));
        assert!(is_range("2001:db8::1-2001:db8::ff"));
        assert!(!is_range("10.0.0.9-10.0.0.1"));
        assert!(!is_range("10.0.0.1-2001:db8::1"));
        assert!(!is_range("10.0.0.1"));
    }

    #[test]
    fn host_names() {
        for ok in [
            "c2.example.com",
            "localhost",
            "a-b.example.org.",
            "xn--bcher-kva.example",
        ] {
            assert!(is_host_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-a.com",
            "a-.com",
            "a..com",
            "exa mple.com",
            "10.0.0.1",
            "a_b.com",
            &"a".repeat(64),
        ] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }

    #[test]
    fn scope_rules() {
        assert!(scope_filter(&Scope::default()).is_err());
        let tenant = Scope {
            tenant: true,
            ..Scope::default()
        };
        assert_eq!(scope_filter(&tenant).unwrap().tenant, Some(true));
        let both = Scope {
            tenant: true,
            site_ids: vec!["1".into()],
            ..Scope::default()
        };
        assert!(scope_filter(&both).is_err());
    }
}
