//! The `console` host object: Node-like methods that record output into a [`ConsoleSink`].
//!
//! Formatting goes through [`super::inspect`], so printing never calls guest code. The sink
//! keeps at most `max_bytes` of output; later writes are dropped (a partial last line may be
//! cut) and `truncated` is set. Once full, further calls return without formatting anything,
//! so a guest that logs in a loop costs little after the limit.
//!
//! The sink is stored in the context's host-defined data (`Context::insert_data`), which
//! needs no garbage-collector tracing; one context has one console sink.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use boa_engine::{
    native_function::NativeFunctionPointer, object::ObjectInitializer, property::Attribute,
    Context, JsResult, JsString, JsValue, JsVariant, NativeFunction,
};

use super::{
    abi::OutputLine,
    inspect::{self, format_args_with, InspectOptions},
};

pub use super::outcome::Logs;

/// Where console output goes; shared with the engine as `Rc<RefCell<ConsoleSink>>`.
#[derive(Debug)]
pub struct ConsoleSink {
    logs: Logs,
    max_bytes: usize,
    /// Current `console.group` indentation, in spaces.
    indent: usize,
    counts: HashMap<String, u64>,
    /// Start times of `console.time` labels, in nanoseconds of the context's clock.
    timers: HashMap<String, u128>,
    /// While the cell's output streams: the lines written since the last
    /// [`ConsoleSink::take_live`], in the order written across both streams.
    live: Option<Vec<OutputLine>>,
}

/// Output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// Labels kept by `count` and `time`; new labels beyond this are not remembered.
const MAX_LABELS: usize = 1_000;

/// Characters kept of a `count`/`time`/`group` label.
const MAX_LABEL_LEN: usize = 1_000;

/// Deepest `console.group` indentation, in spaces.
const MAX_INDENT: usize = 64;

