use std::{cell::RefCell, rc::Rc};

use boa_engine::{budget, Context, JsValue, Source};

use super::{install, ConsoleSink, Logs};

/// Runs `src` with a console of `max_bytes` and returns what it printed. Reaching the output
/// limit stops the script with the output limit error, which this accepts.
fn run_with_limit(src: &str, max_bytes: usize) -> Logs {
    let mut ctx = Context::default();
    let sink = Rc::new(RefCell::new(ConsoleSink::new(max_bytes)));
    install(&mut ctx, sink.clone()).expect("console installs");
    budget::begin(u64::MAX, usize::MAX);
    let result = ctx.eval(Source::from_bytes(src));
    let tripped = budget::end();
    let logs = sink.borrow_mut().take();
    match result {
        Ok(_) => assert_eq!(tripped, None),
        Err(e) => {
            assert_eq!(
                tripped,
                Some(budget::Exhausted::Output),
                "test script runs: {e}"
            );
            assert!(logs.truncated);
        }
    }
    logs
}

fn run(src: &str) -> Logs {
    run_with_limit(src, 1 << 20)
}

#[test]
fn console_log_writes_formatted_line_to_stdout() {
    let logs = run("console.log('a %d', 1, {b: [2]}, 'c')");
    assert_eq!(logs.stdout, ["a 1 { b: [ 2 ] } c"]);
    assert!(logs.stderr.is_empty());
    assert_eq!(logs.bytes, "a 1 { b: [ 2 ] } c".len() + 1);
    assert!(!logs.truncated);
}

#[test]
fn console_info_and_debug_go_to_stdout() {
    let logs = run("console.info('i'); console.debug('d'); console.table([1])");
    assert_eq!(logs.stdout, ["i", "d", "[ 1 ]"]);
}

#[test]
fn console_warn_goes_to_stderr() {
    let logs = run("console.warn('w'); console.error(new Map([[1, 2]]))");
    assert_eq!(logs.stderr, ["w", "Map(1) { 1 => 2 }"]);
    assert!(logs.stdout.is_empty());
}

#[test]
fn console_trace_goes_to_stderr_with_prefix() {
    let logs = run("console.trace('here', 1)");
    assert_eq!(logs.stderr, ["Trace: here 1"]);
}

#[test]
fn console_dir_inspects_its_first_argument() {
    let logs = run("console.dir('s'); console.dir({a: 1}, {depth: 0})");
    assert_eq!(logs.stdout, ["'s'", "{ a: 1 }"]);
}

#[test]
fn console_assert_reports_only_falsy_conditions() {
    let logs = run("console.assert(true, 'no');
         console.assert(0);
         console.assert(false, 'x is %d', 5);
         console.assert(null, {a: 1});");
    assert_eq!(
        logs.stderr,
        [
            "Assertion failed",
            "Assertion failed: x is 5",
            "Assertion failed { a: 1 }"
        ]
    );
}

#[test]
fn console_count_counts_per_label() {
    let logs = run("console.count(); console.count(); console.count('x');
         console.countReset(); console.count(); console.countReset('nope');");
    assert_eq!(
        logs.stdout,
        ["default: 1", "default: 2", "x: 1", "default: 1"]
    );
    assert_eq!(logs.stderr, ["Count for 'nope' does not exist"]);
}

#[test]
fn console_time_reports_elapsed_milliseconds() {
    let logs = run("console.time('t'); console.timeLog('t', 'mid'); console.timeEnd('t'); console.timeEnd('t')");
    assert_eq!(logs.stdout.len(), 2);
    assert!(
        logs.stdout[0].starts_with("t: ") && logs.stdout[0].ends_with("ms mid"),
        "{:?}",
        logs.stdout
    );
    assert!(logs.stdout[1].starts_with("t: "), "{:?}", logs.stdout);
    assert_eq!(
        logs.stderr,
        ["Warning: No such label 't' for console.timeEnd()"]
    );
}

#[test]
fn console_group_indents_by_two_spaces() {
    let logs = run("console.group('g'); console.log('a\\nb'); console.group();
         console.warn('c'); console.groupEnd(); console.groupEnd(); console.log('d')");
    assert_eq!(logs.stdout, ["g", "  a\n  b", "d"]);
    assert_eq!(logs.stderr, ["    c"]);
}

#[test]
fn output_past_limit_is_truncated_and_marked() {
    let logs = run_with_limit("for (let i = 0; i < 100; i++) console.log('line ' + i)", 20);
    assert!(logs.truncated);
    assert!(logs.bytes <= 20, "{}", logs.bytes);
    assert_eq!(logs.stdout[0], "line 0");
    assert_eq!(logs.stdout[1], "line 1");
    // The third line was cut to the remaining bytes (one is kept for its line break).
    assert_eq!(logs.stdout.len(), 3);
    assert_eq!(logs.stdout[2], "line ");
    assert_eq!(logs.bytes, 20);
}

#[test]
fn empty_lines_count_towards_the_limit() {
    let logs = run_with_limit("for (let i = 0; i < 1e5; i++) console.log('')", 100);
    assert!(logs.truncated);
    assert!(logs.stdout.len() <= 100);
}

#[test]
fn take_returns_logs_and_resets() {
    let mut ctx = Context::default();
    let sink = Rc::new(RefCell::new(ConsoleSink::new(1000)));
    install(&mut ctx, sink.clone()).expect("console installs");
    ctx.eval(Source::from_bytes("console.log(1)"))
        .expect("runs");
    assert_eq!(sink.borrow_mut().take().stdout, ["1"]);
    assert_eq!(sink.borrow_mut().take(), Logs::default());
    sink.borrow_mut().set_max_bytes(0);
    budget::begin(u64::MAX, usize::MAX);
    let result = ctx.eval(Source::from_bytes("console.log(2); 'not reached'"));
    assert_eq!(budget::end(), Some(budget::Exhausted::Output));
    assert!(
        result.is_err(),
        "reaching the output limit stops the script"
    );
    let logs = sink.borrow_mut().take();
    assert!(logs.stdout.is_empty() && logs.truncated);
}

#[test]
fn console_never_calls_guest_code() {
    let logs = run("globalThis.calls = 0;
         const f = () => { calls++; return 'x'; };
         const o = { get g() { calls++; }, toString: f, valueOf: f, [Symbol.toPrimitive]: f };
         const p = new Proxy({}, { get: f, ownKeys: f, getOwnPropertyDescriptor: f });
         console.log(o, p); console.log('%s %d %i %f %j', o, o, o, o, o);
         console.count(o); console.time(o); console.timeEnd(o); console.group(o);
         console.assert(false, o); console.dir(p); console.log(calls);");
    assert_eq!(logs.stdout.last().map(String::as_str), Some("  0"));
}

#[test]
fn console_is_a_non_enumerable_global() {
    let mut ctx = Context::default();
    let sink = Rc::new(RefCell::new(ConsoleSink::new(1000)));
    install(&mut ctx, sink).expect("console installs");
    let v = ctx
        .eval(Source::from_bytes(
            "Object.keys(globalThis).includes('console') + ' ' + typeof console.log",
        ))
        .expect("runs");
    assert_eq!(v, JsValue::from(boa_engine::js_string!("false function")));
}
