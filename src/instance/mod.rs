//! Engine instances, the Worker's side: each session object's realm runs in its own instance of
//! the engine module (`build/engine/engine.wasm`, see `engine::abi`), made, called, copied and
//! restored by `host.js`.
//!
//! A trap inside an instance ends only that instance: the call answers a stopped [`Outcome`]
//! naming the cause, the instance is marked dead, and the session service restores the session
//! from its checkpoint. The [`pool`] bounds the memory of an isolate's live instances.

pub mod pool;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
mod wasm;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub use wasm::*;
