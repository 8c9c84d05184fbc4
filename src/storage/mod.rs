//! What outlives a request: the object's SQL (schema migrations, session row, journal), the
//! KV metadata record and the R2 artifacts.

pub mod keys;
pub mod migrations;
pub mod refs;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod artifacts;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod branches;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod file_index;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod file_refs;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod journal;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod metadata;
