//! The session: one SQLite-backed Durable Object per session, holding its realm.

pub mod protocol;
pub mod record;

#[cfg(target_arch = "wasm32")]
pub mod object;
