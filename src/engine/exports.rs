//! The engine module's exports (see [`super::abi`] for the contract).
//!
//! One instance holds one realm. The module is built with panic=abort: a panic or a failed
//! allocation traps the instance, and the host, which owns the instance's memory, throws it
//! away and restores the session from its checkpoint. Just before trapping the module tells the
//! host why (`engine_panic`, `engine_oom`), so the cell's answer can name the cause.

use std::cell::RefCell;

use std::cell::Cell;

use boa_engine::budget;

use super::{
    abi::{self, Answer, InitMessage, Op, StartMessage},
    realm, Engine, Limits,
};

#[link(wasm_import_module = "env")]
extern "C" {
    fn engine_panic(ptr: *const u8, len: usize);
    fn engine_oom(bytes: usize);
    /// Console output of a streaming cell ([`abi::encode_output`]). The host may suspend the
    /// call (JSPI) to send it and let its event loop run; the module's state is untouched
    /// meanwhile, and the host makes no other call into the instance until this one returns.
    fn engine_yield(ptr: *const u8, len: usize);
}

/// The instance's state. The module is single-threaded; a `RefCell` keeps the borrows honest.
struct State {
    engine: Option<Engine>,
    input: Vec<u8>,
    output: Vec<u8>,
}

thread_local! {
    /// The realm's limits, for the panic hook to name the limit a panic came from.
    static LIMITS: Cell<Limits> = Cell::new(Limits::default());
    static STATE: RefCell<State> = const {
        RefCell::new(State { engine: None, input: Vec::new(), output: Vec::new() })
    };
}

#[no_mangle]
pub extern "C" fn engine_abi() -> u32 {
    abi::ABI_VERSION
}

#[no_mangle]
pub extern "C" fn engine_input(len: usize) -> *mut u8 {
    install_panic_hook();
    STATE.with_borrow_mut(|state| {
        state.input.clear();
        state.input.resize(len, 0);
        state.input.as_mut_ptr()
    })
}

#[no_mangle]
pub extern "C" fn engine_output() -> *const u8 {
    STATE.with_borrow(|state| state.output.as_ptr())
}

#[no_mangle]
pub extern "C" fn engine_call(op: u32) -> usize {
    // Take what the call needs out of the state, so guest code (which may allocate and, on a
    // trap, never return) runs with no borrow held.
    let (input, mut engine) =
        STATE.with_borrow_mut(|s| (std::mem::take(&mut s.input), s.engine.take()));
    let answer = match Op::from_u32(op) {
        None => Answer::Refused(format!("unknown op {op}")),
        Some(Op::Init) => match serde_json::from_slice::<InitMessage>(&input) {
            Ok(init) => match Engine::with_env(init.seed, init.limits, &init.env) {
                Ok(created) => {
                    LIMITS.set(init.limits);
                    engine = Some(created);
                    Answer::Ready
                }
                Err(e) => Answer::Refused(format!("init: {e}")),
            },
            Err(e) => Answer::Refused(format!("init message: {e}")),
        },
        Some(op) => match engine.as_mut() {
            None => Answer::Refused("no realm: call init first".into()),
            Some(engine) => run(engine, op, &input),
        },
    };
    let output = abi::encode_answer(&answer);
    STATE.with_borrow_mut(|s| {
        s.engine = engine;
        s.input = input;
        s.output = output;
        s.output.len()
    })
}

fn run(engine: &mut Engine, op: Op, input: &[u8]) -> Answer {
    match op {
        Op::Start => match serde_json::from_slice::<StartMessage>(input) {
            Ok(cell) => {
                let sink: Option<super::OutputSink> =
                    (cell.yield_fuel > 0).then(|| std::rc::Rc::new(send_output) as _);
                engine.stream_output(sink, cell.yield_fuel);
                Answer::Step(engine.start(&cell.code, cell.now_ms, cell.input.as_ref()))
            }
            Err(e) => Answer::Refused(format!("start message: {e}")),
        },
        Op::Resume => match abi::decode_replies(input) {
            Ok(replies) => Answer::Step(engine.resume(replies)),
            Err(e) => Answer::Refused(format!("resume message: {e}")),
        },
        Op::Replay => match abi::decode_replay(input) {
            Ok((cell, replies)) => Answer::Step(super::Step::done(engine.replay(
                &cell.code,
                cell.now_ms,
                cell.input.as_ref(),
                replies,
            ))),
            Err(e) => Answer::Refused(format!("replay message: {e}")),
        },
        Op::Reseed => match serde_json::from_slice::<abi::ReseedMessage>(input) {
            Ok(message) => match engine.reseed(message.seed) {
                Ok(()) => Answer::Ready,
                Err(e) => Answer::Refused(format!("reseed: {e}")),
            },
            Err(e) => Answer::Refused(format!("reseed message: {e}")),
        },
        Op::Init => Answer::Refused("init twice".into()),
    }
}

/// Hands a streaming cell's new console lines to the host.
fn send_output(lines: &[abi::OutputLine]) {
    let bytes = abi::encode_output(lines);
    // SAFETY: the host copies `len` bytes from `ptr` before this returns.
    unsafe { engine_yield(bytes.as_ptr(), bytes.len()) }
}

/// Reports a failed allocation to the host before the module traps (the allocator calls this
/// when the memory cannot grow: the instance is at the session's memory limit).
pub fn report_oom(bytes: usize) {
    // SAFETY: an import of the host's, taking a plain integer.
    unsafe { engine_oom(bytes) }
}

fn install_panic_hook() {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            // The cell's error, as the realm maps a caught panic natively (a limit that tripped
            // an assertion is that limit), as JSON of a `GuestError`.
            let error = realm::panic_error(info.payload(), budget::tripped(), &LIMITS.get());
            let text = serde_json::to_vec(&error).unwrap_or_default();
            // SAFETY: the host copies `len` bytes from `ptr` before this returns.
            unsafe { engine_panic(text.as_ptr(), text.len()) }
        }));
    });
}
