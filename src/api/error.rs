//! The one error type of the HTTP edge: each variant knows its status and wire code, and
//! renders as `{"error": {"code", "message"}}`.

use serde::Serialize;

/// An error answered to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the body is not JSON.
    InvalidJson(String),
    /// 400: a field is missing, mistyped, out of range or unknown.
    InvalidRequest(String),
    /// 401: missing or wrong API key.
    Unauthorized,
    /// 404: no such route, or no such session for this tenant.
    NotFound(String),
    /// 405: the route exists with other methods, listed in `Allow`.
    MethodNotAllowed { allow: &'static str },
    /// 413: the body is larger than the limit.
    PayloadTooLarge { limit: usize },
    /// 415: a body that is not `application/json`.
    UnsupportedMediaType,
    /// 400: a file path breaks a path rule.
    InvalidPath(String),
    /// 404: no such file in the session.
    FileNotFound(String),
    /// 413: storing the file would exceed one of the session's quotas.
    QuotaExceeded(String),
    /// 411: a file upload without `content-length`.
    LengthRequired,
    /// 416: a `Range` outside the file; `size` is the file's length.
    RangeNotSatisfiable { size: u64 },
    /// 409: the session's checkpoint is from another engine build, which this deployment
    /// cannot restore, and its journal no longer holds its whole history.
    EngineChanged(String),
    /// 409: an `Idempotency-Key` already used on this session with other code or input.
    IdempotencyKeyReused(String),
    /// 409: the request conflicts with the session's state (`code` says how).
    Conflict { code: &'static str, message: String },
    /// 404: no checkpoint of that name in the session.
    CheckpointNotFound(String),
    /// 403: a browser origin the MCP endpoint does not allow.
    Forbidden(String),
    /// 406: the client does not accept what the route answers.
    NotAcceptable(String),
    /// 500: a bug or a platform failure; the cause is logged, not sent.
    Internal,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: String,
}

impl ApiError {
    /// A session that does not exist, expired, or belongs to someone else: all look the same.
    pub fn session_not_found() -> Self {
        Self::NotFound("session not found".into())
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidJson(_) | Self::InvalidRequest(_) => 400,
            Self::Unauthorized => 401,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::PayloadTooLarge { .. } => 413,
            Self::UnsupportedMediaType => 415,
            Self::InvalidPath(_) => 400,
            Self::FileNotFound(_) => 404,
            Self::QuotaExceeded(_) => 413,
            Self::LengthRequired => 411,
            Self::RangeNotSatisfiable { .. } => 416,
            Self::EngineChanged(_) | Self::IdempotencyKeyReused(_) => 409,
            Self::Conflict { .. } => 409,
            Self::CheckpointNotFound(_) => 404,
            Self::Forbidden(_) => 403,
            Self::NotAcceptable(_) => 406,
            Self::Internal => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson(_) => "invalid_json",
            Self::InvalidRequest(_) => "invalid_request",
            Self::Unauthorized => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::InvalidPath(_) => "invalid_path",
            Self::FileNotFound(_) => "file_not_found",
            Self::QuotaExceeded(_) => "quota_exceeded",
            Self::LengthRequired => "length_required",
            Self::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            Self::EngineChanged(_) => "engine_changed",
            Self::IdempotencyKeyReused(_) => "idempotency_key_reused",
            Self::Conflict { code, .. } => code,
            Self::CheckpointNotFound(_) => "checkpoint_not_found",
            Self::Forbidden(_) => "forbidden",
            Self::NotAcceptable(_) => "not_acceptable",
            Self::Internal => "internal",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::InvalidJson(m) => format!("request body is not valid JSON: {m}"),
            Self::InvalidRequest(m)
            | Self::NotFound(m)
            | Self::InvalidPath(m)
            | Self::QuotaExceeded(m)
            | Self::EngineChanged(m)
            | Self::IdempotencyKeyReused(m)
            | Self::Forbidden(m)
            | Self::NotAcceptable(m)
            | Self::Conflict { message: m, .. } => m.clone(),
            Self::CheckpointNotFound(name) => format!(
                "this session has no checkpoint named {name:?}; GET .../checkpoints lists them"
            ),
            Self::FileNotFound(path) => format!("no such file: {path}"),
            Self::LengthRequired => {
                "a file upload needs a `content-length` header (send the body with a known length)"
                    .into()
            }
            Self::RangeNotSatisfiable { size } => {
                format!("the range is outside the file, which is {size} bytes")
            }
            Self::Unauthorized => {
                "missing or invalid API key: send `Authorization: Bearer <key>`".into()
            }
            Self::MethodNotAllowed { allow } => format!("method not allowed; allowed: {allow}"),
            Self::PayloadTooLarge { limit } => {
                format!("request body is larger than the limit of {limit} bytes")
            }
            Self::UnsupportedMediaType => {
                "request body must be JSON: send `content-type: application/json`".into()
            }
            Self::Internal => "internal error".into(),
        }
    }

    /// The JSON body sent to the client.
    pub fn body(&self) -> String {
        serde_json::to_string(&Body {
            error: Detail {
                code: self.code(),
                message: self.message(),
            },
        })
        .unwrap_or_else(|_| r#"{"error":{"code":"internal","message":"internal error"}}"#.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_renders_code_and_message() {
        let err = ApiError::PayloadTooLarge { limit: 10 };
        let body: serde_json::Value = serde_json::from_str(&err.body()).expect("json");
        assert_eq!(body["error"]["code"], "payload_too_large");
        assert_eq!(err.status(), 413);
        assert!(body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("10 bytes"));
    }

    #[test]
    fn another_tenants_session_and_a_missing_one_are_the_same_error() {
        assert_eq!(
            ApiError::session_not_found().body(),
            ApiError::session_not_found().body()
        );
        assert_eq!(ApiError::session_not_found().status(), 404);
    }
}
