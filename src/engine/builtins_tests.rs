//! Hostile inputs against Boa's builtins: each must end within the budget with a limit error
//! (or a catchable RangeError where JavaScript defines one), never hang, overflow or abort.

use boa_engine::{budget, Context, Source};

/// Runs `code` in a fresh realm with `fuel` and `memory` budgets; returns the error text, if any,
/// and why the budget tripped.
#[allow(dead_code)]
fn run(code: &str, fuel: u64, memory: usize) -> (Option<String>, Option<budget::Exhausted>) {
    let mut ctx = Context::default();
    budget::begin(fuel, memory);
    let result = ctx.eval(Source::from_bytes(code));
    let jobs = ctx.run_jobs();
    let tripped = budget::end();
    let err = result.err().or(jobs.err()).map(|e| e.to_string());
    (err, tripped)
}

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    let (err, tripped) = run("while (true) {}", 1_000_000, usize::MAX);
    assert!(err.is_some());
    assert_eq!(tripped, Some(budget::Exhausted::Fuel));
}

#[test]
fn try_finally_cannot_swallow_running_out_of_fuel() {
    let (err, tripped) = run(
        "for (;;) { try { while (true) {} } catch (e) {} finally { continue } }",
        1_000_000,
        usize::MAX,
    );
    assert!(err.is_some());
    assert_eq!(tripped, Some(budget::Exhausted::Fuel));
}

const FUEL: u64 = 5_000_000;
const MEMORY: usize = 32 << 20;

/// Evaluates `code` (which must not fail) and returns its result as a string.
fn eval_ok(code: &str) -> String {
    let mut ctx = Context::default();
    budget::begin(FUEL, MEMORY);
    let result = ctx.eval(Source::from_bytes(code));
    let tripped = budget::end();
    assert_eq!(tripped, None, "budget tripped for {code}");
    let value = result.unwrap_or_else(|e| panic!("{code} threw {e}"));
    value
        .to_string(&mut ctx)
        .expect("result converts to a string")
        .to_std_string_escaped()
}

/// Runs `code` with the default budgets in a thread with an 8 MiB stack, like the Worker's.
fn run_deep(code: &'static str) -> (Option<String>, Option<budget::Exhausted>) {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || run(code, FUEL, MEMORY))
        .expect("thread starts")
        .join()
        .expect("thread does not panic")
}

fn assert_out_of(code: &str, reason: budget::Exhausted) {
    let started = std::time::Instant::now();
    let (err, tripped) = run(code, FUEL, MEMORY);
    assert!(err.is_some(), "{code} did not fail");
    assert_eq!(tripped, Some(reason), "{code}: {err:?}");
    eprintln!("{code}: {:?}", started.elapsed());
}

fn assert_range_error_deep(code: &'static str) {
    let started = std::time::Instant::now();
    let (err, tripped) = run_deep(code);
    let err = err.unwrap_or_else(|| panic!("{code} did not fail"));
    assert!(
        err.contains("RangeError") || err.contains("recursi"),
        "{code}: {err}"
    );
    assert_eq!(tripped, None, "{code}: {err}");
    eprintln!("{code}: {:?}", started.elapsed());
}

