//! API keys: the `API_KEYS` secret maps keys to tenants.
//!
//! Format: comma-separated `tenant=key` pairs, split at the first `=`; whitespace around items
//! is ignored. Tenants match `[A-Za-z0-9_-]{1,64}`; keys are at least 16 characters.

/// The parsed key table.
#[derive(Debug, Clone, Default)]
pub struct KeyTable {
    entries: Vec<(String, Vec<u8>)>,
}

/// Shortest accepted key.
pub const MIN_KEY_LEN: usize = 16;

impl KeyTable {
    /// Parses the secret; a malformed entry is an error naming its position (never the key).
    pub fn parse(secret: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        for (i, item) in secret.split(',').map(str::trim).enumerate() {
            if item.is_empty() {
                continue;
            }
            let Some((tenant, key)) = item.split_once('=') else {
                return Err(format!("API_KEYS entry {} is not `tenant=key`", i + 1));
            };
            let (tenant, key) = (tenant.trim(), key.trim());
            if !is_tenant_name(tenant) {
                return Err(format!("API_KEYS entry {}: bad tenant name", i + 1));
            }
            if key.len() < MIN_KEY_LEN {
                return Err(format!(
                    "API_KEYS entry {}: key shorter than {MIN_KEY_LEN} characters",
                    i + 1
                ));
            }
            entries.push((tenant.to_string(), key.as_bytes().to_vec()));
        }
        Ok(Self { entries })
    }

    /// The tenant whose key is presented in an `Authorization` header value, if any.
    /// Every key is compared, in constant time, so timing reveals neither which key nor how
    /// much of it matched.
    pub fn authenticate(&self, authorization: Option<&str>) -> Option<&str> {
        let presented = authorization?.strip_prefix("Bearer ")?.trim().as_bytes();
        let mut found = None;
        for (tenant, key) in &self.entries {
            if constant_time_eq(presented, key) && found.is_none() {
                found = Some(tenant.as_str());
            }
        }
        found
    }
}

fn is_tenant_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0xff);
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "acme=sk_acme_0123456789abcdef, globex = sk_globex_0123456789ab==";

    #[test]
    fn bearer_key_names_its_tenant() {
        let keys = KeyTable::parse(SECRET).expect("parse");
        assert_eq!(
            keys.authenticate(Some("Bearer sk_acme_0123456789abcdef")),
            Some("acme")
        );
        assert_eq!(
            keys.authenticate(Some("Bearer sk_globex_0123456789ab==")),
            Some("globex")
        );
    }

    #[test]
    fn missing_wrong_or_other_scheme_is_refused() {
        let keys = KeyTable::parse(SECRET).expect("parse");
        for header in [
            None,
            Some(""),
            Some("Bearer "),
            Some("Bearer sk_acme_0123456789abcdeX"),
            Some("Bearer sk_acme_0123456789abcde"),
            Some("Basic sk_acme_0123456789abcdef"),
            Some("sk_acme_0123456789abcdef"),
        ] {
            assert_eq!(keys.authenticate(header), None, "{header:?}");
        }
    }

    #[test]
    fn malformed_secrets_are_rejected_without_echoing_keys() {
        for bad in ["acme", "bad tenant=0123456789abcdef0", "acme=tiny-k3y"] {
            let err = KeyTable::parse(bad).expect_err(bad);
            assert!(
                !err.contains("0123456789abcdef0") && !err.contains("tiny-k3y"),
                "{err}"
            );
        }
    }

    #[test]
    fn empty_secret_accepts_nobody() {
        let keys = KeyTable::parse("").expect("parse");
        assert_eq!(keys.authenticate(Some("Bearer anything-at-all-here")), None);
    }

    #[test]
    fn constant_time_eq_matches_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
    }
}
