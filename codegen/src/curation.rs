//! The curation file (`spec/curation.toml`): the few decisions the importer
//! cannot take from the vendor file alone.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

/// Everything `codegen import` needs besides the vendor file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Curation {
    /// Prefix shared by every vendor path (`/web/api/v2.1`).
    pub path_prefix: String,
    /// Bring in every vendor operation, not only the catalog's and the facade's.
    #[serde(default)]
    pub include_all: bool,
    /// Operations the handwritten facade calls, beyond those the catalog names.
    #[serde(default)]
    pub facade_operations: Vec<String>,
    /// `"METHOD /relative/path"` -> operationId, where the derived name reads badly.
    #[serde(default)]
    pub operation_ids: BTreeMap<String, String>,
    /// Vendor tag -> our tag. Tags not listed keep their vendor spelling.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// operationId -> query parameters left out, where a name cannot be a
    /// builder method of the generated client (e.g. `new`).
    #[serde(default)]
    pub drop_parameters: BTreeMap<String, Vec<String>>,
    /// Content types for success responses the vendor declares without a schema.
    #[serde(default)]
    pub binary_responses: Vec<BinaryResponse>,
    /// Operations the vendor file lacks.
    #[serde(default)]
    pub extra_operations: Vec<ExtraOperation>,
    /// Success responses consoles send otherwise than the vendor declares.
    #[serde(default)]
    pub response_overrides: Vec<ResponseOverride>,
    /// Fields consoles send that a vendor response definition lacks.
    #[serde(default)]
    pub response_fields: Vec<ResponseFields>,
    /// The console's published rate limits, set on every operation they
    /// cover as `x-rate-limit`.
    #[serde(default)]
    pub rate_limits: Vec<crate::rate_limits::RateLimitRule>,
    /// SentinelOne's 2026 endpoint index, relative to the workspace root:
    /// when set, `codegen import` reads it and marks the operations it does
    /// not list (`x-absent-2026`).
    #[serde(default)]
    pub index_2026: Option<String>,
    /// The parameters of the index's operations, relative to the workspace
    /// root (default [`DEFAULT_INDEX_2026_PARAMS`]); read with
    /// `include_2026_index` only.
    #[serde(default)]
    pub index_2026_params: Option<String>,
    /// Also bring in the operations only the 2026 index has (needs
    /// `index_2026`).
    #[serde(default)]
    pub include_2026_index: bool,
    /// The index and its parameters once read (by
    /// [`crate::import::import_at`], from `index_2026`), or set directly.
    #[serde(skip)]
    pub index: Option<crate::index2026::IndexInput>,
}

/// Where the parameters of the 2026 index's operations are kept.
pub const DEFAULT_INDEX_2026_PARAMS: &str = "spec/index-2026-params.tsv";

/// Properties added to a vendor response definition, at a place inside it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseFields {
    /// The vendor definition (`#/definitions/<name>`).
    pub definition: String,
    /// Where in it, as property names joined by `.`; `[]` after a name
    /// steps into the items of that list (`data[]`).
    pub at: String,
    /// The properties as a JSON object in the vendor's Swagger 2.0 dialect.
    pub properties: String,
}

/// The success response of one operation, as consoles really answer it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseOverride {
    /// The operation (after renaming through `[operation_ids]`).
    pub operation_id: String,
    /// The status consoles answer with (`"200"`).
    pub status: String,
    /// The body's schema as JSON text, in the vendor file's Swagger 2.0
    /// dialect (`$ref`s name its `#/definitions/...`); converted like every
    /// vendor response schema.
    pub schema: String,
}

/// A success body that is a file, not JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinaryResponse {
    /// Applies when the relative path contains this text.
    pub path_contains: String,
    /// The media type the body is declared with.
    pub content_type: String,
}

/// An operation added by hand, with facts from public clients.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraOperation {
    pub operation_id: String,
    pub method: String,
    /// Relative path, e.g. `/private/threats/{threat_id}/analysis`; with
    /// `root`, the path from the console root.
    pub path: String,
    pub tag: String,
    /// The path is at the console root: `path_prefix` is not prepended,
    /// and the operation authenticates with a bearer token (the
    /// `SdlBearer` security scheme) instead of `ApiToken`.
    #[serde(default)]
    pub root: bool,
    /// Optional query parameters, all strings.
    #[serde(default)]
    pub query: Vec<String>,
    /// Query parameters that are comma-joined lists.
    #[serde(default)]
    pub csv_query: Vec<String>,
    /// The request takes a JSON body (free-form object).
    #[serde(default)]
    pub json_body: bool,
    /// Further parameters (query or header) as a JSON array in the vendor's
    /// Swagger 2.0 dialect, converted like the vendor's own parameters.
    #[serde(default)]
    pub parameters: Option<String>,
    /// The request body's schema as JSON text in the vendor's Swagger 2.0
    /// dialect, converted like a vendor request schema (instead of
    /// `json_body`'s free-form object).
    #[serde(default)]
    pub body: Option<String>,
    /// The success body's schema as JSON text in the vendor's Swagger 2.0
    /// dialect, converted like a vendor response schema (default: free-form
    /// JSON).
    #[serde(default)]
    pub response: Option<String>,
    /// The success status (default `"200"`); a `"204"` has no body.
    #[serde(default)]
    pub status: Option<String>,
}

impl Curation {
    /// Reads and parses a curation file.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Parses curation TOML.
    pub fn parse(text: &str) -> Result<Self> {
        Ok(toml::from_str(text)?)
    }

    /// Our tag for a vendor tag.
    pub fn tag(&self, vendor: &str) -> String {
        self.tags
            .get(vendor)
            .cloned()
            .unwrap_or_else(|| vendor.to_string())
    }

    /// Whether the curation leaves `param` of `operation_id` out.
    pub fn drops_parameter(&self, operation_id: &str, param: &str) -> bool {
        self.drop_parameters
            .get(operation_id)
            .is_some_and(|names| names.iter().any(|n| n == param))
    }

    /// The response override of `operation_id`, if any.
    pub fn response_override(&self, operation_id: &str) -> Option<&ResponseOverride> {
        self.response_overrides
            .iter()
            .find(|o| o.operation_id == operation_id)
    }

    /// The declared content type of a schema-less success body, if it is a file.
    pub fn binary_content_type(&self, relative_path: &str) -> Option<&str> {
        self.binary_responses
            .iter()
            .find(|b| relative_path.contains(&b.path_contains))
            .map(|b| b.content_type.as_str())
    }
}
