//! What `s1 --version` says: the version, the git commit it was built
//! from (build.rs), and the date of the API description the operations
//! come from.

/// The month of SentinelOne's Swagger file that `spec/openapi.json` is
/// curated from (`.ci/run` imports `…swagger.celerium-2024-03.json`). The
/// spec itself carries no date (`info.version` is the API's, 2.1); keep
/// this in step when the spec is imported from a newer file (a test
/// checks it against `.ci/run`). A macro, for `concat!`.
macro_rules! spec_date {
    () => {
        "2024-03"
    };
}

/// The month of SentinelOne's endpoint index the spec marks operations
/// against (`index_2026` in `spec/curation.toml`; a test checks it).
macro_rules! index_date {
    () => {
        "2026-06"
    };
}

/// `s1 --version`: `s1 0.1.0 (commit 7932985, spec 2024-03, endpoint
/// index 2026-06)`; the commit is `unknown` when built outside git and
/// ends in `-dirty` when tracked files differed from it.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("S1_GIT_COMMIT"),
    ", spec ",
    spec_date!(),
    ", endpoint index ",
    index_date!(),
    ")"
);

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_DATE: &str = spec_date!();
    const INDEX_DATE: &str = index_date!();

    #[test]
    fn the_dates_match_the_files_they_come_from() {
        assert!(VERSION.contains(&format!("spec {SPEC_DATE},")));
        assert!(VERSION.contains(&format!("endpoint index {INDEX_DATE})")));
        let ci = include_str!("../../../.ci/run");
        assert!(
            ci.contains(&format!("swagger.celerium-{SPEC_DATE}.json")),
            "the spec is imported from another Swagger file: update SPEC_DATE"
        );
        let curation = include_str!("../../../spec/curation.toml");
        assert!(
            curation.contains(&format!("endpoint-index.ai-siem-{INDEX_DATE}.json")),
            "the endpoint index changed: update INDEX_DATE"
        );
    }

    #[test]
    fn the_commit_is_a_short_hash_or_unknown() {
        let commit = env!("S1_GIT_COMMIT");
        let hash = commit.strip_suffix("-dirty").unwrap_or(commit);
        assert!(
            hash == "unknown" || (hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit())),
            "{commit}"
        );
    }
}
