//! The JavaScript-backed engine instances (see the parent module).

use wasm_bindgen::prelude::*;
use worker::js_sys::{Function, Promise, Uint8Array};

use crate::{
    engine::{
        abi::{self, Answer, InitMessage, Op, StartMessage},
        internal_error, GuestError, Limits, Outcome, Reply, Step,
    },
    session::{
        checkpoint::ImageHeader,
        service::{self, Engines, Image},
    },
};

#[wasm_bindgen(module = "/src/instance/host.js")]
extern "C" {
    #[wasm_bindgen(js_name = EngineHandle)]
    type Handle;

    #[wasm_bindgen(constructor, catch, js_class = "EngineHandle")]
    fn new(max_bytes: f64) -> Result<Handle, JsValue>;

    #[wasm_bindgen(method, js_class = "EngineHandle")]
    fn call(this: &Handle, op: u32, message: &[u8]) -> Option<Vec<u8>>;

    /// Resolves to the answer's bytes, or undefined if the instance trapped.
    #[wasm_bindgen(method, js_class = "EngineHandle", js_name = callStreaming)]
    fn call_streaming(this: &Handle, op: u32, message: &[u8], sink: &Function) -> Promise;

    #[wasm_bindgen(method, js_class = "EngineHandle")]
    fn trap_report(this: &Handle) -> String;

    #[wasm_bindgen(method, js_class = "EngineHandle")]
    fn memory_bytes(this: &Handle) -> f64;

    #[wasm_bindgen(method, catch, js_class = "EngineHandle")]
    fn snapshot(this: &Handle) -> Result<Uint8Array, JsValue>;

    #[wasm_bindgen(static_method_of = Handle, js_class = "EngineHandle", js_name = restore, catch)]
    fn restore_image(max_bytes: f64, image: &Uint8Array) -> Result<Handle, JsValue>;

    fn engine_build_id() -> String;

    fn engine_initial_bytes() -> f64;
}

/// Memory an instance may hold besides its heap's allowance (`service::instance_bytes`): the
/// engine's 4 MiB stack, its data and the realm itself (about 5.4 MiB after init), with room.
pub const BASE_BYTES: u64 = 16 << 20;

/// One engine instance.
pub struct Instance {
    handle: Handle,
    dead: bool,
}

/// Why an instance stopped answering.
#[derive(serde::Deserialize, Default)]
struct TrapReport {
    trap: Option<String>,
    /// JSON of the `GuestError` the engine's panic hook made.
    panic: Option<String>,
    oom: Option<f64>,
}

impl Instance {
    /// A fresh instance holding a new realm.
    pub fn fresh(init: &InitMessage, max_bytes: u64) -> Result<Self, String> {
        let handle = Handle::new(max_bytes as f64).map_err(|e| format!("instantiate: {e:?}"))?;
        let mut instance = Self {
            handle,
            dead: false,
        };
        let message = serde_json::to_vec(init).map_err(|e| e.to_string())?;
        instance.call_for_ready(Op::Init, &message, &init.limits)?;
        Ok(instance)
    }

    pub async fn restore(image: &Uint8Array, max_bytes: u64) -> Result<Self, String> {
        let head = image.subarray(0, image.length().min(1 << 16)).to_vec();
        let header = ImageHeader::parse(&head)?;
        let max = max_bytes.max(header.memory_bytes()) as f64;
        let handle = Handle::restore_image(max, image).map_err(|e| format!("restore: {e:?}"))?;
        Ok(Self {
            handle,
            dead: false,
        })
    }

    /// Gives the restored realm its own `Math.random` seed (`Op::Reseed`).
    pub fn reseed(&mut self, seed: u64, limits: &Limits) -> Result<(), String> {
        let message =
            serde_json::to_vec(&abi::ReseedMessage { seed }).map_err(|e| e.to_string())?;
        self.call_for_ready(Op::Reseed, &message, limits)
    }

