//! Bodies of the fork and checkpoint routes, and the rules for checkpoint names.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::engine::limits::whole_number;

use super::{
    error::ApiError,
    wire::{CreateSessionRequest, SessionPolicy},
};

/// Most forks one request makes.
pub const MAX_FORKS: u64 = 10;

/// Longest checkpoint name.
pub const MAX_NAME_LEN: usize = 64;

/// `POST /v1/sessions/{id}/fork` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForkRequest {
    #[serde(default, deserialize_with = "whole_number")]
    pub count: Option<u64>,
    #[serde(default, deserialize_with = "whole_number")]
    pub ttl_seconds: Option<u64>,
    pub metadata: Option<BTreeMap<String, String>>,
}

/// A checked fork request.
#[derive(Debug, PartialEq)]
pub struct Fork {
    pub count: u64,
    pub ttl_seconds: Option<u64>,
    pub metadata: Option<BTreeMap<String, String>>,
}

impl ForkRequest {
    /// The number of forks, and the TTL and metadata if given (checked like a new session's).
    pub fn validate(self, policy: SessionPolicy) -> Result<Fork, ApiError> {
        let count = self.count.unwrap_or(1);
        if !(1..=MAX_FORKS).contains(&count) {
            return Err(ApiError::InvalidRequest(format!(
                "count must be between 1 and {MAX_FORKS}"
            )));
        }
        let as_create = CreateSessionRequest {
            ttl_seconds: self.ttl_seconds,
            metadata: self.metadata,
            ..CreateSessionRequest::default()
        };
        as_create.validate(policy)?;
        Ok(Fork {
            count,
            ttl_seconds: self.ttl_seconds,
            metadata: as_create.metadata,
        })
    }
}

/// `POST /v1/sessions/{id}/checkpoints` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointRequest {
    pub name: Option<String>,
}

/// A checkpoint name: 1 to 64 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::InvalidRequest(format!(
            "checkpoint name {name:?} is not valid: use 1 to {MAX_NAME_LEN} letters, digits, \
             `.`, `_` or `-`, starting with a letter or digit"
        )))
    }
}

/// A generated name: `cp-` and the time in base 36 and 4 random characters, so names sort by
/// creation.
pub fn generated_name(now_ms: u64, random: u32) -> String {
    format!(
        "cp-{}-{}",
        base36(now_ms),
        base36(u64::from(random % 1_679_616))
    )
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::wire::parse_body;

    fn policy() -> SessionPolicy {
        SessionPolicy::from_vars(|_| None)
    }

    #[test]
    fn fork_count_is_one_to_ten() {
        assert_eq!(
            ForkRequest::default().validate(policy()).map(|v| v.count),
            Ok(1)
        );
        for bad in [0, 11] {
            let req = ForkRequest {
                count: Some(bad),
                ..ForkRequest::default()
            };
            assert_eq!(req.validate(policy()).map_err(|e| e.status()), Err(400));
        }
        let ttl = ForkRequest {
            ttl_seconds: Some(0),
            ..ForkRequest::default()
        };
        assert!(ttl.validate(policy()).is_err());
    }

    #[test]
    fn fork_numbers_are_json_integers() {
        let req: ForkRequest = parse_body(Some("application/json"), br#"{"count": 3.0}"#)
            .expect("parse")
            .expect("body");
        assert_eq!(req.count, Some(3));
        assert!(parse_body::<ForkRequest>(Some("application/json"), br#"{"count": 2.5}"#).is_err());
    }

    #[test]
    fn checkpoint_names() {
        for good in ["a", "before-refactor", "v1.2_x", &"n".repeat(64)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "-x", ".x", "a b", "a/b", "ü", &"n".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        let generated = generated_name(1_764_583_200_000, 12345);
        assert!(check_name(&generated).is_ok(), "{generated}");
        assert!(generated_name(1, 0) < generated_name(2, 0));
    }
}
