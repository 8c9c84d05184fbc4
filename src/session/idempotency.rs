//! `Idempotency-Key` on `exec`: a retried request gets the answer recorded for its key instead of
//! running the cell again. The answer is recorded in the same storage event as the cell's
//! journal entry (or its rollback), so a cell whose effects were committed always has its
//! answer recorded too: no retry can run it twice, even across a restart.

use sha2::{Digest, Sha256};

/// Longest key accepted (bytes).
pub const MAX_KEY_LEN: usize = 255;

/// How long a key's answer is kept after the cell ended (24 hours), within the session's life.
pub const RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

/// The request header a client sends.
pub const HEADER: &str = "idempotency-key";

/// Set on an answer that was recorded earlier and not produced by running the cell now.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// A key as a client sends it: 1 to 255 visible ASCII characters (`!` through `~`).
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(format!(
            "`Idempotency-Key` must be 1 to {MAX_KEY_LEN} characters, not {}",
            key.len()
        ));
    }
    if let Some(bad) = key.chars().find(|c| !('!'..='~').contains(c)) {
        return Err(format!(
            "`Idempotency-Key` may hold only visible ASCII characters (`!` to `~`), not {bad:?}"
        ));
    }
    Ok(())
}

/// What identifies the request a key was first used with: its code and its input. Hashed, so
/// a recorded key costs 64 bytes whatever the cell's size.
pub fn fingerprint(code: &str, input: Option<&serde_json::Value>) -> String {
    let mut hash = Sha256::new();
    hash.update((code.len() as u64).to_le_bytes());
    hash.update(code.as_bytes());
    match input {
        None => hash.update([0]),
        Some(value) => {
            hash.update([1]);
            hash.update(value.to_string().as_bytes());
        }
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// An answer recorded under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub fingerprint: String,
    /// The JSON body answered the first time.
    pub answer: String,
}

/// What a repeated key gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recall {
    /// The same request: answer this again.
    Replay(String),
    /// The key was used with other code or input.
    Conflict,
}

impl Recorded {
    /// How a request with `fingerprint` is answered given this record.
    pub fn recall(&self, fingerprint: &str) -> Recall {
        if self.fingerprint == fingerprint {
            Recall::Replay(self.answer.clone())
        } else {
            Recall::Conflict
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(check_key("a").is_ok());
        assert!(check_key("retry-2026-12-01T10:00:00Z/7").is_ok());
        assert!(check_key(&"k".repeat(255)).is_ok());
        assert!(check_key("").unwrap_err().contains("1 to 255"));
        assert!(check_key(&"k".repeat(256)).unwrap_err().contains("not 256"));
        assert!(check_key("has space").unwrap_err().contains("' '"));
        assert!(check_key("é").is_err());
    }

    #[test]
    fn fingerprint_tells_code_and_input_apart() {
        let base = fingerprint("1+1", None);
        assert_eq!(base, fingerprint("1+1", None));
        assert_eq!(base.len(), 64);
        assert_ne!(base, fingerprint("1+2", None));
        assert_ne!(base, fingerprint("1+1", Some(&json!(null))));
        assert_ne!(
            fingerprint("1+1", Some(&json!({"a": 1}))),
            fingerprint("1+1", Some(&json!({"a": 2})))
        );
        // The length prefix keeps code and input from running into each other.
        assert_ne!(
            fingerprint("a", Some(&json!("b"))),
            fingerprint("a\u{1}\"b\"", None)
        );
    }

    #[test]
    fn recall_replays_the_same_request_only() {
        let record = Recorded {
            fingerprint: fingerprint("x", None),
            answer: "{\"status\":\"ok\"}".into(),
        };
        assert_eq!(
            record.recall(&fingerprint("x", None)),
            Recall::Replay("{\"status\":\"ok\"}".into())
        );
        assert_eq!(record.recall(&fingerprint("y", None)), Recall::Conflict);
    }
}
