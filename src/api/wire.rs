//! Request and response bodies of API v1, and their validation.

use std::collections::BTreeMap;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::error::ApiError;
use crate::{
    bindings,
    engine::{
        limits::{clamp, Limits, LimitsRequest},
        Outcome,
    },
    net::policy::AllowList,
};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Most metadata entries per session.
pub const MAX_METADATA_ENTRIES: usize = 32;
/// Longest metadata key, in bytes.
pub const MAX_METADATA_KEY: usize = 128;
/// Longest metadata value, in bytes.
pub const MAX_METADATA_VALUE: usize = 1024;
/// Largest `POST /v1/run` body: it may carry files inline.
pub const MAX_RUN_BODY_BYTES: usize = 10 << 20;
/// Most `env` entries per session.
pub const MAX_ENV_ENTRIES: usize = 64;
/// Longest `env` name, in bytes.
pub const MAX_ENV_NAME: usize = 128;
/// Longest `env` value, in bytes.
pub const MAX_ENV_VALUE: usize = 4096;

/// `POST /v1/sessions` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    #[serde(default, deserialize_with = "crate::engine::limits::whole_number")]
    pub ttl_seconds: Option<u64>,
    pub metadata: Option<BTreeMap<String, String>>,
    pub limits: Option<LimitsRequest>,
    pub network: Option<NetworkRequest>,
    /// Secrets: readable by guest code as `env`, never shown again.
    pub env: Option<BTreeMap<String, String>>,
}

/// `network` in a create or run body.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkRequest {
    /// Hosts guest `fetch` may reach: `api.example.com`, `*.example.com`, optionally `:port`.
    #[serde(default)]
    pub allow: Vec<String>,
}

/// `POST /v1/sessions/{id}/exec` body.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExecRequest {
    pub code: String,
    /// Any JSON, visible to the cell as the global `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
}

/// `POST /v1/run` body: one cell in a fresh realm, nothing kept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    pub code: String,
    pub input: Option<serde_json::Value>,
    pub limits: Option<LimitsRequest>,
    pub network: Option<NetworkRequest>,
    pub env: Option<BTreeMap<String, String>>,
    /// Files the code can read: path → text, or `{text | base64, content_type?}`.
    pub files: Option<BTreeMap<String, InlineFile>>,
}

/// A file given inline to `POST /v1/run`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum InlineFile {
    Text(String),
    Encoded(EncodedFile),
}

/// An inline file with its encoding spelled out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncodedFile {
    pub text: Option<String>,
    pub base64: Option<String>,
    pub content_type: Option<String>,
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
    pub limits: Limits,
    pub network: NetworkView,
    /// Names of the session's secrets (never their values).
    pub env: Vec<String>,
    pub files: FilesView,
}

/// A session's network rules as shown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkView {
    pub allow: Vec<String>,
}

/// A session's file totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesView {
    pub count: u64,
    pub bytes: u64,
}

/// The body of an `exec` (and `run`) answer.
pub fn exec_result(outcome: &Outcome, execution_count: i64, duration_ms: u64) -> serde_json::Value {
    serde_json::json!({
        "status": outcome.status,
        "value": outcome.value,
        "value_truncated": outcome.value_truncated,
        "logs": {
            "stdout": outcome.logs.stdout,
            "stderr": outcome.logs.stderr,
            "truncated": outcome.logs.truncated,
        },
        "error": outcome.error,
        "usage": outcome.usage,
        "execution_count": execution_count,
        "duration_ms": duration_ms,
    })
}

/// Session settings from the Worker's vars: TTL and execution limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub default_seconds: u64,
    pub max_seconds: u64,
    /// Limits of a session that asks for none.
    pub default_limits: Limits,
    /// The most a session may ask for.
    pub max_limits: Limits,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            default_seconds: 3600,
            max_seconds: 86_400,
            default_limits: Limits::default(),
            max_limits: Limits::default_ceiling(),
        }
    }
}

impl SessionPolicy {
    /// Reads the policy from the Worker's vars; a missing or unreadable var keeps the built-in
    /// value. `MAX_LIMITS` and `DEFAULT_LIMITS` are JSON objects shaped like `limits`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let builtin = Self::default();
        let number = |name: &str| {
            var(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| *n > 0)
        };
        let limits = |name: &str, base: Limits, ceiling: Limits| {
            var(name)
                .and_then(|v| serde_json::from_str::<LimitsRequest>(&v).ok())
                .and_then(|req| req.resolve(base, ceiling).ok())
                .unwrap_or(base)
        };
        let max_seconds = number(bindings::MAX_TTL_SECONDS).unwrap_or(builtin.max_seconds);
        let max_limits = limits(
            bindings::MAX_LIMITS,
            builtin.max_limits,
            Limits {
                source_bytes: MAX_BODY_BYTES as u64,
                ..Limits::unbounded()
            },
        );
        let default_limits = limits(
            bindings::DEFAULT_LIMITS,
            clamp(builtin.default_limits, max_limits),
            max_limits,
        );
        Self {
            default_seconds: number(bindings::DEFAULT_TTL_SECONDS)
                .unwrap_or(builtin.default_seconds)
                .min(max_seconds),
            max_seconds,
            default_limits,
            max_limits,
        }
    }
}