    /// Calls an op that sets the realm up (no cell runs): it answers `Ready` or why not.
    fn call_for_ready(&mut self, op: Op, message: &[u8], limits: &Limits) -> Result<(), String> {
        match self.call(op, message, limits) {
            Ok(Answer::Ready) => Ok(()),
            Ok(Answer::Refused(why)) => Err(why),
            Ok(Answer::Step(_)) => Err(format!("{op:?} answered a step")),
            Err(error) => Err(error.message),
        }
    }

    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Calls the engine; a trap marks the instance dead and answers the cell's error.
    fn call(&mut self, op: Op, message: &[u8], limits: &Limits) -> Result<Answer, GuestError> {
        if self.dead {
            return Err(internal_error("the engine instance has stopped"));
        }
        match self.handle.call(op as u32, message) {
            Some(bytes) => abi::decode_answer(&bytes).map_err(|e| internal_error(&e)),
            None => {
                self.dead = true;
                Err(self.trap_error(limits))
            }
        }
    }

    /// The error a trap is reported as: the panic the engine described, the memory limit when
    /// an allocation failed, the stack limit when the engine's stack overflowed.
    fn trap_error(&self, limits: &Limits) -> GuestError {
        let report: TrapReport =
            serde_json::from_str(&self.handle.trap_report()).unwrap_or_default();
        if let Some(error) = report
            .panic
            .as_deref()
            .and_then(|p| serde_json::from_str::<GuestError>(p).ok())
        {
            return error;
        }
        if report.oom.is_some() {
            return GuestError::limit(
                "memory",
                format!(
                    "the cell needed more memory than the session's limit of {} bytes allows; it \
                     was stopped and rolled back",
                    limits.memory_bytes
                ),
            );
        }
        let trap = report.trap.unwrap_or_default();
        if trap.contains("call stack") || trap.contains("out of bounds") {
            return GuestError::limit(
                "stack",
                "the engine's native stack overflowed (deeply nested code or data); the cell was \
                 stopped and rolled back"
                    .into(),
            );
        }
        internal_error(&format!("the engine instance trapped: {trap}"))
    }

    /// [`Instance::call`] for a streaming cell: `sink` gets its output while it runs.
    async fn call_streaming(
        &mut self,
        op: Op,
        message: &[u8],
        limits: &Limits,
        sink: &Function,
    ) -> Result<Answer, GuestError> {
        if self.dead {
            return Err(internal_error("the engine instance has stopped"));
        }
        let promise = self.handle.call_streaming(op as u32, message, sink);
        let answer = worker::wasm_bindgen_futures::JsFuture::from(promise).await;
        match answer.ok().filter(|v| !v.is_undefined()) {
            Some(bytes) => abi::decode_answer(&Uint8Array::from(bytes).to_vec())
                .map_err(|e| internal_error(&e)),
            None => {
                self.dead = true;
                Err(self.trap_error(limits))
            }
        }
    }

    fn step(&mut self, op: Op, message: &[u8], limits: &Limits) -> Step {
        answer_step(self.call(op, message, limits))
    }

    async fn step_streaming(
        &mut self,
        op: Op,
        message: &[u8],
        limits: &Limits,
        sink: &Function,
    ) -> Step {
        answer_step(self.call_streaming(op, message, limits, sink).await)
    }
}

fn answer_step(answer: Result<Answer, GuestError>) -> Step {
    match answer {
        Ok(Answer::Step(step)) => step,
        Ok(Answer::Ready) => Step::done(stopped(internal_error("unexpected answer"))),
        Ok(Answer::Refused(why)) => Step::done(stopped(internal_error(&why))),
        Err(error) => Step::done(stopped(error)),
    }
}

fn stopped(error: GuestError) -> Outcome {
    Outcome::stopped(error, Default::default(), Default::default())
}

/// Where a streaming cell's output goes: a JavaScript function called with the bytes of each
/// `engine_yield` ([`abi::encode_output`]), and how often (fuel) the engine yields.
#[derive(Clone)]
pub struct OutputSink {
    pub function: Function,
    pub yield_fuel: u64,
}

/// An instance with the limits it reports traps against.
pub struct Live {
    pub instance: Instance,
    pub limits: Limits,
    /// Set for the length of a streaming cell: its output goes there while it runs.
    pub sink: Option<OutputSink>,
}

