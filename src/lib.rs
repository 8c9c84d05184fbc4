//! edge-sandbox: stateful JavaScript sessions for AI agents on Cloudflare Workers.
//!
//! Request path: [`api`] (the Worker: auth, routing, errors) → [`session`] (one Durable
//! Object per session) → [`engine`] (the Boa realm). [`storage`] holds what outlives a request:
//! the object's SQL journal, KV metadata and R2 artifacts.
//!
//! `engine` and the pure parts of `api`, `session` and `storage` build natively, so `cargo test`
//! covers them on the host.

pub mod api;
pub mod bindings;
pub mod engine;
pub mod files;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod host_io;
pub mod ids;
pub mod instance;
pub mod net;
pub mod session;
pub mod storage;
pub mod time;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub use session::object::SessionObject;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub use storage::file_refs::FileRefs;

/// Every allocation is reported to the execution budget (see `engine::alloc`). The Worker,
/// which runs no guest code, keeps the system allocator.
#[cfg(feature = "realm")]
#[global_allocator]
static ALLOCATOR: engine::alloc::BudgetAllocator = engine::alloc::BudgetAllocator;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
#[worker::event(fetch)]
async fn fetch(
    req: worker::Request,
    env: worker::Env,
    ctx: worker::Context,
) -> worker::Result<worker::Response> {
    let response = api::handler::handle(req, env).await;
    if let Some(work) = instance::after_response() {
        ctx.wait_until(work);
    }
    Ok(response)
}
