//! Encoding of a guest value as JSON for the `value` field of an exec result.
//!
//! JSON-compatible values encode as themselves; everything else becomes an object tagged
//! with `"$type"`. The rules are documented for users in `docs/values.md`.
//!
//! Like [`super::inspect`], encoding never calls guest code (no getters, `toJSON`, Proxy
//! traps) and is bounded by [`EncodeLimits`].

use boa_engine::{
    builtins::promise::PromiseState, property::PropertyKey, Context, JsObject, JsString, JsValue,
    JsVariant,
};
use serde_json::{json, Map, Value};

use super::inspect::{
    array_element, classify, error_parts, format_bigint, js_string_prefix, map_entries,
    own_data_value, own_enumerable_props, set_values, symbol_description, typed_array_values,
    Element, KeyFilter, Kind, Slot, HARD_MAX_DEPTH, KEY_SCAN_BUDGET,
};

/// Bounds of one [`encode`] call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeLimits {
    /// Containers nested deeper than this become `{"$type":"truncated","reason":"depth"}`.
    /// Values above 200 are treated as 200.
    pub max_depth: usize,
    /// Values encoded in total; the rest become `{"$type":"truncated","reason":"size"}`.
    pub max_nodes: usize,
    /// UTF-16 code units kept per string (and per object key).
    pub max_string_len: usize,
    /// Elements or properties kept per container.
    pub max_entries: usize,
}

impl Default for EncodeLimits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_nodes: 10_000,
            max_string_len: 100_000,
            max_entries: 1_000,
        }
    }
}

/// The JSON form of a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// The encoded value.
    pub value: Value,
    /// Whether any limit cut something out.
    pub truncated: bool,
}

/// Encodes `value` as JSON following the rules of `docs/values.md`. Never calls guest code
/// and never fails: whatever cannot be read is tagged or truncated.
pub fn encode(value: &JsValue, ctx: &mut Context, limits: &EncodeLimits) -> Encoded {
    let mut encoder = Encoder {
        limits,
        max_depth: limits.max_depth.min(HARD_MAX_DEPTH),
        nodes: 0,
        ancestors: Vec::new(),
        key_budget: KEY_SCAN_BUDGET,
        truncated: false,
    };
    let value = encoder.value(value, 0, ctx);
    Encoded {
        value,
        truncated: encoder.truncated,
    }
}

/// The `"$type"` key of tagged values.
const TYPE: &str = "$type";

/// The key added to objects whose properties were cut.
const TRUNCATED_KEY: &str = "$truncated";

fn tag(name: &str) -> Value {
    json!({ TYPE: name })
}

struct Encoder<'a> {
    limits: &'a EncodeLimits,
    max_depth: usize,
    nodes: usize,
    /// The objects being encoded: the ancestors of the current value.
    ancestors: Vec<JsObject>,
    key_budget: usize,
    truncated: bool,
}

