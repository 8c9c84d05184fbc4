//! Hostile regular expressions: catastrophic backtracking, huge and deeply nested patterns, and
//! regex-driven string methods must end within the fuel budget (vendor/regress is patched with a
//! step budget that Boa's RegExp builtins fund from fuel), while ordinary regexes keep working.

use std::time::{Duration, Instant};

use boa_engine::{budget, Context, Source};

/// Runs `code` in a fresh realm with `fuel`; returns the completion value's display (or the
/// error's text) and why the budget tripped, if it did.
fn run(code: &str, fuel: u64) -> (Result<String, String>, Option<budget::Exhausted>) {
    let mut ctx = Context::default();
    budget::begin(fuel, usize::MAX);
    let r = ctx
        .eval(Source::from_bytes(code))
        .map(|v| v.display().to_string())
        .map_err(|e| e.to_string());
    let t = budget::end();
    (r, t)
}

/// Like [`run`], but also returns the fuel the code used and how long it took.
fn run_measured(
    code: &str,
    fuel: u64,
) -> (
    Result<String, String>,
    Option<budget::Exhausted>,
    u64,
    Duration,
) {
    let mut ctx = Context::default();
    let start = Instant::now();
    budget::begin(fuel, usize::MAX);
    let r = ctx
        .eval(Source::from_bytes(code))
        .map(|v| v.display().to_string())
        .map_err(|e| e.to_string());
    let used = fuel - budget::fuel();
    let t = budget::end();
    (r, t, used, start.elapsed())
}

/// Fuel for the catastrophic cases: plenty for a real program's regexes, far too little for
/// exponential backtracking.
const FUEL: u64 = 2_000_000;

/// Asserts that `code` runs out of fuel promptly.
#[track_caller]
fn assert_trips(code: &str) {
    let (r, tripped, _, elapsed) = run_measured(code, FUEL);
    assert_eq!(tripped, Some(budget::Exhausted::Fuel), "{code}: {r:?}");
    assert!(r.is_err(), "{code}: {r:?}");
    assert!(elapsed < Duration::from_secs(3), "{code}: took {elapsed:?}");
    eprintln!("{elapsed:>12?}  {code}");
}

/// Asserts that `code` completes with `expected` within `fuel`.
#[track_caller]
fn assert_value(code: &str, fuel: u64, expected: &str) {
    let (r, tripped) = run(code, fuel);
    assert_eq!(tripped, None, "{code}: {r:?}");
    assert_eq!(r.as_deref(), Ok(expected), "{code}");
}

