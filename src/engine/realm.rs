//! The realm: one Boa context per session, evaluating cells with notebook semantics.
//!
//! Source and a recorded clock go in, an [`Outcome`] comes out. Executions are deterministic
//! given the session's seed and each cell's recorded time and I/O replies, which is what lets a
//! session's journal tail be replayed on top of a memory checkpoint (`session::service`).
//!
//! Every execution runs under [`Limits`]: fuel and memory are enforced by our patch to Boa
//! (`boa_engine::budget`, see vendor/README.md), the rest here. A panic inside Boa is reported
//! as that cell's error (natively it is caught; in the engine module it traps the instance and
//! the host rolls the session back).

use std::{
    cell::RefCell,
    collections::HashSet,
    panic::{catch_unwind, AssertUnwindSafe},
    rc::Rc,
};

use boa_engine::{
    budget::{self, Exhausted},
    builtins::promise::{PromiseState, ResolvingFunctions},
    error::{EngineError, RuntimeLimitError},
    js_string,
    object::builtins::{JsFunction, JsPromise},
    Context, JsError, JsValue, Source,
};

use super::{
    abi::OutputLine,
    alloc,
    console::{self, ConsoleSink, Logs},
    encode::{self, EncodeLimits},
    guest_io, host, internal_error,
    io::{self, Reply, Request},
    notebook, scope, thrown, GuestError, Limits, Outcome, Status, Step, Usage,
};

/// Replays run with this many times a cell's fuel: the cell already succeeded once with the
/// same inputs, so the margin only absorbs accounting noise (the heap at replay time differs).
const REPLAY_HEADROOM: u64 = 4;

/// Nesting the notebook's async wrapper adds around a cell.
const WRAPPER_NESTING: usize = 8;

/// Whether a cell runs for the user or to rebuild the realm.
#[derive(Clone, Copy)]
enum Mode {
    Execute,
    Replay,
}

/// Where a cell's console output streams to (see [`Engine::stream_output`]).
pub type OutputSink = Rc<dyn Fn(&[OutputLine])>;

thread_local! {
    /// The streaming cell's console and sink, for the budget's yield hook (a plain `fn`).
    static STREAMING: RefCell<Option<(Rc<RefCell<ConsoleSink>>, OutputSink)>> =
        const { RefCell::new(None) };
}

/// The budget's yield hook: hands the lines written since the last flush to the sink (also when
/// there are none, so the host can run its event loop during a long computation).
fn flush_streaming() {
    let Some((console, sink)) = STREAMING.with_borrow(|s| s.clone()) else {
        return;
    };
    // A console method never runs guest code, so the sink is not borrowed at an instruction.
    let lines = match console.try_borrow_mut() {
        Ok(mut console) => console.take_live(),
        Err(_) => return,
    };
    sink(&lines);
}

/// A session's realm.
pub struct Engine {
    ctx: Context,
    console: Rc<RefCell<ConsoleSink>>,
    clock: Rc<host::RecordedClock>,
    limits: Limits,
    /// Heap growth kept by committed cells (approximate: the GC is shared by the isolate, so
    /// this includes their garbage until [`Engine::reclaim`] corrects it).
    retained_bytes: u64,
    /// The estimate as the last [`Engine::reclaim`] left it.
    reclaimed_at: u64,
    /// Bytes in use once the realm was made: its own size, not growth.
    base_in_use: u64,
    /// Host helpers, made before any guest code runs so the guest cannot replace what they use.
    hooks: Hooks,
    /// Globals that hold a top-level `const` of an earlier cell.
    constants: HashSet<String>,
    /// Guest I/O requests made since the host last took them.
    queue: guest_io::Queue,
    /// Promises of the requests the host holds, in the order it got them.
    in_flight: Vec<ResolvingFunctions>,
    /// The cell that is waiting for I/O, if any.
    cell: Option<RunningCell>,
    /// The running cell's output sink and how often (fuel) it is called.
    output: Option<(OutputSink, u64)>,
}

