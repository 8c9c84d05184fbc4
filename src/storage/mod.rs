//! What outlives a request: the object's SQL (schema migrations, session row, journal), the
//! KV metadata record and the R2 artifacts.

pub mod keys;
pub mod migrations;

#[cfg(target_arch = "wasm32")]
pub mod artifacts;
#[cfg(target_arch = "wasm32")]
pub mod file_index;
#[cfg(target_arch = "wasm32")]
pub mod journal;
#[cfg(target_arch = "wasm32")]
pub mod metadata;