impl Encoder<'_> {
    fn truncated_size(&mut self) -> Value {
        self.truncated = true;
        json!({ TYPE: "truncated", "reason": "size" })
    }

    fn omitted(&mut self, omitted: usize) -> Value {
        self.truncated = true;
        json!({ TYPE: "truncated", "omitted": omitted })
    }

    #[inline(never)]
    fn string(&mut self, s: &JsString) -> Value {
        let (text, remaining) = js_string_prefix(s, self.limits.max_string_len);
        if remaining > 0 {
            self.truncated = true;
        }
        Value::String(text)
    }

    #[inline(never)]
    fn number(n: f64) -> Value {
        if n.is_nan() {
            return json!({ TYPE: "number", "value": "NaN" });
        }
        if n.is_infinite() {
            let v = if n > 0.0 { "Infinity" } else { "-Infinity" };
            return json!({ TYPE: "number", "value": v });
        }
        if n == 0.0 && n.is_sign_negative() {
            return json!({ TYPE: "number", "value": "-0" });
        }
        // Integers within the exactly representable range stay integers (2, not 2.0).
        if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
            return Value::from(n as i64);
        }
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }

    fn value(&mut self, value: &JsValue, depth: usize, ctx: &mut Context) -> Value {
        if self.nodes >= self.limits.max_nodes {
            return self.truncated_size();
        }
        self.nodes += 1;
        match value.variant() {
            JsVariant::Null => Value::Null,
            JsVariant::Undefined => tag("undefined"),
            JsVariant::Boolean(b) => Value::Bool(b),
            JsVariant::Integer32(i) => Value::from(i),
            JsVariant::Float64(f) => Self::number(f),
            JsVariant::String(s) => self.string(&s),
            JsVariant::BigInt(_) | JsVariant::Symbol(_) => self.tagged_primitive(value),
            JsVariant::Object(o) => self.object(&o, depth, ctx),
        }
    }

    #[inline(never)]
    fn tagged_primitive(&mut self, value: &JsValue) -> Value {
        match value.variant() {
            JsVariant::BigInt(b) => {
                let (digits, cut) = format_bigint(&b, self.limits.max_string_len);
                self.truncated |= cut;
                json!({ TYPE: "bigint", "value": digits })
            }
            JsVariant::Symbol(s) => {
                let description = symbol_description(&s, self.limits.max_string_len);
                json!({ TYPE: "symbol", "description": description })
            }
            _ => Value::Null,
        }
    }

    fn slot(&mut self, slot: &Slot, depth: usize, ctx: &mut Context) -> Value {
        match slot {
            Slot::Value(v) => self.value(v, depth, ctx),
            Slot::Accessor { .. } => {
                if self.nodes >= self.limits.max_nodes {
                    return self.truncated_size();
                }
                self.nodes += 1;
                tag("accessor")
            }
        }
    }

    fn object(&mut self, obj: &JsObject, depth: usize, ctx: &mut Context) -> Value {
        if self.ancestors.iter().any(|a| JsObject::equals(a, obj)) {
            return tag("circular");
        }
        let kind = classify(obj, ctx);
        if let Some(leaf) = self.leaf(&kind) {
            return leaf;
        }
        if depth >= self.max_depth {
            self.truncated = true;
            return json!({ TYPE: "truncated", "reason": "depth" });
        }
        self.ancestors.push(obj.clone());
        let out = self.container(obj, kind, depth + 1, ctx);
        self.ancestors.pop();
        out
    }

    /// Tagged values without nested guest values.
    #[inline(never)]
    fn leaf(&mut self, kind: &Kind) -> Option<Value> {
        Some(match kind {
            Kind::Proxy => tag("proxy"),
            Kind::Function { name, class, .. } => {
                let t = if *class { "class" } else { "function" };
                json!({ TYPE: t, "name": self.cap(name) })
            }
            Kind::Date(iso) => json!({ TYPE: "date", "value": iso }),
            Kind::RegExp { source, flags } => {
                json!({ TYPE: "regexp", "source": self.cap(source), "flags": flags })
            }
            Kind::WeakMap => tag("weakmap"),
            Kind::WeakSet => tag("weakset"),
            Kind::ArrayBuffer {
                byte_length,
                shared,
            } => {
                let t = if *shared {
                    "SharedArrayBuffer"
                } else {
                    "ArrayBuffer"
                };
                json!({ TYPE: t, "byteLength": byte_length })
            }
            _ => return None,
        })
    }

    fn cap(&mut self, s: &str) -> String {
        let max = self.limits.max_string_len;
        if s.chars().count() <= max {
            return s.to_string();
        }
        self.truncated = true;
        s.chars().take(max).collect()
    }

    /// Encodes a container's children at `depth`. Each kind has its own function so that
    /// the recursion keeps small stack frames.
    fn container(&mut self, obj: &JsObject, kind: Kind, depth: usize, ctx: &mut Context) -> Value {
        match kind {
            Kind::Array { length } => self.array(obj, length, depth, ctx),
            Kind::Error => self.error(obj, depth, ctx),
            Kind::Map { size } => self.map(obj, size, depth, ctx),
            Kind::Set { size } => {
                let values = set_values(obj, self.limits.max_entries);
                let out = self.list(&values, size, depth, ctx);
                json!({ TYPE: "set", "size": size, "values": out })
            }
            Kind::TypedArray { name, length } => {
                let values = typed_array_values(obj, self.limits.max_entries, ctx);
                let out = self.list(&values, length, depth, ctx);
                json!({ TYPE: name, "length": length, "values": out })
            }
            Kind::Promise(state) => self.promise(&state, depth, ctx),
            _ => self.plain_object(obj, depth, ctx),
        }
    }

    #[inline(never)]
    fn array(&mut self, obj: &JsObject, length: u32, depth: usize, ctx: &mut Context) -> Value {
        let shown = (length as usize).min(self.limits.max_entries);
        let mut items = Vec::new();
        for i in 0..shown {
            if self.nodes >= self.limits.max_nodes {
                items.push(self.truncated_size());
                return Value::Array(items);
            }
            let Ok(index) = u32::try_from(i) else { break };
            let item = match array_element(obj, index) {
                Element::Hole => {
                    self.nodes += 1;
                    tag("hole")
                }
                Element::Present(slot) => self.slot(&slot, depth, ctx),
            };
            items.push(item);
        }
        let omitted = (length as usize).saturating_sub(shown);
        if omitted > 0 {
            items.push(self.omitted(omitted));
        }
        Value::Array(items)
    }

    #[inline(never)]
    fn error(&mut self, obj: &JsObject, depth: usize, ctx: &mut Context) -> Value {
        let parts = error_parts(obj, self.limits.max_string_len, ctx);
        let mut m = Map::new();
        m.insert(TYPE.into(), "error".into());
        m.insert("name".into(), self.cap(&parts.name).into());
        m.insert("message".into(), self.cap(&parts.message).into());
        let stack = parts
            .stack
            .map_or(Value::Null, |s| Value::String(self.cap(&s)));
        m.insert("stack".into(), stack);
        if let Some(cause) = own_data_value(obj, "cause") {
            let cause = self.value(&cause, depth, ctx);
            m.insert("cause".into(), cause);
        }
        Value::Object(m)
    }

    #[inline(never)]
    fn map(&mut self, obj: &JsObject, size: usize, depth: usize, ctx: &mut Context) -> Value {
        let entries = map_entries(obj, self.limits.max_entries);
        let mut out = Vec::new();
        for (k, v) in &entries {
            if self.nodes >= self.limits.max_nodes {
                out.push(self.truncated_size());
                break;
            }
            let k = self.value(k, depth, ctx);
            let v = self.value(v, depth, ctx);
            out.push(Value::Array(vec![k, v]));
        }
        let omitted = size.saturating_sub(entries.len());
        if omitted > 0 {
            out.push(self.omitted(omitted));
        }
        json!({ TYPE: "map", "size": size, "entries": out })
    }

    #[inline(never)]
    fn promise(&mut self, state: &PromiseState, depth: usize, ctx: &mut Context) -> Value {
        match state {
            PromiseState::Pending => json!({ TYPE: "promise", "state": "pending" }),
            PromiseState::Fulfilled(v) => {
                let v = self.value(v, depth, ctx);
                json!({ TYPE: "promise", "state": "fulfilled", "value": v })
            }
            PromiseState::Rejected(v) => {
                let v = self.value(v, depth, ctx);
                json!({ TYPE: "promise", "state": "rejected", "value": v })
            }
        }
    }

    /// Values of a Set or typed array: the first ones, then a truncation marker.
    #[inline(never)]
    fn list(
        &mut self,
        values: &[JsValue],
        total: usize,
        depth: usize,
        ctx: &mut Context,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        for v in values {
            if self.nodes >= self.limits.max_nodes {
                out.push(self.truncated_size());
                return out;
            }
            out.push(self.value(v, depth, ctx));
        }
        let omitted = total.saturating_sub(values.len());
        if omitted > 0 {
            out.push(self.omitted(omitted));
        }
        out
    }

    /// Own enumerable string-keyed properties, in property order.
    #[inline(never)]
    fn plain_object(&mut self, obj: &JsObject, depth: usize, ctx: &mut Context) -> Value {
        let filter = KeyFilter {
            indices: true,
            symbols: false,
        };
        let props =
            own_enumerable_props(obj, filter, self.limits.max_entries, &mut self.key_budget);
        let mut m = Map::new();
        for (key, slot) in &props.entries {
            let name = match key {
                PropertyKey::String(s) => self.string(s),
                PropertyKey::Index(i) => Value::String(i.get().to_string()),
                PropertyKey::Symbol(_) => continue,
            };
            let Value::String(name) = name else { continue };
            if self.nodes >= self.limits.max_nodes {
                let t = self.truncated_size();
                m.insert(name, t);
                break;
            }
            let v = self.slot(slot, depth, ctx);
            m.insert(name, v);
        }
        if props.omitted > 0 {
            let t = self.omitted(props.omitted);
            m.insert(TRUNCATED_KEY.into(), t);
        } else if props.exhausted {
            let t = self.truncated_size();
            m.insert(TRUNCATED_KEY.into(), t);
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests;
