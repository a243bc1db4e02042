//! `sentinelone::blocking`: SHA-1 hashes go to a site's blocklist one
//! request each, and an "already exists" answer for one hash neither loses
//! nor fails the others; firewall rules blocking remote hosts carry the
//! defaults and the scope, and every value is checked locally first.

use crate::support;

use httpmock::Method::POST;
use httpmock::{Mock, MockServer};
use sentinelone::Error;
use sentinelone::blocking::{
    BlockHashes, BlockRemoteHosts, Direction, HashOutcome, RemoteHostType, RuleStatus,
};
use sentinelone::vocab::OsType;
use serde_json::{Value, json};

const RESTRICTIONS: &str = "/web/api/v2.1/restrictions";
const FIREWALL: &str = "/web/api/v2.1/firewall-control";
const SITE: &str = "947111111111111111";

const H1: &str = "3395856ce81f2b7382dee72602f798b642f14140";
const H2: &str = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3";
const H3: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

fn restriction_body(hash: &str) -> Value {
    json!({
        "data": {
            "type": "black_hash",
            "value": hash,
            "osType": "windows",
            "description": "incident 42"
        },
        "filter": { "siteIds": [SITE] }
    })
}

async fn restriction<'a>(
    server: &'a MockServer,
    hash: &str,
    status: u16,
    answer: Value,
) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(RESTRICTIONS)
                .header("authorization", support::auth_header())
                .header("content-type", "application/json")
                .json_body(restriction_body(hash));
            then.status(status).json_body(answer);
        })
        .await
}

async fn anything(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(json!({ "data": {} }));
        })
        .await
}

fn invalid_message(err: Error) -> String {
    match err {
        Error::InvalidInput { message } => message,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn each_hash_gets_its_own_outcome() {
    let server = MockServer::start_async().await;
    let blocked = restriction(
        &server,
        H1,
        200,
        json!({ "data": [{ "id": "1801111111111111111", "value": H1, "type": "black_hash" }] }),
    )
    .await;
    let existing = restriction(
        &server,
        H2,
        400,
        json!({ "errors": [{
            "code": 4000010,
            "title": "Validation Error",
            "detail": format!("Hash '{H2}' already exists")
        }] }),
    )
    .await;
    let forbidden = restriction(
        &server,
        H3,
        403,
        json!({ "errors": [{ "code": 4030010, "title": "Unauthorized access" }] }),
    )
    .await;
    // Upper case input is sent in lower case.
    let request = BlockHashes::new(
        [H1.to_uppercase(), H2.into(), H3.into()],
        OsType::Windows,
        SITE,
    )
    .description("incident 42");
    let results = support::facade_client(&server)
        .blocking()
        .block_hashes(&request)
        .await
        .expect("inputs are valid");
    blocked.assert_async().await;
    existing.assert_async().await;
    forbidden.assert_async().await;
    assert_eq!(
        results.iter().map(|r| r.hash.as_str()).collect::<Vec<_>>(),
        [H1, H2, H3]
    );
    match &results[0].outcome {
        HashOutcome::Blocked { id } => assert_eq!(id.as_deref(), Some("1801111111111111111")),
        other => panic!("expected Blocked, got {other:?}"),
    }
    assert!(matches!(results[1].outcome, HashOutcome::AlreadyBlocked));
    match &results[2].outcome {
        HashOutcome::Failed(e) => {
            assert_eq!(e.status(), Some(403));
            assert_eq!(e.operation(), Some("create_restriction"));
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[tokio::test]
async fn a_plain_400_is_a_failure_not_already_blocked() {
    let server = MockServer::start_async().await;
    restriction(
        &server,
        H1,
        400,
        json!({ "errors": [{ "code": 4000010, "title": "Validation Error", "detail": "osType is invalid" }] }),
    )
    .await;
    let request = BlockHashes::new([H1], OsType::Windows, SITE).description("incident 42");
    let results = support::facade_client(&server)
        .blocking()
        .block_hashes(&request)
        .await
        .expect("inputs are valid");
    assert!(matches!(&results[0].outcome, HashOutcome::Failed(e) if e.status() == Some(400)));
}

#[tokio::test]
async fn anything_but_sha1_is_refused_before_sending() {
    let server = MockServer::start_async().await;
    let any = anything(&server).await;
    let client = support::facade_client(&server);
    let md5 = BlockHashes::new(
        [H1, "d41d8cd98f00b204e9800998ecf8427e"],
        OsType::Windows,
        SITE,
    );
    assert!(
        invalid_message(client.blocking().block_hashes(&md5).await.unwrap_err())
            .contains("(this looks like an MD5)")
    );
    let sha256 = BlockHashes::new(["a".repeat(64)], OsType::Linux, SITE);
    assert!(
        invalid_message(client.blocking().block_hashes(&sha256).await.unwrap_err())
            .contains("(this looks like a SHA-256)")
    );
    let none = BlockHashes::new(Vec::<String>::new(), OsType::Windows, SITE);
    assert_eq!(
        invalid_message(client.blocking().block_hashes(&none).await.unwrap_err()),
        "hashes: at least one value is required"
    );
    let no_site = BlockHashes::new([H1], OsType::Windows, " ");
    assert_eq!(
        invalid_message(client.blocking().block_hashes(&no_site).await.unwrap_err()),
        "site_id is required"
    );
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn firewall_rule_blocks_with_defaults_and_scope() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(FIREWALL)
                .header("authorization", support::auth_header())
                .json_body(json!({
                    "data": {
                        "name": "ruleAPI0405a26",
                        "action": "Block",
                        "status": "Enabled",
                        "osTypes": ["windows"],
                        "remoteHosts": [{ "type": "cidr", "values": ["203.193.22.248/31", "2001:db8::/32"] }],
                        "description": "test rule"
                    },
                    "filter": { "siteIds": [SITE], "groupIds": ["1511111111111111111"] }
                }));
            then.status(200).json_body(json!({ "data": {
                "id": "1901111111111111111",
                "name": "ruleAPI0405a26",
                "action": "Block",
                "status": "Enabled",
                "scope": "site"
            } }));
        })
        .await;
    let rule = BlockRemoteHosts::new(
        "ruleAPI0405a26",
        RemoteHostType::Cidr,
        ["203.193.22.248/31", " 2001:db8::/32 "],
    )
    .site_ids([SITE])
    .group_ids(["1511111111111111111"])
    .description("test rule");
    let created = support::facade_client(&server)
        .blocking()
        .block_remote_hosts(&rule)
        .await
        .expect("the rule is created");
    create.assert_async().await;
    assert_eq!(created.rule_id.as_deref(), Some("1901111111111111111"));
    assert_eq!(created.rule.scope.as_deref(), Some("site"));
}

#[tokio::test]
async fn firewall_rule_for_the_tenant_with_every_option() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST).path(FIREWALL).json_body(json!({
                "data": {
                    "name": "block-c2",
                    "action": "Block",
                    "status": "Disabled",
                    "osTypes": ["windows", "macos", "linux"],
                    "remoteHosts": [{ "type": "fqdn", "values": ["c2.example.com"] }],
                    "direction": "outbound"
                },
                "filter": { "tenant": true }
            }));
            then.status(200)
                .json_body(json!({ "data": { "id": "1901111111111111112" } }));
        })
        .await;
    let rule = BlockRemoteHosts::new("block-c2", RemoteHostType::Fqdn, ["c2.example.com"])
        .tenant(true)
        .status(RuleStatus::Disabled)
        .os_types([OsType::Windows, OsType::Macos, OsType::Linux])
        .direction(Direction::Outbound);
    let created = support::facade_client(&server)
        .blocking()
        .block_remote_hosts(&rule)
        .await
        .expect("the rule is created");
    create.assert_async().await;
    assert_eq!(created.rule_id.as_deref(), Some("1901111111111111112"));
}

