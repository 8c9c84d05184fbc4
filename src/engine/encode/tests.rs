use std::time::{Duration, Instant};

use boa_engine::{Context, JsValue, Source};
use serde_json::{json, Value};

use super::{encode, EncodeLimits, Encoded};

fn eval(ctx: &mut Context, src: &str) -> JsValue {
    ctx.eval(Source::from_bytes(src)).expect("test script runs")
}

fn enc_with(src: &str, limits: &EncodeLimits) -> Encoded {
    let mut ctx = Context::default();
    let v = eval(&mut ctx, src);
    encode(&v, &mut ctx, limits)
}

fn enc(src: &str) -> Value {
    let e = enc_with(src, &EncodeLimits::default());
    assert!(!e.truncated, "unexpected truncation for {src}: {}", e.value);
    e.value
}

#[test]
fn encodes_json_compatible_primitives_as_themselves() {
    assert_eq!(enc("null"), json!(null));
    assert_eq!(enc("true"), json!(true));
    assert_eq!(enc("'hé'"), json!("hé"));
    assert_eq!(enc("1.5"), json!(1.5));
}

#[test]
fn encodes_integral_numbers_as_integers() {
    assert_eq!(enc("2").to_string(), "2");
    assert_eq!(enc("4 / 2").to_string(), "2");
    assert_eq!(enc("2 ** 40").to_string(), "1099511627776");
    assert_eq!(enc("-7").to_string(), "-7");
}

#[test]
fn encodes_undefined_as_tagged_value_everywhere() {
    assert_eq!(enc("undefined"), json!({"$type": "undefined"}));
    assert_eq!(enc("[undefined]"), json!([{"$type": "undefined"}]));
    assert_eq!(
        enc("({a: undefined})"),
        json!({"a": {"$type": "undefined"}})
    );
}

#[test]
fn encodes_nan_as_tagged_number() {
    assert_eq!(enc("NaN"), json!({"$type": "number", "value": "NaN"}));
}

#[test]
fn encodes_infinities_and_negative_zero_as_tagged_numbers() {
    assert_eq!(
        enc("Infinity"),
        json!({"$type": "number", "value": "Infinity"})
    );
    assert_eq!(
        enc("-Infinity"),
        json!({"$type": "number", "value": "-Infinity"})
    );
    assert_eq!(enc("-0"), json!({"$type": "number", "value": "-0"}));
}

#[test]
fn encodes_bigint_as_decimal_string() {
    assert_eq!(
        enc("12345678901234567890n"),
        json!({"$type": "bigint", "value": "12345678901234567890"})
    );
    assert_eq!(enc("-5n"), json!({"$type": "bigint", "value": "-5"}));
}

#[test]
fn huge_bigint_is_cut_and_marked() {
    let e = enc_with("1n << 5000000n", &EncodeLimits::default());
    assert!(e.truncated);
    assert_eq!(e.value["$type"], "bigint");
    assert!(e.value["value"]
        .as_str()
        .is_some_and(|s| s.starts_with("0x1")));
}

#[test]
fn encodes_symbols_with_description() {
    assert_eq!(
        enc("Symbol('foo')"),
        json!({"$type": "symbol", "description": "foo"})
    );
    assert_eq!(
        enc("Symbol()"),
        json!({"$type": "symbol", "description": null})
    );
}

#[test]
fn encodes_functions_and_classes_by_name() {
    assert_eq!(
        enc("(function f() {})"),
        json!({"$type": "function", "name": "f"})
    );
    assert_eq!(enc("(() => 1)"), json!({"$type": "function", "name": ""}));
    assert_eq!(enc("(class C {})"), json!({"$type": "class", "name": "C"}));
    assert_eq!(enc("Math.max"), json!({"$type": "function", "name": "max"}));
}

#[test]
fn encodes_dates_as_iso_strings() {
    assert_eq!(
        enc("new Date(Date.UTC(2020, 0, 1))"),
        json!({"$type": "date", "value": "2020-01-01T00:00:00.000Z"})
    );
    assert_eq!(
        enc("new Date(NaN)"),
        json!({"$type": "date", "value": null})
    );
}

#[test]
fn encodes_regexps_with_source_and_flags() {
    assert_eq!(
        enc("/a+/g"),
        json!({"$type": "regexp", "source": "a+", "flags": "g"})
    );
    assert_eq!(
        enc("/x/ims"),
        json!({"$type": "regexp", "source": "x", "flags": "ims"})
    );
}

#[test]
fn encodes_errors_with_name_message_and_stack() {
    let v = enc("new TypeError('boom')");
    assert_eq!(v["$type"], "error");
    assert_eq!(v["name"], "TypeError");
    assert_eq!(v["message"], "boom");
    assert!(v["stack"].is_null() || v["stack"].is_string());
    let v = enc("let e = new Error('x'); e.stack = 'custom'; e");
    assert_eq!(v["stack"], "custom");
    let v = enc("new Error('outer', { cause: 1 })");
    assert_eq!(v["cause"], 1);
}

