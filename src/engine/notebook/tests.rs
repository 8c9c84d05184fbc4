use super::*;

#[test]
fn top_level_let_and_const_become_var() {
    assert_eq!(
        hoist_declarations("let a = 1; const b = 2;"),
        "var a = 1; var   b = 2;"
    );
}

#[test]
fn nested_declarations_are_left_alone() {
    let code = "for (let i = 0; i < 3; i++) {} { let x = 1 } function f() { const y = 2 }";
    assert_eq!(hoist_declarations(code), code);
}

#[test]
fn class_declaration_becomes_global_var() {
    assert_eq!(
        hoist_declarations("class A extends (B) { m() { return {}; } }\nA"),
        "var A = class A extends (B) { m() { return {}; } };\nA"
    );
}

#[test]
fn class_expression_is_not_rewritten() {
    let code = "const C = class D {}";
    assert_eq!(hoist_declarations(code), "var   C = class D {}");
}

#[test]
fn let_used_as_identifier_is_kept() {
    assert_eq!(hoist_declarations("let = 5"), "let = 5");
}

#[test]
fn declarations_after_line_breaks_are_found() {
    assert_eq!(
        hoist_declarations("x = 1\nlet y = x\n"),
        "x = 1\nvar y = x\n"
    );
}

#[test]
fn keywords_inside_strings_templates_comments_and_regexes_are_ignored() {
    let code =
        "'let a'; \"const b\"; `${ {c: 1} } let d`; /let e/.test('x'); // let f\n/* const g */";
    assert_eq!(hoist_declarations(code), code);
}

#[test]
fn declaration_after_template_substitution_is_found() {
    assert_eq!(
        hoist_declarations("`a${1}b`; let z = 1"),
        "`a${1}b`; var z = 1"
    );
}

#[test]
fn line_count_is_preserved() {
    let code = "let a = 1\nclass B {}\nconst c = 3\n";
    assert_eq!(
        hoist_declarations(code).lines().count(),
        code.lines().count()
    );
}

#[test]
fn synchronous_cell_is_not_wrapped() {
    let prepared = prepare("let a = 1; a");
    assert_eq!(prepared.scope, None);
    assert_eq!(prepared.source, "var a = 1; a");
}

#[test]
fn top_level_await_wraps_the_cell_and_returns_the_last_expression() {
    let prepared = prepare("const v = await p;\nv + 1");
    assert!(
        prepared.source.contains("return (v + 1);"),
        "{}",
        prepared.source
    );
    // `v` is declared as a global before the function, which assigns it.
    assert!(
        prepared.source.starts_with("var v; (async () => {"),
        "{}",
        prepared.source
    );
    assert!(
        prepared.source.contains("{ 0,    v = await p;"),
        "{}",
        prepared.source
    );
    assert_eq!(prepared.scope, None);
    assert_eq!(prepared.source.lines().count(), 3);
}

#[test]
fn await_inside_a_function_does_not_wrap() {
    // Since wrapped cells mostly run without a scope object too, the source tells.
    let prepared = prepare("async function f() { await 1 }");
    assert_eq!(prepared.source, "async function f() { await 1 }");
    assert_eq!(prepared.scope, None);
}

#[test]
fn unterminated_input_does_not_panic() {
    for code in [
        "'abc",
        "`abc ${",
        "/abc",
        "class A {",
        "let",
        "\\",
        "é`${é",
        "a/\\",
    ] {
        let _ = prepare(code);
    }
}

#[test]
fn offsets_count_code_points_per_line() {
    let src = "é\nab";
    assert_eq!(offset_of(src, Position::new(2, 2)), Some(4));
}

#[test]
fn declaring_a_name_twice_in_one_cell_is_left_for_the_parser_to_report() {
    let prepared = prepare("let dup = 1; let dup = 2");
    assert_eq!(prepared.source, "let dup = 1; let dup = 2");
    assert_eq!(prepared.scope, None);
}

#[test]
fn nesting_counts_brackets_prefix_operators_and_right_chains() {
    let depth = |code: &str| nesting_depth(code, usize::MAX);
    assert_eq!(depth("f(x)"), 1);
    assert_eq!(depth("1 + 2"), 1);
    assert_eq!(depth("f([{a: 1}])"), 4);
    assert_eq!(depth(&"(".repeat(500)), 499);
    assert!(depth(&format!("{}x", "!".repeat(300))) >= 300);
    assert!(depth(&"a ? b : ".repeat(300)) >= 300);
    assert!(depth(&"x => ".repeat(300)) >= 300);
    assert!(depth(&"a = ".repeat(300)) >= 300);
    assert!(depth(&format!("{}1", "1+".repeat(300))) >= 300);
    assert!(depth(&format!("{}7", "if (1) ".repeat(300))) >= 300);
    assert!(depth(&format!("{}1", "a: ".repeat(300))) >= 300);
    assert_eq!(depth("a == b; c === d; e <= f; g !== h; i >>>= 2"), 1);
    assert_eq!(depth("let a = 1; let b = 2; let c = 3"), 1);
    assert_eq!(depth("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"), 1);
}

#[test]
fn nesting_is_measured_in_linear_time_and_stops_early() {
    let deep = "(".repeat(500_000);
    assert!(nesting_depth(&deep, 200) > 200);
    assert_eq!(nesting_depth(&deep, usize::MAX), 499_999);
}
