//! Requests the transport refuses to send. The transport answers with
//! `reqwest` results only, so a refusal travels as a made-up answer that
//! never came from the network: status 400, no body to speak of, and a
//! header carrying the reason. Converting it into [`Error`] (the generated
//! client's errors, [`crate::Client::execute`]) gives back
//! [`Error::InvalidInput`] with that reason.

use http::HeaderValue;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use reqwest::header::{CONTENT_TYPE, HeaderMap};

use crate::{Error, validate};

/// The header of a made-up answer; its value is the reason, percent-encoded.
const REFUSED_HEADER: &str = "x-sentinelone-refused";

/// What is percent-encoded in the reason: controls, non-ASCII and `%`.
const ENCODED: &AsciiSet = &CONTROLS.add(b'%');

/// The made-up answer for `request` of `operation` when it must not be
/// sent: its path is not its operation's path template (see
/// [`validate::request_path`]). `None` when it may go.
pub(crate) fn check(operation: &str, request: &reqwest::Request) -> Option<reqwest::Response> {
    let Err(refusal) = validate::request_path(operation, request.url()) else {
        return None;
    };
    tracing::warn!(operation, "request refused before sending: {refusal}");
    Some(answer(&refusal))
}

/// The answer standing for `refusal`.
fn answer(refusal: &Error) -> reqwest::Response {
    let reason = match refusal {
        Error::InvalidInput { message } => message.clone(),
        other => other.to_string(),
    };
    let encoded = utf8_percent_encode(&reason, ENCODED).to_string();
    let mut answer = http::Response::new(r#"{"errors":[]}"#);
    *answer.status_mut() = http::StatusCode::BAD_REQUEST;
    let headers = answer.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(value) = HeaderValue::from_str(&encoded) {
        headers.insert(REFUSED_HEADER, value);
    }
    reqwest::Response::from(answer)
}

/// The [`Error::InvalidInput`] a made-up answer stands for, when `headers`
/// are those of one.
pub(crate) fn error(headers: &HeaderMap) -> Option<Error> {
    let encoded = headers.get(REFUSED_HEADER)?.to_str().ok()?;
    Some(Error::invalid(
        percent_decode_str(encoded).decode_utf8_lossy().into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_survives_the_round_trip() {
        let refusal = Error::invalid("op: path parameter id \"é%2e\" is not allowed");
        let answer = answer(&refusal);
        assert_eq!(answer.status(), 400);
        match error(answer.headers()) {
            Some(Error::InvalidInput { message }) => {
                assert_eq!(message, "op: path parameter id \"é%2e\" is not allowed")
            }
            other => panic!("{other:?}"),
        }
        assert!(error(&HeaderMap::new()).is_none());
    }
}
