//! The engine: guest JavaScript in a Boa realm, and the plain data it exchanges with its host.
//!
//! It knows nothing of Workers. Built natively, `cargo test` covers it; built for
//! `wasm32-unknown-unknown` with the `engine-abi` feature it is the engine module
//! (`build/engine/engine.wasm`), one instance per session, driven through [`abi`].
//!
//! Without the `realm` feature only the data types are built: the Worker uses them to talk
//! to engine instances and never links Boa.

pub mod abi;
pub mod io;
pub mod limits;
mod outcome;

#[cfg(feature = "realm")]
pub mod alloc;
#[cfg(feature = "realm")]
pub mod console;
#[cfg(feature = "realm")]
pub mod encode;
#[cfg(feature = "realm")]
mod guest_io;
#[cfg(feature = "realm")]
mod host;
#[cfg(feature = "realm")]
pub mod inspect;
#[cfg(feature = "realm")]
pub mod notebook;
#[cfg(feature = "realm")]
mod realm;
#[cfg(feature = "realm")]
mod scope;
#[cfg(feature = "realm")]
mod thrown;

#[cfg(all(target_arch = "wasm32", feature = "engine-abi"))]
pub(crate) mod exports;

pub use io::{Reply, Request};
pub use limits::Limits;
pub use outcome::{internal_error, GuestError, Logs, Outcome, Status, Step, Usage};
#[cfg(feature = "realm")]
pub use realm::{Engine, OutputSink};
