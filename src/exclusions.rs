//! Deleting exclusions that match a selection (D3 "Delete Exclusions").
//!
//! D3 deletes every exclusion of the console when no filter is given. Here
//! an empty selection is refused: deleting everything takes an explicit
//! [`ExclusionSelection::all`].

use std::collections::BTreeMap;

use futures_util::TryStreamExt;

use crate::prelude::*;
use crate::raw::types::{
    DeleteExclusionRequest, DeleteExclusionRequestData, ExclusionSchemaGetListResponseDataItem,
    ExclusionType,
};
use crate::vocab::OsType;
use crate::{Client, Error, validate};

/// Exclusions, reached from the client with [`Client::exclusions`].
///
/// ```no_run
/// # fn demo(client: &sentinelone::Client) {
/// let exclusions = client.exclusions();
/// # let _ = exclusions;
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Exclusions<'c> {
    client: &'c Client,
}

impl Client {
    /// Exclusions: delete the exclusions a selection matches.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::exclusions::ExclusionSelection;
    /// let deleted = client.exclusions().delete(&ExclusionSelection::new().ids(["1234567890"])).await?;
    /// # drop(deleted);
    /// # Ok(())
    /// # }
    /// ```
    pub fn exclusions(&self) -> Exclusions<'_> {
        Exclusions { client: self }
    }
}

impl<'c> Exclusions<'c> {
    /// Deletes the exclusions matching `selection`: lists them
    /// (`GET /exclusions`, every page), then deletes their ids
    /// (`DELETE /exclusions`), one request per exclusion type and at most 1000
    /// ids each.
    ///
    /// - An empty selection is refused with [`Error::InvalidInput`] unless it is
    ///   [`ExclusionSelection::all`]; malformed ids are refused too. Nothing is
    ///   sent then.
    /// - When nothing matches, nothing is deleted and no delete request is sent.
    /// - Listed exclusions that contradict the selection (another id, kind or
    ///   OS type than asked for) are never deleted.
    /// - Delete requests go out one after the other; the first failure stops the
    ///   command with its error, and groups deleted before it stay deleted.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// use sentinelone::exclusions::{ExclusionKind, ExclusionSelection};
    ///
    /// let selection = ExclusionSelection::new()
    ///     .kind(ExclusionKind::Path)
    ///     .site_ids(["1741111111111111111"]);
    /// let deleted = client.exclusions().delete(&selection).await?;
    /// println!("{} deleted: {:?}", deleted.affected, deleted.ids);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(self, selection: &ExclusionSelection) -> Result<DeletedExclusions, Error> {
        delete(self.client, selection).await
    }
}

/// The kind of exclusion to select (`path`, `white_hash`, ...).
pub type ExclusionKind = crate::raw::types::ListExclusionsType;

/// The most ids sent in one delete request.
const IDS_PER_REQUEST: usize = 1000;

/// Which exclusions to delete. Every criterion given must hold (the
/// console's filters combine with "and").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExclusionSelection {
    everything: bool,
    kind: Option<ExclusionKind>,
    os_types: Vec<OsType>,
    account_ids: Vec<String>,
    site_ids: Vec<String>,
    group_ids: Vec<String>,
    ids: Vec<String>,
}

impl ExclusionSelection {
    /// An empty selection: add at least one criterion, or [`Exclusions::delete`]
    /// refuses it.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every exclusion the token can see. Criteria added afterwards still
    /// narrow it.
    pub fn all() -> Self {
        ExclusionSelection {
            everything: true,
            ..Self::default()
        }
    }

    /// Only exclusions of this kind.
    pub fn kind(mut self, kind: ExclusionKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Only exclusions for these operating systems.
    pub fn os_types(mut self, os_types: impl IntoIterator<Item = OsType>) -> Self {
        self.os_types = os_types.into_iter().collect();
        self
    }

    /// Only exclusions of these accounts.
    pub fn account_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.account_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Only exclusions of these sites.
    pub fn site_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.site_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Only exclusions of these groups.
    pub fn group_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.group_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Only these exclusions.
    pub fn ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.ids = ids.into_iter().map(Into::into).collect();
        self
    }

    fn is_empty(&self) -> bool {
        self.kind.is_none()
            && self.os_types.is_empty()
            && self.account_ids.is_empty()
            && self.site_ids.is_empty()
            && self.group_ids.is_empty()
            && self.ids.is_empty()
    }
}

/// What [`Exclusions::delete`] removed.
#[derive(Debug, Clone)]
pub struct DeletedExclusions {
    /// The total the console reported as deleted.
    pub affected: u64,
    /// The ids sent for deletion.
    pub ids: Vec<String>,
    /// The exclusions as listed just before deletion.
    pub exclusions: Vec<ExclusionSchemaGetListResponseDataItem>,
}

