//! The shape of the operation table codegen writes into `operations.rs`
//! (feature `operations`): enough about every operation to call it without
//! code of its own (the `s1 api` command line).

use crate::ResponseKind;

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    Query,
    /// A request header (`X-Dataset-Query-Forward-Tag`).
    Header,
}

/// What values a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Any text.
    Text,
    /// One of these values.
    OneOf(&'static [&'static str]),
    /// An integer.
    Integer,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An RFC 3339 time.
    DateTime,
    /// A list, sent comma-joined.
    List,
}

/// One parameter of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    /// Its name as the API spells it (`computerName__contains`).
    pub name: &'static str,
    /// Path or query.
    pub location: ParamLocation,
    /// Its values.
    pub kind: ParamKind,
    /// Whether the operation needs it.
    pub required: bool,
}

/// Whether an operation takes a JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyUse {
    /// No body.
    None,
    /// A body may be sent.
    Optional,
    /// A body must be sent.
    Required,
}

/// One operation of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationSpec {
    /// Its operationId (`list_agents`).
    pub id: &'static str,
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Full path with `{name}` placeholders.
    pub path: &'static str,
    /// Its tag.
    pub tag: &'static str,
    /// A short summary.
    pub summary: &'static str,
    /// Its parameters.
    pub params: &'static [ParamSpec],
    /// Its body.
    pub body: BodyUse,
    /// Its answer.
    pub response: ResponseKind,
    /// Whether it pages by cursor.
    pub paged: bool,
    /// SentinelOne's 2026 endpoint index does not list it (`x-absent-2026`
    /// in the spec): it may be gone from newer consoles. Still callable.
    pub absent_2026: bool,
}

/// The operation `id`, if the spec has it.
pub fn operation(id: &str) -> Option<&'static OperationSpec> {
    crate::operations::OPERATIONS
        .binary_search_by(|op| op.id.cmp(id))
        .ok()
        .map(|i| &crate::operations::OPERATIONS[i])
}
