//! Activities, as far as this module reads them: which one is the agent's upload.

use super::*;

/// An activity or threat timeline entry.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) id: Option<String>,
    pub(super) activity_type: Option<i64>,
    pub(super) agent_id: Option<String>,
    pub(super) threat_id: Option<String>,
    pub(super) created_at: Option<DateTime<Utc>>,
    pub(super) data: Map<String, Value>,
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

/// An entry that did not decode (the warning is already logged) is still
/// read field by field, so an odd value elsewhere does not hide an upload.
impl<T> From<Decoded<T>> for Entry
where
    Entry: From<T>,
{
    fn from(entry: Decoded<T>) -> Self {
        match entry {
            Decoded::Typed(entry) => Entry::from(entry),
            Decoded::Raw(raw) => Entry::from_raw(&raw.value),
        }
    }
}

impl Entry {
    /// The fields of an entry read one by one from `value`; a field in an
    /// unexpected shape reads as absent.
    fn from_raw(value: &Value) -> Self {
        let text = |key: &str| match value.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        Entry {
            id: text("id"),
            activity_type: text("activityType").and_then(|t| t.parse().ok()),
            agent_id: text("agentId"),
            threat_id: text("threatId"),
            created_at: text("createdAt").as_deref().and_then(parse_time),
            data: value
                .get("data")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// A non-blank text field of `data`.
    pub(super) fn text(&self, key: &str) -> Option<&str> {
        self.data
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    pub(super) fn batch(&self) -> Option<&str> {
        self.text("commandBatchUuid")
    }

    /// Logged after `since`; an entry without a readable time is trusted to
    /// the console's own `createdAt__gt` filter.
    pub(super) fn logged_after(&self, since: DateTime<Utc>) -> bool {
        self.created_at.is_none_or(|t| t > since)
    }

    /// The upload this entry announces: its own download link, or the
    /// agent's upload path built from the ids.
    pub(super) fn upload(&self) -> Option<AgentUpload> {
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
        Some(AgentUpload {
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

/// The oldest of `entries` that can be downloaded.
pub(super) fn first_upload<'a>(entries: impl Iterator<Item = &'a Entry>) -> Option<AgentUpload> {
    let mut entries: Vec<&Entry> = entries.collect();
    entries.sort_by_key(|e| e.created_at);
    entries.into_iter().find_map(Entry::upload)
}