impl ConsoleSink {
    /// A sink that keeps at most `max_bytes` of output.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            logs: Logs::default(),
            max_bytes,
            indent: 0,
            counts: HashMap::new(),
            timers: HashMap::new(),
            live: None,
        }
    }

    /// Starts (or stops) keeping each line for [`ConsoleSink::take_live`] too.
    pub fn set_live(&mut self, on: bool) {
        self.live = on.then(Vec::new);
    }

    /// The lines written since the last call (none when output does not stream).
    pub fn take_live(&mut self) -> Vec<OutputLine> {
        self.live.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Returns the recorded output and starts again with empty logs (the byte budget is
    /// renewed; group indentation, counters and timers are kept).
    pub fn take(&mut self) -> Logs {
        std::mem::take(&mut self.logs)
    }

    /// Changes the byte limit for subsequent writes.
    pub fn set_max_bytes(&mut self, n: usize) {
        self.max_bytes = n;
    }

    /// The output recorded so far.
    pub fn logs(&self) -> &Logs {
        &self.logs
    }

    /// Bytes that may still be written.
    fn remaining(&self) -> usize {
        self.max_bytes.saturating_sub(self.logs.bytes)
    }

    fn is_full(&self) -> bool {
        self.logs.truncated || self.remaining() == 0
    }

    /// Marks the output truncated and stops the execution: hitting the output limit is a limit
    /// like any other (the budget trips, and the VM throws at its next instruction).
    fn mark_truncated(&mut self) {
        self.logs.truncated = true;
        boa_engine::budget::trip(boa_engine::budget::Exhausted::Output);
    }

    /// Records one message (which may span lines), indented by the current group.
    fn write(&mut self, stream: Stream, message: &str) {
        if self.logs.truncated {
            return;
        }
        let mut line = if self.indent == 0 {
            message.to_string()
        } else {
            let pad = " ".repeat(self.indent);
            let mut s = pad.clone();
            s.push_str(&message.replace('\n', &format!("\n{pad}")));
            s
        };
        let remaining = self.remaining();
        if line.len() < remaining {
            self.logs.bytes += line.len() + 1;
        } else {
            self.mark_truncated();
            let mut cut = remaining.saturating_sub(1);
            while cut > 0 && !line.is_char_boundary(cut) {
                cut -= 1;
            }
            if cut == 0 {
                return;
            }
            line.truncate(cut);
            self.logs.bytes += cut + 1;
        }
        if let Some(live) = self.live.as_mut() {
            // The streamed copy is the host's: a streamed cell uses what a plain one does. It is
            // freed by the budget's yield hook (uncounted too) or after the step.
            boa_engine::budget::uncounted(|| {
                live.push(OutputLine {
                    stderr: stream == Stream::Stderr,
                    text: line.clone(),
                })
            });
        }
        match stream {
            Stream::Stdout => self.logs.stdout.push(line),
            Stream::Stderr => self.logs.stderr.push(line),
        }
    }
}

/// The sink of a context, stored in its host-defined data.
struct SinkHandle(Rc<RefCell<ConsoleSink>>);

/// Name of the global.
const CONSOLE: &str = "console";

/// The methods of `console`: JS name, implementation, `length`.
const METHODS: &[(&str, NativeFunctionPointer, usize)] = &[
    ("log", log, 0),
    ("info", log, 0),
    ("debug", log, 0),
    ("warn", warn, 0),
    ("error", warn, 0),
    ("trace", trace, 0),
    ("dir", dir, 0),
    ("table", log, 1),
    ("assert", assert, 0),
    ("count", count, 0),
    ("countReset", count_reset, 0),
    ("time", time, 0),
    ("timeLog", time_log, 0),
    ("timeEnd", time_end, 0),
    ("group", group, 0),
    ("groupCollapsed", group, 0),
    ("groupEnd", group_end, 0),
];

/// Defines the global `console` writing to `sink`. Also captures the built-ins that
/// formatting relies on ([`inspect::capture_intrinsics`]), so call it before guest code runs.
pub fn install(ctx: &mut Context, sink: Rc<RefCell<ConsoleSink>>) -> JsResult<()> {
    ctx.insert_data(SinkHandle(sink));
    inspect::capture_intrinsics(ctx);
    let mut init = ObjectInitializer::new(ctx);
    for (name, f, length) in METHODS {
        init.function(
            NativeFunction::from_fn_ptr(*f),
            JsString::from(*name),
            *length,
        );
    }
    let console = init.build();
    ctx.register_global_property(
        JsString::from(CONSOLE),
        console,
        Attribute::WRITABLE | Attribute::CONFIGURABLE,
    )
}

fn sink(ctx: &Context) -> Option<Rc<RefCell<ConsoleSink>>> {
    ctx.get_data::<SinkHandle>().map(|h| h.0.clone())
}

/// Inspect options whose output cap fits the sink's remaining bytes.
fn options_for(sink: &ConsoleSink) -> InspectOptions {
    let defaults = InspectOptions::default();
    InspectOptions {
        max_output: defaults.max_output.min(sink.remaining()),
        ..defaults
    }
}

/// Formats with `format` unless the sink is full, then writes the result.
fn emit(
    ctx: &mut Context,
    stream: Stream,
    format: impl FnOnce(&mut Context, &InspectOptions) -> Option<String>,
) -> JsResult<JsValue> {
    let Some(sink) = sink(ctx) else {
        return Ok(JsValue::undefined());
    };
    let opts = {
        let Ok(mut s) = sink.try_borrow_mut() else {
            return Ok(JsValue::undefined());
        };
        if s.is_full() {
            // This write is dropped.
            s.mark_truncated();
            return Ok(JsValue::undefined());
        }
        options_for(&s)
    };
    if let Some(message) = format(ctx, &opts) {
        if let Ok(mut s) = sink.try_borrow_mut() {
            s.write(stream, &message);
        }
    }
    Ok(JsValue::undefined())
}

/// Runs `f` on the sink (for counters, timers and groups).
fn with_sink<R>(ctx: &Context, f: impl FnOnce(&mut ConsoleSink) -> R) -> Option<R> {
    let sink = sink(ctx)?;
    let mut s = sink.try_borrow_mut().ok()?;
    Some(f(&mut s))
}

/// `console.log(...data)`, also `info`, `debug` and `table`: formatted like `util.format`
/// to stdout.
fn log(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    emit(ctx, Stream::Stdout, |ctx, o| {
        Some(format_args_with(args, ctx, o))
    })
}

/// `console.warn(...data)`, also `error`: formatted like `util.format` to stderr.
fn warn(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    emit(ctx, Stream::Stderr, |ctx, o| {
        Some(format_args_with(args, ctx, o))
    })
}

/// `console.trace(...data)`: `Trace: <message>` to stderr (without a stack).
fn trace(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    emit(ctx, Stream::Stderr, |ctx, o| {
        let message = format_args_with(args, ctx, o);
        Some(if message.is_empty() {
            "Trace".to_string()
        } else {
            format!("Trace: {message}")
        })
    })
}

/// `console.dir(item)`: `util.inspect(item)` to stdout (strings are quoted).
fn dir(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let item = args.first().cloned().unwrap_or_default();
    emit(ctx, Stream::Stdout, |ctx, o| {
        Some(inspect::inspect(&item, ctx, o))
    })
}

/// `console.assert(condition, ...data)`: when `condition` is falsy, writes
/// `Assertion failed` (and the formatted data) to stderr.
fn assert(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let condition = args.first().is_some_and(JsValue::to_boolean);
    if condition {
        return Ok(JsValue::undefined());
    }
    let data = args.get(1..).unwrap_or_default();
    emit(ctx, Stream::Stderr, |ctx, o| {
        Some(match data.split_first() {
            None => "Assertion failed".to_string(),
            // Directives in a leading string apply to the rest, as in Node.
            Some((first, _)) if first.is_string() => {
                format!("Assertion failed: {}", format_args_with(data, ctx, o))
            }
            Some(_) => format!("Assertion failed {}", format_args_with(data, ctx, o)),
        })
    })
}

/// The label argument of `count`, `time` and friends (`'default'` when absent). Never
/// converts objects with their own `toString`: they are inspected instead.
fn label(args: &[JsValue], ctx: &mut Context) -> String {
    let text = match args.first().map(JsValue::variant) {
        None | Some(JsVariant::Undefined) => "default".to_string(),
        Some(JsVariant::String(s)) => inspect::js_string_prefix(&s, MAX_LABEL_LEN).0,
        Some(_) => {
            let opts = InspectOptions {
                depth: 0,
                max_output: MAX_LABEL_LEN,
                ..InspectOptions::default()
            };
            format_args_with(&args[..1], ctx, &opts)
        }
    };
    text.chars().take(MAX_LABEL_LEN).collect()
}

/// `console.count(label = 'default')`: writes `label: n` to stdout.
fn count(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let label = label(args, ctx);
    let n = with_sink(ctx, |s| {
        let n = s.counts.get(&label).copied().unwrap_or(0).saturating_add(1);
        if s.counts.len() < MAX_LABELS || s.counts.contains_key(&label) {
            s.counts.insert(label.clone(), n);
        }
        n
    });
    let Some(n) = n else {
        return Ok(JsValue::undefined());
    };
    emit(ctx, Stream::Stdout, |_, _| Some(format!("{label}: {n}")))
}

/// `console.countReset(label = 'default')`: resets the counter of `label`.
fn count_reset(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let label = label(args, ctx);
    let existed = with_sink(ctx, |s| s.counts.remove(&label).is_some()).unwrap_or(true);
    if existed {
        return Ok(JsValue::undefined());
    }
    emit(ctx, Stream::Stderr, |_, _| {
        Some(format!("Count for '{label}' does not exist"))
    })
}

fn now_nanos(ctx: &Context) -> u128 {
    ctx.clock().now().nanos_since_epoch()
}

/// Node's `formatTime`: milliseconds with three decimals, seconds above one second.
fn format_duration(nanos: u128) -> String {
    let ms = nanos as f64 / 1e6;
    if ms >= 1000.0 {
        format!("{:.3}s", ms / 1000.0)
    } else {
        format!("{ms:.3}ms")
    }
}

/// `console.time(label = 'default')`: starts a timer on the context's clock.
fn time(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let label = label(args, ctx);
    let now = now_nanos(ctx);
    let exists = with_sink(ctx, |s| {
        if s.timers.contains_key(&label) {
            return true;
        }
        if s.timers.len() < MAX_LABELS {
            s.timers.insert(label.clone(), now);
        }
        false
    })
    .unwrap_or(false);
    if !exists {
        return Ok(JsValue::undefined());
    }
    emit(ctx, Stream::Stderr, |_, _| {
        Some(format!(
            "Warning: Label '{label}' already exists for console.time()"
        ))
    })
}

/// Shared part of `timeLog` and `timeEnd`.
fn time_report(args: &[JsValue], ctx: &mut Context, end: bool) -> JsResult<JsValue> {
    let label = label(args, ctx);
    let now = now_nanos(ctx);
    let started = with_sink(ctx, |s| {
        if end {
            s.timers.remove(&label)
        } else {
            s.timers.get(&label).copied()
        }
    })
    .flatten();
    let method = if end { "timeEnd" } else { "timeLog" };
    let Some(started) = started else {
        return emit(ctx, Stream::Stderr, |_, _| {
            Some(format!(
                "Warning: No such label '{label}' for console.{method}()"
            ))
        });
    };
    let elapsed = format_duration(now.saturating_sub(started));
    let extra = if end {
        &[][..]
    } else {
        args.get(1..).unwrap_or_default()
    };
    emit(ctx, Stream::Stdout, |ctx, o| {
        let mut line = format!("{label}: {elapsed}");
        if !extra.is_empty() {
            let mut parts = vec![JsValue::from(JsString::from(line.as_str()))];
            parts.extend_from_slice(extra);
            line = format_args_with(&parts, ctx, o);
        }
        Some(line)
    })
}

/// `console.timeLog(label = 'default', ...data)`: writes the elapsed time to stdout.
fn time_log(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    time_report(args, ctx, false)
}

/// `console.timeEnd(label = 'default')`: writes the elapsed time and stops the timer.
fn time_end(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    time_report(args, ctx, true)
}

/// `console.group(...label)`, also `groupCollapsed`: writes the label, if any, then indents
/// later output by two spaces.
fn group(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    if !args.is_empty() {
        emit(ctx, Stream::Stdout, |ctx, o| {
            Some(format_args_with(args, ctx, o))
        })?;
    }
    with_sink(ctx, |s| s.indent = (s.indent + 2).min(MAX_INDENT));
    Ok(JsValue::undefined())
}

/// `console.groupEnd()`: removes one level of indentation.
fn group_end(_: &JsValue, _: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    with_sink(ctx, |s| s.indent = s.indent.saturating_sub(2));
    Ok(JsValue::undefined())
}

#[cfg(test)]
mod tests;