#[test]
fn splitting_a_long_string_is_linear_and_correct() {
    let started = std::time::Instant::now();
    assert_eq!(
        eval_ok(
            r#"const p = "ab1,".repeat(1e5).split(","); p.length + ":" + p[99999] + ":" + p[100000]"#
        ),
        "100001:ab1:"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn string_searches_give_the_usual_answers() {
    assert_eq!(
        eval_ok(
            r#"[ "abcabc".indexOf("c", 3), "abcabc".lastIndexOf("ab"), "abcabc".lastIndexOf("ab", 2),
                 "abc".lastIndexOf(""), "abc".lastIndexOf("", 1), "abc".indexOf("x", 9),
                 "a,b,,c".split(","), "abc".split(""), "aXbX".replaceAll("X", "$&$&"),
                 "abc".replace("b", "[$`|$']"), "x".padStart(4, "ab"), "ab".repeat(3),
                 "\u00e9a".includes("a"), "h\u00e9llo".indexOf("llo"), "abc".startsWith("bc", 1),
                 "abc".endsWith("ab", 2), String.fromCharCode(104, 105), "\u0130".toLowerCase().length
               ].join("|")"#
        ),
        "5|3|0|3|1|-1|a,b,,c|a,b,c|aXXbXX|a[a|c]c|abax|ababab|true|2|true|true|hi|2"
    );
}

#[test]
fn a_quadratic_substring_search_runs_out_of_fuel() {
    for code in [
        r#"const h = "a".repeat(1e6); const n = "a".repeat(1e4) + "b"; h.indexOf(n)"#,
        r#"const h = "a".repeat(1e6); const n = "a".repeat(1e4) + "b"; h.lastIndexOf(n)"#,
        r#"const h = "a".repeat(1e6); const n = "a".repeat(1e4) + "b"; h.split(n)"#,
        r#"const h = "a".repeat(1e6); const n = "a".repeat(1e4) + "b"; h.includes(n)"#,
    ] {
        // Less fuel than elsewhere: debug builds compare code units slowly.
        let started = std::time::Instant::now();
        let (err, tripped) = run(code, 500_000, MEMORY);
        assert!(err.is_some(), "{code} did not fail");
        assert_eq!(tripped, Some(budget::Exhausted::Fuel), "{code}");
        eprintln!("{code}: {:?}", started.elapsed());
    }
}

#[test]
fn building_huge_strings_runs_out_of_memory_before_allocating() {
    for code in [
        r#""x".repeat(2 ** 29)"#,
        r#""x".padStart(2 ** 29)"#,
        r#""x".padEnd(2 ** 29, "ab")"#,
        r#"let s = "x"; for (;;) s += s"#,
        r#"let s = "x"; for (;;) s = `${s}${s}`"#,
        r#"let s = "x"; for (;;) s = s.concat(s)"#,
        r#"const s = "a".repeat(1e6) + "x"; s.replace("x", "$`".repeat(100))"#,
        r#""a".repeat(1e5).replaceAll("a", "b".repeat(1e3))"#,
        r#""a".repeat(1e7).split("")"#,
    ] {
        assert_out_of(code, budget::Exhausted::Memory);
    }
}

#[test]
fn json_round_trips_ordinary_values() {
    assert_eq!(
        eval_ok(
            r#"JSON.stringify(JSON.parse('{"a":[1,2,{"b":"c\\u0001"}],"d":null}')) + JSON.stringify([1,[2]], null, 2)"#
        ),
        "{\"a\":[1,2,{\"b\":\"c\\u0001\"}],\"d\":null}[\n  1,\n  [\n    2\n  ]\n]"
    );
}

#[test]
fn stringifying_a_huge_sparse_array_is_bounded() {
    // A hole is 5 or 7 bytes of output ("null," and "\n null,"), which builds up in one buffer:
    // with fuel to spare, the buffer's reservation stops it at the memory limit.
    for code in [
        "JSON.stringify(new Array(1e9))",
        "JSON.stringify(new Array(1e9), null, 1)",
    ] {
        let (err, tripped) = run(code, 1_000_000_000, MEMORY);
        assert!(err.is_some(), "{code} did not fail");
        assert_eq!(tripped, Some(budget::Exhausted::Memory), "{code}: {err:?}");
    }
    let (err, tripped) = run("JSON.stringify(new Array(1e9))", 100_000, MEMORY);
    assert!(err.is_some());
    assert_eq!(tripped, Some(budget::Exhausted::Fuel));
}

#[test]
fn stringifying_a_deeply_nested_array_throws_a_range_error() {
    assert_range_error_deep("let a = []; for (let i = 0; i < 1e4; i++) a = [a]; JSON.stringify(a)");
    assert_range_error_deep("let o = {}; for (let i = 0; i < 1e4; i++) o = {o}; JSON.stringify(o)");
}

#[test]
fn parsing_deeply_nested_json_throws_a_syntax_error() {
    let (err, tripped) = run_deep(r#"JSON.parse("[".repeat(1e5) + "]".repeat(1e5))"#);
    assert!(err.expect("fails").contains("SyntaxError"));
    assert_eq!(tripped, None);
    // serde_json's limit (128) bounds the nesting that reaches Boa's recursive parser.
    let (err, tripped) = run_deep(
        r#"if (JSON.parse("[".repeat(127) + "]".repeat(127)).length !== 1) throw new Error("wrong")"#,
    );
    assert_eq!((err, tripped), (None, None));
}

#[test]
fn long_proxy_and_prototype_chains_throw_a_range_error() {
    assert_range_error_deep("let p = {}; for (let i = 0; i < 1e4; i++) p = new Proxy(p, {}); p.x");
    assert_range_error_deep(
        "let p = {}; for (let i = 0; i < 1e4; i++) p = new Proxy(p, {}); Array.isArray(p)",
    );
    assert_range_error_deep("let o = {}; for (let i = 0; i < 1e4; i++) o = Object.create(o); o.x");
    assert_range_error_deep(
        "let o = {}; for (let i = 0; i < 1e4; i++) o = Object.create(o); o.x = 1",
    );
    assert_range_error_deep(
        "let o = {}; for (let i = 0; i < 1e4; i++) o = Object.create(o); 'x' in o",
    );
    assert_range_error_deep(
        "let p = {}; for (let i = 0; i < 1e4; i++) p = new Proxy(p, {get: Reflect.get}); p.x",
    );
}

#[test]
fn nested_native_calls_throw_a_range_error() {
    assert_range_error_deep(
        "let args = [function () {}, null, []]; \
         for (let i = 0; i < 1e4; i++) args = [Reflect.apply, null, args]; \
         Reflect.apply(...args)",
    );
}

#[test]
fn moderately_long_chains_still_work() {
    assert_eq!(
        eval_ok(
            "let o = {x: 7}; for (let i = 0; i < 200; i++) o = Object.create(o); \
             let p = {y: 8}; for (let i = 0; i < 200; i++) p = new Proxy(p, {}); \
             let f = function () { return 9 }; for (let i = 0; i < 1e3; i++) f = f.bind(null); \
             [o.x, p.y, f(), f.name.length].join()"
        ),
        "7,8,9,6001"
    );
}

#[test]
fn huge_array_likes_are_refused_before_allocating() {
    for code in [
        "Math.max.apply(null, {length: 2 ** 32 - 1})",
        "Reflect.apply(Math.max, null, {length: 1e9})",
        "new Array(2 ** 32 - 1).join()",
        "new Array(2 ** 32 - 1).toString()",
        "String(new Array(1e8))",
        "new ArrayBuffer(2 ** 29)",
        "new Float64Array(2 ** 25)",
        "new ArrayBuffer(8, {maxByteLength: 2 ** 29})",
        "'x'.padEnd(1e6).split('').join('ab'.repeat(100))",
    ] {
        assert_out_of(code, budget::Exhausted::Memory);
    }
}

#[test]
fn native_loops_over_huge_sparse_arrays_run_out_of_fuel() {
    for code in [
        "new Array(1e9).forEach(() => {})",
        "new Array(1e9).map(x => x)",
        "new Array(1e9).filter(x => x)",
        "new Array(1e9).some(x => x)",
        "new Array(1e9).reduce((a, b) => a, 0)",
        "new Array(1e9).indexOf(1)",
        "new Array(1e9).lastIndexOf(1)",
        "new Array(1e9).includes(1)",
        "new Array(1e9).fill(0)",
        "new Array(1e9).reverse()",
        "new Array(1e9).copyWithin(0, 1)",
        "new Array(1e9).sort()",
        "new Array(1e9).slice()",
        "[].concat(new Array(1e9))",
        "new Array(1e9).flat()",
        "Array.from({length: 1e9})",
    ] {
        let started = std::time::Instant::now();
        let (err, tripped) = run(code, FUEL, MEMORY);
        assert!(err.is_some(), "{code} did not fail");
        assert!(tripped.is_some(), "{code}: {err:?}");
        eprintln!("{code}: {tripped:?} {:?}", started.elapsed());
    }
}

#[test]
fn array_builtins_give_the_usual_answers() {
    assert_eq!(
        eval_ok(
            "[[1, [2, [3]]].join(), [3, 1, 2].sort().join(), [1, 2, 3].reverse().join(), \
              [0, 0, 0].fill(7, 1).join(), [1, [2, [3, [4]]]].flat(Infinity).join('-'), \
              Math.max.apply(null, [1, 5, 3]), [1, 2, 3].indexOf(3), String([1, [2, 3]]), \
              [5, 1, 10].sort((a, b) => a - b).join()].join('|')"
        ),
        "1,2,3|1,2,3|3,2,1|0,7,7|1-2-3-4|5|2|1,2,3|1,5,10"
    );
}

#[test]
fn deeply_nested_arrays_throw_a_range_error_when_joined_or_flattened() {
    assert_range_error_deep("let a = []; for (let i = 0; i < 1e4; i++) a = [a]; String(a)");
    assert_range_error_deep("let a = []; for (let i = 0; i < 1e4; i++) a = [a]; a.join()");
    assert_range_error_deep("let a = []; for (let i = 0; i < 1e4; i++) a = [a]; a.flat(Infinity)");
}

#[test]
fn huge_bigints_throw_a_range_error() {
    for code in ["2n ** 100000000n", "1n << 1000000000n", "1n << 100000000n"] {
        let started = std::time::Instant::now();
        let (err, tripped) = run(code, FUEL, MEMORY);
        let err = err.unwrap_or_else(|| panic!("{code} did not fail"));
        assert!(err.contains("RangeError"), "{code}: {err}");
        assert_eq!(tripped, None, "{code}");
        eprintln!("{code}: {:?}", started.elapsed());
    }
    assert_eq!(
        eval_ok("String(2n ** 100n) + ',' + (1n << 70n) % 1000n"),
        "1267650600228229401496703205376,424"
    );
}

#[test]
fn bigint_work_is_charged() {
    assert_out_of(
        "let x = 7n ** 2000000n; for (;;) x + x",
        budget::Exhausted::Fuel,
    );
    assert_out_of("String(7n ** 2000000n)", budget::Exhausted::Fuel);
}

/// Fuel `code` spends in a realm where `setup` ran first (unmeasured).
fn fuel_spent(setup: &str, code: &str) -> u64 {
    const PLENTY: u64 = 1 << 40;
    let mut ctx = Context::default();
    ctx.eval(Source::from_bytes(setup)).expect("setup");
    budget::begin(PLENTY, usize::MAX / 2);
    let result = ctx.eval(Source::from_bytes(code));
    let spent = PLENTY - budget::fuel();
    assert_eq!(budget::end(), None, "{code}");
    assert!(result.is_ok(), "{code}: {result:?}");
    spent
}

#[test]
fn copying_or_listing_properties_is_charged_per_property() {
    // A spread or Object.assign of a large object does a lookup, a read and a definition per
    // property, under one instruction or call: each property must cost fuel of its own.
    let object = |n: usize| format!("var o = {{}}; for (let i = 0; i < {n}; i++) o['k' + i] = i");
    // `Object.keys` and its kin look each key's descriptor up under one call.
    for (code, per_key) in [
        ("({ ...o })", budget::COPY_PROPERTY_FUEL),
        ("Object.assign({}, o)", budget::COPY_PROPERTY_FUEL),
        ("(({ k0, ...rest }) => rest)(o)", budget::COPY_PROPERTY_FUEL),
        ("Object.keys(o)", budget::ENUMERATE_KEY_FUEL),
        ("Object.values(o)", budget::ENUMERATE_KEY_FUEL),
        ("Object.entries(o)", budget::ENUMERATE_KEY_FUEL),
    ] {
        let small = fuel_spent(&object(1), code);
        let large = fuel_spent(&object(5001), code);
        assert!(
            large.saturating_sub(small) >= 5000 * per_key,
            "{code}: {small} fuel for 1 property, {large} for 5001"
        );
    }
    assert_out_of(
        "const o = {}; for (let i = 0; i < 1000; i++) o['k' + i] = i; for (;;) ({ ...o })",
        budget::Exhausted::Fuel,
    );
}
