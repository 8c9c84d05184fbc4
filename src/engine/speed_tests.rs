//! The speed patches to Boa (vendor/README.md, "Speed") keep JavaScript's semantics: each test
//! runs code through a session engine, as a cell, and checks what Node prints for it.

use super::*;
use serde_json::{json, Value};

fn engine() -> Engine {
    Engine::new(42, Limits::default()).expect("engine")
}

/// Runs the cells in one session and returns the last one's value; every cell must succeed.
fn cells(code: &[&str]) -> Value {
    let mut e = engine();
    let mut last = Value::Null;
    for cell in code {
        let out = e.execute(cell, 1_700_000_000_000.0);
        assert_eq!(out.status, Status::Ok, "{cell}: {:?}", out.error);
        last = out.value;
    }
    last
}

fn value(code: &str) -> Value {
    cells(&[code])
}

// JSON.parse without a reviver (builtins/json/direct.rs).

#[test]
fn json_parse_builds_the_values_the_text_describes() {
    assert_eq!(
        value(r#"JSON.parse('{"a":[1,-2.5,1e300,null,true,false,"x\\u00e9\\n"],"b":{"c":{}},"d":[]}')"#),
        json!({"a": [1, -2.5, 1e300, null, true, false, "xé\n"], "b": {"c": {}}, "d": []})
    );
    // Numbers: -0, integers past i32 and past u64, and the closest double of a long decimal.
    assert_eq!(
        value(r#"const v = JSON.parse('[-0, 0, 4294967296, 18446744073709551616, 0.1000000000000000055511151231257827, -9007199254740993]');
[Object.is(v[0], -0), Object.is(v[1], 0), v[2], v[3] === 2 ** 64, v[4] === 0.1, String(v[5])]"#),
        json!([true, true, 4294967296u64, true, true, "-9007199254740992"])
    );
    assert_eq!(value(r#"JSON.parse('"\\ud83d\\ude00"').codePointAt(0)"#), json!(0x1F600));
    assert_eq!(value("JSON.parse(' 7 ')"), json!(7));
}

#[test]
fn json_parse_keeps_javascript_property_order_and_own_proto_keys() {
    // Integer keys first in ascending order, then strings in insertion order; a repeated key
    // keeps its first position and its last value; "__proto__" is an own property.
    assert_eq!(
        value(r#"const o = JSON.parse('{"b":1,"2":2,"a":3,"1":4,"b":5,"__proto__":{"x":1}}');
[Object.keys(o).join(), o.b, Object.getPrototypeOf(o) === Object.prototype, o.__proto__.x, 'x' in o]"#),
        json!(["1,2,b,a,__proto__", 5, true, 1, false])
    );
    assert_eq!(
        value(r#"const a = JSON.parse('[1,2,3]'); [Array.isArray(a), a.length, a.map(x => x * 2).join()]"#),
        json!([true, 3, "2,4,6"])
    );
}

#[test]
fn json_parse_reports_malformed_text_as_a_syntax_error() {
    for text in ["{", "[1,]", "{'a':1}", "01", "1 2", "", "[1] x", "\"\\x\""] {
        let code = format!("try {{ JSON.parse({text:?}); 'parsed' }} catch (e) {{ e.name }}");
        assert_eq!(value(&code), json!("SyntaxError"), "{text}");
    }
    // Nesting deeper than the parser's bound is a SyntaxError, not a crash.
    assert_eq!(
        value("try { JSON.parse('['.repeat(100000)) } catch (e) { e.name }"),
        json!("SyntaxError")
    );
}

#[test]
fn json_parse_with_a_reviver_still_sees_every_value() {
    assert_eq!(
        value(r#"JSON.parse('{"a":[1,2],"b":3}', (k, v) => typeof v === 'number' ? v * 10 : v)"#),
        json!({"a": [10, 20], "b": 30})
    );
}

#[test]
fn json_of_1e5_small_objects_fits_the_default_memory_limit() {
    assert_eq!(
        // The source array is garbage once stringified (natively an object takes ~150 bytes,
        // so two such arrays alone would fill 32 MiB; in Wasm pointers are half as wide).
        value("const s = JSON.stringify(Array.from({ length: 1e5 }, (_, i) => ({ id: i, name: 'item' + i, ok: i % 2 === 0 })));
const b = JSON.parse(s);
[s.length, b.length, b[99999].name, b[4].ok]"),
        json!([4_077_781, 100_000, "item99999", true])
    );
}

#[test]
fn json_parse_stops_at_the_memory_limit_not_after_it() {
    let mut e = Engine::new(
        42,
        Limits {
            memory_bytes: 8 << 20,
            ..Limits::default()
        },
    )
    .expect("engine");
    // 600 kB of text, 100,000 objects: far more heap than the limit.
    let out = e.execute("JSON.parse('[' + '{},'.repeat(2e5) + '{}]').length", 0.0);
    assert_eq!(out.status, Status::Limit, "{:?}", out.error);
    assert_eq!(out.error.and_then(|e| e.limit).as_deref(), Some("memory"));
    assert!(out.usage.memory_bytes < 12 << 20, "used {}", out.usage.memory_bytes);
}

// Indirect eval (cells) analysed as global code (vendor/boa_ast/src/source.rs).

#[test]
fn closures_in_cells_capture_each_loop_iteration_and_their_functions_state() {
    assert_eq!(
        value("const fs = []; for (let i = 0; i < 3; i++) fs.push(() => i); fs.map(f => f()).join()"),
        json!("0,1,2")
    );
    assert_eq!(
        cells(&[
            "function counter() { let n = 0; return { inc: () => ++n, get: () => n } }",
            "const c = counter(); c.inc(); c.inc();",
            "c.inc(); [c.get(), counter().get()]",
        ]),
        json!([3, 0])
    );
}

#[test]
fn a_direct_eval_inside_a_cell_function_sees_its_locals() {
    assert_eq!(
        value("function f(a) { let b = 2; return eval('a + b') } f(40)"),
        json!(42)
    );
    assert_eq!(
        value("function g() { let x = 1; eval('var y = x + 1'); return y } g()"),
        json!(2)
    );
    assert_eq!(
        value("function h() { var o = { p: 5 }; with (o) { return p } } h()"),
        json!(5)
    );
    assert_eq!(
        value("function k() { return arguments.length } k(1, 2, 3)"),
        json!(3)
    );
}

#[test]
fn functions_of_one_cell_see_globals_of_later_cells() {
    assert_eq!(
        cells(&["function f() { return later * 2 }", "let later = 21", "f()"]),
        json!(42)
    );
}

// Assignments to global-object bindings (environments/runtime/mod.rs).

#[test]
fn assigning_a_top_level_variable_updates_the_global_and_its_readers() {
    assert_eq!(
        value("let s = 0; for (let i = 0; i < 10; i++) s += i; [s, globalThis.s]"),
        json!([45, 45])
    );
    assert_eq!(
        cells(&["var t = 1; const read = () => t", "t = 5; globalThis.t += 1", "[t, read()]"]),
        json!([6, 6])
    );
}

#[test]
fn assigning_a_global_with_a_setter_or_read_only_keeps_its_rules() {
    assert_eq!(
        value("let seen; Object.defineProperty(globalThis, 'acc', { set(v) { seen = v }, get() { return 1 }, configurable: true }); acc = 9; [seen, acc]"),
        json!([9, 1])
    );
    assert_eq!(
        value("Object.defineProperty(globalThis, 'ro', { value: 1, writable: false, configurable: true }); ro = 2; ro"),
        json!(1)
    );
    assert_eq!(
        value("'use strict'; Object.defineProperty(globalThis, 'ro2', { value: 1, writable: false }); try { ro2 = 2; 'assigned' } catch (e) { e.name }"),
        json!("TypeError")
    );
    assert_eq!(
        cells(&["const k = 1", "try { k = 2; 'assigned' } catch (e) { e.message }"]),
        json!("Assignment to constant variable.")
    );
}

#[test]
fn cached_global_positions_follow_redefinitions_and_deletions() {
    // Each cell warms the cache with a loop, then changes the property under it.
    assert_eq!(
        value("var w = 1; for (let i = 0; i < 3; i++) w = i; Object.defineProperty(globalThis, 'w', { writable: false }); w = 99; w"),
        json!(2)
    );
    assert_eq!(
        value("var g = 1; for (let i = 0; i < 3; i++) g += i; Object.defineProperty(globalThis, 'g', { get() { return 42 } }); g"),
        json!(42)
    );
    assert_eq!(
        cells(&[
            "var d = 1; var e = 2; for (let i = 0; i < 3; i++) { d += 1; e += 1 }",
            "delete globalThis.d; var f = 9; for (let i = 0; i < 3; i++) f += e",
            "globalThis.d = 7; for (let i = 0; i < 3; i++) d += 1; [d, e, f, 'd' in globalThis]",
        ]),
        json!([10, 5, 24, true])
    );
    assert_eq!(
        value("'use strict'; globalThis.s2 = 0; for (let i = 0; i < 3; i++) s2 += i; delete globalThis.s2; try { s2 = 1; 'assigned' } catch (e) { e.name }"),
        json!("ReferenceError")
    );
}