#[test]
fn encodes_maps_and_sets_with_entries() {
    assert_eq!(
        enc("new Map([['a', 1], [2, undefined]])"),
        json!({"$type": "map", "size": 2, "entries": [["a", 1], [2, {"$type": "undefined"}]]})
    );
    assert_eq!(
        enc("new Set([1, 'x'])"),
        json!({"$type": "set", "size": 2, "values": [1, "x"]})
    );
}

#[test]
fn encodes_typed_arrays_and_array_buffers() {
    assert_eq!(
        enc("new Uint8Array([1, 2, 3])"),
        json!({"$type": "Uint8Array", "length": 3, "values": [1, 2, 3]})
    );
    assert_eq!(
        enc("new Float64Array([0.5])"),
        json!({"$type": "Float64Array", "length": 1, "values": [0.5]})
    );
    assert_eq!(
        enc("new ArrayBuffer(8)"),
        json!({"$type": "ArrayBuffer", "byteLength": 8})
    );
}

#[test]
fn encodes_promises_with_state_and_value() {
    assert_eq!(
        enc("new Promise(() => {})"),
        json!({"$type": "promise", "state": "pending"})
    );
    assert_eq!(
        enc("Promise.resolve(1)"),
        json!({"$type": "promise", "state": "fulfilled", "value": 1})
    );
    let v = enc("let p = Promise.reject('no'); p.catch(() => {}); p");
    assert_eq!(
        v,
        json!({"$type": "promise", "state": "rejected", "value": "no"})
    );
}

#[test]
fn encodes_weak_collections_as_opaque_tags() {
    assert_eq!(enc("new WeakMap()"), json!({"$type": "weakmap"}));
    assert_eq!(enc("new WeakSet()"), json!({"$type": "weakset"}));
}

#[test]
fn encodes_plain_objects_in_property_order() {
    let v = enc("({b: 1, a: [1, 'x', null], 2: true, 1: false, [Symbol('s')]: 1})");
    assert_eq!(
        v.to_string(),
        r#"{"1":false,"2":true,"b":1,"a":[1,"x",null]}"#
    );
}

#[test]
fn skips_non_enumerable_properties() {
    assert_eq!(
        enc("let o = {a: 1}; Object.defineProperty(o, 'h', {value: 2}); o"),
        json!({"a": 1})
    );
}

#[test]
fn encodes_class_instances_as_plain_objects() {
    assert_eq!(
        enc("class P { constructor() { this.x = 1; } } new P()"),
        json!({"x": 1})
    );
}

#[test]
fn encodes_array_holes_as_tagged_holes() {
    assert_eq!(enc("[1, , 3]"), json!([1, {"$type": "hole"}, 3]));
}

#[test]
fn never_calls_getters_when_encoding() {
    let mut ctx = Context::default();
    let v = eval(
        &mut ctx,
        "globalThis.calls = 0;
         ({ get a() { calls++; return 1; }, set b(v) { calls++; } })",
    );
    let e = encode(&v, &mut ctx, &EncodeLimits::default());
    assert_eq!(
        e.value,
        json!({"a": {"$type": "accessor"}, "b": {"$type": "accessor"}})
    );
    assert_eq!(eval(&mut ctx, "calls"), JsValue::from(0));
}

#[test]
fn never_calls_to_json_or_to_primitive_hooks() {
    let mut ctx = Context::default();
    let v = eval(
        &mut ctx,
        "globalThis.calls = 0;
         const f = () => { calls++; return 'x'; };
         ({ toJSON: f, toString: f, valueOf: f, [Symbol.toPrimitive]: f, inner: { toJSON: f } })",
    );
    let e = encode(&v, &mut ctx, &EncodeLimits::default());
    assert_eq!(e.value["toJSON"]["$type"], "function");
    assert_eq!(eval(&mut ctx, "calls"), JsValue::from(0));
}

#[test]
fn never_triggers_proxy_traps() {
    let mut ctx = Context::default();
    let v = eval(
        &mut ctx,
        "globalThis.calls = 0;
         const h = new Proxy({}, { get() { calls++; }, ownKeys() { calls++; return []; },
           getOwnPropertyDescriptor() { calls++; }, getPrototypeOf() { calls++; return null; } });
         [h, { p: h }, new Proxy(function () {}, { apply() { calls++; } })]",
    );
    let e = encode(&v, &mut ctx, &EncodeLimits::default());
    assert_eq!(
        e.value,
        json!([{"$type": "proxy"}, {"p": {"$type": "proxy"}}, {"$type": "proxy"}])
    );
    assert_eq!(eval(&mut ctx, "calls"), JsValue::from(0));
}

