//! The session: one SQLite-backed Durable Object per session, holding its realm.

pub mod checkpoint;
pub mod idempotency;
pub mod protocol;
pub mod record;
pub mod service;
pub mod turn;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod files;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod object;
