//! Safe reading of guest values and Node-style formatting (`util.inspect`, `util.format`).
//!
//! Guest code is hostile. Nothing in this module calls guest code: properties are read from
//! the object's own property map (never through `[[Get]]`), accessors are reported and never
//! invoked, Proxy objects are detected first and never looked through, and `toString`,
//! `toJSON`, `valueOf`, `Symbol.toPrimitive` and `inspect` hooks are ignored. All work is
//! bounded: recursion depth, entries per container, key scanning and output size have caps,
//! and no buffer is sized from a guest-controlled length.
//!
//! The same readers back [`super::encode`].

use std::fmt::Write as _;

use boa_engine::{
    builtins::{
        date::Date, error::Error, function::OrdinaryFunction, map::ordered_map::OrderedMap,
        promise::PromiseState, proxy::Proxy, set::ordered_set::OrderedSet,
    },
    object::{
        builtins::{
            JsArrayBuffer, JsDate, JsPromise, JsRegExp, JsSharedArrayBuffer, JsTypedArray,
            JsWeakMap, JsWeakSet,
        },
        NativeObject, Ref,
    },
    property::{PropertyDescriptor, PropertyKey},
    Context, JsObject, JsString, JsValue, JsVariant,
};

// ---------------------------------------------------------------------------------------------
// Safe reading
// ---------------------------------------------------------------------------------------------

/// Total number of property keys one `inspect`/`encode` call may scan. Scanning the keys of
/// an object clones its key list, so this bounds the work spent on objects with many keys.
pub(crate) const KEY_SCAN_BUDGET: usize = 1_000_000;

/// How many prototypes are followed when looking up an inherited data property.
const MAX_PROTO_HOPS: usize = 64;

/// Encoding never recurses deeper than this, whatever the caller's limits say.
pub(crate) const HARD_MAX_DEPTH: usize = 200;

/// Formatting never shows more nesting levels than this (its stack frames are larger).
const INSPECT_MAX_DEPTH: usize = 20;

/// Borrows the native data of `obj` as `T`, or `None` when it is another type or the object
/// is mutably borrowed (so that reading never panics).
pub(crate) fn native<T: NativeObject>(obj: &JsObject) -> Option<Ref<'_, T>> {
    if obj.is::<T>() && obj.try_borrow().is_ok() {
        obj.downcast_ref::<T>()
    } else {
        None
    }
}

/// Whether `obj` is a Proxy exotic object (its traps are never triggered here).
pub(crate) fn is_proxy(obj: &JsObject) -> bool {
    obj.is::<Proxy>()
}

/// The own property descriptor of `key`, read from the property map. `None` for proxies.
pub(crate) fn own_property(obj: &JsObject, key: &PropertyKey) -> Option<PropertyDescriptor> {
    if is_proxy(obj) {
        return None;
    }
    let o = obj.try_borrow().ok()?;
    o.properties().get(key)
}

/// The value of an own data property (accessors yield `None`).
pub(crate) fn own_data_value(obj: &JsObject, key: &str) -> Option<JsValue> {
    let desc = own_property(obj, &PropertyKey::from(JsString::from(key)))?;
    desc.value().cloned()
}

/// The prototype of `obj`, read without traps; `None` for proxies and null prototypes.
pub(crate) fn prototype_of(obj: &JsObject) -> Option<JsObject> {
    if is_proxy(obj) {
        return None;
    }
    obj.try_borrow().ok()?.prototype()
}

/// Looks `key` up along the prototype chain. Stops (returning `None`) at a proxy, at an
/// accessor, or after [`MAX_PROTO_HOPS`] prototypes.
pub(crate) fn inherited_property(obj: &JsObject, key: &str) -> Option<PropertyDescriptor> {
    let key = PropertyKey::from(JsString::from(key));
    let mut current = Some(obj.clone());
    for _ in 0..MAX_PROTO_HOPS {
        let o = current?;
        if is_proxy(&o) {
            return None;
        }
        if let Some(desc) = own_property(&o, &key) {
            return Some(desc);
        }
        current = prototype_of(&o);
    }
    None
}

/// An inherited data property's value, when it is a string.
pub(crate) fn inherited_string(obj: &JsObject, key: &str) -> Option<JsString> {
    inherited_property(obj, key)?.value()?.as_string()
}

/// The own data property `name` of a function, when it is a string.
pub(crate) fn function_name(obj: &JsObject) -> Option<JsString> {
    own_data_value(obj, "name")?.as_string()
}

/// The name of the constructor of `obj`'s prototype chain (Node's `getConstructorName`):
/// the first prototype with an own data `constructor` whose own data `name` is a non-empty
/// string. `Err(())` for a null prototype.
pub(crate) fn constructor_name(obj: &JsObject) -> Result<Option<String>, ()> {
    let Some(first) = prototype_of(obj) else {
        return if is_proxy(obj) { Ok(None) } else { Err(()) };
    };
    let mut current = Some(first);
    for _ in 0..MAX_PROTO_HOPS {
        let Some(o) = current else { break };
        if let Some(ctor) = own_data_value(&o, "constructor").and_then(|v| v.as_object()) {
            if let Some(name) = function_name(&ctor) {
                if !name.is_empty() {
                    return Ok(Some(js_string_prefix(&name, 256).0));
                }
            }
        }
        current = prototype_of(&o);
    }
    Ok(None)
}

/// Converts at most `max_units` UTF-16 code units of `s` to a Rust string (lone surrogates
/// become U+FFFD) and returns the number of code units left out.
pub(crate) fn js_string_prefix(s: &JsString, max_units: usize) -> (String, usize) {
    let len = s.len();
    let mut take = len.min(max_units);
    // Do not split a surrogate pair.
    if take < len && take > 0 {
        if let Some(unit) = s.code_unit_at(take - 1) {
            if (0xD800..0xDC00).contains(&unit) {
                take -= 1;
            }
        }
    }
    let units: Vec<u16> = s.iter().take(take).collect();
    (String::from_utf16_lossy(&units), len - take)
}

/// A property slot as seen without running code.
#[derive(Debug, Clone)]
pub(crate) enum Slot {
    /// A data property.
    Value(JsValue),
    /// An accessor property; the flags tell which halves exist.
    Accessor { get: bool, set: bool },
}