#[test]
fn error_with_getter_message_is_read_without_calling_it() {
    let mut ctx = Context::default();
    let v = eval(
        &mut ctx,
        "globalThis.calls = 0;
         const e = new Error('m');
         Object.defineProperty(e, 'stack', { get() { calls++; return 's'; } });
         Object.defineProperty(e, 'name', { get() { calls++; return 'n'; } });
         e",
    );
    let e = encode(&v, &mut ctx, &EncodeLimits::default());
    assert_eq!(e.value["message"], "m");
    assert_eq!(e.value["stack"], Value::Null);
    assert_eq!(eval(&mut ctx, "calls"), JsValue::from(0));
}

#[test]
fn marks_cycles_as_circular() {
    assert_eq!(
        enc("const a = {x: 1}; a.self = a; a"),
        json!({"x": 1, "self": {"$type": "circular"}})
    );
    assert_eq!(
        enc("const l = []; l.push(l); l"),
        json!([{"$type": "circular"}])
    );
}

#[test]
fn repeated_non_cyclic_references_are_encoded_again() {
    assert_eq!(enc("const o = {k: 1}; [o, o]"), json!([{"k": 1}, {"k": 1}]));
}

#[test]
fn deep_nesting_is_cut_at_max_depth() {
    let limits = EncodeLimits {
        max_depth: 2,
        ..EncodeLimits::default()
    };
    let e = enc_with("({a: {b: {c: 1}}})", &limits);
    assert!(e.truncated);
    assert_eq!(
        e.value,
        json!({"a": {"b": {"$type": "truncated", "reason": "depth"}}})
    );
}

#[test]
fn very_deep_nesting_encodes_without_overflowing_the_stack() {
    let e = enc_with(
        "let v = []; for (let i = 0; i < 100000; i++) v = [v]; v",
        &EncodeLimits {
            max_depth: usize::MAX,
            ..EncodeLimits::default()
        },
    );
    assert!(e.truncated);
}

#[test]
fn long_arrays_keep_first_entries_and_count_the_rest() {
    let limits = EncodeLimits {
        max_entries: 2,
        ..EncodeLimits::default()
    };
    let e = enc_with("[1, 2, 3, 4]", &limits);
    assert!(e.truncated);
    assert_eq!(e.value, json!([1, 2, {"$type": "truncated", "omitted": 2}]));
}

#[test]
fn objects_with_many_keys_get_a_truncated_key() {
    let limits = EncodeLimits {
        max_entries: 2,
        ..EncodeLimits::default()
    };
    let e = enc_with("({a: 1, b: 2, c: 3})", &limits);
    assert!(e.truncated);
    assert_eq!(
        e.value,
        json!({"a": 1, "b": 2, "$truncated": {"$type": "truncated", "omitted": 1}})
    );
    let e = enc_with("new Map([[1, 1], [2, 2], [3, 3]])", &limits);
    assert_eq!(
        e.value["entries"],
        json!([[1, 1], [2, 2], {"$type": "truncated", "omitted": 1}])
    );
}

#[test]
fn node_budget_truncates_the_rest_as_size() {
    let limits = EncodeLimits {
        max_nodes: 3,
        ..EncodeLimits::default()
    };
    let e = enc_with("[1, 2, 3, 4]", &limits);
    assert!(e.truncated);
    assert_eq!(
        e.value,
        json!([1, 2, {"$type": "truncated", "reason": "size"}])
    );
}

#[test]
fn long_strings_are_cut_and_marked() {
    let limits = EncodeLimits {
        max_string_len: 3,
        ..EncodeLimits::default()
    };
    let e = enc_with("'abcdef'", &limits);
    assert!(e.truncated);
    assert_eq!(e.value, json!("abc"));
    // A surrogate pair is never split.
    let e = enc_with("'ab😀'", &limits);
    assert_eq!(e.value, json!("ab"));
}

#[test]
fn sparse_array_of_length_1e9_encodes_quickly() {
    let start = Instant::now();
    let e = enc_with(
        "const a = new Array(1e9); a[5] = 1; a",
        &EncodeLimits::default(),
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(e.truncated);
    let items = e.value.as_array().expect("array");
    assert_eq!(items.len(), 1001);
    assert_eq!(items[5], json!(1));
    assert_eq!(
        items[1000],
        json!({"$type": "truncated", "omitted": 999_999_000})
    );
}

#[test]
fn wide_and_deep_structure_stays_within_node_budget() {
    let start = Instant::now();
    let e = enc_with(
        "const row = Array.from({length: 1000}, (_, i) => i);
         const grid = Array.from({length: 1000}, () => row); grid",
        &EncodeLimits::default(),
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(e.truncated);
    assert!(e.value.to_string().len() < 200_000);
}

#[test]
fn object_with_many_keys_referenced_many_times_is_bounded() {
    let start = Instant::now();
    let e = enc_with(
        "const o = {}; for (let i = 0; i < 20000; i++) o['k' + i] = i;
         Array.from({length: 1000}, () => o)",
        &EncodeLimits::default(),
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(e.truncated);
}

#[test]
fn user_objects_with_type_key_pass_through_unchanged() {
    assert_eq!(enc("({$type: 'date'})"), json!({"$type": "date"}));
}
