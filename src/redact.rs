//! Keeping secrets out of error text.
//!
//! A hostile or confused console may echo the request back: the API token,
//! an archive password. Every place where console text becomes error text
//! (error bodies, decode-error excerpts and messages, the host of a refused
//! redirect) passes it through [`redact`], which replaces every secret that
//! is currently registered with [`REDACTED`].
//!
//! Secrets are registered for as long as something needs them: a client's
//! token for the life of the client (and its clones), an archive password
//! for the call that sends it. The registry is process-wide because errors
//! are converted in places that do not know their client (`?` on a
//! generated call); a secret of one client redacted from another client's
//! error costs nothing.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use secrecy::{ExposeSecret, SecretString};

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The secrets of live clients and running calls.
static LIVE: Mutex<Vec<Weak<Forms>>> = Mutex::new(Vec::new());

/// A secret in every form it may come back in, longest first.
struct Forms(Vec<SecretString>);

/// Keeps a secret out of error text while it, or a clone, lives.
#[derive(Clone)]
pub(crate) struct Registered {
    _forms: Arc<Forms>,
}

fn live() -> MutexGuard<'static, Vec<Weak<Forms>>> {
    // A panic elsewhere while holding the lock leaves a usable list.
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Registers `secret` (as sent, JSON-escaped and URL-encoded) until the
/// returned value and its clones are dropped. An empty secret registers
/// nothing.
pub(crate) fn register(secret: &str) -> Registered {
    let forms = Arc::new(Forms(forms(secret)));
    let mut live = live();
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(&forms));
    Registered { _forms: forms }
}

/// The forms `secret` may be echoed in: as sent, as a JSON string's
/// content, URL-encoded (`+` or `%20` for spaces), and in lower case (a
/// host name in a URL is lowered when parsed). Longest first, so a longer
/// form is replaced before a shorter one inside it.
fn forms(secret: &str) -> Vec<SecretString> {
    if secret.is_empty() {
        return Vec::new();
    }
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or_default()
        .to_string();
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let percent = form.replace('+', "%20");
    let lower = secret.to_lowercase();
    let mut all = vec![secret.to_string(), json, form, percent, lower];
    all.retain(|f| !f.is_empty());
    all.sort_by_key(|f| std::cmp::Reverse(f.len()));
    all.dedup();
    all.into_iter().map(SecretString::from).collect()
}

/// `text` with every registered secret replaced by [`REDACTED`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let live = live();
    let mut out = Cow::Borrowed(text);
    for forms in live.iter().filter_map(Weak::upgrade) {
        for form in &forms.0 {
            let form = form.expose_secret();
            if out.contains(form) {
                out = Cow::Owned(out.replace(form, REDACTED));
            }
        }
    }
    out
}

/// [`redact`] of a body's bytes, for text shown from it.
pub(crate) fn redact_lossy(bytes: &[u8]) -> String {
    redact(&String::from_utf8_lossy(bytes)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_live_secret_is_replaced() {
        let secret = "unit Sec\"ret/+ 42";
        let kept = register(secret);
        let json = serde_json::to_string(secret).unwrap();
        let text = format!(
            "raw {secret} json {json} form unit+Sec%22ret%2F%2B+42 pct unit%20Sec%22ret%2F%2B%2042"
        );
        let clean = redact(&text);
        assert!(!clean.contains("Sec"), "{clean}");
        assert_eq!(clean.matches(REDACTED).count(), 4, "{clean}");
        assert_eq!(redact(&secret.to_lowercase()), REDACTED);
        drop(kept);
        assert!(redact(&text).contains(secret));
    }

    #[test]
    fn text_without_secrets_is_borrowed() {
        let _kept = register("unit-only-secret-1");
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
        let _empty = register("");
        assert_eq!(redact("abc"), "abc");
    }
}
