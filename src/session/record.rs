//! The session's own row, as stored in the object's SQL and shown by the API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    api::wire::{FilesView, NetworkView, SessionView},
    engine::Limits,
    time::rfc3339,
};

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
    /// JSON array of the session's `network.allow` rules.
    #[serde(default = "empty_array")]
    pub network: String,
    /// JSON object of the session's secrets. Never shown, never copied to KV.
    #[serde(default = "empty_object")]
    pub env: String,
    /// Totals of the session's files (from the `files` table; not stored in the row).
    #[serde(default)]
    pub files_count: i64,
    #[serde(default)]
    pub files_bytes: i64,
}

fn empty_array() -> String {
    "[]".into()
}

fn empty_object() -> String {
    "{}".into()
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

    /// The `network.allow` rules, as given.
    pub fn network_rules(&self) -> Vec<String> {
        serde_json::from_str(&self.network).unwrap_or_default()
    }

    /// The secrets, for the realm's `env`.
    pub fn env(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.env).unwrap_or_default()
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
            network: NetworkView {
                allow: self.network_rules(),
            },
            // Names only: values are never shown after creation.
            env: {
                let mut names: Vec<String> = self.env().keys().cloned().collect();
                names.sort();
                names
            },
            files: FilesView {
                count: self.files_count.max(0) as u64,
                bytes: self.files_bytes.max(0) as u64,
            },
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
            network: r#"["api.example.com"]"#.into(),
            env: r#"{"TOKEN":"s3cret","A":"b"}"#.into(),
            files_count: 2,
            files_bytes: 10,
        };
        let view = record.view();
        assert_eq!(view.expires_at, "1970-01-01T00:01:01.000Z");
        assert_eq!(view.metadata.get("a").map(String::as_str), Some("b"));
        assert_eq!(view.execution_count, 3);
        assert_eq!(view.limits, Limits::default());
        assert_eq!(view.network.allow, ["api.example.com"]);
        assert_eq!(view.env, ["A", "TOKEN"]);
        assert_eq!(
            view.files,
            FilesView {
                count: 2,
                bytes: 10
            }
        );
        let shown = serde_json::to_string(&view).expect("json");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
