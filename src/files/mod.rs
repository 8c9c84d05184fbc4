//! A session's files: the pure parts (path rules, `Range` headers, the file record) that the
//! HTTP API, the guest `fs` and `/v1/run` share. Storage in R2 lives elsewhere.

pub mod path;
pub mod range;
pub mod staging;

use serde::{Deserialize, Serialize};

/// Content type of a file stored without one.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// What is known about one stored file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Normalised path (see [`path::normalize`]).
    pub path: String,
    pub size: u64,
    pub content_type: String,
    /// R2's etag, without quotes.
    pub etag: String,
    /// Last modification, in milliseconds since the Unix epoch.
    pub modified_ms: i64,
}
