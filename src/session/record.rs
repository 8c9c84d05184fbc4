//! The session's own row, as stored in the object's SQL and shown by the API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{api::wire::SessionView, engine::Limits, time::rfc3339};

/// One session's settings and counters (table `session`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: String,
    pub tenant: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub ttl_seconds: i64,
    /// JSON object of string → string.
    pub metadata: String,
    /// Seed of the realm's `Math.random`; below 2^53 so it survives JavaScript numbers.
    pub seed: i64,
    pub execution_count: i64,
    /// JSON of the session's [`Limits`].
    pub limits: String,
}

impl SessionRecord {
    /// When the session expires unless it is used again (ms since the epoch).
    pub fn expires_at(&self) -> i64 {
        self.last_used_at + self.ttl_seconds * 1000
    }

    /// The session's limits (the defaults if the stored value cannot be read).
    pub fn limits(&self) -> Limits {
        serde_json::from_str(&self.limits).unwrap_or_default()
    }

    pub fn view(&self) -> SessionView {
        SessionView {
            id: self.id.clone(),
            created_at: rfc3339(self.created_at),
            last_used_at: rfc3339(self.last_used_at),
            expires_at: rfc3339(self.expires_at()),
            ttl_seconds: self.ttl_seconds.max(0) as u64,
            metadata: serde_json::from_str::<BTreeMap<String, String>>(&self.metadata)
                .unwrap_or_default(),
            execution_count: self.execution_count.max(0) as u64,
            limits: self.limits(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_last_use_plus_ttl() {
        let record = SessionRecord {
            id: "ses_x".into(),
            tenant: "t".into(),
            created_at: 0,
            last_used_at: 1000,
            ttl_seconds: 60,
            metadata: r#"{"a":"b"}"#.into(),
            seed: 1,
            execution_count: 3,
            limits: serde_json::to_string(&Limits::default()).expect("json"),
        };
        let view = record.view();
        assert_eq!(view.expires_at, "1970-01-01T00:01:01.000Z");
        assert_eq!(view.metadata.get("a").map(String::as_str), Some("b"));
        assert_eq!(view.execution_count, 3);
        assert_eq!(view.limits, Limits::default());
    }
}
