//! The HTTP edge: routing, authentication, request validation and the error model.
//! The pure parts build natively; `handler` is the Worker's fetch handler.

pub mod auth;
pub mod branch_wire;
pub mod error;
pub mod events;
pub mod openapi;
pub mod route;
pub mod wire;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod handler;
pub mod mcp;
pub mod mcp_tools;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod mcp_http;
