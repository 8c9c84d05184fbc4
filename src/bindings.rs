//! Names of the Worker's bindings and vars, as declared in wrangler.toml.

/// Durable Object namespace of `SessionObject`.
pub const SESSIONS: &str = "SESSIONS";
/// Durable Object namespace of `FileRefs`: one per tenant, counting shared R2 objects.
pub const FILE_REFS: &str = "FILE_REFS";
/// KV namespace with one metadata record per session.
pub const SESSIONS_KV: &str = "SESSIONS_KV";
/// R2 bucket for session artifacts.
pub const ARTIFACTS: &str = "ARTIFACTS";
/// Secret: `tenant=key` pairs (see `api::auth`).
pub const API_KEYS: &str = "API_KEYS";
/// Var: default session TTL in seconds.
pub const DEFAULT_TTL_SECONDS: &str = "DEFAULT_TTL_SECONDS";
/// Var: largest session TTL a client may ask for.
pub const MAX_TTL_SECONDS: &str = "MAX_TTL_SECONDS";
/// Var: JSON object of the most each execution limit may be set to (`engine::Limits` fields).
pub const MAX_LIMITS: &str = "MAX_LIMITS";
/// Var: JSON object of the limits of a session that asks for none.
pub const DEFAULT_LIMITS: &str = "DEFAULT_LIMITS";