impl Slot {
    fn from_descriptor(desc: &PropertyDescriptor) -> Self {
        if desc.is_accessor_descriptor() {
            let present = |v: Option<&JsValue>| v.is_some_and(|v| !v.is_undefined());
            Slot::Accessor {
                get: present(desc.get()),
                set: present(desc.set()),
            }
        } else {
            Slot::Value(desc.value().cloned().unwrap_or_default())
        }
    }
}

/// Own enumerable properties of an object, capped.
#[derive(Debug, Default)]
pub(crate) struct Props {
    /// The first properties, in `[[OwnPropertyKeys]]` order.
    pub entries: Vec<(PropertyKey, Slot)>,
    /// Enumerable properties left out because of the cap.
    pub omitted: usize,
    /// The key scan budget ran out; the list may be incomplete.
    pub exhausted: bool,
}

/// Which keys [`own_enumerable_props`] reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyFilter {
    /// Integer-indexed keys (off for arrays and typed arrays, whose elements are read apart).
    pub indices: bool,
    /// Symbol keys.
    pub symbols: bool,
}

/// Reads the own enumerable properties of `obj` from its property map: integer keys in
/// ascending order, then string keys in insertion order, then symbols. At most `cap` are
/// returned; every scanned key is charged to `budget`.
pub(crate) fn own_enumerable_props(
    obj: &JsObject,
    filter: KeyFilter,
    cap: usize,
    budget: &mut usize,
) -> Props {
    let mut props = Props::default();
    if is_proxy(obj) {
        return props;
    }
    let Ok(o) = obj.try_borrow() else {
        return props;
    };
    let map = o.properties();
    let push = |props: &mut Props, key: PropertyKey, desc: Option<PropertyDescriptor>| {
        let Some(desc) = desc else { return };
        if desc.enumerable() != Some(true) {
            return;
        }
        if props.entries.len() < cap {
            let slot = Slot::from_descriptor(&desc);
            props.entries.push((key, slot));
        } else {
            props.omitted += 1;
        }
    };

    if filter.indices {
        let mut indices = Vec::new();
        for index in map.index_property_keys() {
            if *budget == 0 {
                props.exhausted = true;
                break;
            }
            *budget -= 1;
            indices.push(index);
        }
        indices.sort_unstable();
        for index in indices {
            let key = PropertyKey::from(index);
            let desc = map.get(&key);
            push(&mut props, key, desc);
        }
    }
    if *budget == 0 {
        props.exhausted = true;
        return props;
    }
    let keys = o.shape().keys();
    let mut symbols = Vec::new();
    for key in keys {
        if *budget == 0 {
            props.exhausted = true;
            break;
        }
        *budget -= 1;
        match key {
            PropertyKey::Symbol(_) => {
                if filter.symbols {
                    symbols.push(key);
                }
            }
            PropertyKey::Index(_) if !filter.indices => {}
            _ => {
                let desc = map.get(&key);
                push(&mut props, key, desc);
            }
        }
    }
    for key in symbols {
        let desc = map.get(&key);
        push(&mut props, key, desc);
    }
    props
}

/// One element of an array, read from the property map.
#[derive(Debug, Clone)]
pub(crate) enum Element {
    /// No own property at this index.
    Hole,
    /// A data or accessor property.
    Present(Slot),
}

/// The array element at `index`, read without running code.
pub(crate) fn array_element(obj: &JsObject, index: u32) -> Element {
    match own_property(obj, &PropertyKey::from(index)) {
        Some(desc) => Element::Present(Slot::from_descriptor(&desc)),
        None => Element::Hole,
    }
}

/// The `length` of an Array exotic object, read from its property map.
pub(crate) fn array_length(obj: &JsObject) -> u32 {
    own_data_value(obj, "length")
        .and_then(|v| v.as_number())
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map_or(0, |n| n.min(f64::from(u32::MAX)) as u32)
}

/// The sorted own integer keys of `obj` in `from..to`, charging `budget` per scanned key.
/// Used to skip over holes of sparse arrays without walking every index.
pub(crate) fn present_indices(obj: &JsObject, from: u32, to: u32, budget: &mut usize) -> Vec<u32> {
    let mut out = Vec::new();
    if is_proxy(obj) {
        return out;
    }
    let Ok(o) = obj.try_borrow() else {
        return out;
    };
    for index in o.properties().index_property_keys() {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        if (from..to).contains(&index) {
            out.push(index);
        }
    }
    out.sort_unstable();
    out
}

/// Built-in kinds that identify an object, decided from internal slots only.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Proxy,
    Array {
        length: u32,
    },
    Function {
        name: String,
        class: bool,
        prefix: &'static str,
    },
    Error,
    Date(Option<String>),
    RegExp {
        source: String,
        flags: String,
    },
    Map {
        size: usize,
    },
    Set {
        size: usize,
    },
    WeakMap,
    WeakSet,
    TypedArray {
        name: String,
        length: usize,
    },
    ArrayBuffer {
        byte_length: usize,
        shared: bool,
    },
    Promise(PromiseState),
    BoxedString(JsString),
    BoxedNumber(f64),
    BoxedBoolean(bool),
    Object,
}