#[test]
fn nested_quantifiers_run_out_of_fuel() {
    assert_trips(r#"/(a+)+$/.test("a".repeat(30) + "!")"#);
    assert_trips(r#"/(a+)+$/.test("a".repeat(100) + "!")"#);
    assert_trips(r#"/^(\w+\s?)*$/.test("a".repeat(40) + "!")"#);
}

#[test]
fn overlapping_alternatives_run_out_of_fuel() {
    assert_trips(r#"/(a|a)*$/.test("a".repeat(40) + "!")"#);
    assert_trips(r#"/(a|aa)+$/.test("a".repeat(60) + "!")"#);
    assert_trips(r#"/^(a|a?)+$/.test("a".repeat(40) + "!")"#);
}

#[test]
fn repeated_wildcards_run_out_of_fuel() {
    assert_trips(r#"/^(.*a){20}b/.test("a".repeat(50))"#);
    assert_trips(r#"/(.*a){20}$/.test("a".repeat(40) + "!")"#);
    assert_trips(r#"/^.*.*.*.*.*.*.*=$/.test("x".repeat(100))"#);
}

#[test]
fn backreference_blowups_run_out_of_fuel() {
    assert_trips(r#"/^((a+)\2?)+$/.test("a".repeat(40) + "!")"#);
    assert_trips(r#"/^(a*)*\1$/.test("a".repeat(40) + "!")"#);
    assert_trips(r#"/^(?:(a+)\1*)+$/i.test("A".repeat(40) + "!")"#);
}

#[test]
fn lookaround_blowups_run_out_of_fuel() {
    assert_trips(r#"/^(?=(a+)+$)/.test("a".repeat(40) + "!")"#);
    // A negative lookahead whose inner match is cut short must not count as "not matched".
    assert_trips(r#"/^(?!(a+)+$)/.test("a".repeat(40) + "!")"#);
    assert_trips(r#"/^(?:(?=(a|a)*$)a)*!/.test("a".repeat(40) + "b")"#);
    assert_trips(r#"/(?<=!(a|a)*)b/.test("a".repeat(40) + "b")"#);
}

#[test]
fn huge_counted_loops_end_or_run_out_of_fuel() {
    // regress keeps counted loops as loops (it unrolls only small minimums), so none of these
    // allocates in proportion to the count; iterations that match empty within the minimum do
    // really iterate, so they run out of fuel.
    assert_value(r#"/(?:){1000000000}/.test("")"#, FUEL, "true");
    // These two take about 5e5 steps (up to 1000 from each of 1000 starts), 8 fuel each.
    assert_value(
        r#"/a{1000000000}/.test("a".repeat(1000))"#,
        3 * FUEL,
        "false",
    );
    assert_value(
        r#"/((a{1000}){1000}){1000}/.test("a".repeat(1000))"#,
        3 * FUEL,
        "false",
    );
    assert_trips(r#"/(?:a?){1000000000}/.test("")"#);
    assert_trips(r#"/(?:\B){1000000000}/.test("")"#);
}

#[test]
fn catch_cannot_swallow_a_runaway_regex() {
    assert_trips(r#"try { /(a+)+$/.test("a".repeat(40) + "!") } catch (e) { "caught" }"#);
    assert_trips(
        r#"let n = 0;
           for (;;) { try { /(a+)+$/.test("a".repeat(40) + "!") } catch (e) { n++ } finally { continue } }"#,
    );
}

#[test]
fn string_methods_with_a_runaway_regex_run_out_of_fuel() {
    let s = r#"const s = "a".repeat(40) + "!";"#;
    for call in [
        r#"s.replace(/(a+)+$/, "x")"#,
        r#"s.replace(/(a+)+$/g, () => "x")"#,
        r#"s.replaceAll(/(a+)+$/g, "x")"#,
        r#"s.match(/(a+)+$/)"#,
        r#"s.match(/(a+)+$/g)"#,
        r#"[...s.matchAll(/(a+)+$/g)]"#,
        r#"s.split(/(a+)+$/)"#,
        r#"s.search(/(a+)+$/)"#,
        r#"/(a+)+$/.exec(s)"#,
        r#"/(a+)+$/y.exec(s)"#,
        r#"/(a+)+$/u.exec(s)"#,
        r#"RegExp.prototype[Symbol.replace].call(/(a+)+$/, s, "x")"#,
    ] {
        assert_trips(&format!("{s} {call}"));
    }
    // The same on a UTF-16 (non-Latin-1) input.
    assert_trips(r#""€".repeat(40).concat("!").replace(/(€+)+$/, "x")"#);
}

#[test]
fn ordinary_regexes_still_work() {
    let fuel = 10_000_000;
    assert_value(
        r#"/(\d+)-(\d+)/.exec("10-20").join()"#,
        fuel,
        r#""10-20,10,20""#,
    );
    assert_value(
        r#""a1b22c333".replace(/\d+/g, (m, i) => `[${m.length}@${i}]`)"#,
        fuel,
        r#""a[1@1]b[2@3]c[3@6]""#,
    );
    assert_value(r#""x-y-z".replace(/-/g, "+")"#, fuel, r#""x+y+z""#);
    assert_value(
        r#"const re = /a/y; re.lastIndex = 1; [re.test("ba"), re.lastIndex, re.test("ba"), re.lastIndex].join()"#,
        fuel,
        r#""true,2,false,0""#,
    );
    assert_value(
        r#"const re = /b/y; re.lastIndex = 0; [re.test("ab"), re.lastIndex].join()"#,
        fuel,
        r#""false,0""#,
    );
    assert_value(
        r#"const re = /(?<=a)b/y; re.lastIndex = 1; re.test("ab")"#,
        fuel,
        "true",
    );
    assert_value(r#"/^.$/u.test("😀") && !/^.$/.test("😀")"#, fuel, "true");
    assert_value(r#""😀x😀".match(/\u{1F600}/gu).length"#, fuel, "2");
    assert_value(
        r#"const m = /(?<y>\d{4})-(?<m>\d{2})/.exec("on 2024-05"); `${m.groups.y}/${m.groups.m}@${m.index}`"#,
        fuel,
        r#""2024/05@3""#,
    );
    assert_value(
        r#""2024-05".replace(/(?<y>\d+)-(?<m>\d+)/, "$<m>/$<y>")"#,
        fuel,
        r#""05/2024""#,
    );
    assert_value(r#""a,b,,c".split(/,/).join("|")"#, fuel, r#""a|b||c""#);
    assert_value(r#""a1b2c".split(/(\d)/).join("|")"#, fuel, r#""a|1|b|2|c""#);
    assert_value(r#""abc".split(/(?:)/).join("|")"#, fuel, r#""a|b|c""#);
    assert_value(
        r#"[..."a1b2".matchAll(/\d/g)].map(m => m.index).join()"#,
        fuel,
        r#""1,3""#,
    );
    assert_value(r#""hello world".search(/o w/)"#, fuel, "4");
    assert_value(r#"/HELLO/i.test("say hello")"#, fuel, "true");
    assert_value(r#"/^b$/m.test("a\nb\nc")"#, fuel, "true");
    assert_value(r#"/(a)|b/.exec("b")[1] === undefined"#, fuel, "true");
    assert_value(r#"/(a+)+$/.test("a".repeat(30))"#, fuel, "true");
    assert_value(r#"/a{1000000000}/.test("aaa")"#, fuel, "false");
    assert_value(r#"/(a{1000}){1000}/.test("a".repeat(100))"#, fuel, "false");
    assert_value(r#"/(\w)\1/.exec("abccd")[0]"#, fuel, r#""cc""#);
}

#[test]
fn running_a_regex_costs_fuel() {
    let (r, tripped, used, _) = run_measured(r#"/y/.test("x".repeat(100000))"#, 10_000_000);
    assert_eq!((r.as_deref(), tripped), (Ok("false"), None));
    assert!(used >= 100_000, "used {used}");
    let (_, _, cheap, _) = run_measured(r#"/x/.test("x".repeat(100000))"#, 10_000_000);
    assert!(cheap < used, "{cheap} vs {used}");
}

#[test]
fn compiling_a_huge_pattern_costs_fuel() {
    let (r, tripped) = run(r#"new RegExp("a".repeat(1000000)); 1"#, 500_000);
    assert_eq!(tripped, Some(budget::Exhausted::Fuel), "{r:?}");
    let (r, tripped, used, elapsed) = run_measured(
        r#"new RegExp("a".repeat(100000)).test("a".repeat(100000))"#,
        50_000_000,
    );
    assert_eq!((r.as_deref(), tripped), (Ok("true"), None));
    assert!(used >= 1_000_000, "used {used}");
    eprintln!("100 kB pattern: {used} fuel, {elapsed:?}");
}

#[test]
fn deeply_nested_and_wide_patterns_fail_cleanly() {
    let fuel = 50_000_000;
    for code in [
        r#"new RegExp("(".repeat(100000) + ")".repeat(100000))"#,
        r#"new RegExp("(?:".repeat(100000) + ")".repeat(100000))"#,
        r#"new RegExp("(?=".repeat(100000) + ")".repeat(100000))"#,
        r#"new RegExp("[".repeat(100000) + "]".repeat(100000), "v")"#,
    ] {
        let (r, tripped) = run(
            &format!("try {{ {code}; 'compiled' }} catch (e) {{ e.name }}"),
            fuel,
        );
        assert_eq!(tripped, None, "{code}: {r:?}");
        assert!(
            matches!(r.as_deref(), Ok(r#""SyntaxError""#) | Ok(r#""compiled""#)),
            "{code}: {r:?}"
        );
    }
    for code in [
        r#"new RegExp("a|".repeat(100000) + "b").test("b")"#,
        r#"new RegExp("(?:a|".repeat(200) + "b" + ")".repeat(200)).test("b")"#,
        r#"new RegExp("(a)".repeat(50000)).test("a".repeat(50000))"#,
        r#"new RegExp("a*".repeat(100000)).test("")"#,
    ] {
        let (r, tripped) = run(&format!("try {{ {code} }} catch (e) {{ e.name }}"), fuel);
        assert!(
            tripped.is_some() || matches!(r.as_deref(), Ok("true") | Ok(r#""SyntaxError""#)),
            "{code}: {r:?} {tripped:?}"
        );
    }
}

#[test]
fn split_and_replace_over_long_strings_stay_linear() {
    // Splitting is a sticky match at every position: it must not search the rest of the string
    // from each one.
    let (r, tripped, used, elapsed) =
        run_measured(r#""a".repeat(100000).split(/,/).length"#, 20_000_000);
    assert_eq!((r.as_deref(), tripped), (Ok("1"), None), "used {used}");
    eprintln!("split 100k: {used} fuel, {elapsed:?}");
    // A global replace over a long Latin-1 string must not copy it once per match.
    // About 300 fuel per match, most of it allocations; a copy of the string per match would
    // cost over 6e8.
    let (r, tripped, used, elapsed) = run_measured(
        r#""a".repeat(200000).replace(/a/g, "b").length"#,
        100_000_000,
    );
    assert_eq!((r.as_deref(), tripped), (Ok("200000"), None), "used {used}");
    eprintln!("replace 200k: {used} fuel, {elapsed:?}");
    // Running a huge compiled regex many times must not copy it each time.
    let (r, tripped, used, elapsed) = run_measured(
        r#"const re = new RegExp("a".repeat(100000)); let n = 0; for (let i = 0; i < 2000; i++) n += re.test("b"); n"#,
        50_000_000,
    );
    assert_eq!((r.as_deref(), tripped), (Ok("0"), None), "used {used}");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}