impl CreateSessionRequest {
    /// Checks ranges and sizes; returns the effective TTL and limits.
    pub fn validate(&self, policy: SessionPolicy) -> Result<(u64, Limits), ApiError> {
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
        let limits = self
            .limits
            .unwrap_or_default()
            .resolve(policy.default_limits, policy.max_limits)
            .map_err(ApiError::InvalidRequest)?;
        Ok((ttl, limits))
    }
}

/// Checks a session's (or run's) network rules.
pub fn network_rules(network: Option<&NetworkRequest>) -> Result<AllowList, ApiError> {
    let rules = network.map(|n| n.allow.as_slice()).unwrap_or_default();
    AllowList::parse(rules).map_err(ApiError::InvalidRequest)
}

/// Checks secrets: names like identifiers, bounded sizes.
pub fn env_values(
    env: Option<&BTreeMap<String, String>>,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let Some(env) = env else {
        return Ok(serde_json::Map::new());
    };
    if env.len() > MAX_ENV_ENTRIES {
        return Err(ApiError::InvalidRequest(format!(
            "env has more than {MAX_ENV_ENTRIES} entries"
        )));
    }
    let mut out = serde_json::Map::new();
    for (name, value) in env {
        let mut chars = name.chars();
        let identifier = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier || name.len() > MAX_ENV_NAME {
            return Err(ApiError::InvalidRequest(format!(
                "env name {name:?} must match [A-Za-z_][A-Za-z0-9_]* and be at most {MAX_ENV_NAME} bytes"
            )));
        }
        if value.len() > MAX_ENV_VALUE {
            // The message names the variable, never its value.
            return Err(ApiError::InvalidRequest(format!(
                "env value of `{name}` is longer than {MAX_ENV_VALUE} bytes"
            )));
        }
        out.insert(name.clone(), serde_json::Value::String(value.clone()));
    }
    Ok(out)
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
    parse_body_within(content_type, body, MAX_BODY_BYTES)
}

/// [`parse_body`] for a route that takes bodies up to `limit` bytes.
pub fn parse_body_within<T: DeserializeOwned>(
    content_type: Option<&str>,
    body: &[u8],
    limit: usize,
) -> Result<Option<T>, ApiError> {
    if body.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if !is_json(content_type) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::InvalidJson(e.to_string()))?;
    if let Some(field) = null_setting(&value) {
        return Err(ApiError::InvalidRequest(format!(
            "`{field}` must not be null; leave it out to use the default"
        )));
    }
    // serde reads a struct from a JSON array too (all fields defaulted): refuse that shape.
    if let Some(field) = ["limits", "network"]
        .into_iter()
        .find(|f| value.get(f).is_some_and(|v| !v.is_object()))
    {
        return Err(ApiError::InvalidRequest(format!(
            "`{field}` must be an object"
        )));
    }
    serde_path_to_error::deserialize(value)
        .map(Some)
        .map_err(|e| ApiError::InvalidRequest(describe(&e)))
}

/// The first setting given as `null`: a top-level field, a field of `limits`, or a field of an
/// inline file of `files` (`{"text": "x", "base64": null}`). (Inside `input`, free-form JSON,
/// null is a value like any other.)
fn null_setting(body: &serde_json::Value) -> Option<String> {
    let fields = body.as_object()?;
    let null_field = |value: &serde_json::Value| {
        value
            .as_object()
            .and_then(|o| o.iter().find(|(_, v)| v.is_null()))
            .map(|(name, _)| name.clone())
    };
    for (name, value) in fields {
        if value.is_null() {
            return Some(name.clone());
        }
        if name == "limits" {
            if let Some(inner) = null_field(value) {
                return Some(format!("limits.{inner}"));
            }
        }
        if name == "files" {
            for (path, file) in value.as_object().into_iter().flatten() {
                if let Some(inner) = null_field(file) {
                    return Some(format!("files.{path}.{inner}"));
                }
            }
        }
    }
    None
}

