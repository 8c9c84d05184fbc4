use std::time::{Duration, Instant};

use boa_engine::{Context, JsValue, Source};

use super::{capture_intrinsics, format_args, inspect, InspectOptions};

fn eval(ctx: &mut Context, src: &str) -> JsValue {
    ctx.eval(Source::from_bytes(src)).expect("test script runs")
}

/// `util.inspect(<src>)` with default options.
fn ins(src: &str) -> String {
    let mut ctx = Context::default();
    let v = eval(&mut ctx, src);
    inspect(&v, &mut ctx, &InspectOptions::default())
}

/// `util.format(...<src>)` where `src` evaluates to an array of arguments.
fn fmt(src: &str) -> String {
    let mut ctx = Context::default();
    let v = eval(&mut ctx, src);
    let obj = v.as_object().expect("array of arguments");
    let len = super::array_length(&obj);
    let args: Vec<JsValue> = (0..len)
        .map(|i| obj.get(i, &mut ctx).expect("argument"))
        .collect();
    format_args(&args, &mut ctx)
}

#[test]
fn formats_primitives_like_node() {
    assert_eq!(ins("1"), "1");
    assert_eq!(ins("-0"), "-0");
    assert_eq!(ins("1.5e300"), "1.5e+300");
    assert_eq!(ins("NaN"), "NaN");
    assert_eq!(ins("123n"), "123n");
    assert_eq!(ins("undefined"), "undefined");
    assert_eq!(ins("null"), "null");
    assert_eq!(ins("true"), "true");
    assert_eq!(ins("Symbol('x')"), "Symbol(x)");
    assert_eq!(ins("'a'"), "'a'");
}

#[test]
fn quotes_strings_like_node() {
    assert_eq!(ins("\"it's\""), "\"it's\"");
    assert_eq!(ins("`it's \"q\"`"), "`it's \"q\"`");
    assert_eq!(ins("'a\\nb\\\\'"), "'a\\nb\\\\'");
    assert_eq!(ins("'\\x01'"), "'\\x01'");
}

#[test]
fn formats_objects_and_arrays_on_one_line_when_short() {
    assert_eq!(ins("({a: 1, b: 'x'})"), "{ a: 1, b: 'x' }");
    assert_eq!(ins("[1, 2, 3]"), "[ 1, 2, 3 ]");
    assert_eq!(ins("[]"), "[]");
    assert_eq!(ins("({})"), "{}");
    assert_eq!(ins("({'a-b': 1, 2: 3})"), "{ '2': 3, 'a-b': 1 }");
    assert_eq!(ins("({[Symbol('s')]: 1})"), "{ [Symbol(s)]: 1 }");
}

#[test]
fn nested_objects_deeper_than_two_levels_are_abbreviated() {
    assert_eq!(
        ins("({a: {b: {c: {d: 1}}}})"),
        "{ a: { b: { c: [Object] } } }"
    );
    assert_eq!(ins("[[[[1]]]]"), "[ [ [ [Array] ] ] ]");
    assert_eq!(ins("({a: {b: {c: {}}}})"), "{ a: { b: { c: {} } } }");
}

#[test]
fn breaks_long_objects_over_lines() {
    let out = ins(
        "({alpha: 'aaaaaaaaaaaaaaaa', beta: 'bbbbbbbbbbbbbbbb', gamma: 'cccccccccccccccc', d: 1})",
    );
    assert_eq!(
        out,
        "{\n  alpha: 'aaaaaaaaaaaaaaaa',\n  beta: 'bbbbbbbbbbbbbbbb',\n  gamma: 'cccccccccccccccc',\n  d: 1\n}"
    );
}

#[test]
fn groups_long_numeric_arrays_in_columns_like_node() {
    let out = ins("Array.from({length: 30}, (_, i) => i)");
    assert_eq!(
        out,
        "[\n   0,  1,  2,  3,  4,  5,  6,  7,  8,\n   9, 10, 11, 12, 13, 14, 15, 16, 17,\n  18, 19, 20, 21, 22, 23, 24, 25, 26,\n  27, 28, 29\n]"
    );
}

#[test]
fn arrays_longer_than_100_items_say_how_many_more() {
    let out = ins("Array(150).fill(0)");
    assert!(out.ends_with("... 50 more items\n]"), "{out}");
}

