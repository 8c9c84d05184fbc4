//! The session: one SQLite-backed Durable Object per session, holding its realm.

pub mod protocol;
pub mod record;
pub mod turn;

#[cfg(target_arch = "wasm32")]
pub mod files;
#[cfg(target_arch = "wasm32")]
pub mod object;
