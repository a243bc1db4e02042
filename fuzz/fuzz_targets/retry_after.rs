//! The Retry-After parser never panics and only ever asks for a sensible
//! wait: exactly the seconds given, or no more than the time until the
//! date given (nothing for a date past); anything else is no wait at all.
//! (The transport then caps the wait at `RetryPolicy::max_retry_after`.)
#![no_main]

use std::time::{Duration, SystemTime};

use http::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use libfuzzer_sys::fuzz_target;
use sentinelone::retry_after;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(RETRY_AFTER, value);
    let before = SystemTime::now();
    let wait = retry_after(&headers);

    // A header value reads as text only when it is visible ASCII.
    let text = headers[RETRY_AFTER].to_str().ok().map(str::trim);
    let numeric = text.filter(|t| {
        let digits = t.strip_prefix('+').unwrap_or(t);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    if let Some(number) = numeric {
        // Seconds: exactly that many (none when beyond u64).
        assert_eq!(wait, number.parse::<u64>().ok().map(Duration::from_secs));
    } else if let Some(wait) = wait {
        let date = httpdate::parse_http_date(text.expect("a wait needs text"))
            .expect("a wait that is not seconds comes from an HTTP date");
        let most = date.duration_since(before).unwrap_or(Duration::ZERO);
        assert!(wait <= most, "{wait:?} is beyond the date ({most:?})");
    }

    // Without the header there is no wait.
    assert_eq!(retry_after(&HeaderMap::new()), None);
});
