//! Words several composite commands share: where something applies (a
//! [`Scope`]) and which operating system it is for (an [`OsType`]).
//!
//! ```
//! use sentinelone::vocab::{OsType, Scope};
//!
//! let scope = Scope::new().site_ids(["225494730938493804"]);
//! assert!(!scope.is_empty());
//! assert_eq!(OsType::Windows.to_string(), "windows");
//! ```

/// Operating systems a blocklist entry, a firewall rule or an exclusion
/// applies to (the console uses one list for all three).
pub type OsType = crate::raw::types::FirewallOsTypesItem;

/// Where something applies in the console's hierarchy: the whole tenant,
/// or accounts, sites and/or groups (by id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The whole tenant.
    pub tenant: bool,
    /// Account ids.
    pub account_ids: Vec<String>,
    /// Site ids.
    pub site_ids: Vec<String>,
    /// Group ids.
    pub group_ids: Vec<String>,
}

impl Scope {
    /// An empty scope: no tenant, no ids.
    pub fn new() -> Self {
        Scope::default()
    }

    /// The whole tenant (or not).
    pub fn tenant(mut self, tenant: bool) -> Self {
        self.tenant = tenant;
        self
    }

    /// These accounts.
    pub fn account_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.account_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// These sites.
    pub fn site_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.site_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// These groups.
    pub fn group_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.group_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// True when it names neither the tenant nor any id.
    pub fn is_empty(&self) -> bool {
        !self.tenant
            && self.account_ids.is_empty()
            && self.site_ids.is_empty()
            && self.group_ids.is_empty()
    }
}
