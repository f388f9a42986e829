//! Secrets never reach a terminal, a log or a report.
//!
//! [`SecretUrl`] displays as `scheme://user:***@host:port/path`; its password (and any query
//! parameter that looks like a credential) is only reachable through [`SecretUrl::expose`].
//! Every secret shopbench learns is also registered here, and [`scrub`] replaces any of them in a
//! text: the binary passes every error message through it, so a secret echoed by a driver's
//! error is still hidden.

use std::fmt;
use std::sync::{Mutex, OnceLock};

use url::Url;

const MASK: &str = "***";

fn registry() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remember a secret so that [`scrub`] hides it. Short strings are ignored: masking "a" would
/// destroy every message without protecting anything.
pub fn register(secret: &str) {
    if secret.len() < 4 {
        return;
    }
    let mut known = registry().lock().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == secret) {
        known.push(secret.to_string());
        // longest first, so a secret containing another is replaced whole
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// `text` with every registered secret (raw and percent-encoded) replaced by `***`.
pub fn scrub(text: &str) -> String {
    let known = registry().lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for secret in known.iter() {
        out = out.replace(secret.as_str(), MASK);
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        if encoded != *secret {
            out = out.replace(&encoded, MASK);
        }
    }
    out
}

fn is_credential_param(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "key",
        "credential",
        "signature",
    ]
    .iter()
    .any(|k| key.contains(k))
}

/// A connection URL that may hold a password.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(Url);

impl SecretUrl {
    /// Wraps `url` and registers its secrets with the scrubber.
    pub fn new(url: Url) -> Self {
        if let Some(password) = url.password() {
            register(password);
            if let Ok(decoded) = urlencoding_decode(password) {
                register(&decoded);
            }
        }
        for (key, value) in url.query_pairs() {
            if is_credential_param(&key) {
                register(&value);
            }
        }
        SecretUrl(url)
    }

    /// The real URL, password included: only for handing to a driver.
    pub fn expose(&self) -> &Url {
        &self.0
    }

    /// The URL as shown to people.
    pub fn redacted(&self) -> String {
        let mut shown = self.0.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some(MASK));
        }
        if shown.query().is_some() {
            let pairs: Vec<(String, String)> = shown
                .query_pairs()
                .map(|(k, v)| {
                    let v = if is_credential_param(&k) {
                        MASK.to_string()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            shown.query_pairs_mut().clear().extend_pairs(pairs);
        }
        shown.to_string()
    }

    pub fn password(&self) -> Option<String> {
        self.0
            .password()
            .map(|p| urlencoding_decode(p).unwrap_or_else(|_| p.to_string()))
    }

    pub fn username(&self) -> &str {
        self.0.username()
    }
}

fn urlencoding_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8(bytes)
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hides_password_and_credential_params() {
        let url = SecretUrl::new(
            Url::parse("postgres://alice:s3cr%40t-pw@db.example:5432/shop?sslmode=require&password=other-pw").unwrap(),
        );
        let shown = url.to_string();
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(!shown.contains("other-pw"), "{shown}");
        assert!(shown.contains("alice:***@db.example:5432/shop"), "{shown}");
        assert!(shown.contains("sslmode=require"), "{shown}");
        assert_eq!(url.password().as_deref(), Some("s3cr@t-pw"));
    }

    #[test]
    fn scrub_removes_registered_secrets_raw_and_encoded() {
        let _ = SecretUrl::new(Url::parse("redis://:hunter2-long@127.0.0.1:6379/0").unwrap());
        let text = "connect to redis://:hunter2-long@127.0.0.1 failed; auth hunter2-long";
        let scrubbed = scrub(text);
        assert!(!scrubbed.contains("hunter2-long"), "{scrubbed}");
        register("p@ss word!");
        assert_eq!(scrub("x p%40ss+word%21 y p@ss word! z"), "x *** y *** z");
    }

    #[test]
    fn urls_without_password_are_unchanged() {
        let url = SecretUrl::new(Url::parse("http://127.0.0.1:8123/").unwrap());
        assert_eq!(url.to_string(), "http://127.0.0.1:8123/");
    }
}
