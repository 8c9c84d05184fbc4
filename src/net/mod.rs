//! Guest network access. [`policy`] decides which URLs guest `fetch` may reach: default deny,
//! a session's `network.allow` rules, and no loopback, private or link-local address (nor the
//! sandbox itself) unless an exact rule names it. It is pure, so it is tested natively.

pub mod policy;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod client;