/// A cell between steps: what it completed with so far and what it has left to spend.
struct RunningCell {
    mode: Mode,
    /// The eval's completion (a promise for async cells), or what it threw.
    completion: Result<JsValue, JsError>,
    /// Names the cell declared with `const`, made constants once it ends.
    constants: Vec<String>,
    fuel: u64,
    fuel_left: u64,
    memory_left: u64,
    /// Net heap growth of the cell's steps, and the largest growth seen.
    memory_used: u64,
    memory_peak: u64,
}

/// JavaScript functions the engine calls between cells.
struct Hooks {
    /// The intrinsic `eval`: cells run as indirect eval, so their global `var`s and functions are
    /// configurable and a later cell can turn a `const` back into a plain declaration.
    eval: JsFunction,
    /// `(name) => …` turns a global into a constant: reading works, assigning throws
    /// `TypeError: Assignment to constant variable.` as for a `const` in Node's REPL.
    make_const: JsFunction,
    /// `(name) => …` removes a constant so a cell can declare the name again.
    unbind: JsFunction,
}

/// Source of [`Hooks::make_const`] and [`Hooks::unbind`].
const HOOKS_SOURCE: &str = r#"(() => {
  const define = Object.defineProperty, global = globalThis, TypeErrorCtor = TypeError;
  return [
    (name) => {
      const value = global[name];
      define(global, name, {
        get() { return value; },
        set() { throw new TypeErrorCtor("Assignment to constant variable."); },
        enumerable: true,
        configurable: true,
      });
    },
    (name) => { delete global[name]; },
  ];
})()"#;

impl Hooks {
    fn new(ctx: &mut Context) -> Result<Self, String> {
        let eval = ctx.intrinsics().objects().eval();
        let pair = ctx
            .eval(Source::from_bytes(HOOKS_SOURCE))
            .map_err(|e| e.to_string())?;
        let pair = pair.as_object().ok_or("hooks: not an array")?.clone();
        let function = |index: u32, ctx: &mut Context| -> Result<JsFunction, String> {
            pair.get(index, ctx)
                .map_err(|e| e.to_string())?
                .as_object()
                .and_then(|o| JsFunction::from_object(o.clone()))
                .ok_or_else(|| "hooks: not a function".to_string())
        };
        Ok(Self {
            eval,
            make_const: function(0, ctx)?,
            unbind: function(1, ctx)?,
        })
    }
}

impl Engine {
    /// Creates a realm whose `Math.random` is seeded with `seed`.
    pub fn new(seed: u64, limits: Limits) -> Result<Self, String> {
        Self::with_env(seed, limits, &serde_json::Map::new())
    }