/// Classifies `obj` by its internal slots. Calls only built-in Rust code that reads
/// internal slots (never a guest-replaceable property).
pub(crate) fn classify(obj: &JsObject, ctx: &mut Context) -> Kind {
    if is_proxy(obj) {
        return Kind::Proxy;
    }
    if obj.try_borrow().is_err() {
        return Kind::Object;
    }
    if obj.is_array() {
        return Kind::Array {
            length: array_length(obj),
        };
    }
    if obj.is_callable() {
        let name = function_name(obj)
            .map(|n| js_string_prefix(&n, 1024).0)
            .unwrap_or_default();
        let class = obj.is::<OrdinaryFunction>()
            && own_property(obj, &PropertyKey::from(JsString::from("prototype")))
                .is_some_and(|d| d.is_data_descriptor() && d.writable() == Some(false));
        let proto = prototype_of(obj);
        let ctors = ctx.intrinsics().constructors();
        let is_proto = |p: JsObject| proto.as_ref().is_some_and(|q| JsObject::equals(q, &p));
        let prefix = if is_proto(ctors.async_function().prototype()) {
            "AsyncFunction"
        } else if is_proto(ctors.generator_function().prototype()) {
            "GeneratorFunction"
        } else if is_proto(ctors.async_generator_function().prototype()) {
            "AsyncGeneratorFunction"
        } else {
            "Function"
        };
        return Kind::Function {
            name,
            class,
            prefix,
        };
    }
    if obj.is::<Error>() {
        return Kind::Error;
    }
    if obj.is::<Date>() {
        let iso = JsDate::from_object(obj.clone())
            .ok()
            .and_then(|d| d.to_iso_string(ctx).ok())
            .and_then(|v| v.as_string())
            .map(|s| s.to_std_string_escaped());
        return Kind::Date(iso);
    }
    if let Ok(re) = JsRegExp::from_object(obj.clone()) {
        let source = re.source(ctx).unwrap_or_default();
        let flags = regexp_flags(&re, ctx);
        return Kind::RegExp { source, flags };
    }
    if let Some(map) = native::<OrderedMap<JsValue>>(obj) {
        return Kind::Map { size: map.len() };
    }
    if let Some(set) = native::<OrderedSet>(obj) {
        return Kind::Set { size: set.len() };
    }
    if JsWeakMap::from_object(obj.clone()).is_ok() {
        return Kind::WeakMap;
    }
    if JsWeakSet::from_object(obj.clone()).is_ok() {
        return Kind::WeakSet;
    }
    if let Ok(ta) = JsTypedArray::from_object(obj.clone()) {
        let name = ta
            .kind()
            .map_or_else(|| "TypedArray".to_string(), |k| format!("{k:?}Array"));
        let length = ta.length(ctx).unwrap_or(0);
        return Kind::TypedArray { name, length };
    }
    if let Ok(buf) = JsArrayBuffer::from_object(obj.clone()) {
        return Kind::ArrayBuffer {
            byte_length: buf.byte_length(),
            shared: false,
        };
    }
    if let Ok(buf) = JsSharedArrayBuffer::from_object(obj.clone()) {
        return Kind::ArrayBuffer {
            byte_length: buf.byte_length(),
            shared: true,
        };
    }
    if let Ok(p) = JsPromise::from_object(obj.clone()) {
        return Kind::Promise(p.state());
    }
    if let Some(s) = native::<JsString>(obj) {
        return Kind::BoxedString(s.clone());
    }
    if let Some(n) = native::<f64>(obj) {
        return Kind::BoxedNumber(*n);
    }
    if let Some(b) = native::<bool>(obj) {
        return Kind::BoxedBoolean(*b);
    }
    Kind::Object
}

/// The flags of a RegExp, read from its internal slot through the built-in per-flag getters
/// (`RegExp.prototype.flags` itself would read guest-definable properties).
fn regexp_flags(re: &JsRegExp, ctx: &mut Context) -> String {
    type FlagFn = fn(&JsRegExp, &mut Context) -> boa_engine::JsResult<bool>;
    let flags: [(char, FlagFn); 7] = [
        ('d', JsRegExp::has_indices),
        ('g', JsRegExp::global),
        ('i', JsRegExp::ignore_case),
        ('m', JsRegExp::multiline),
        ('s', JsRegExp::dot_all),
        ('u', JsRegExp::unicode),
        ('y', JsRegExp::sticky),
    ];
    flags
        .iter()
        .filter(|(_, f)| f(re, ctx).unwrap_or(false))
        .map(|(c, _)| *c)
        .collect()
}