/// A data error in words for API users: the field's path first, no Rust type names.
fn describe(err: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = err.path().to_string();
    if path == "env" || path.starts_with("env.") {
        // serde quotes the offending value, and in `env` that may be a secret.
        return format!("`{path}`: env must be an object of names to string values");
    }
    let inner = err.inner().to_string();
    let inner = inner
        .replace("u64", "a non-negative integer")
        .replace("struct CreateSessionRequest", "an object")
        .replace("struct ExecRequest", "an object")
        .replace("struct LimitsRequest", "an object")
        .replace("struct NetworkRequest", "an object")
        .replace("struct RunRequest", "an object")
        .replace("struct EncodedFile", "an object")
        .replace("untagged enum InlineFile", "a string or an object")
        .replace("a map", "an object")
        .replace("map", "object")
        .replace("sequence", "array");
    if path == "." {
        format!("request body: {inner}")
    } else {
        format!("`{path}`: {inner}")
    }
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
    fn type_errors_name_the_field_in_plain_words() {
        let err = parse::<CreateSessionRequest>(r#"{"ttl_seconds":"x"}"#).expect_err("type");
        let message = err.message();
        assert!(message.starts_with("`ttl_seconds`"), "{message}");
        assert!(message.contains("non-negative integer"), "{message}");
        let whole = parse::<CreateSessionRequest>(r#"{"ttl_seconds":60.0}"#).expect("60.0 is 60");
        assert_eq!(whole.and_then(|r| r.ttl_seconds), Some(60));
        let err = parse::<CreateSessionRequest>(r#"{"ttl_seconds":null}"#).expect_err("null");
        assert!(err.message().contains("ttl_seconds"), "{}", err.message());
        let err = parse::<CreateSessionRequest>(r#"{"limits":{"fuel":null}}"#).expect_err("null");
        assert!(err.message().contains("limits.fuel"), "{}", err.message());
        for body in [
            r#"{"code":"1","files":{"a":{"text":"x","base64":null}}}"#,
            r#"{"code":"1","files":{"a":{"text":"x","content_type":null}}}"#,
        ] {
            let err = parse::<RunRequest>(body).expect_err(body);
            assert_eq!(err.code(), "invalid_request", "{body}");
            assert!(err.message().contains("`files.a."), "{}", err.message());
        }
        let ok =
            parse::<ExecRequest>(r#"{"code":"input","input":{"a":null}}"#).expect("null input");
        assert!(ok.is_some());
    }

    #[test]
    fn malformed_json_is_invalid_json() {
        assert_eq!(
            parse::<CreateSessionRequest>(r#"{"a":1}}"#)
                .map_err(|e| e.code())
                .err(),
            Some("invalid_json")
        );
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
        let policy = SessionPolicy {
            default_seconds: 60,
            max_seconds: 100,
            ..SessionPolicy::default()
        };
        let req = |ttl| CreateSessionRequest {
            ttl_seconds: ttl,
            metadata: None,
            limits: None,
            ..Default::default()
        };
        assert_eq!(req(None).validate(policy).map(|v| v.0), Ok(60));
        assert_eq!(req(Some(100)).validate(policy).map(|v| v.0), Ok(100));
        assert!(req(Some(0)).validate(policy).is_err());
        assert!(req(Some(101)).validate(policy).is_err());
    }

    #[test]
    fn limits_are_resolved_against_the_policy() {
        let req: CreateSessionRequest = parse(r#"{"limits":{"fuel":1000}}"#)
            .expect("ok")
            .expect("body");
        let (_, limits) = req.validate(SessionPolicy::default()).expect("valid");
        assert_eq!(limits.fuel, 1000);
        let err = parse::<CreateSessionRequest>(r#"{"limits":{"fuels":1}}"#).expect_err("unknown");
        assert!(err.message().contains("fuels"), "{}", err.message());
        let req: CreateSessionRequest = parse(r#"{"limits":{"memory_bytes":1099511627776}}"#)
            .expect("ok")
            .expect("body");
        let err = req
            .validate(SessionPolicy::default())
            .expect_err("over the ceiling");
        assert!(
            err.message().contains("limits.memory_bytes"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn policy_comes_from_vars_with_builtin_fallbacks() {
        let vars = |name: &str| match name {
            "MAX_TTL_SECONDS" => Some("100".to_string()),
            "MAX_LIMITS" => Some(r#"{"fuel": 5000}"#.to_string()),
            "DEFAULT_TTL_SECONDS" => Some("not a number".to_string()),
            _ => None,
        };
        let policy = SessionPolicy::from_vars(vars);
        assert_eq!(policy.max_seconds, 100);
        assert_eq!(policy.default_seconds, 100, "default clamped under the max");
        assert_eq!(policy.max_limits.fuel, 5000);
        assert_eq!(
            policy.default_limits.fuel, 5000,
            "default clamped under the max"
        );
        assert_eq!(
            policy.max_limits.memory_bytes,
            Limits::default_ceiling().memory_bytes
        );
        assert_eq!(SessionPolicy::from_vars(|_| None), SessionPolicy::default());
    }

    #[test]
    fn settings_that_are_structs_must_be_objects() {
        for body in [
            r#"{"limits": []}"#,
            r#"{"network": []}"#,
            r#"{"limits": "x"}"#,
        ] {
            let err = parse_body::<CreateSessionRequest>(Some("application/json"), body.as_bytes())
                .unwrap_err();
            assert_eq!(err.status(), 400, "{body}");
            assert!(err.message().contains("must be an object"), "{body}");
        }
    }

    #[test]
    fn metadata_is_bounded() {
        let policy = SessionPolicy::default();
        let many: BTreeMap<String, String> = (0..=MAX_METADATA_ENTRIES)
            .map(|i| (i.to_string(), String::new()))
            .collect();
        let req = CreateSessionRequest {
            ttl_seconds: None,
            metadata: Some(many),
            limits: None,
            ..Default::default()
        };
        assert!(req.validate(policy).is_err());
        let long = BTreeMap::from([("k".to_string(), "v".repeat(MAX_METADATA_VALUE + 1))]);
        let req = CreateSessionRequest {
            ttl_seconds: None,
            metadata: Some(long),
            limits: None,
            ..Default::default()
        };
        assert!(req.validate(policy).is_err());
    }

    #[test]
    fn env_names_are_identifiers_and_values_are_bounded() {
        let env = |pairs: &[(&str, String)]| {
            let map: BTreeMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            env_values(Some(&map))
        };
        let ok = env(&[("API_TOKEN", "s3cret".into()), ("_x1", String::new())]).expect("valid");
        assert_eq!(ok["API_TOKEN"], "s3cret");
        for bad in ["", "1X", "A-B", "A B", "é"] {
            assert!(env(&[(bad, "v".into())]).is_err(), "{bad:?}");
        }
        let long = "v".repeat(MAX_ENV_VALUE + 1);
        let err = env(&[("K", long.clone())]).expect_err("too long");
        assert!(
            !err.message().contains(&long),
            "the message must not echo the value"
        );
        let many: Vec<(String, String)> = (0..=MAX_ENV_ENTRIES)
            .map(|i| (format!("K{i}"), String::new()))
            .collect();
        let many: Vec<(&str, String)> = many.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        assert!(env(&many).is_err());
    }

    #[test]
    fn a_malformed_env_is_refused_without_echoing_it() {
        for body in [
            r#"{"env": "sv_secret"}"#,
            r#"{"env": {"K": ["sv_secret"]}}"#,
        ] {
            let err = parse::<CreateSessionRequest>(body).expect_err("malformed env");
            assert_eq!(err.status(), 400);
            assert!(!err.message().contains("sv_secret"), "{}", err.message());
            assert!(err.message().contains("`env"), "{}", err.message());
        }
    }

    #[test]
    fn network_rules_are_checked_by_name() {
        let network = NetworkRequest {
            allow: vec!["api.example.com".into(), "http://x".into()],
        };
        let err = network_rules(Some(&network)).expect_err("bad rule");
        assert_eq!(err.status(), 400);
        assert!(
            err.message().contains("network.allow[1]"),
            "{}",
            err.message()
        );
        assert!(network_rules(None).expect("empty").is_empty());
    }

    #[test]
    fn run_bodies_take_inline_files_as_text_or_base64() {
        let body = r#"{"code": "1", "files": {"a.txt": "hi", "b.bin": {"base64": "AAE=", "content_type": "x/y"}}}"#;
        let run: RunRequest = parse_body_within(
            Some("application/json"),
            body.as_bytes(),
            MAX_RUN_BODY_BYTES,
        )
        .expect("valid")
        .expect("some");
        let files = run.files.expect("files");
        assert!(matches!(&files["a.txt"], InlineFile::Text(t) if t == "hi"));
        assert!(
            matches!(&files["b.bin"], InlineFile::Encoded(f) if f.base64.as_deref() == Some("AAE="))
        );
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert!(parse_body_within::<RunRequest>(
            Some("application/json"),
            &big,
            MAX_RUN_BODY_BYTES
        )
        .is_ok());
        assert_eq!(
            parse_body::<RunRequest>(Some("application/json"), &big).map(|_| ()),
            Err(ApiError::PayloadTooLarge {
                limit: MAX_BODY_BYTES
            })
        );
    }
}
