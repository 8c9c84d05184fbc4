//! Request and response bodies of API v1, and their validation.

use std::collections::BTreeMap;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::error::ApiError;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Most metadata entries per session.
pub const MAX_METADATA_ENTRIES: usize = 32;
/// Longest metadata key, in bytes.
pub const MAX_METADATA_KEY: usize = 128;
/// Longest metadata value, in bytes.
pub const MAX_METADATA_VALUE: usize = 1024;

/// `POST /v1/sessions` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    pub ttl_seconds: Option<u64>,
    pub metadata: Option<BTreeMap<String, String>>,
}

/// `POST /v1/sessions/{id}/exec` body.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExecRequest {
    pub code: String,
}

/// A session as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    pub ttl_seconds: u64,
    pub metadata: BTreeMap<String, String>,
    pub execution_count: u64,
}

/// TTL settings from the Worker's vars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlPolicy {
    pub default_seconds: u64,
    pub max_seconds: u64,
}

impl Default for TtlPolicy {
    fn default() -> Self {
        Self {
            default_seconds: 3600,
            max_seconds: 86_400,
        }
    }
}

impl CreateSessionRequest {
    /// Checks ranges and sizes; returns the effective TTL.
    pub fn validate(&self, policy: TtlPolicy) -> Result<u64, ApiError> {
        let ttl = self.ttl_seconds.unwrap_or(policy.default_seconds);
        if ttl == 0 || ttl > policy.max_seconds {
            return Err(ApiError::InvalidRequest(format!(
                "ttl_seconds must be between 1 and {}",
                policy.max_seconds
            )));
        }
        if let Some(metadata) = &self.metadata {
            if metadata.len() > MAX_METADATA_ENTRIES {
                return Err(ApiError::InvalidRequest(format!(
                    "metadata has more than {MAX_METADATA_ENTRIES} entries"
                )));
            }
            for (k, v) in metadata {
                if k.is_empty() || k.len() > MAX_METADATA_KEY {
                    return Err(ApiError::InvalidRequest(format!(
                        "metadata keys must be 1 to {MAX_METADATA_KEY} bytes"
                    )));
                }
                if v.len() > MAX_METADATA_VALUE {
                    return Err(ApiError::InvalidRequest(format!(
                        "metadata value of `{k}` is longer than {MAX_METADATA_VALUE} bytes"
                    )));
                }
            }
        }
        Ok(ttl)
    }
}

/// Whether a `content-type` header value names JSON.
fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Parses a JSON request body. An empty body is `None` (callers decide whether that is allowed);
/// a non-empty body must be declared as JSON.
pub fn parse_body<T: DeserializeOwned>(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Option<T>, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if !is_json(content_type) {
        return Err(ApiError::UnsupportedMediaType);
    }
    serde_json::from_slice(body).map(Some).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => ApiError::InvalidRequest(e.to_string()),
            Category::Syntax | Category::Eof | Category::Io => ApiError::InvalidJson(e.to_string()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Option<&str> = Some("application/json; charset=utf-8");

    fn parse<T: DeserializeOwned>(body: &str) -> Result<Option<T>, ApiError> {
        parse_body(JSON, body.as_bytes())
    }

    #[test]
    fn empty_body_is_none() {
        assert!(parse::<CreateSessionRequest>("").expect("ok").is_none());
        assert!(parse_body::<CreateSessionRequest>(None, b" \n")
            .expect("ok")
            .is_none());
    }

    #[test]
    fn malformed_json_is_invalid_json() {
        assert_eq!(
            parse::<ExecRequest>("{\"code\":")
                .map_err(|e| e.code())
                .err(),
            Some("invalid_json")
        );
        assert_eq!(
            parse::<ExecRequest>("nope").map_err(|e| e.code()).err(),
            Some("invalid_json")
        );
    }

    #[test]
    fn wrong_types_and_unknown_fields_are_invalid_request() {
        for body in [r#"{"code":5}"#, r#"{"code":"1","x":1}"#, "[]", r#"{}"#, "5"] {
            let err = parse::<ExecRequest>(body).expect_err(body);
            assert_eq!(err.code(), "invalid_request", "{body}");
        }
        for body in [
            r#"{"ttl_seconds":"x"}"#,
            r#"{"ttl_seconds":-1}"#,
            r#"{"ttl_seconds":1.5}"#,
            r#"{"metadata":{"a":1}}"#,
        ] {
            let err = parse::<CreateSessionRequest>(body).expect_err(body);
            assert_eq!(err.code(), "invalid_request", "{body}");
        }
    }

    #[test]
    fn non_json_content_type_is_415() {
        let err =
            parse_body::<ExecRequest>(Some("text/plain"), b"{\"code\":\"1\"}").expect_err("415");
        assert_eq!(err.status(), 415);
        let err = parse_body::<ExecRequest>(None, b"{\"code\":\"1\"}").expect_err("415");
        assert_eq!(err.status(), 415);
    }

    #[test]
    fn oversized_body_is_413() {
        let body = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            parse_body::<ExecRequest>(JSON, &body)
                .map_err(|e| e.status())
                .err(),
            Some(413)
        );
    }

    #[test]
    fn ttl_must_be_within_policy() {
        let policy = TtlPolicy {
            default_seconds: 60,
            max_seconds: 100,
        };
        let req = |ttl| CreateSessionRequest {
            ttl_seconds: ttl,
            metadata: None,
        };
        assert_eq!(req(None).validate(policy), Ok(60));
        assert_eq!(req(Some(100)).validate(policy), Ok(100));
        assert!(req(Some(0)).validate(policy).is_err());
        assert!(req(Some(101)).validate(policy).is_err());
    }

    #[test]
    fn metadata_is_bounded() {
        let policy = TtlPolicy::default();
        let many: BTreeMap<String, String> = (0..=MAX_METADATA_ENTRIES)
            .map(|i| (i.to_string(), String::new()))
            .collect();
        let req = CreateSessionRequest {
            ttl_seconds: None,
            metadata: Some(many),
        };
        assert!(req.validate(policy).is_err());
        let long = BTreeMap::from([("k".to_string(), "v".repeat(MAX_METADATA_VALUE + 1))]);
        let req = CreateSessionRequest {
            ttl_seconds: None,
            metadata: Some(long),
        };
        assert!(req.validate(policy).is_err());
    }
}