    /// Creates a realm whose global `env` holds `env` (a session's secrets).
    pub fn with_env(
        seed: u64,
        limits: Limits,
        env: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, String> {
        // A realm's fuel and memory must not depend on what an earlier realm of this thread
        // compiled (natively; in Wasm an instance holds one realm).
        boa_ast::forget_sym_strings();
        let clock = Rc::new(host::RecordedClock::default());
        let mut ctx = Context::builder()
            .clock(clock.clone())
            .host_hooks(Rc::new(host::CompileCheck {
                // Cells were checked against `nesting_depth` already; the async wrapper adds a
                // few levels.
                nesting_limit: limits.nesting_depth as usize + WRAPPER_NESTING,
            }))
            .build()
            .map_err(|e| e.to_string())?;
        // Fuel bounds loops; Boa's per-frame loop counter would only add a second, weaker limit.
        ctx.runtime_limits_mut().disable_loop_iteration_limit();
        // The realm's own setup (prelude, hooks) runs under Boa's default recursion limit; the
        // session's `recursion_depth`, which may be as low as 1, bounds only the cells.
        let console = Rc::new(RefCell::new(ConsoleSink::new(limits.output_bytes as usize)));
        console::install(&mut ctx, console.clone()).map_err(|e| e.to_string())?;
        host::install_seeded_random(&mut ctx, seed).map_err(|e| e.to_string())?;
        let queue = guest_io::Queue::default();
        guest_io::install(&mut ctx, queue.clone(), env).map_err(|e| e.to_string())?;
        let hooks = Hooks::new(&mut ctx)?;
        ctx.runtime_limits_mut()
            .set_recursion_limit(limits.recursion_depth as usize);
        let base_in_use = budget::memory_in_use() as u64;
        Ok(Self {
            ctx,
            console,
            clock,
            limits,
            retained_bytes: 0,
            reclaimed_at: 0,
            base_in_use,
            hooks,
            constants: HashSet::new(),
            queue,
            in_flight: Vec::new(),
            cell: None,
            output: None,
        })
    }

    /// Restarts `Math.random` from `seed`, as a realm created with that seed starts it.
    pub fn reseed(&mut self, seed: u64) -> Result<(), String> {
        host::install_seeded_random(&mut self.ctx, seed).map_err(|e| e.to_string())
    }

    /// The limits this realm runs cells under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Runs one cell. `now_ms` is the wall-clock time the cell sees (`Date.now()` does not move
    /// during a cell, as in a Worker). Guest I/O fails: see [`Engine::execute_with`].
    pub fn execute(&mut self, code: &str, now_ms: f64) -> Outcome {
        self.execute_with_input(code, now_ms, None)
    }

    /// Runs one cell with `input` (any JSON) as the global `input`; without one, `input` is
    /// `undefined`. Guest I/O fails with `EIO`.
    pub fn execute_with_input(
        &mut self,
        code: &str,
        now_ms: f64,
        input: Option<&serde_json::Value>,
    ) -> Outcome {
        self.execute_with(code, now_ms, input, |_| io::unanswered())
    }

    /// Runs one cell, answering its I/O synchronously with `host`.
    pub fn execute_with(
        &mut self,
        code: &str,
        now_ms: f64,
        input: Option<&serde_json::Value>,
        host: impl FnMut(Request) -> Reply,
    ) -> Outcome {
        let step = self.start(code, now_ms, input);
        self.drive(step, host)
    }

    /// Runs a started cell to its end, answering its I/O synchronously with `host`.
    fn drive(&mut self, mut step: Step, mut host: impl FnMut(Request) -> Reply) -> Outcome {
        loop {
            match step {
                Step::Done(outcome) => return *outcome,
                Step::Io(requests) => {
                    let replies = requests.into_iter().map(&mut host).collect();
                    step = self.resume(replies);
                }
            }
        }
    }

    /// Streams the next cell's console output to `sink` (until that cell ends): about every
    /// `every_fuel` units of fuel (0: never during a computation) and at the end of each step
    /// (before an I/O step, and before the cell's outcome), with the lines written since the
    /// last call, in order; also with none, so the host gets control back regularly.
    pub fn stream_output(&mut self, sink: Option<OutputSink>, every_fuel: u64) {
        self.console.borrow_mut().set_live(sink.is_some());
        self.output = sink.map(|sink| (sink, every_fuel));
    }

    /// Starts one cell for the user. It ends at once ([`Step::Done`]) unless it waits for I/O.
    pub fn start(&mut self, code: &str, now_ms: f64, input: Option<&serde_json::Value>) -> Step {
        self.reclaim();
        let memory = self.limits.memory_bytes.saturating_sub(self.retained_bytes);
        self.begin(code, now_ms, input, self.limits.fuel, memory, Mode::Execute)
    }

    /// Continues the waiting cell with the replies to the requests of the last [`Step::Io`],
    /// in order.
    pub fn resume(&mut self, replies: Vec<Reply>) -> Step {
        let waiting = std::mem::take(&mut self.in_flight);
        let mut replies = replies.into_iter();
        self.step(move |engine| {
            for resolvers in waiting {
                let reply = replies.next().unwrap_or_else(io::unanswered);
                guest_io::settle(&resolvers, reply, &mut engine.ctx)?;
            }
            Ok(())
        })
    }

    /// Re-runs a journaled cell while rebuilding the realm; its I/O gets the journaled
    /// `replies`, in order, so nothing is fetched or read again.
    pub fn replay(
        &mut self,
        code: &str,
        now_ms: f64,
        input: Option<&serde_json::Value>,
        replies: Vec<Reply>,
    ) -> Outcome {
        // A replay never streams.
        self.stream_output(None, 0);
        // Replayed cells make the same garbage as they did live: collect it the same way.
        self.reclaim();
        let fuel = self.limits.fuel.saturating_mul(REPLAY_HEADROOM);
        let memory = self.limits.memory_bytes.saturating_mul(2);
        let mut replies = replies.into_iter();
        let step = self.begin(code, now_ms, input, fuel, memory, Mode::Replay);
        self.drive(step, |_| replies.next().unwrap_or_else(io::unanswered))
    }

    /// Earlier cells' growth counts as retained even where it was garbage (a file read into a
    /// temporary, say), which would shrink every later cell's memory budget for good; and some
    /// garbage is never counted as a cell's growth (a reply's bytes are allocated before the
    /// step that frees them), while Boa's collector does not see the bytes of array buffers, so
    /// it may never run. When the estimate, or the heap's real growth since the realm was made,
    /// has passed half the limit (and grown by an eighth since the last time), collect garbage
    /// and cap the estimate by what is live: in the engine module the realm is alone in its
    /// instance, so that is exact; natively it is the thread's total, an upper bound.
    fn reclaim(&mut self) {
        let limit = self.limits.memory_bytes;
        let heap = || (budget::memory_in_use() as u64).saturating_sub(self.base_in_use);
        let estimate = self.retained_bytes.max(heap());
        if estimate <= limit / 2 || estimate <= self.reclaimed_at + limit / 8 {
            return;
        }
        boa_engine::gc::force_collect();
        self.retained_bytes = self.retained_bytes.min(budget::memory_in_use() as u64);
        self.reclaimed_at = self.retained_bytes.max(heap());
    }

    /// Sets the global `input` for the next cell.
    fn set_input(&mut self, input: Option<&serde_json::Value>) -> Result<(), JsError> {
        let value = match input {
            Some(json) => JsValue::from_json(json, &mut self.ctx)?,
            None => JsValue::undefined(),
        };
        self.ctx
            .global_object()
            .set(js_string!("input"), value, false, &mut self.ctx)?;
        Ok(())
    }

    fn begin(
        &mut self,
        code: &str,
        now_ms: f64,
        input: Option<&serde_json::Value>,
        fuel: u64,
        memory: u64,
        mode: Mode,
    ) -> Step {
        if let Some(error) = self.check_source(code) {
            return Step::done(Outcome::stopped(error, Logs::default(), Usage::default()));
        }
        if let Err(err) = self.set_input(input) {
            let error = thrown::describe(&self.thrown_value(err), &mut self.ctx);
            return Step::done(Outcome::stopped(error, Logs::default(), Usage::default()));
        }
        self.clock.set(now_ms);
        self.queue.borrow_mut().clear();
        self.in_flight.clear();
        self.cell = Some(RunningCell {
            mode,
            completion: Ok(JsValue::undefined()),
            constants: Vec::new(),
            fuel,
            fuel_left: fuel,
            memory_left: memory,
            memory_used: 0,
            memory_peak: 0,
        });
        let code = code.to_string();
        self.step(move |engine| engine.evaluate(&code))
    }

    /// Runs `work` and then the promise jobs under what is left of the cell's budget, and either
    /// hands the cell's new I/O requests to the host or ends the cell.
    fn step(&mut self, work: impl FnOnce(&mut Self) -> Result<(), JsError>) -> Step {
        let Some(cell) = self.cell.as_ref() else {
            return Step::done(Outcome::stopped(
                internal_error("no cell is waiting for I/O"),
                Logs::default(),
                Usage::default(),
            ));
        };
        let memory_budget = cell.memory_left.saturating_sub(cell.memory_used);
        if let Some((sink, every)) = &self.output {
            STREAMING.set(Some((self.console.clone(), sink.clone())));
            budget::set_yield(*every, Some(flush_streaming));
        }
        budget::begin(
            cell.fuel_left,
            usize::try_from(memory_budget).unwrap_or(usize::MAX),
        );
        let ran = catch_unwind(AssertUnwindSafe(|| -> Result<bool, JsError> {
            work(self)?;
            self.ctx.run_jobs()?;
            if !self.queue.borrow().is_empty() {
                return Ok(false);
            }
            self.conclude()?;
            Ok(true)
        }));
        let step_used = budget::memory_used() as u64;
        let step_peak = budget::memory_peak() as u64;
        let fuel_left = budget::fuel();
        let tripped = budget::end();
        if self.output.is_some() {
            budget::set_yield(0, None);
            // What the step wrote goes out before its I/O requests or the cell's outcome.
            flush_streaming();
            STREAMING.set(None);
        }
        let Some(cell) = self.cell.as_mut() else {
            return Step::done(Outcome::stopped(
                internal_error("the cell vanished"),
                Logs::default(),
                Usage::default(),
            ));
        };
        cell.memory_peak = cell.memory_peak.max(cell.memory_used + step_peak);
        cell.memory_used += step_used;
        cell.fuel_left = fuel_left;
        let concluded = match ran {
            Err(panic) => Err(panic_error(panic.as_ref(), tripped, &self.limits)),
            Ok(_) if tripped.is_some() => Err(exhausted_error(
                tripped.unwrap_or(Exhausted::Fuel),
                &self.limits,
            )),
            Ok(Err(err)) => match err.as_engine() {
                Some(engine) => Err(engine_error(engine, &self.limits)),
                // A job failed in a way the cell cannot catch: the cell's error.
                None => {
                    cell.completion = Err(err);
                    Ok(true)
                }
            },
            Ok(Ok(done)) => Ok(done),
        };
        match concluded {
            Ok(false) => {
                // The requests go to the host (moved: a write's data is not copied); their
                // promises stay here until the replies come back.
                let (requests, resolvers) = self
                    .queue
                    .borrow_mut()
                    .drain(..)
                    .map(|p| (p.request, p.resolvers))
                    .unzip();
                self.in_flight = resolvers;
                Step::Io(requests)
            }
            Ok(true) => Step::done(self.end_cell(None)),
            Err(error) => Step::done(self.end_cell(Some(error))),
        }
    }

    /// Ends the cell: encodes its result, or reports what stopped it.
    fn end_cell(&mut self, stopped: Option<GuestError>) -> Outcome {
        if self.output.take().is_some() {
            self.console.borrow_mut().set_live(false);
        }
        self.queue.borrow_mut().clear();
        self.in_flight.clear();
        let logs = self.console.borrow_mut().take();
        let Some(cell) = self.cell.take() else {
            return Outcome::stopped(internal_error("no cell"), logs, Usage::default());
        };
        let usage = Usage {
            fuel: cell.fuel.saturating_sub(cell.fuel_left),
            memory_bytes: cell.memory_peak,
            output_bytes: logs.bytes as u64,
        };
        if let Some(error) = stopped {
            return Outcome::stopped(error, logs, usage);
        }
        self.retained_bytes = self.retained_bytes.saturating_add(cell.memory_used);
        match (cell.completion, cell.mode) {
            (Ok(value), Mode::Execute) => self.finish(value, logs, usage),
            // Nobody reads a replayed cell's value: skip encoding it.
            (Ok(_), Mode::Replay) => Outcome::committed(Status::Ok, None, logs, usage),
            (Err(err), _) => {
                let error = thrown::describe(&self.thrown_value(err), &mut self.ctx);
                Outcome::committed(Status::Error, Some(error), logs, usage)
            }
        }
    }

    /// Refuses sources too large or too deeply nested to parse safely.
    fn check_source(&self, code: &str) -> Option<GuestError> {
        let limits = &self.limits;
        if code.len() as u64 > limits.source_bytes {
            return Some(GuestError::limit(
                "source",
                format!(
                    "the cell is {} bytes of source, more than the limit of {}",
                    code.len(),
                    limits.source_bytes
                ),
            ));
        }
        let depth = notebook::nesting_depth(code, limits.nesting_depth as usize);
        if depth as u64 > limits.nesting_depth {
            return Some(GuestError::limit(
                "nesting",
                format!(
                    "the cell nests {depth} levels deep (brackets, prefix operators, `?`/`=`/`=>` \
                     chains), more than the limit of {}",
                    limits.nesting_depth
                ),
            ));
        }
        None
    }

    /// Parses and starts the cell; its completion is kept for [`Engine::conclude`].
    fn evaluate(&mut self, code: &str) -> Result<(), JsError> {
        let prepared = notebook::prepare(code);
        // Names this cell declares again stop being constants of an earlier cell.
        for name in &prepared.declared {
            if self.constants.remove(name) {
                let name = JsValue::from(js_string!(name.as_str()));
                self.hooks
                    .unbind
                    .call(&JsValue::undefined(), &[name], &mut self.ctx)?;
            }
        }
        let source = JsValue::from(js_string!(prepared.source.as_str()));
        let mut completion = self
            .hooks
            .eval
            .call(&JsValue::undefined(), &[source], &mut self.ctx);
        if let (Some(names), Ok(value)) = (&prepared.scope, &completion) {
            // A cell with top-level `await` evaluated to an async function of its scope object.
            if let Some(function) = value.as_callable() {
                completion = scope::scope_object(names, &mut self.ctx).and_then(|scope| {
                    function.call(&JsValue::undefined(), &[scope.into()], &mut self.ctx)
                });
            }
        }
        if let Some(err) = completion.as_ref().err().and_then(JsError::as_engine) {
            return Err(err.clone().into());
        }
        if let Some(cell) = self.cell.as_mut() {
            cell.completion = completion;
            cell.constants = prepared.constants;
        }
        Ok(())
    }

    /// Once the cell has nothing left to wait for: settles a promise completion, and turns the
    /// cell's `const`s into constants whether it completed or threw (as in Node).
    fn conclude(&mut self) -> Result<(), JsError> {
        let Some(cell) = self.cell.as_mut() else {
            return Ok(());
        };
        let completion = std::mem::replace(&mut cell.completion, Ok(JsValue::undefined()));
        cell.completion = completion.and_then(settle);
        let constants = std::mem::take(&mut cell.constants);
        for name in constants {
            let arg = JsValue::from(js_string!(name.as_str()));
            self.hooks
                .make_const
                .call(&JsValue::undefined(), &[arg], &mut self.ctx)?;
            self.constants.insert(name);
        }
        Ok(())
    }

    fn thrown_value(&mut self, err: JsError) -> JsValue {
        err.into_opaque(&mut self.ctx)
            .unwrap_or_else(|e| JsValue::from(boa_engine::js_string!(e.to_string())))
    }

    /// Encodes the completion value, within the result limit.
    fn finish(&mut self, value: JsValue, logs: Logs, usage: Usage) -> Outcome {
        // Encoding runs no guest code, but it allocates: keep it under a budget too.
        budget::begin(u64::MAX, usize::MAX);
        let encoded = encode::encode(&value, &mut self.ctx, &EncodeLimits::default());
        budget::end();
        let size = serde_json::to_string(&encoded.value).map_or(0, |s| s.len()) as u64;
        if size > self.limits.result_bytes {
            let error = GuestError::limit(
                "result",
                format!(
                    "the cell's value encodes to {size} bytes, more than the limit of {}; \
                         the cell ran and its effects stand: store the value in a variable and \
                         return a part of it",
                    self.limits.result_bytes
                ),
            );
            return Outcome {
                value_truncated: true,
                ..Outcome::committed(Status::Limit, Some(error), logs, usage)
            };
        }
        Outcome {
            value: encoded.value,
            value_truncated: encoded.truncated,
            ..Outcome::committed(Status::Ok, None, logs, usage)
        }
    }
}

/// Resolves a promise completion value (jobs have already run).
fn settle(value: JsValue) -> Result<JsValue, JsError> {
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

fn exhausted_error(reason: Exhausted, limits: &Limits) -> GuestError {
    match reason {
        Exhausted::Fuel => GuestError::limit(
            "fuel",
            format!(
                "the cell used all of its fuel ({} units of work); it was stopped and rolled back",
                limits.fuel
            ),
        ),
        Exhausted::Memory => GuestError::limit(
            "memory",
            format!(
                "the cell allocated more memory than the session's limit of {} bytes; it was \
                 stopped and rolled back",
                limits.memory_bytes
            ),
        ),
        Exhausted::Output => GuestError::limit(
            "output",
            format!(
                "the cell wrote more than {} bytes of console output; it was stopped and rolled \
                 back (the output up to the limit is kept)",
                limits.output_bytes
            ),
        ),
    }
}

fn engine_error(err: &EngineError, limits: &Limits) -> GuestError {
    match err {
        EngineError::RuntimeLimit(RuntimeLimitError::Fuel) => {
            exhausted_error(Exhausted::Fuel, limits)
        }
        EngineError::RuntimeLimit(RuntimeLimitError::Memory) => {
            exhausted_error(Exhausted::Memory, limits)
        }
        EngineError::RuntimeLimit(RuntimeLimitError::Output) => {
            exhausted_error(Exhausted::Output, limits)
        }
        EngineError::RuntimeLimit(RuntimeLimitError::Recursion) => GuestError::limit(
            "recursion",
            format!(
                "calls nested deeper than the limit of {}; the cell was stopped and rolled back",
                limits.recursion_depth
            ),
        ),
        EngineError::RuntimeLimit(RuntimeLimitError::StackSize) => GuestError::limit(
            "stack",
            "the engine's value stack grew past its limit; the cell was stopped and rolled back"
                .into(),
        ),
        EngineError::RuntimeLimit(RuntimeLimitError::LoopIteration) => {
            exhausted_error(Exhausted::Fuel, limits)
        }
        other => internal_error(&other.to_string()),
    }
}

/// Maps a caught panic: a refused allocation is the memory limit; anything else is reported as
/// an internal engine failure.
pub(super) fn panic_error(
    panic: &(dyn std::any::Any + Send),
    tripped: Option<Exhausted>,
    limits: &Limits,
) -> GuestError {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    if message.starts_with(alloc::ALLOC_FAILED) {
        return exhausted_error(Exhausted::Memory, limits);
    }
    // A limit surfacing where Boa did not expect an error can trip one of its assertions: the
    // limit is what stopped the cell.
    if let Some(reason) = tripped {
        return exhausted_error(reason, limits);
    }
    internal_error(message)
}

#[cfg(test)]
#[path = "builtins_tests.rs"]
mod builtins_tests;
#[cfg(test)]
#[path = "io_tests.rs"]
mod io_tests;
#[cfg(test)]
#[path = "regex_tests.rs"]
mod regex_tests;
#[cfg(test)]
#[path = "speed_tests.rs"]
mod speed_tests;
#[cfg(test)]
#[path = "tests.rs"]
mod tests;