impl service::Instance for Live {
    async fn start(&mut self, cell: &StartMessage) -> Step {
        match self.sink.clone() {
            None => {
                let message = serde_json::to_vec(cell).unwrap_or_default();
                self.instance.step(Op::Start, &message, &self.limits)
            }
            Some(sink) => {
                let cell = StartMessage {
                    yield_fuel: sink.yield_fuel,
                    ..cell.clone()
                };
                let message = serde_json::to_vec(&cell).unwrap_or_default();
                self.instance
                    .step_streaming(Op::Start, &message, &self.limits, &sink.function)
                    .await
            }
        }
    }

    async fn resume(&mut self, replies: Vec<Reply>) -> Step {
        let message = abi::encode_replies(&replies);
        match self.sink.clone() {
            None => self.instance.step(Op::Resume, &message, &self.limits),
            Some(sink) => {
                self.instance
                    .step_streaming(Op::Resume, &message, &self.limits, &sink.function)
                    .await
            }
        }
    }

    fn replay(&mut self, cell: &StartMessage, replies: Vec<Reply>) -> Outcome {
        let message = abi::encode_replay(cell, &replies);
        match self.instance.step(Op::Replay, &message, &self.limits) {
            Step::Done(outcome) => *outcome,
            Step::Io(_) => stopped(internal_error("a replayed cell asked for I/O")),
        }
    }

    fn memory_bytes(&self) -> u64 {
        self.instance.handle.memory_bytes() as u64
    }
}

/// An image in JavaScript memory: checkpoints never pass through the Worker's own heap whole.
#[derive(Clone)]
pub struct JsImage(pub Uint8Array);

impl Image for JsImage {
    fn len(&self) -> usize {
        self.0.length() as usize
    }

    fn chunk(&self, start: usize, end: usize) -> Vec<u8> {
        self.0.subarray(start as u32, end as u32).to_vec()
    }

    fn with_len(len: usize) -> Self {
        Self(Uint8Array::new_with_length(len as u32))
    }

    fn write(&mut self, at: usize, bytes: &[u8]) {
        // SAFETY: the view into the Worker's memory is copied from before anything allocates.
        let view = unsafe { Uint8Array::view(bytes) };
        self.0.set(&view, at as u32);
    }
}

/// The engine module of this deployment.
pub struct WasmEngines {
    pub limits: Limits,
    /// Given to the instances it makes (a streaming cell's wake).
    pub sink: Option<OutputSink>,
}

/// The isolate's snapshot of a fresh realm under the deployment's default limits, for one-shot
/// runs (`WasmEngines::fresh_for_run`). About the size of a fresh instance's used memory, held
/// once per isolate beside the pool's budget.
#[derive(Clone)]
struct Pristine {
    limits: Limits,
    max_bytes: u64,
    image: JsImage,
}

/// An instance restored from the pristine image ahead of the next one-shot run, so that run
/// skips the copy and instantiation (more than half of a `1+1` run's CPU). No guest code has run
/// in it; it gets its run's seed when taken.
struct Spare {
    limits: Limits,
    max_bytes: u64,
    instance: Instance,
}