/// The first `cap` entries of a Map, in insertion order.
pub(crate) fn map_entries(obj: &JsObject, cap: usize) -> Vec<(JsValue, JsValue)> {
    native::<OrderedMap<JsValue>>(obj)
        .map(|m| {
            m.iter()
                .take(cap)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The first `cap` values of a Set, in insertion order.
pub(crate) fn set_values(obj: &JsObject, cap: usize) -> Vec<JsValue> {
    native::<OrderedSet>(obj)
        .map(|s| s.iter().take(cap).cloned().collect())
        .unwrap_or_default()
}

/// The first `cap` elements of a typed array (read from its buffer by the built-in `at`).
pub(crate) fn typed_array_values(obj: &JsObject, cap: usize, ctx: &mut Context) -> Vec<JsValue> {
    let Ok(ta) = JsTypedArray::from_object(obj.clone()) else {
        return Vec::new();
    };
    let len = ta.length(ctx).unwrap_or(0).min(cap);
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let Ok(i) = i64::try_from(i) else { break };
        match ta.at(i, ctx) {
            Ok(v) => out.push(v),
            Err(_) => break,
        }
    }
    out
}

/// The first `cap` bytes of an ArrayBuffer or SharedArrayBuffer.
fn buffer_bytes(obj: &JsObject, cap: usize) -> Vec<u8> {
    if let Ok(buf) = JsArrayBuffer::from_object(obj.clone()) {
        return buf
            .data()
            .map(|d| d.iter().take(cap).copied().collect())
            .unwrap_or_default();
    }
    Vec::new()
}

/// Built-ins captured before guest code runs, so that they can be recognised later even if
/// the guest replaced the properties that held them.
struct CapturedIntrinsics {
    error_stack_getter: Option<JsObject>,
}

/// Remembers the built-in `Error.prototype.stack` getter of `ctx`'s realm. Call it before
/// any guest code runs (`console::install` does); afterwards [`inspect`] and `encode` may
/// call that one getter, which only reads the error's internal stack slot. Without it,
/// only an own data `stack` property is shown.
pub fn capture_intrinsics(ctx: &mut Context) {
    let proto = ctx.intrinsics().constructors().error().prototype();
    let getter = own_property(&proto, &PropertyKey::from(JsString::from("stack")))
        .and_then(|d| d.get().and_then(JsValue::as_object));
    ctx.insert_data(CapturedIntrinsics {
        error_stack_getter: getter,
    });
}

/// The `stack` of an error: an own or inherited data property, or the captured built-in
/// getter (never any other accessor).
pub(crate) fn error_stack(obj: &JsObject, ctx: &mut Context) -> Option<JsString> {
    let desc = inherited_property(obj, "stack")?;
    if let Some(v) = desc.value() {
        return v.as_string();
    }
    let getter = desc.get()?.as_object()?;
    let captured = ctx
        .get_data::<CapturedIntrinsics>()?
        .error_stack_getter
        .clone()?;
    if !JsObject::equals(&getter, &captured) {
        return None;
    }
    let this = JsValue::from(obj.clone());
    captured.call(&this, &[], ctx).ok()?.as_string()
}

/// `name`, `message` and `stack` of an error object, read without running guest code.
pub(crate) struct ErrorParts {
    pub name: String,
    pub message: String,
    pub stack: Option<String>,
}

pub(crate) fn error_parts(obj: &JsObject, max_len: usize, ctx: &mut Context) -> ErrorParts {
    let name = inherited_string(obj, "name")
        .map_or_else(|| "Error".to_string(), |s| js_string_prefix(&s, max_len).0);
    let message = inherited_string(obj, "message")
        .map(|s| js_string_prefix(&s, max_len).0)
        .unwrap_or_default();
    let stack = error_stack(obj, ctx).map(|s| js_string_prefix(&s, max_len).0);
    ErrorParts {
        name,
        message,
        stack,
    }
}

/// Formats a number like JavaScript's `Number.prototype.toString`, but `-0` as `-0`.
pub(crate) fn format_number(n: f64, ctx: &mut Context) -> String {
    if n == 0.0 && n.is_sign_negative() {
        return "-0".to_string();
    }
    JsValue::from(n)
        .to_string(ctx)
        .map_or_else(|_| n.to_string(), |s| s.to_std_string_escaped())
}

/// BigInts above this many bits are not converted to decimal (that conversion is superlinear).
pub(crate) const MAX_BIGINT_BITS: f64 = 1_000_000.0;

/// Formats a BigInt in decimal; very large ones as a hexadecimal prefix. The flag is true
/// when the digits were cut.
pub(crate) fn format_bigint(b: &boa_engine::JsBigInt, max_len: usize) -> (String, bool) {
    if b.to_f64().is_finite() {
        return (b.to_string(), false);
    }
    let hex = b.to_string_radix(16);
    if (hex.len() as f64) * 4.0 <= MAX_BIGINT_BITS {
        let dec = b.to_string();
        if dec.len() <= max_len {
            return (dec, false);
        }
        return (dec.chars().take(max_len).collect(), true);
    }
    let (sign, digits) = hex
        .strip_prefix('-')
        .map_or(("", hex.as_str()), |d| ("-", d));
    let cut: String = digits.chars().take(max_len.min(64)).collect();
    (format!("{sign}0x{cut}"), true)
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

/// Options of [`inspect`], defaults as Node's `util.inspect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectOptions {
    /// Nesting levels shown before objects become `[Object]` (Node: 2). Capped at 20.
    pub depth: usize,
    /// Elements shown per array, typed array, Map and Set (Node: 100).
    pub max_array_length: usize,
    /// Characters shown per string before `... N more characters` (Node: 10000).
    pub max_string_length: usize,
    /// Properties shown per object before `... N more properties` (Node: unlimited).
    pub max_properties: usize,
    /// Width used to decide whether an object fits on one line (Node: 80).
    pub break_length: usize,
    /// Maximum characters of the whole result; longer output is cut and ends with `…`.
    pub max_output: usize,
}

impl Default for InspectOptions {
    fn default() -> Self {
        Self {
            depth: 2,
            max_array_length: 100,
            max_string_length: 10_000,
            max_properties: 1_000,
            break_length: 80,
            max_output: 1 << 20,
        }
    }
}

/// Formats `value` like Node's `util.inspect(value)`. Never calls guest code.
pub fn inspect(value: &JsValue, ctx: &mut Context, opts: &InspectOptions) -> String {
    let mut inspector = Inspector::new(opts);
    let out = inspector.format_value(value, 0, ctx);
    cap_output(out, opts.max_output)
}

/// Formats console arguments like Node's `util.format(...args)`: printf-style directives in
/// a leading string, then the remaining arguments separated by spaces (strings raw, other
/// values through [`inspect`]). Never calls guest code.
pub fn format_args(args: &[JsValue], ctx: &mut Context) -> String {
    format_args_with(args, ctx, &InspectOptions::default())
}

pub(crate) fn format_args_with(
    args: &[JsValue],
    ctx: &mut Context,
    opts: &InspectOptions,
) -> String {
    let max = opts.max_output;
    let mut out = String::new();
    let mut rest = args;
    if let Some((first, tail)) = args.split_first() {
        if let Some(fmt) = first.as_string() {
            rest = tail;
            let (fmt, _) = js_string_prefix(&fmt, max.saturating_add(1));
            let mut chars = fmt.chars().peekable();
            while let Some(c) = chars.next() {
                if out.len() > max {
                    break;
                }
                if c != '%' {
                    out.push(c);
                    continue;
                }
                let Some(&d) = chars.peek() else {
                    out.push('%');
                    break;
                };
                if d == '%' {
                    chars.next();
                    out.push('%');
                    continue;
                }
                if !"sdifjoOc".contains(d) {
                    out.push('%');
                    continue;
                }
                let Some((arg, tail)) = rest.split_first() else {
                    out.push('%');
                    continue;
                };
                chars.next();
                rest = tail;
                let piece = format_directive(d, arg, ctx, opts);
                out.push_str(&piece);
            }
        }
    }
    for (i, arg) in rest.iter().enumerate() {
        if out.len() > max {
            break;
        }
        if i > 0 || rest.len() < args.len() {
            out.push(' ');
        }
        match arg.as_string() {
            Some(s) => out.push_str(&js_string_prefix(&s, max.saturating_add(1)).0),
            None => out.push_str(&inspect(arg, ctx, opts)),
        }
    }
    cap_output(out, max)
}

/// One `%x` directive of `util.format`.
fn format_directive(d: char, arg: &JsValue, ctx: &mut Context, opts: &InspectOptions) -> String {
    match d {
        's' => match arg.variant() {
            JsVariant::String(s) => js_string_prefix(&s, opts.max_output).0,
            JsVariant::BigInt(b) => format!("{}n", format_bigint(&b, opts.max_string_length).0),
            JsVariant::Symbol(s) => symbol_string(&s),
            JsVariant::Object(_) => {
                let o = InspectOptions {
                    depth: 0,
                    ..opts.clone()
                };
                inspect(arg, ctx, &o)
            }
            _ => inspect(arg, ctx, opts),
        },
        'd' | 'i' | 'f' => format_numeric(d, arg, ctx, opts),
        'j' => {
            let limits = super::encode::EncodeLimits::default();
            let encoded = super::encode::encode(arg, ctx, &limits);
            serde_json::to_string(&encoded.value).unwrap_or_else(|_| "undefined".to_string())
        }
        'o' => {
            let o = InspectOptions {
                depth: 4,
                ..opts.clone()
            };
            inspect(arg, ctx, &o)
        }
        'O' => inspect(arg, ctx, opts),
        // '%c' takes CSS, which a terminal ignores.
        _ => String::new(),
    }
}

/// `%d`, `%i` and `%f`: objects are never converted (that would call `valueOf`), so they
/// yield `NaN`.
fn format_numeric(d: char, arg: &JsValue, ctx: &mut Context, opts: &InspectOptions) -> String {
    if let Some(b) = arg.as_bigint() {
        return if d == 'f' {
            format_number(b.to_f64(), ctx)
        } else {
            format!("{}n", format_bigint(&b, opts.max_string_length).0)
        };
    }
    let n = match arg.variant() {
        JsVariant::Object(_) | JsVariant::Symbol(_) => f64::NAN,
        JsVariant::String(s) if d != 'd' => {
            let (text, _) = js_string_prefix(&s, 1024);
            parse_number_prefix(&text, d == 'i')
        }
        _ => arg.to_number(ctx).unwrap_or(f64::NAN),
    };
    let n = if d == 'i' { n.trunc() } else { n };
    format_number(n, ctx)
}

/// `parseInt` / `parseFloat` of a decimal prefix.
fn parse_number_prefix(text: &str, integer: bool) -> f64 {
    let t = text.trim_start();
    let mut end = 0;
    let bytes = t.as_bytes();
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    if !integer && t[end..].starts_with("Infinity") {
        return if t.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let digits_start = end;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if !integer {
        if end < bytes.len() && bytes[end] == b'.' {
            end += 1;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
        }
        if end > digits_start && end < bytes.len() && matches!(bytes[end], b'e' | b'E') {
            let mut e = end + 1;
            if matches!(bytes.get(e), Some(b'+' | b'-')) {
                e += 1;
            }
            let exp_start = e;
            while e < bytes.len() && bytes[e].is_ascii_digit() {
                e += 1;
            }
            if e > exp_start {
                end = e;
            }
        }
    }
    t[..end].parse::<f64>().unwrap_or(f64::NAN)
}

/// Cuts `s` to at most `max` characters, ending with `…` when cut.
pub(crate) fn cap_output(mut s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while cut > 0 && !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s.push('…');
    s
}

/// The description of a symbol, capped at `max` UTF-16 code units.
pub(crate) fn symbol_description(s: &boa_engine::JsSymbol, max: usize) -> Option<String> {
    s.description().map(|d| js_string_prefix(&d, max).0)
}

fn symbol_string(s: &boa_engine::JsSymbol) -> String {
    match s.description() {
        Some(d) => format!("Symbol({})", js_string_prefix(&d, 10_000).0),
        None => "Symbol()".to_string(),
    }
}

/// How a list of entries is laid out (Node's `kObjectType` / `kArrayExtrasType`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ListKind {
    Object,
    Array,
}

struct Inspector<'a> {
    opts: &'a InspectOptions,
    depth_limit: usize,
    /// Objects being formatted (the ancestors of the current value).
    seen: Vec<JsObject>,
    /// Reference numbers given to objects found to be circular.
    circular: Vec<(JsObject, usize)>,
    indentation: usize,
    /// Depth of the most recently entered object (Node's `ctx.currentDepth`).
    current_depth: usize,
    /// Characters produced so far (approximate; drives the output cap).
    produced: usize,
    key_budget: usize,
}

impl<'a> Inspector<'a> {
    fn new(opts: &'a InspectOptions) -> Self {
        Self {
            opts,
            depth_limit: opts.depth.min(INSPECT_MAX_DEPTH),
            seen: Vec::new(),
            circular: Vec::new(),
            indentation: 0,
            current_depth: 0,
            produced: 0,
            key_budget: KEY_SCAN_BUDGET,
        }
    }

    fn over_budget(&self) -> bool {
        self.produced > self.opts.max_output
    }

    fn emit(&mut self, s: String) -> String {
        self.produced = self.produced.saturating_add(s.len());
        s
    }

    fn format_value(&mut self, value: &JsValue, depth: usize, ctx: &mut Context) -> String {
        if self.over_budget() {
            return "…".to_string();
        }
        let s = match value.variant() {
            JsVariant::Null => "null".to_string(),
            JsVariant::Undefined => "undefined".to_string(),
            JsVariant::Boolean(b) => b.to_string(),
            JsVariant::Integer32(i) => i.to_string(),
            JsVariant::Float64(f) => format_number(f, ctx),
            JsVariant::BigInt(b) => {
                format!("{}n", format_bigint(&b, self.opts.max_string_length).0)
            }
            JsVariant::Symbol(s) => symbol_string(&s),
            JsVariant::String(s) => self.format_string(&s),
            JsVariant::Object(o) => return self.format_object(&o, depth, ctx),
        };
        self.emit(s)
    }

    /// A quoted string; long multi-line strings are split into `'line\n' +` pieces as Node does.
    fn format_string(&mut self, s: &JsString) -> String {
        let (text, remaining) = js_string_prefix(s, self.opts.max_string_length);
        let trailer = if remaining > 0 {
            format!(
                "... {remaining} more character{}",
                if remaining > 1 { "s" } else { "" }
            )
        } else {
            String::new()
        };
        let width = self
            .opts
            .break_length
            .saturating_sub(self.indentation)
            .saturating_sub(4);
        let units = text.encode_utf16().count();
        if units > 16 && units > width && text.contains('\n') {
            let pad = " ".repeat(self.indentation + 2);
            let pieces: Vec<String> = text.split_inclusive('\n').map(quote).collect();
            return pieces.join(&format!(" +\n{pad}")) + &trailer;
        }
        quote(&text) + &trailer
    }

    fn format_object(&mut self, obj: &JsObject, depth: usize, ctx: &mut Context) -> String {
        if self.seen.iter().any(|s| JsObject::equals(s, obj)) {
            let index = match self.circular.iter().find(|(o, _)| JsObject::equals(o, obj)) {
                Some((_, i)) => *i,
                None => {
                    let i = self.circular.len() + 1;
                    self.circular.push((obj.clone(), i));
                    i
                }
            };
            return self.emit(format!("[Circular *{index}]"));
        }
        let kind = classify(obj, ctx);
        if let Kind::Proxy = kind {
            return self.emit("[Proxy]".to_string());
        }
        let ctor = constructor_name(obj);
        let filter = KeyFilter {
            indices: !matches!(
                kind,
                Kind::Array { .. } | Kind::TypedArray { .. } | Kind::BoxedString(_)
            ),
            symbols: true,
        };
        let mut budget = self.key_budget;
        let props = own_enumerable_props(obj, filter, self.opts.max_properties, &mut budget);
        self.key_budget = budget;
        let no_keys = props.entries.is_empty() && props.omitted == 0;

        let ctor_name = match &ctor {
            Ok(Some(n)) => n.clone(),
            Ok(None) => String::new(),
            Err(()) => String::new(),
        };
        // Node's getPrefix: `Name ` unless it is the fallback; null prototypes are marked.
        // `tagged`: the built-in has a `Symbol.toStringTag`, shown after a subclass name.
        let prefix = |fallback: &str, size: &str, tagged: bool| -> String {
            match &ctor {
                Err(()) => format!("[{fallback}{size}: null prototype] "),
                Ok(Some(n)) if n != fallback && tagged => format!("{n}{size} [{fallback}] "),
                Ok(Some(n)) => format!("{n}{size} "),
                Ok(None) => format!("{fallback}{size} "),
            }
        };

        let mut base = String::new();
        let mut braces = ("{".to_string(), "}");
        let mut list_kind = ListKind::Object;
        match &kind {
            Kind::Array { length } => {
                if *length == 0 && no_keys {
                    return self.emit(match ctor {
                        Ok(Some(n)) if n == "Array" => "[]".to_string(),
                        _ => format!("{}[]", prefix("Array", "(0)", false)),
                    });
                }
                braces.0 = match &ctor {
                    Ok(Some(n)) if n == "Array" => "[".to_string(),
                    _ => format!("{}[", prefix("Array", &format!("({length})"), false)),
                };
                braces.1 = "]";
                list_kind = ListKind::Array;
            }
            Kind::Function {
                name,
                class,
                prefix: fprefix,
            } => {
                base = if *class {
                    if name.is_empty() {
                        "[class (anonymous)]".to_string()
                    } else {
                        format!("[class {name}]")
                    }
                } else if name.is_empty() {
                    format!("[{fprefix} (anonymous)]")
                } else {
                    format!("[{fprefix}: {name}]")
                };
                if ctor.is_err() {
                    base.insert_str(base.len() - 1, " (null prototype)");
                }
                if no_keys {
                    return self.emit(base);
                }
            }
            Kind::Error => {
                base = self.format_error(obj, ctx);
                if no_keys {
                    return self.emit(base);
                }
            }
            Kind::Date(iso) => {
                base = iso.clone().unwrap_or_else(|| "Invalid Date".to_string());
                if no_keys {
                    return self.emit(base);
                }
            }
            Kind::RegExp { source, flags } => {
                base = format!("/{source}/{flags}");
                if no_keys {
                    return self.emit(base);
                }
            }
            Kind::BoxedString(s) => {
                base = format!(
                    "[String: {}]",
                    quote(&js_string_prefix(s, self.opts.max_string_length).0)
                );
                if no_keys {
                    return self.emit(base);
                }
            }
            Kind::BoxedNumber(n) => {
                base = format!("[Number: {}]", format_number(*n, ctx));
                if no_keys {
                    return self.emit(base);
                }
            }
            Kind::BoxedBoolean(b) => {
                base = format!("[Boolean: {b}]");
                if no_keys {
                    return self.emit(base);
                }
            }
            Kind::Map { size } => {
                let p = prefix("Map", &format!("({size})"), true);
                if *size == 0 && no_keys {
                    return self.emit(format!("{p}{{}}"));
                }
                braces.0 = format!("{p}{{");
            }
            Kind::Set { size } => {
                let p = prefix("Set", &format!("({size})"), true);
                if *size == 0 && no_keys {
                    return self.emit(format!("{p}{{}}"));
                }
                braces.0 = format!("{p}{{");
            }
            Kind::TypedArray { name, length } => {
                let p = prefix(name, &format!("({length})"), true);
                if *length == 0 && no_keys {
                    return self.emit(format!("{p}[]"));
                }
                braces = (format!("{p}["), "]");
                list_kind = ListKind::Array;
            }
            Kind::WeakMap => braces.0 = format!("{}{{", prefix("WeakMap", "", true)),
            Kind::WeakSet => braces.0 = format!("{}{{", prefix("WeakSet", "", true)),
            Kind::ArrayBuffer { shared, .. } => {
                let n = if *shared {
                    "SharedArrayBuffer"
                } else {
                    "ArrayBuffer"
                };
                braces.0 = format!("{}{{", prefix(n, "", true));
            }
            Kind::Promise(_) => braces.0 = format!("{}{{", prefix("Promise", "", true)),
            Kind::Object | Kind::Proxy => {
                match &ctor {
                    Err(()) => braces.0 = "[Object: null prototype] {".to_string(),
                    Ok(Some(n)) if n != "Object" => braces.0 = format!("{n} {{"),
                    _ => {}
                }
                if no_keys {
                    return self.emit(format!("{}}}", braces.0));
                }
            }
        }

        if depth > self.depth_limit {
            let name = match (&kind, &ctor) {
                (_, Err(())) => "[Object: null prototype]".to_string(),
                (Kind::Array { .. }, Ok(None)) => "[Array]".to_string(),
                (_, Ok(None)) => "[Object]".to_string(),
                (_, Ok(Some(_))) => format!("[{ctor_name}]"),
            };
            return self.emit(name);
        }

        self.seen.push(obj.clone());
        self.current_depth = depth;
        let mut output = Vec::new();
        let mut numeric = true;
        match &kind {
            Kind::Array { length } => {
                self.format_array(obj, *length, depth, &mut output, &mut numeric, ctx)
            }
            Kind::TypedArray { length, .. } => {
                let values = typed_array_values(obj, self.opts.max_array_length, ctx);
                self.indentation += 2;
                for v in &values {
                    output.push(self.format_value(v, depth + 1, ctx));
                }
                self.indentation -= 2;
                push_more_items(&mut output, length.saturating_sub(values.len()));
            }
            Kind::Map { size } => {
                let entries = map_entries(obj, self.opts.max_array_length);
                self.indentation += 2;
                for (k, v) in &entries {
                    if self.over_budget() {
                        break;
                    }
                    let k = self.format_value(k, depth + 1, ctx);
                    let v = self.format_value(v, depth + 1, ctx);
                    output.push(format!("{k} => {v}"));
                }
                self.indentation -= 2;
                push_more_items(&mut output, size.saturating_sub(entries.len()));
            }
            Kind::Set { size } => {
                let values = set_values(obj, self.opts.max_array_length);
                self.indentation += 2;
                for v in &values {
                    if self.over_budget() {
                        break;
                    }
                    output.push(self.format_value(v, depth + 1, ctx));
                }
                self.indentation -= 2;
                push_more_items(&mut output, size.saturating_sub(values.len()));
            }
            Kind::WeakMap | Kind::WeakSet => output.push("<items unknown>".to_string()),
            Kind::ArrayBuffer { byte_length, .. } => {
                let bytes = buffer_bytes(obj, 50);
                let mut hex = bytes
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                let remaining = byte_length.saturating_sub(bytes.len());
                if remaining > 0 {
                    let _ = write!(
                        hex,
                        " ... {remaining} more byte{}",
                        if remaining > 1 { "s" } else { "" }
                    );
                }
                output.push(format!("[Uint8Contents]: <{hex}>"));
                output.push(format!("byteLength: {byte_length}"));
            }
            Kind::Promise(state) => match state {
                PromiseState::Pending => output.push("<pending>".to_string()),
                PromiseState::Fulfilled(v) => {
                    self.indentation += 2;
                    output.push(self.format_value(v, depth + 1, ctx));
                    self.indentation -= 2;
                }
                PromiseState::Rejected(v) => {
                    self.indentation += 2;
                    let s = self.format_value(v, depth + 1, ctx);
                    self.indentation -= 2;
                    output.push(format!("<rejected> {s}"));
                }
            },
            _ => {}
        }
        for (key, slot) in &props.entries {
            if self.over_budget() {
                break;
            }
            let entry = self.format_property(key, slot, depth, ctx);
            output.push(entry);
        }
        if props.omitted > 0 {
            output.push(format!(
                "... {} more propert{}",
                props.omitted,
                if props.omitted > 1 { "ies" } else { "y" }
            ));
        }
        if props.exhausted || self.over_budget() {
            output.push("…".to_string());
        }
        self.seen.pop();

        if let Some((_, index)) = self.circular.iter().find(|(o, _)| JsObject::equals(o, obj)) {
            let reference = format!("<ref *{index}>");
            base = if base.is_empty() {
                reference
            } else {
                format!("{reference} {base}")
            };
        }
        let numeric = numeric && matches!(kind, Kind::Array { .. } | Kind::TypedArray { .. });
        // Only leaves count towards the output budget; containers just join them.
        self.reduce_to_single_string(output, &base, &braces, list_kind, depth, numeric)
    }

    fn format_array(
        &mut self,
        obj: &JsObject,
        length: u32,
        depth: usize,
        output: &mut Vec<String>,
        numeric: &mut bool,
        ctx: &mut Context,
    ) {
        let max = self.opts.max_array_length;
        let mut i: u32 = 0;
        let mut present: Option<Vec<u32>> = None;
        self.indentation += 2;
        while i < length && output.len() < max {
            if self.over_budget() {
                break;
            }
            match array_element(obj, i) {
                Element::Present(slot) => {
                    if let Slot::Value(v) = &slot {
                        if !(v.is_number() || v.is_bigint()) {
                            *numeric = false;
                        }
                    } else {
                        *numeric = false;
                    }
                    output.push(self.format_slot(&slot, depth, ctx));
                    i += 1;
                }
                Element::Hole => {
                    *numeric = false;
                    let list = present.get_or_insert_with(|| {
                        let mut budget = self.key_budget;
                        let list = present_indices(obj, i, length, &mut budget);
                        self.key_budget = budget;
                        list
                    });
                    let pos = list.partition_point(|&p| p < i);
                    let next = list.get(pos).copied().unwrap_or(length);
                    let holes = next - i;
                    output.push(format!(
                        "<{holes} empty item{}>",
                        if holes > 1 { "s" } else { "" }
                    ));
                    i = next;
                }
            }
        }
        self.indentation -= 2;
        push_more_items(output, (length - i) as usize);
    }

    fn format_slot(&mut self, slot: &Slot, depth: usize, ctx: &mut Context) -> String {
        match slot {
            Slot::Value(v) => self.format_value(v, depth + 1, ctx),
            Slot::Accessor { get, set } => self.emit(
                match (get, set) {
                    (true, true) => "[Getter/Setter]",
                    (true, false) => "[Getter]",
                    (false, true) => "[Setter]",
                    (false, false) => "undefined",
                }
                .to_string(),
            ),
        }
    }

    fn format_property(
        &mut self,
        key: &PropertyKey,
        slot: &Slot,
        depth: usize,
        ctx: &mut Context,
    ) -> String {
        self.indentation += 2;
        let value = self.format_slot(slot, depth, ctx);
        self.indentation -= 2;
        let name = match key {
            PropertyKey::Index(i) => format!("'{}'", i.get()),
            PropertyKey::String(s) => {
                let (text, _) = js_string_prefix(s, self.opts.max_string_length);
                if is_identifier(&text) {
                    text
                } else {
                    quote(&text)
                }
            }
            PropertyKey::Symbol(s) => format!("[{}]", symbol_string(s)),
        };
        self.produced = self.produced.saturating_add(name.len() + 2);
        format!("{name}: {value}")
    }

    fn format_error(&mut self, obj: &JsObject, ctx: &mut Context) -> String {
        let parts = error_parts(obj, self.opts.max_string_length, ctx);
        let header = if parts.message.is_empty() {
            parts.name.clone()
        } else {
            format!("{}: {}", parts.name, parts.message)
        };
        let mut text = match parts.stack {
            // Boa's built-in stack holds only the `    at ...` lines.
            Some(stack) if stack.trim_start().starts_with("at ") || stack.is_empty() => {
                let stack = stack.trim_end();
                if stack.is_empty() {
                    header
                } else {
                    format!("{header}\n{stack}")
                }
            }
            Some(stack) => stack,
            None => header,
        };
        // Node brackets errors whose stack has no frames.
        if !text.contains('\n') {
            text = format!("[{text}]");
        }
        if self.indentation > 0 {
            let pad = " ".repeat(self.indentation);
            text = text.replace('\n', &format!("\n{pad}"));
        }
        text
    }

    /// Node's `reduceToSingleString` with `compact: 3`.
    fn reduce_to_single_string(
        &self,
        mut output: Vec<String>,
        base: &str,
        braces: &(String, &str),
        list_kind: ListKind,
        depth: usize,
        numeric: bool,
    ) -> String {
        let entries = output.len();
        if list_kind == ListKind::Array && entries > 6 {
            output = self.group_array_elements(output, numeric);
        }
        let base_sep = if base.is_empty() {
            String::new()
        } else {
            format!("{base} ")
        };
        if self.current_depth.saturating_sub(depth) < 3 && entries == output.len() {
            let start = output.len() + self.indentation + braces.0.len() + base.len() + 10;
            if self.is_below_break_length(&output, start, base) {
                let joined = output.join(", ");
                if !joined.contains('\n') {
                    return format!("{base_sep}{} {joined} {}", braces.0, braces.1);
                }
            }
        }
        let indentation = format!("\n{}", " ".repeat(self.indentation));
        format!(
            "{base_sep}{}{indentation}  {}{indentation}{}",
            braces.0,
            output.join(&format!(",{indentation}  ")),
            braces.1
        )
    }

    fn is_below_break_length(&self, output: &[String], start: usize, base: &str) -> bool {
        let mut total = output.len() + start;
        if total + output.len() > self.opts.break_length {
            return false;
        }
        for entry in output {
            total += entry.chars().count();
            if total > self.opts.break_length {
                return false;
            }
        }
        base.is_empty() || !base.contains('\n')
    }

    /// Node's `groupArrayElements`: lays short array entries out in aligned columns.
    fn group_array_elements(&self, output: Vec<String>, numeric: bool) -> Vec<String> {
        let mut output_len = output.len();
        let has_more = output
            .last()
            .is_some_and(|l| l.starts_with("... ") && l.ends_with(" more items"));
        if has_more {
            output_len -= 1;
        }
        const SEPARATOR_SPACE: usize = 2;
        let data_len: Vec<usize> = output[..output_len]
            .iter()
            .map(|s| s.chars().count())
            .collect();
        let total_length: usize = data_len.iter().map(|l| l + SEPARATOR_SPACE).sum();
        let max_length = data_len.iter().copied().max().unwrap_or(0);
        let actual_max = max_length + SEPARATOR_SPACE;
        let break_length = self.opts.break_length;
        if actual_max * 3 + self.indentation < break_length
            && (total_length as f64 / actual_max as f64 > 5.0 || max_length <= 6)
        {
            let average_bias = (actual_max as f64 - total_length as f64 / output.len() as f64)
                .max(0.0)
                .sqrt();
            let biased_max = (actual_max as f64 - 3.0 - average_bias).max(1.0);
            let columns = [
                ((2.5 * biased_max * output_len as f64).sqrt() / biased_max).round() as usize,
                (break_length.saturating_sub(self.indentation)) / actual_max,
                3 * 4,
                15,
            ]
            .into_iter()
            .min()
            .unwrap_or(1);
            if columns <= 1 {
                return output;
            }
            let mut max_line_length = Vec::with_capacity(columns);
            for i in 0..columns {
                let mut line_length = 0;
                let mut j = i;
                while j < output_len {
                    line_length = line_length.max(data_len[j]);
                    j += columns;
                }
                max_line_length.push(line_length + SEPARATOR_SPACE);
            }
            let mut grouped = Vec::new();
            let mut i = 0;
            while i < output_len {
                let max = (i + columns).min(output_len);
                let mut line = String::new();
                for j in i..max - 1 {
                    let cell = format!("{}, ", output[j]);
                    pad_into(&mut line, &cell, max_line_length[j - i], numeric);
                }
                let j = max - 1;
                if numeric {
                    let width = max_line_length[j - i] - SEPARATOR_SPACE;
                    pad_into(&mut line, &output[j], width, true);
                } else {
                    line.push_str(&output[j]);
                }
                grouped.push(line);
                i += columns;
            }
            if has_more {
                if let Some(last) = output.last() {
                    grouped.push(last.clone());
                }
            }
            return grouped;
        }
        output
    }
}

/// Appends `cell` padded to `width` characters, at the start (numbers) or at the end.
fn pad_into(line: &mut String, cell: &str, width: usize, pad_start: bool) {
    let len = cell.chars().count();
    let pad = " ".repeat(width.saturating_sub(len));
    if pad_start {
        line.push_str(&pad);
        line.push_str(cell);
    } else {
        line.push_str(cell);
        line.push_str(&pad);
    }
}

fn push_more_items(output: &mut Vec<String>, remaining: usize) {
    if remaining > 0 {
        output.push(format!(
            "... {remaining} more item{}",
            if remaining > 1 { "s" } else { "" }
        ));
    }
}

/// Whether a property name can be printed without quotes (`/^[a-zA-Z_][a-zA-Z_0-9]*$/`).
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Quotes a string as Node does: single quotes, or double quotes / backticks when that
/// avoids escaping, with control characters escaped.
pub(crate) fn quote(s: &str) -> String {
    let quote = if !s.contains('\'') {
        '\''
    } else if !s.contains('"') {
        '"'
    } else if !s.contains('`') && !s.contains("${") {
        '`'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\x0B"),
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests;