#[test]
fn sparse_arrays_show_empty_items() {
    assert_eq!(ins("[1, , 3]"), "[ 1, <1 empty item>, 3 ]");
    assert_eq!(ins("new Array(5)"), "[ <5 empty items> ]");
    let start = Instant::now();
    assert_eq!(
        ins("const a = new Array(1e9); a[5] = 1; a"),
        "[ <5 empty items>, 1, <999999994 empty items> ]"
    );
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn formats_builtin_objects_like_node() {
    assert_eq!(ins("new Map([['a', 1]])"), "Map(1) { 'a' => 1 }");
    assert_eq!(ins("new Set([1, 2])"), "Set(2) { 1, 2 }");
    assert_eq!(ins("new Map()"), "Map(0) {}");
    assert_eq!(ins("(function f() {})"), "[Function: f]");
    assert_eq!(ins("(() => {})"), "[Function (anonymous)]");
    assert_eq!(ins("(class C {})"), "[class C]");
    assert_eq!(ins("(async function g() {})"), "[AsyncFunction: g]");
    assert_eq!(ins("(function* h() {})"), "[GeneratorFunction: h]");
    assert_eq!(
        ins("new Date(Date.UTC(2020, 0, 1))"),
        "2020-01-01T00:00:00.000Z"
    );
    assert_eq!(ins("new Date(NaN)"), "Invalid Date");
    assert_eq!(ins("/a/g"), "/a/g");
    assert_eq!(
        ins("new Uint8Array([1, 2, 3])"),
        "Uint8Array(3) [ 1, 2, 3 ]"
    );
    assert_eq!(ins("Promise.resolve(1)"), "Promise { 1 }");
    assert_eq!(ins("new Promise(() => {})"), "Promise { <pending> }");
    assert_eq!(ins("new WeakMap()"), "WeakMap { <items unknown> }");
    assert_eq!(
        ins("new Uint8Array([1, 2]).buffer"),
        "ArrayBuffer { [Uint8Contents]: <01 02>, byteLength: 2 }"
    );
    assert_eq!(ins("new String('ab')"), "[String: 'ab']");
    assert_eq!(ins("new Number(3)"), "[Number: 3]");
    assert_eq!(ins("new Boolean(false)"), "[Boolean: false]");
}

#[test]
fn formats_class_instances_and_null_prototypes_like_node() {
    assert_eq!(
        ins("class P { constructor() { this.x = 1; } } new P()"),
        "P { x: 1 }"
    );
    assert_eq!(ins("Object.create(null)"), "[Object: null prototype] {}");
    assert_eq!(
        ins("const o = Object.create(null); o.a = 1; o"),
        "[Object: null prototype] { a: 1 }"
    );
    assert_eq!(ins("class L extends Array {} L.from([1])"), "L(1) [ 1 ]");
}

#[test]
fn functions_with_properties_show_them() {
    assert_eq!(ins("function f() {} f.a = 1; f"), "[Function: f] { a: 1 }");
}

#[test]
fn formats_errors_as_their_stack() {
    let mut ctx = Context::default();
    capture_intrinsics(&mut ctx);
    let v = eval(
        &mut ctx,
        "function thrower() { return new TypeError('boom'); } thrower()",
    );
    let out = inspect(&v, &mut ctx, &InspectOptions::default());
    assert!(out.starts_with("TypeError: boom\n    at "), "{out}");
    // Without the captured getter, only the header in brackets, as Node does without frames.
    assert_eq!(ins("new RangeError('r')"), "[RangeError: r]");
    assert_eq!(ins("new Error()"), "[Error]");
    assert_eq!(
        ins("const e = new Error('x'); e.code = 'E1'; e"),
        "[Error: x] { code: 'E1' }"
    );
}

#[test]
fn shows_accessors_without_calling_them() {
    let mut ctx = Context::default();
    let v = eval(
        &mut ctx,
        "globalThis.calls = 0;
         ({ get a() { calls++; }, set b(v) { calls++; }, get c() { calls++; }, set c(v) {} })",
    );
    let out = inspect(&v, &mut ctx, &InspectOptions::default());
    assert_eq!(out, "{ a: [Getter], b: [Setter], c: [Getter/Setter] }");
    assert_eq!(eval(&mut ctx, "calls"), JsValue::from(0));
}

#[test]
fn never_calls_guest_code_when_formatting() {
    let mut ctx = Context::default();
    capture_intrinsics(&mut ctx);
    let v = eval(
        &mut ctx,
        "globalThis.calls = 0;
         const f = () => { calls++; return 'x'; };
         const e = new Error('m');
         Object.defineProperty(e, 'stack', { get: f });
         Object.defineProperty(Error.prototype, 'name', { get: f });
         const p = new Proxy({}, { get: f, ownKeys: f, getOwnPropertyDescriptor: f, getPrototypeOf: f });
         [{ toString: f, valueOf: f, inspect: f, [Symbol.toPrimitive]: f, toJSON: f,
            [Symbol.for('nodejs.util.inspect.custom')]: f }, e, p, new Date(0)]",
    );
    let out = inspect(&v, &mut ctx, &InspectOptions::default());
    assert!(out.contains("[Proxy]"), "{out}");
    let args = [
        JsValue::from(boa_engine::js_string!("%s %d %i %f %j %o %O")),
        v.clone(),
        v.clone(),
        v.clone(),
        v.clone(),
        v.clone(),
        v.clone(),
        v,
    ];
    let _ = format_args(&args, &mut ctx);
    assert_eq!(eval(&mut ctx, "calls"), JsValue::from(0));
}

#[test]
fn marks_circular_references_with_ref_numbers() {
    assert_eq!(
        ins("const a = {x: 1}; a.self = a; a"),
        "<ref *1> { x: 1, self: [Circular *1] }"
    );
    assert_eq!(
        ins("const l = [1]; l.push(l); l"),
        "<ref *1> [ 1, [Circular *1] ]"
    );
}

#[test]
fn long_strings_are_cut_with_a_count() {
    let out = ins("'a'.repeat(10005)");
    assert!(
        out.ends_with("'... 5 more characters"),
        "{}",
        &out[out.len() - 30..]
    );
}

#[test]
fn output_is_capped() {
    let mut ctx = Context::default();
    let v = eval(
        &mut ctx,
        "Array.from({length: 100}, () => 'x'.repeat(5000))",
    );
    let opts = InspectOptions {
        max_output: 10_000,
        ..InspectOptions::default()
    };
    let out = inspect(&v, &mut ctx, &opts);
    assert!(out.len() <= 10_004, "{}", out.len());
    assert!(out.ends_with('…'));
}

#[test]
fn huge_structures_format_quickly() {
    let start = Instant::now();
    let out = ins(
        "const o = {}; for (let i = 0; i < 20000; i++) o['k' + i] = i;
         const row = Array.from({length: 100}, () => o);
         Array.from({length: 100}, () => row)",
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(out.len() <= (1 << 20) + 4);
}

#[test]
fn formats_plain_arguments_separated_by_spaces() {
    assert_eq!(fmt("['a', 1, {b: 2}]"), "a 1 { b: 2 }");
    assert_eq!(fmt("[1, 'a']"), "1 a");
    assert_eq!(fmt("[]"), "");
}

#[test]
fn formats_percent_s_like_node() {
    assert_eq!(fmt("['%s!', 'x']"), "x!");
    assert_eq!(fmt("['%s', 5n]"), "5n");
    assert_eq!(fmt("['%s', -0]"), "-0");
    assert_eq!(fmt("['%s', {a: {b: 1}}]"), "{ a: [Object] }");
    assert_eq!(fmt("['%s', Symbol('q')]"), "Symbol(q)");
}

#[test]
fn formats_percent_d_like_node() {
    assert_eq!(fmt("['%d', 42]"), "42");
    assert_eq!(fmt("['%d', '42']"), "42");
    assert_eq!(fmt("['%d', 1.5]"), "1.5");
    assert_eq!(fmt("['%d', 7n]"), "7n");
    assert_eq!(fmt("['%d', {}]"), "NaN");
    assert_eq!(fmt("['%d', '']"), "0");
}

#[test]
fn formats_percent_i_and_f_like_node() {
    assert_eq!(fmt("['%i', 42.9]"), "42");
    assert_eq!(fmt("['%i', '12px']"), "12");
    assert_eq!(fmt("['%f', '1.5e3x']"), "1500");
    assert_eq!(fmt("['%f', 'abc']"), "NaN");
}

#[test]
fn formats_percent_j_o_and_c_like_node() {
    assert_eq!(fmt("['%j', {a: [1, 'x']}]"), r#"{"a":[1,"x"]}"#);
    // Node keeps at most three nested levels on one line.
    assert_eq!(
        fmt("['%o', {a: {b: {c: {d: 1}}}}]"),
        "{\n  a: { b: { c: { d: 1 } } }\n}"
    );
    assert_eq!(fmt("['%O', {a: 1}]"), "{ a: 1 }");
    assert_eq!(fmt("['%cred', 'color: red']"), "red");
}

#[test]
fn percent_percent_and_missing_arguments_stay_literal() {
    assert_eq!(fmt("['100%% %s %s', 'a']"), "100% a %s");
    assert_eq!(fmt("['%x %s', 'a']"), "%x a");
    assert_eq!(fmt("['%s', 'a', 'b', 2]"), "a b 2");
}

#[test]
fn very_deep_nesting_formats_without_overflowing_the_stack() {
    let mut ctx = Context::default();
    let v = eval(
        &mut ctx,
        "let v = []; for (let i = 0; i < 100000; i++) v = [v]; v",
    );
    let opts = InspectOptions {
        depth: usize::MAX,
        ..InspectOptions::default()
    };
    let out = inspect(&v, &mut ctx, &opts);
    assert!(out.contains("[Array]"));
}
