//! Deterministic host hooks: the clock and `Math.random`, so that replaying a session's
//! journal rebuilds exactly the same realm.

use std::{cell::Cell, rc::Rc};

use boa_engine::{
    context::time::{Clock, JsInstant},
    js_string,
    object::FunctionObjectBuilder,
    Context, JsResult, JsValue, NativeFunction,
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
