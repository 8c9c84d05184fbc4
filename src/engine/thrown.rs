//! Describes a thrown JavaScript value as `{name, message, stack}` for the exec result.

use boa_engine::{
    builtins::error::Error, js_string, property::PropertyKey, Context, JsObject, JsString, JsValue,
};

use super::{inspect, GuestError};

/// Prototype links followed when looking up an inherited property.
const MAX_PROTO_DEPTH: usize = 32;

/// Longest `message` or `stack` reported, in bytes.
const MAX_TEXT: usize = 16 * 1024;

/// Error objects report their own `name`, `message` and `stack` data properties (never
/// getters); any other thrown value is reported as `Uncaught` with its inspected form.
pub fn describe(thrown: &JsValue, ctx: &mut Context) -> GuestError {
    if let Some(obj) = thrown.as_object().filter(|o| o.is::<Error>()) {
        let name = data_string(&obj, js_string!("name")).unwrap_or_else(|| "Error".to_string());
        let message = data_string(&obj, js_string!("message")).unwrap_or_default();
        // Never a guest getter: a data property, or the built-in getter only.
        let frames = inspect::error_stack(&obj, ctx)
            .map(|s| s.to_std_string_escaped())
            .unwrap_or_default();
        let header = if message.is_empty() {
            name.clone()
        } else {
            format!("{name}: {message}")
        };
        let stack = if frames.is_empty() {
            header
        } else {
            format!("{header}\n{}", frames.trim_end())
        };
        return GuestError {
            name: cap(name),
            message: cap(message),
            stack: Some(cap(stack)),
            limit: None,
        };
    }
    let shown = inspect::format_args(std::slice::from_ref(thrown), ctx);
    GuestError {
        name: "Uncaught".into(),
        message: cap(shown.clone()),
        stack: Some(cap(format!("Uncaught {shown}"))),
        limit: None,
    }
}

/// Reads a string data property, own or inherited, without calling getters or Proxy traps.
fn data_string(obj: &JsObject, key: JsString) -> Option<String> {
    let key = PropertyKey::from(key);
    let mut current = Some(obj.clone());
    for _ in 0..MAX_PROTO_DEPTH {
        let o = current?;
        let found = o.borrow().properties().get(&key);
        if let Some(desc) = found {
            return desc
                .value()
                .and_then(JsValue::as_string)
                .map(|s| s.to_std_string_escaped());
        }
        current = o.prototype();
    }
    None
}

fn cap(mut s: String) -> String {
    if s.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}
