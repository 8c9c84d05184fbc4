//! Host hooks: the clock and `Math.random`, deterministic so that replaying a session's journal
//! rebuilds exactly the same realm, and the check on code compiled at run time.

use std::{cell::Cell, rc::Rc};

use boa_engine::{
    budget,
    context::{
        time::{Clock, JsInstant},
        HostHooks,
    },
    js_string,
    object::FunctionObjectBuilder,
    realm::Realm,
    Context, JsNativeError, JsResult, JsString, JsValue, NativeFunction,
};

/// A clock that reports the time recorded for the current cell.
#[derive(Debug, Default)]
pub struct RecordedClock {
    now_ms: Cell<f64>,
}

impl RecordedClock {
    pub fn set(&self, now_ms: f64) {
        self.now_ms.set(now_ms);
    }
}

impl Clock for RecordedClock {
    fn now(&self) -> JsInstant {
        let ms = self.now_ms.get().max(0.0);
        let secs = (ms / 1000.0).floor();
        let nanos = ((ms - secs * 1000.0) * 1_000_000.0) as u32;
        JsInstant::new(secs as u64, nanos.min(999_999_999))
    }

    fn system_time_millis(&self) -> i64 {
        self.now_ms.get() as i64
    }
}

/// `Math.random()`: xorshift64* seeded per session; its state lives as long as the realm.
pub fn install_seeded_random(ctx: &mut Context, seed: u64) -> JsResult<()> {
    // xorshift must not start at 0.
    let state = Rc::new(Cell::new(seed | 1));
    // SAFETY: the closure captures only an `Rc<Cell<u64>>`, which holds no GC-managed values,
    // so the garbage collector has nothing to trace in it.
    let random = unsafe {
        NativeFunction::from_closure(move |_, _, _| {
            let mut x = state.get();
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            state.set(x);
            let bits = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
            Ok(JsValue::from(bits as f64 / (1u64 << 53) as f64))
        })
    };
    let math = ctx
        .global_object()
        .get(js_string!("Math"), ctx)?
        .as_object()
        .ok_or_else(|| boa_engine::JsNativeError::typ().with_message("Math is not an object"))?
        .clone();
    let f = FunctionObjectBuilder::new(ctx.realm(), random)
        .name(js_string!("random"))
        .length(0)
        .build();
    math.define_property_or_throw(
        js_string!("random"),
        boa_engine::property::PropertyDescriptor::builder()
            .value(f)
            .writable(true)
            .enumerable(false)
            .configurable(true),
        ctx,
    )?;
    Ok(())
}

/// Checks code compiled at run time (`eval`, `new Function`, and the engine's own cells) the way
/// cells are checked before parsing: its nesting, because Boa parses recursively on the native
/// stack, and its size, charged as fuel because parsing does not run VM instructions.
#[derive(Debug)]
pub struct CompileCheck {
    /// Most nesting allowed (see `notebook::nesting_depth`).
    pub nesting_limit: usize,
}

impl HostHooks for CompileCheck {
    fn ensure_can_compile_strings(
        &self,
        _realm: Realm,
        parameters: &[JsString],
        body: &JsString,
        _direct: bool,
        _context: &mut Context,
    ) -> JsResult<()> {
        let mut units = body.len();
        for p in parameters {
            units += p.len();
        }
        budget::charge(units as u64)?;
        for text in parameters.iter().chain(std::iter::once(body)) {
            let depth =
                super::notebook::nesting_depth(&text.to_std_string_escaped(), self.nesting_limit);
            if depth > self.nesting_limit {
                return Err(JsNativeError::range()
                    .with_message(format!(
                        "code compiled at run time nests more than {} levels deep",
                        self.nesting_limit
                    ))
                    .into());
            }
        }
        Ok(())
    }
}