#[tokio::test]
async fn firewall_rule_refusal_is_an_api_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(FIREWALL);
            then.status(400)
                .json_body(json!({ "errors": [{ "code": 4000010, "title": "BAD REQUEST" }] }));
        })
        .await;
    let rule = BlockRemoteHosts::new("r", RemoteHostType::Addresses, ["10.0.0.1"])
        .account_ids(["1311111111111111111"]);
    let err = support::facade_client(&server)
        .blocking()
        .block_remote_hosts(&rule)
        .await
        .expect_err("refused");
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.operation(), Some("create_firewall_rule"));
}

#[tokio::test]
async fn bad_firewall_rules_send_nothing() {
    let server = MockServer::start_async().await;
    let any = anything(&server).await;
    let client = support::facade_client(&server);
    let refused = |rule: BlockRemoteHosts| {
        let client = client.clone();
        async move {
            invalid_message(
                client
                    .blocking()
                    .block_remote_hosts(&rule)
                    .await
                    .unwrap_err(),
            )
        }
    };
    let cidr = |values: &[&str]| {
        BlockRemoteHosts::new("r", RemoteHostType::Cidr, values.to_vec()).site_ids([SITE])
    };

    assert_eq!(
        refused(BlockRemoteHosts::new(
            "r",
            RemoteHostType::Addresses,
            ["10.0.0.1"]
        ))
        .await,
        "scope: give the tenant, or at least one account, site or group id"
    );
    assert_eq!(
        refused(
            BlockRemoteHosts::new("r", RemoteHostType::Addresses, ["10.0.0.1"])
                .tenant(true)
                .site_ids([SITE])
        )
        .await,
        "scope: the tenant scope takes no account, site or group ids"
    );
    assert_eq!(
        refused(cidr(&["10.0.0.0/8", "10.0.0.0/33"])).await,
        "values[1] \"10.0.0.0/33\" is not a CIDR block (address/prefix)"
    );
    assert!(
        refused(cidr(&["10.0.0.0"]))
            .await
            .contains("not a CIDR block")
    );
    assert!(
        refused(
            BlockRemoteHosts::new("r", RemoteHostType::Addresses, ["10.0.0.256"]).site_ids([SITE])
        )
        .await
        .contains("not an IPv4 or IPv6 address")
    );
    assert!(
        refused(
            BlockRemoteHosts::new("r", RemoteHostType::Range, ["10.0.0.9-10.0.0.1"])
                .site_ids([SITE])
        )
        .await
        .contains("not an address range")
    );
    assert!(
        refused(
            BlockRemoteHosts::new("r", RemoteHostType::Fqdn, ["bad_host.com"]).site_ids([SITE])
        )
        .await
        .contains("not a host name")
    );
    assert!(
        refused(BlockRemoteHosts::new("r", RemoteHostType::Any, ["x"]).site_ids([SITE]))
            .await
            .contains("every remote host")
    );
    assert_eq!(
        refused(
            BlockRemoteHosts::new("r", RemoteHostType::Cidr, Vec::<String>::new()).site_ids([SITE])
        )
        .await,
        "values: at least one value is required"
    );
    assert_eq!(
        refused(cidr(&["10.0.0.0/8"]).os_types([])).await,
        "os_types: at least one value is required"
    );
    assert_eq!(
        refused(BlockRemoteHosts::new(" ", RemoteHostType::Cidr, ["10.0.0.0/8"]).site_ids([SITE]))
            .await,
        "name is required"
    );
    assert!(
        refused(cidr(&["10.0.0.0/8"]).site_ids(["site-1"]))
            .await
            .starts_with("site_ids[0]")
    );
    any.assert_calls_async(0).await;
}
