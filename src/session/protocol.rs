//! Messages from the Worker to a session object. The Worker has already authenticated and
//! validated them; the object trusts their shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::Limits;

/// Paths of the object's internal API.
pub const CREATE: &str = "/create";
pub const INFO: &str = "/info";
pub const DELETE: &str = "/delete";
pub const EXEC: &str = "/exec";
/// `/files` lists (query `prefix`, `limit`, `cursor`); `/files/{path}` is one file, with the
/// client's method, headers and body passed through. The path is already normalised.
pub const FILES: &str = "/files";
/// Header carrying the sandbox's own `host:port` to the object, for the fetch policy.
pub const ORIGIN_HEADER: &str = "x-sandbox-origin";
/// Header carrying the client's checked `Idempotency-Key` to the object.
pub const IDEMPOTENCY_HEADER: &str = "x-sandbox-idempotency-key";

/// Creates the session in a fresh object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateCommand {
    pub id: String,
    pub tenant: String,
    pub ttl_seconds: u64,
    pub metadata: BTreeMap<String, String>,
    pub limits: Limits,
    /// `network.allow` rules, already checked.
    pub network: Vec<String>,
    /// Secrets, already checked.
    pub env: serde_json::Map<String, serde_json::Value>,
}