/// The body of [`Exclusions::delete`].
async fn delete(
    client: &Client,
    selection: &ExclusionSelection,
) -> Result<DeletedExclusions, Error> {
    let selection = checked(selection)?;
    let listed = list(client, &selection).await?;
    let listed = validate::listed_ids("exclusion", listed, |e| e.id.as_deref())?;
    let (checked, exclusions): (Vec<_>, Vec<_>) = listed
        .into_iter()
        .filter(|(_, e)| selection.admits(e))
        .unzip();
    let mut affected = 0u64;
    let mut ids = Vec::new();
    for (kind, group) in by_type(&checked, &exclusions) {
        for chunk in group.chunks(IDS_PER_REQUEST) {
            let body = DeleteExclusionRequest {
                data: DeleteExclusionRequestData {
                    type_: kind,
                    ids: chunk.to_vec(),
                },
            };
            let answer = client.delete_exclusions().body(body).call().await?;
            let count = answer.data.and_then(|d| d.affected).unwrap_or(0);
            affected += u64::try_from(count).unwrap_or(0);
            ids.extend_from_slice(chunk);
            tracing::info!(count = chunk.len(), kind = ?kind, "exclusions deleted");
        }
    }
    Ok(DeletedExclusions {
        affected,
        ids,
        exclusions,
    })
}

/// The selection with its ids checked and trimmed.
fn checked(selection: &ExclusionSelection) -> Result<ExclusionSelection, Error> {
    if !selection.everything && selection.is_empty() {
        return Err(Error::invalid(
            "exclusion selection is empty; use ExclusionSelection::all() to delete every exclusion",
        ));
    }
    Ok(ExclusionSelection {
        everything: selection.everything,
        kind: selection.kind,
        os_types: selection.os_types.clone(),
        account_ids: validate::ids("account_ids", &selection.account_ids)?,
        site_ids: validate::ids("site_ids", &selection.site_ids)?,
        group_ids: validate::ids("group_ids", &selection.group_ids)?,
        ids: validate::ids("ids", &selection.ids)?,
    })
}

async fn list(
    client: &Client,
    selection: &ExclusionSelection,
) -> Result<Vec<ExclusionSchemaGetListResponseDataItem>, Error> {
    let mut request = client.list_exclusions();
    if let Some(kind) = selection.kind {
        request = request.type_(kind);
    }
    if !selection.os_types.is_empty() {
        request = request.os_types(selection.os_types.clone());
    }
    if !selection.account_ids.is_empty() {
        request = request.account_ids(selection.account_ids.clone());
    }
    if !selection.site_ids.is_empty() {
        request = request.site_ids(selection.site_ids.clone());
    }
    if !selection.group_ids.is_empty() {
        request = request.group_ids(selection.group_ids.clone());
    }
    if !selection.ids.is_empty() {
        request = request.ids(selection.ids.clone());
    }
    request.items().try_collect().await
}

impl ExclusionSelection {
    /// A listed exclusion agrees with the selection on what it reports
    /// (id, kind, OS type); a field the console left out is not held
    /// against it, except the id, which is required.
    fn admits(&self, exclusion: &ExclusionSchemaGetListResponseDataItem) -> bool {
        let Some(id) = exclusion.id.as_deref() else {
            return false;
        };
        let id_ok = self.ids.is_empty() || self.ids.iter().any(|i| i == id);
        let kind_ok = match (self.kind, exclusion.type_.as_deref()) {
            (Some(kind), Some(t)) => kind.to_string() == t,
            _ => true,
        };
        let os_ok = match exclusion.os_type.as_deref() {
            Some(os) if !self.os_types.is_empty() => {
                self.os_types.iter().any(|o| o.to_string() == os)
            }
            _ => true,
        };
        id_ok && kind_ok && os_ok
    }
}

/// Exclusion ids (already checked, each once) grouped by the type the
/// delete request names; kinds the delete request cannot name go without
/// a type.
fn by_type(
    ids: &[String],
    exclusions: &[ExclusionSchemaGetListResponseDataItem],
) -> BTreeMap<Option<ExclusionType>, Vec<String>> {
    let mut groups: BTreeMap<Option<ExclusionType>, Vec<String>> = BTreeMap::new();
    for (id, exclusion) in ids.iter().zip(exclusions) {
        let kind = exclusion
            .type_
            .as_deref()
            .and_then(|t| t.parse::<ExclusionType>().ok());
        groups.entry(kind).or_default().push(id.clone());
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, kind: &str, os: &str) -> ExclusionSchemaGetListResponseDataItem {
        serde_json::from_value(serde_json::json!({ "id": id, "type": kind, "osType": os })).unwrap()
    }

    #[test]
    fn grouped_by_type_each_id_once() {
        let items = [
            item("1", "path", "windows"),
            item("2", "white_hash", "windows"),
            item("3", "path", "linux"),
            item("1", "path", "windows"),
            item("4", "dv_exclusions", "windows"),
        ];
        let checked = validate::listed_ids("exclusion", items, |e| e.id.as_deref()).unwrap();
        let (ids, items): (Vec<_>, Vec<_>) = checked.into_iter().unzip();
        let groups = by_type(&ids, &items);
        assert_eq!(groups[&Some(ExclusionType::Path)], ["1", "3"]);
        assert_eq!(groups[&Some(ExclusionType::WhiteHash)], ["2"]);
        assert_eq!(groups[&None], ["4"]);
    }

    #[test]
    fn listed_items_must_agree_with_the_selection() {
        let selection = ExclusionSelection::new()
            .kind(ExclusionKind::Path)
            .os_types([OsType::Linux])
            .ids(["3"]);
        assert!(selection.admits(&item("3", "path", "linux")));
        assert!(!selection.admits(&item("1", "path", "linux")));
        assert!(!selection.admits(&item("3", "white_hash", "linux")));
        assert!(!selection.admits(&item("3", "path", "windows")));
    }
}