thread_local! {
    static PRISTINE: std::cell::RefCell<Option<Pristine>> = const { std::cell::RefCell::new(None) };
    static SPARE: std::cell::RefCell<Option<Spare>> = const { std::cell::RefCell::new(None) };
    /// Whether a spare is being made: at most one at a time.
    static MAKING_SPARE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl WasmEngines {
    /// A fresh realm for a one-shot run. A `pristine` run (the default limits, no secrets) gets
    /// a copy of the isolate's snapshot of a fresh realm with `init.seed` as its seed: copying
    /// memory costs less than building the realm's builtins again, and taking the spare copy
    /// made after the previous run costs nothing on this run's path. The first such run in an
    /// isolate builds its realm and takes the snapshot.
    pub async fn fresh_for_run(
        &self,
        init: &InitMessage,
        max_bytes: u64,
        pristine: bool,
    ) -> Result<Live, String> {
        if !pristine || !init.env.is_empty() {
            return self.fresh(init, max_bytes);
        }
        let live = |instance| Live {
            instance,
            limits: init.limits,
            sink: self.sink.clone(),
        };
        if let Some(mut instance) = take_spare(init.limits, max_bytes).await {
            instance.reseed(init.seed, &init.limits)?;
            return Ok(live(instance));
        }
        let cached = PRISTINE.with_borrow(|p| {
            p.as_ref()
                .filter(|p| p.limits == init.limits)
                .map(|p| p.image.0.clone())
        });
        if let Some(image) = cached {
            let mut instance = Instance::restore(&image, max_bytes).await?;
            instance.reseed(init.seed, &init.limits)?;
            return Ok(live(instance));
        }
        let fresh = self.fresh(init, max_bytes)?;
        if let Ok(image) = self.snapshot(&fresh).await {
            PRISTINE.with_borrow_mut(|p| {
                *p = Some(Pristine {
                    limits: init.limits,
                    max_bytes,
                    image,
                })
            });
        }
        Ok(fresh)
    }
}

/// The spare, if one is ready or about to be: a spare being made is waited for (its timer was
/// set before ours, and the copy runs on this thread, so waiting costs less than a copy of our
/// own, which would also run after it).
async fn take_spare(limits: Limits, max_bytes: u64) -> Option<Instance> {
    for _ in 0..4 {
        if let Some(spare) = SPARE.with_borrow_mut(Option::take) {
            return (spare.limits == limits && spare.max_bytes == max_bytes)
                .then_some(spare.instance);
        }
        if !MAKING_SPARE.get() {
            return None;
        }
        worker::Delay::from(std::time::Duration::ZERO).await;
    }
    None
}

/// Marks a spare as being made until dropped: also when the task making it is dropped unrun.
struct MakingSpare;

impl MakingSpare {
    fn start() -> Self {
        MAKING_SPARE.set(true);
        Self
    }
}

impl Drop for MakingSpare {
    fn drop(&mut self) {
        MAKING_SPARE.set(false);
    }
}

/// Work for after a response: making the spare for the next one-shot run, when this isolate has
/// served one and holds no spare. The caller hands it to `waitUntil`.
pub fn after_response() -> Option<impl std::future::Future<Output = ()>> {
    if MAKING_SPARE.get() || SPARE.with_borrow(Option::is_some) {
        return None;
    }
    let pristine = PRISTINE.with_borrow(Clone::clone)?;
    let making = MakingSpare::start();
    Some(async move {
        let _making = making;
        // A timer, not a microtask: the response goes out before the copy.
        worker::Delay::from(std::time::Duration::ZERO).await;
        if let Ok(instance) = Instance::restore(&pristine.image.0, pristine.max_bytes).await {
            SPARE.with_borrow_mut(|s| {
                *s = Some(Spare {
                    limits: pristine.limits,
                    max_bytes: pristine.max_bytes,
                    instance,
                })
            });
        }
    })
}

/// The engine module's build id (first 16 hex digits of its SHA-256).
pub fn build_id() -> String {
    engine_build_id()
}

/// Bytes an instance starts with.
pub fn initial_bytes() -> u64 {
    engine_initial_bytes() as u64
}

impl Engines for WasmEngines {
    type Instance = Live;
    type Image = JsImage;

    fn build_id(&self) -> String {
        build_id()
    }

    fn fresh(&self, init: &InitMessage, max_bytes: u64) -> Result<Live, String> {
        Ok(Live {
            instance: Instance::fresh(init, max_bytes)?,
            limits: init.limits,
            sink: self.sink.clone(),
        })
    }

    async fn snapshot(&self, live: &Live) -> Result<JsImage, String> {
        let image = live
            .instance
            .handle
            .snapshot()
            .map_err(|e| format!("snapshot: {e:?}"))?;
        Ok(JsImage(image))
    }

    async fn restore(&self, image: &JsImage, max_bytes: u64) -> Result<Live, String> {
        Ok(Live {
            instance: Instance::restore(&image.0, max_bytes).await?,
            limits: self.limits,
            sink: self.sink.clone(),
        })
    }
}
