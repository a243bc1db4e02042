//! Requests built from an operation's description in the operation table
//! (`raw::OPERATIONS`) and its parameters by name: what a caller that knows
//! operations only at run time (the `s1 api` command line) sends.

use progenitor_client::encode_path;
use serde_json::Value;

use crate::raw::{OperationSpec, ParamLocation, ResponseKind};
use crate::{Client, DEFAULT_DOWNLOAD_TIMEOUT, Error};

impl Client {
    /// The request of operation `spec` with `params` (name as the API
    /// spells it, value as text; lists comma-joined) and an optional JSON
    /// body, ready for [`Client::execute`]. Path parameters are
    /// percent-encoded as the generated builders encode them; query
    /// parameters keep their order; header parameters become headers (the
    /// Authorization header is the client's own); parameters `spec` does not declare are
    /// refused, and so is a path parameter left out. A file answer gets
    /// [`DEFAULT_DOWNLOAD_TIMEOUT`] instead of the call timeout. Needs the
    /// `operations` feature (the table of every operation).
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let spec = sentinelone::raw::operation("list_agents").expect("in the spec");
    /// let request = client.operation_request(spec, &[("computerName__contains", "web-01")], None)?;
    /// let response = client.execute(request, spec.id).await?;
    /// println!("{}", response.status());
    /// # Ok(())
    /// # }
    /// ```
    pub fn operation_request(
        &self,
        spec: &OperationSpec,
        params: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<reqwest::Request, Error> {
        let mut path = spec.path.to_string();
        let mut query = Vec::new();
        let mut headers = Vec::new();
        for (name, value) in params {
            let Some(param) = spec.params.iter().find(|p| p.name == *name) else {
                return Err(Error::invalid(format!(
                    "{}: no parameter {name:?}",
                    spec.id
                )));
            };
            match param.location {
                ParamLocation::Path => {
                    path = path.replace(&format!("{{{name}}}"), &encode_path(value));
                }
                ParamLocation::Query => query.push((*name, *value)),
                ParamLocation::Header => headers.push((*name, *value)),
            }
        }
        if path.contains('{') {
            return Err(Error::invalid(format!(
                "{}: a path parameter is missing in {path}",
                spec.id
            )));
        }
        let method = reqwest::Method::from_bytes(spec.method.as_bytes())
            .map_err(|e| Error::invalid(format!("{}: {e}", spec.id)))?;
        let mut builder = self.request(method, &path);
        if !query.is_empty() {
            builder = builder.query(&query);
        }
        for (name, value) in headers {
            let value = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
                Error::invalid(format!("{}: header {name} cannot hold {value:?}", spec.id))
            })?;
            builder = builder.header(name, value);
        }
        if let Some(body) = body {
            builder = builder.json(body);
        }
        if matches!(spec.response, ResponseKind::Binary(_)) {
            builder = builder.timeout(DEFAULT_DOWNLOAD_TIMEOUT);
        }
        builder
            .build()
            .map_err(|e| Error::invalid(format!("{}: {e}", spec.id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder()
            .console_url("https://console.example")
            .api_token("t0ken-for-tests")
            .build()
            .unwrap()
    }

    #[test]
    fn path_parameters_are_encoded_and_required() {
        let spec = crate::raw::operation("get_agent_local_upgrade_authorization").unwrap();
        let request = client()
            .operation_request(spec, &[("agent_id", "a b/c?d")], None)
            .unwrap();
        assert_eq!(
            request.url().path(),
            "/web/api/v2.1/agents/a%20b%2Fc%3Fd/local-upgrade-authorization"
        );
        let missing = client().operation_request(spec, &[], None).unwrap_err();
        assert!(missing.to_string().contains("path parameter"), "{missing}");
        let unknown = client()
            .operation_request(spec, &[("agentId", "1")], None)
            .unwrap_err();
        assert!(unknown.to_string().contains("no parameter"), "{unknown}");
    }

    #[test]
    fn header_parameters_become_headers() {
        let spec = crate::raw::operation("get_lrq_query").unwrap();
        let request = client()
            .operation_request(
                spec,
                &[
                    ("query_id", "q1"),
                    ("lastStepSeen", "2"),
                    ("X-Dataset-Query-Forward-Tag", "node-3"),
                ],
                None,
            )
            .unwrap();
        assert_eq!(request.url().path(), "/sdl/v2/api/queries/q1");
        assert_eq!(request.url().query(), Some("lastStepSeen=2"));
        assert_eq!(request.headers()["x-dataset-query-forward-tag"], "node-3");
        let bad = client().operation_request(
            spec,
            &[("query_id", "q1"), ("X-Dataset-Query-Forward-Tag", "a\nb")],
            None,
        );
        assert!(matches!(bad, Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn query_pairs_keep_their_order() {
        let spec = crate::raw::operation("list_agents").unwrap();
        let request = client()
            .operation_request(spec, &[("limit", "5"), ("cursor", "abc")], None)
            .unwrap();
        assert_eq!(request.url().query(), Some("limit=5&cursor=abc"));
    }
}
