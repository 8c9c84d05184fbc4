//! The engine: one Boa realm per session, evaluating cells with notebook semantics.
//!
//! It knows nothing of Workers: source and a recorded clock go in, an [`Outcome`] comes out, so
//! everything here builds and tests natively. Executions are deterministic given the session's
//! seed and each cell's recorded time, which is what lets a session be rebuilt by replaying its
//! journal (see `storage::journal`).

pub mod console;
pub mod encode;
pub mod inspect;
pub mod notebook;

mod host;
mod thrown;

use std::{cell::RefCell, rc::Rc};

use boa_engine::{
    builtins::promise::PromiseState, object::builtins::JsPromise, Context, JsError, JsValue,
    Script, Source,
};
use serde::Serialize;

use console::{ConsoleSink, Logs};
use encode::EncodeLimits;

/// Per-execution bounds enforced by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineLimits {
    /// Iterations of any one loop before the cell is stopped.
    pub loop_iterations: u64,
    /// Nested calls before the cell is stopped.
    pub recursion: usize,
    /// Bytes of console output kept per cell.
    pub output_bytes: usize,
}

impl Default for EngineLimits {
    fn default() -> Self {
        Self {
            loop_iterations: 10_000_000,
            recursion: 400,
            output_bytes: 1 << 20,
        }
    }
}

/// How a cell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The cell completed; `value` holds its completion value.
    Ok,
    /// The cell threw (or its promise rejected).
    Error,
    /// The cell was stopped by a limit.
    Limit,
}

/// An error reported to the user: a guest exception or a limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuestError {
    pub name: String,
    pub message: String,
    pub stack: Option<String>,
    /// Which limit stopped the cell, for `LimitError`s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// The result of one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub value: serde_json::Value,
    pub value_truncated: bool,
    pub logs: Logs,
    pub error: Option<GuestError>,
}

/// A session's realm.
pub struct Engine {
    ctx: Context,
    console: Rc<RefCell<ConsoleSink>>,
    clock: Rc<host::RecordedClock>,
    limits: EngineLimits,
}

impl Engine {
    /// Creates a realm whose `Math.random` is seeded with `seed`.
    pub fn new(seed: u64, limits: EngineLimits) -> Result<Self, String> {
        let clock = Rc::new(host::RecordedClock::default());
        let mut ctx = Context::builder()
            .clock(clock.clone())
            .build()
            .map_err(|e| e.to_string())?;
        ctx.runtime_limits_mut()
            .set_loop_iteration_limit(limits.loop_iterations);
        ctx.runtime_limits_mut()
            .set_recursion_limit(limits.recursion);
        let console = Rc::new(RefCell::new(ConsoleSink::new(limits.output_bytes)));
        console::install(&mut ctx, console.clone()).map_err(|e| e.to_string())?;
        host::install_seeded_random(&mut ctx, seed).map_err(|e| e.to_string())?;
        Ok(Self {
            ctx,
            console,
            clock,
            limits,
        })
    }

    /// Runs one cell. `now_ms` is the wall-clock time the cell sees (`Date.now()` does not move
    /// during a cell, as in a Worker).
    pub fn execute(&mut self, code: &str, now_ms: f64) -> Outcome {
        self.clock.set(now_ms);
        self.console
            .borrow_mut()
            .set_max_bytes(self.limits.output_bytes);
        let prepared = notebook::prepare(code);
        let completion = Script::parse(Source::from_bytes(&prepared.source), None, &mut self.ctx)
            .and_then(|script| script.evaluate(&mut self.ctx));
        let jobs = self.ctx.run_jobs();
        let result = match (completion, jobs) {
            (Err(e), _) | (Ok(_), Err(e)) => Err(e),
            (Ok(value), Ok(())) => self.settle(value),
        };
        let logs = self.console.borrow_mut().take();
        match result {
            Ok(value) => {
                let encoded = encode::encode(&value, &mut self.ctx, &EncodeLimits::default());
                Outcome {
                    status: Status::Ok,
                    value: encoded.value,
                    value_truncated: encoded.truncated,
                    logs,
                    error: None,
                }
            }
            Err(err) => {
                let error = self.describe_error(err);
                let status = if error.limit.is_some() {
                    Status::Limit
                } else {
                    Status::Error
                };
                Outcome {
                    status,
                    value: serde_json::Value::Null,
                    value_truncated: false,
                    logs,
                    error: Some(error),
                }
            }
        }
    }

    /// Resolves a promise completion value (jobs have already run).
    fn settle(&mut self, value: JsValue) -> Result<JsValue, JsError> {
        let Some(promise) = value
            .as_object()
            .and_then(|o| JsPromise::from_object(o.clone()).ok())
        else {
            return Ok(value);
        };
        match promise.state() {
            PromiseState::Fulfilled(v) => Ok(v),
            PromiseState::Rejected(e) => Err(JsError::from_opaque(e)),
            PromiseState::Pending => Err(JsError::from_native(
                boa_engine::JsNativeError::error().with_message(
                    "the cell's promise never settled: nothing is left that could resolve it \
                     (timers and I/O do not exist in the sandbox)",
                ),
            )),
        }
    }

    fn describe_error(&mut self, err: JsError) -> GuestError {
        if let Some(engine) = err.as_engine() {
            let (limit, message) = host::limit_of(engine);
            return GuestError {
                name: "LimitError".into(),
                message,
                stack: None,
                limit: Some(limit.into()),
            };
        }
        let thrown = match err.into_opaque(&mut self.ctx) {
            Ok(v) => v,
            Err(e) => {
                return GuestError {
                    name: "Error".into(),
                    message: e.to_string(),
                    stack: None,
                    limit: None,
                }
            }
        };
        thrown::describe(&thrown, &mut self.ctx)
    }
}

#[cfg(test)]
mod tests;
