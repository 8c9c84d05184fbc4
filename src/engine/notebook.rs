//! Notebook semantics: turns a cell's source into code that keeps its top-level declarations
//! in the session's global object, so later cells see them and may declare them again (as in
//! Node's REPL), and that supports top-level `await`.
//!
//! Why rewrite instead of evaluating the cell as is: in a Script, top-level `let`, `const` and
//! `class` create global *lexical* bindings, which can never be declared again ("Identifier has
//! already been declared"), and Scripts do not allow `await` at the top level.
//!
//! - Synchronous cells: top-level `let`/`const` become `var`, and `class C {..}` becomes
//!   `var C = class C {..};`. Global `var`s and functions live on the global object, so they
//!   persist and can be redeclared. The rewrite never adds or removes lines, so error positions
//!   stay those of the user's code.
//! - Cells with top-level `await` run in an async arrow function. Their top-level names are
//!   declared as global `var`s before it (`var a, f; (async () => { .. })()`), and inside it
//!   each top-level `var` statement (after the rewrite above) becomes an assignment
//!   (`var a = 1, [b] = c` becomes `0, a = 1, [b] = c`, same columns), so the function has no
//!   binding of those names: every use, closures' included, is the global one, as fast as in
//!   a plain cell. Its top-level functions are assigned to the global object on entry.
//! - A cell that also has a `var` nested in a block or loop (which would be the function's own
//!   binding) runs in `with (scope)` instead, where `scope` is a Proxy of `globalThis` whose
//!   native `has` claims exactly the cell's top-level names (`scope.rs`): a `var x = ..` inside
//!   `with` assigns through it, so those names land on the global object. Names declared inside
//!   functions and blocks of the cell are found before the `with` object and stay in registers
//!   (vendor patch, boa_ast's scope analyzer). In both forms the last expression statement
//!   becomes the function's return value.
//!
//! Trade-off (documented in the README): a top-level `const` can be reassigned inside the cell
//! that declares it, and top-level declarations are not in a temporal dead zone.

use boa_ast::{
    declaration::LexicalDeclaration,
    operations::{bound_names, lexically_declared_names, var_declared_names},
    Declaration, Position, Spanned, Statement, StatementListItem,
};
use boa_interner::Interner;
use boa_parser::{Parser, Source};

/// A cell's source, prepared for evaluation as global (indirect eval) code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreparedCell {
    /// Source to evaluate.
    pub source: String,
    /// For a cell with top-level `await` that runs in `with (scope)` (see `wrap_async`): the
    /// names its scope object claims. Its source then evaluates to an async function, to be
    /// called with that scope object (see [`SCOPE_PARAMETER`]), whose completion is a promise.
    pub scope: Option<Vec<String>>,
    /// Every name the cell declares at its top level.
    pub declared: Vec<String>,
    /// The names among them declared with `const`.
    pub constants: Vec<String>,
}

/// Prepares a cell: see the module documentation.
///
/// The cell is first parsed as written, so errors that Node reports for the cell itself (such
/// as declaring one name twice in one cell) are still reported; only a cell that is valid on its
/// own is rewritten.
pub fn prepare(code: &str) -> PreparedCell {
    let plain = || PreparedCell {
        source: code.to_string(),
        ..PreparedCell::default()
    };
    let mut interner = Interner::default();
    let scope = boa_ast::scope::Scope::new_global();
    if let Ok(script) = Parser::new(Source::from_bytes(code)).parse_script(&scope, &mut interner) {
        let (declared, constants) = top_level_names(script.statements().statements(), &interner);
        return PreparedCell {
            source: hoist_declarations(code),
            scope: None,
            declared,
            constants,
        };
    }
    // Top-level `await` is only valid in a module body; anything else is a real syntax error,
    // which evaluating the cell as written reports.
    if !code.contains("await") {
        return plain();
    }
    let Ok(module) = Parser::new(Source::from_bytes(code)).parse_module(&scope, &mut interner)
    else {
        return plain();
    };
    let statements = module.items().items().iter().filter_map(|item| match item {
        boa_ast::ModuleItem::StatementListItem(s) => Some(s),
        _ => None,
    });
    let (declared, constants) = top_level_names(statements, &interner);
    match wrap_async(&hoist_declarations(code)) {
        Some((source, scope)) => PreparedCell {
            source,
            scope,
            declared,
            constants,
        },
        None => plain(),
    }
}

/// The names declared at the top of `items`, and those of them declared with `const`.
fn top_level_names<'a>(
    items: impl IntoIterator<Item = &'a StatementListItem> + Clone,
    interner: &Interner,
) -> (Vec<String>, Vec<String>) {
    let resolve = |sym| interner.resolve_expect(sym).to_string();
    let mut declared = Vec::new();
    let mut constants = Vec::new();
    for item in items {
        declared.extend(var_declared_names(item).into_iter().map(resolve));
        if let StatementListItem::Declaration(decl) = item {
            let names: Vec<String> = bound_names(decl.as_ref())
                .into_iter()
                .map(resolve)
                .collect();
            if let Declaration::Lexical(LexicalDeclaration::Const(_)) = decl.as_ref() {
                constants.extend(names.iter().cloned());
            }
            declared.extend(names);
        }
    }
    declared.sort();
    declared.dedup();
    (declared, constants)
}

fn parses_as_script(source: &str) -> bool {
    let mut interner = Interner::default();
    Parser::new(Source::from_bytes(source))
        .parse_script(&boa_ast::scope::Scope::new_global(), &mut interner)
        .is_ok()
}

/// The parameter of a cell with top-level `await` that holds its scope object, built natively
/// by the realm (`scope.rs`), when the cell needs one (see [`wrap_async`]). Guest code that
/// reads this name without declaring it sees that object.
pub const SCOPE_PARAMETER: &str = "__edge_scope__";

/// An edit of a source: at byte `at`, replace `len` bytes with `text`.
type Edit<T = &'static str> = (usize, usize, T);

/// Wraps a hoisted cell with top-level `await` into an async arrow function; `None` when it does
/// not parse even as a module body. Answers the source and, when the cell needs a scope object,
/// the names that object claims.
///
/// - Usually the cell's top-level names are declared as globals before the function (`var a,
///   b;`) and its top-level `var` statements become assignments to them (`var a = 1, [b] = c`
///   becomes `0, a = 1, [b] = c`, same columns): the function has no binding of its own for
///   them, so every use is a global access, as fast as in a plain cell. The source calls the
///   function, and its completion is the cell's promise.
/// - A `var` nested in a block or loop of the cell would be the function's own binding, and
///   would hide the global of that name from the whole cell: such a cell runs in `with (scope)`
///   instead, whose scope object claims the cell's names (each use then goes through it).
fn wrap_async(hoisted: &str) -> Option<(String, Option<Vec<String>>)> {
    let mut interner = Interner::default();
    let module = Parser::new(Source::from_bytes(hoisted))
        .parse_module(&boa_ast::scope::Scope::new_global(), &mut interner)
        .ok()?;
    let items = module.items();
    let resolve = |sym| interner.resolve_expect(sym).to_string();

    let mut names: Vec<String> = var_declared_names(items).into_iter().map(resolve).collect();
    // After hoisting, the only top-level lexical declarations left are functions.
    let functions: Vec<String> = lexically_declared_names(items)
        .into_iter()
        .map(resolve)
        .collect();
    names.extend(functions.iter().cloned());
    names.sort();
    names.dedup();

    let mut edits: Vec<Edit> = Vec::new();
    if let Some(boa_ast::ModuleItem::StatementListItem(StatementListItem::Statement(stmt))) =
        items.items().last()
    {
        if let Statement::Expression(expr) = stmt.as_ref() {
            if let (Some(start), Some(end)) = (
                offset_of(hoisted, leftmost(expr)),
                offset_of(hoisted, expr.span().end()),
            ) {
                edits.push((start, 0, "return ("));
                edits.push((end, 0, ");"));
            }
        }
    }

    let exports: String = functions
        .iter()
        .map(|f| format!("globalThis[{}] = {f}; ", js_string(f)))
        .collect();
    // One line of prefix, so the user's lines keep their numbers.
    if let Some(vars) = var_edits(hoisted, items) {
        let mut all = edits.clone();
        all.extend(vars);
        let body = apply(hoisted, all);
        let declare = if names.is_empty() {
            String::new()
        } else {
            format!("var {}; ", names.join(", "))
        };
        let wrapped = format!("{declare}(async () => {{ {exports}{body}\n}})()");
        if parses_as_script(&wrapped) {
            return Some((wrapped, None));
        }
    }
    let body = apply(hoisted, edits);
    let wrapped = format!(
        "(async ({SCOPE_PARAMETER}) => {{ with ({SCOPE_PARAMETER}) {{ {exports}{body}\n}} }})"
    );
    parses_as_script(&wrapped).then_some((wrapped, Some(names)))
}

/// The edits that turn each top-level `var` statement of a hoisted cell into an assignment
/// expression (see [`wrap_async`]); `None` if the cell has a `var` elsewhere than in a
/// top-level statement (its function would have a binding of that name), a top-level lexical
/// declaration other than a function, or a `var` keyword not right before its first binding.
fn var_edits(hoisted: &str, items: &boa_ast::ModuleItemList) -> Option<Vec<Edit>> {
    use boa_ast::{declaration::Binding, ModuleItem};
    let mut edits = Vec::new();
    for item in items.items() {
        let ModuleItem::StatementListItem(item) = item else {
            return None;
        };
        let list = match item {
            StatementListItem::Statement(stmt) => match stmt.as_ref() {
                Statement::Var(var) => &var.0,
                _ if var_declared_names(item).is_empty() => continue,
                _ => return None,
            },
            StatementListItem::Declaration(decl) => match decl.as_ref() {
                Declaration::Lexical(_) => return None,
                _ => continue,
            },
        };
        let vars = list.as_ref();
        let first = vars.first()?;
        let start = offset_of(hoisted, binding_start(first.binding()))?;
        let before = hoisted[..start].trim_end();
        let keyword = before.len().checked_sub(3)?;
        let word_start = !hoisted[..keyword]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        if &before[keyword..] != "var" || !word_start {
            return None;
        }
        // `0, ` keeps the columns, and a statement that starts with `0` neither continues the
        // one before it nor starts with `{` (a block) or `[` (an index into the one before).
        edits.push((keyword, 3, "0, "));
        let last = vars.last()?;
        if last.init().is_none() {
            // `var x` then a line starting with `(` was two statements; `0, x` and that line
            // would be a call.
            let Binding::Identifier(id) = last.binding() else {
                return None;
            };
            edits.push((offset_of(hoisted, id.span().end())?, 0, ";"));
        }
    }
    Some(edits)
}

/// Where a declaration's binding starts in the source.
fn binding_start(binding: &boa_ast::declaration::Binding) -> Position {
    match binding {
        boa_ast::declaration::Binding::Identifier(id) => id.span().start(),
        boa_ast::declaration::Binding::Pattern(pattern) => pattern.span().start(),
    }
}

/// Applies `edits` (byte offsets into `source`, which must not overlap) to `source`.
fn apply<T: AsRef<str>>(source: &str, mut edits: Vec<Edit<T>>) -> String {
    edits.sort_by_key(|(at, _, _)| *at);
    let mut out = String::with_capacity(source.len() + edits.len() * 8);
    let mut pos = 0;
    for (at, len, text) in edits {
        out.push_str(&source[pos..at]);
        out.push_str(text.as_ref());
        pos = at + len;
    }
    out.push_str(&source[pos..]);
    out
}

/// Quotes a string as a JavaScript string literal.
fn js_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Byte offset of a parser position (1-based line, 1-based column in code points).
/// Where an expression's source starts. Boa 0.22's span of a call (and of expressions that
/// start with one, like `f().x`) starts at its arguments, so `'x'.repeat(3)` would be cut
/// before `(3)`: walk down the leftmost operand instead.
fn leftmost(expr: &boa_ast::Expression) -> Position {
    use boa_ast::{
        expression::{access::PropertyAccess, Expression as E},
        Spanned,
    };
    let inner = match expr {
        E::Call(call) => Some(call.function()),
        E::PropertyAccess(PropertyAccess::Simple(access)) => Some(access.target()),
        E::PropertyAccess(PropertyAccess::Private(access)) => Some(access.target()),
        E::Binary(binary) => Some(binary.lhs()),
        E::Conditional(conditional) => Some(conditional.condition()),
        E::TaggedTemplate(tagged) => Some(tagged.tag()),
        E::Optional(optional) => Some(optional.target()),
        _ => None,
    };
    let own = expr.span().start();
    match inner.map(leftmost) {
        Some(start)
            if (start.line_number(), start.column_number())
                < (own.line_number(), own.column_number()) =>
        {
            start
        }
        _ => own,
    }
}

fn offset_of(source: &str, pos: Position) -> Option<usize> {
    let (line, column) = (pos.line_number() as usize, pos.column_number() as usize);
    let mut current_line = 1;
    let mut current_column = 1;
    let mut chars = source.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if current_line == line && current_column == column {
            return Some(i);
        }
        match c {
            '\r' => {
                if matches!(chars.peek(), Some((_, '\n'))) {
                    chars.next();
                }
                current_line += 1;
                current_column = 1;
            }
            '\n' | '\u{2028}' | '\u{2029}' => {
                current_line += 1;
                current_column = 1;
            }
            _ => current_column += 1,
        }
    }
    (current_line == line && current_column == column).then_some(source.len())
}

/// Rewrites top-level `let`/`const` to `var` and top-level class declarations to
/// `var C = class C {..};`, keeping every other byte and every line break in place.
pub fn hoist_declarations(code: &str) -> String {
    let tokens = scan(code);
    let mut edits: Vec<Edit<String>> = Vec::new();
    for (i, tok) in tokens.iter().enumerate() {
        if tok.depth != 0 || !starts_statement(&tokens, i) {
            continue;
        }
        let next = tokens.get(i + 1);
        match tok.kind {
            Kind::Word if tok.text(code) == "const" => edits.push((tok.start, 5, "var  ".into())),
            Kind::Word if tok.text(code) == "let" => {
                let declares = next.is_some_and(|n| {
                    (n.kind == Kind::Word && !matches!(n.text(code), "in" | "instanceof"))
                        || n.is_punct(code, "[")
                        || n.is_punct(code, "{")
                });
                if declares {
                    edits.push((tok.start, 3, "var".into()));
                }
            }
            Kind::Word if tok.text(code) == "class" => {
                let Some(name) = next.filter(|n| n.kind == Kind::Word && n.text(code) != "extends")
                else {
                    continue;
                };
                // The class body is the first `{` at this depth; its `}` ends the declaration.
                let open = tokens[i + 1..]
                    .iter()
                    .position(|t| t.depth == 0 && t.is_punct(code, "{"));
                let close = open.and_then(|o| {
                    tokens[i + 2 + o..]
                        .iter()
                        .find(|t| t.depth == 0 && t.is_punct(code, "}"))
                });
                if let Some(close) = close {
                    edits.push((tok.start, 0, format!("var {} = ", name.text(code))));
                    edits.push((close.end, 0, ";".into()));
                }
            }
            _ => {}
        }
    }
    apply(code, edits)
}

/// Words that nest the expression after them, as prefix operators do.
const PREFIX_WORDS: &[&str] = &["typeof", "void", "delete", "await", "new", "yield"];

/// Words that nest the statement after them (`if (a) if (b) ...`).
const STATEMENT_WORDS: &[&str] = &["if", "else", "while", "for", "with", "do"];

/// Words that are binary operators.
const OPERATOR_WORDS: &[&str] = &["in", "instanceof"];

/// An upper estimate of how deeply Boa will recurse to parse, optimise and compile `code`:
/// bracket depth, plus, within each bracket level and statement, runs of prefix operators,
/// binary operators (a chain `a + b + ...` is a tree as deep as it is long), `?`/`:`/`=`/`=>`
/// chains and statement keywords. Checked before parsing because Boa recurses on the native
/// stack, and a stack overflow in a Worker is not recoverable. Stops counting past `stop`.
pub fn nesting_depth(code: &str, stop: usize) -> usize {
    let tokens = scan(code);
    let mut max = 0;
    let mut prefix_run = 0;
    // Nesting operators seen at each open bracket level since the last `;`, `,` or `}`;
    // `total` is their sum.
    let mut chains: Vec<usize> = vec![0];
    let mut total = 0;
    let mut after_operand = false;
    let mut prev: Option<&Token> = None;
    for tok in &tokens {
        while chains.len() > tok.depth + 1 {
            total -= chains.pop().unwrap_or(0);
        }
        while chains.len() < tok.depth + 1 {
            chains.push(0);
        }
        let text = tok.text(code);
        // Adjacent punctuation is one operator (`===`, `>>>=`, `&&`).
        let joined = prev.is_some_and(|p| {
            p.end == tok.start
                && matches!(p.kind, Kind::Punct(_))
                && matches!(tok.kind, Kind::Punct(_))
        });
        let prefix = match tok.kind {
            Kind::Punct(b'!' | b'~' | b'+' | b'-') => !after_operand,
            Kind::Word => PREFIX_WORDS.contains(&text),
            _ => false,
        };
        prefix_run = if prefix { prefix_run + 1 } else { 0 };
        let nests = match tok.kind {
            Kind::Punct(b';' | b',' | b'{' | b'}') => {
                total -= std::mem::take(&mut chains[tok.depth]);
                false
            }
            Kind::Punct(b'(' | b'[' | b')' | b']' | b'.') => false,
            Kind::Punct(_) => after_operand && !joined,
            Kind::Word => STATEMENT_WORDS.contains(&text) || OPERATOR_WORDS.contains(&text),
            Kind::Literal => false,
        };
        if nests {
            chains[tok.depth] += 1;
            total += 1;
        }
        after_operand = match tok.kind {
            Kind::Word => !PREFIX_WORDS.contains(&text) && !STATEMENT_WORDS.contains(&text),
            Kind::Literal | Kind::Punct(b')' | b']' | b'}') => true,
            Kind::Punct(_) => joined && after_operand,
        };
        max = max.max(tok.depth + prefix_run + total);
        if max > stop {
            return max;
        }
        prev = Some(tok);
    }
    max
}

/// Whether token `i` begins a statement (as far as a token scan can tell).
fn starts_statement(tokens: &[Token], i: usize) -> bool {
    let Some(prev) = i.checked_sub(1).map(|p| &tokens[p]) else {
        return true;
    };
    match prev.kind {
        Kind::Punct(b';') | Kind::Punct(b'}') => true,
        // A line break ends a statement when the previous token can end an expression.
        Kind::Word | Kind::Literal | Kind::Punct(b')') | Kind::Punct(b']') => {
            tokens[i].newline_before
        }
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Identifier or keyword.
    Word,
    /// String, template, number or regular expression literal.
    Literal,
    /// One punctuation byte; multi-byte operators appear as several tokens.
    Punct(u8),
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    /// Bracket depth (`(`, `[`, `{`) outside this token; both brackets of a pair get the same.
    depth: usize,
    newline_before: bool,
}

impl Token {
    fn text<'a>(&self, code: &'a str) -> &'a str {
        &code[self.start..self.end]
    }
    fn is_punct(&self, code: &str, p: &str) -> bool {
        matches!(self.kind, Kind::Punct(_)) && self.text(code) == p
    }
}

/// Words after which a `/` starts a regular expression rather than a division.
const REGEX_AFTER_WORDS: &[&str] = &[
    "return",
    "typeof",
    "instanceof",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "case",
    "do",
    "else",
    "yield",
    "await",
];

/// A tolerant JavaScript tokenizer: enough to find brackets, statement starts and keywords.
/// It never fails; malformed input yields some tokens and the parser reports the real error.
fn scan(code: &str) -> Vec<Token> {
    let bytes = code.as_bytes();
    let mut tokens: Vec<Token> = Vec::new();
    let mut depth: usize = 0;
    // For each open `${` in a template: the bracket depth where it opened.
    let mut template_stack: Vec<usize> = Vec::new();
    let mut newline = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        match b {
            b'\n' | b'\r' => {
                newline = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | 0x0b | 0x0c => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = code[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |e| i + 2 + e + 2);
                if code[i..end].contains(['\n', '\r']) {
                    newline = true;
                }
                i = end;
                continue;
            }
            b'\'' | b'"' => {
                i = skip_string(bytes, i + 1, b).min(bytes.len());
                push(&mut tokens, Kind::Literal, start, i, depth, &mut newline);
            }
            b'`' => {
                i = skip_template(bytes, i + 1).min(bytes.len());
                if bytes.get(i.wrapping_sub(2)) == Some(&b'$') && bytes.get(i - 1) == Some(&b'{') {
                    template_stack.push(depth);
                    depth += 1;
                }
                push(&mut tokens, Kind::Literal, start, i, depth, &mut newline);
            }
            b'}' if template_stack.last() == Some(&depth.saturating_sub(1)) && depth > 0 => {
                // End of a `${ }` substitution: continue the template.
                template_stack.pop();
                depth -= 1;
                i = skip_template(bytes, i + 1).min(bytes.len());
                if bytes.get(i.wrapping_sub(2)) == Some(&b'$') && bytes.get(i - 1) == Some(&b'{') {
                    template_stack.push(depth);
                    depth += 1;
                }
                push(&mut tokens, Kind::Literal, start, i, depth, &mut newline);
            }
            b'/' if regex_allowed(code, &tokens) => {
                i = skip_regex(bytes, i + 1).min(bytes.len());
                push(&mut tokens, Kind::Literal, start, i, depth, &mut newline);
            }
            b'0'..=b'9' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
                {
                    i += 1;
                }
                push(&mut tokens, Kind::Literal, start, i, depth, &mut newline);
            }
            b'(' | b'[' | b'{' => {
                i += 1;
                push(&mut tokens, Kind::Punct(b), start, i, depth, &mut newline);
                depth += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
                push(&mut tokens, Kind::Punct(b), start, i, depth, &mut newline);
            }
            _ if b == b'$'
                || b == b'_'
                || b == b'#'
                || b == b'\\'
                || b.is_ascii_alphabetic()
                || b >= 0x80 =>
            {
                i += 1;
                while i < bytes.len()
                    && (bytes[i] == b'$'
                        || bytes[i] == b'_'
                        || bytes[i] == b'\\'
                        || bytes[i].is_ascii_alphanumeric()
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                // Keep slicing on char boundaries.
                while !code.is_char_boundary(i) {
                    i += 1;
                }
                let text = &code[start..i];
                if text.contains(['\u{2028}', '\u{2029}']) {
                    newline = true;
                }
                push(&mut tokens, Kind::Word, start, i, depth, &mut newline);
            }
            _ => {
                i += 1;
                push(&mut tokens, Kind::Punct(b), start, i, depth, &mut newline);
            }
        }
    }
    tokens
}

fn push(
    tokens: &mut Vec<Token>,
    kind: Kind,
    start: usize,
    end: usize,
    depth: usize,
    newline: &mut bool,
) {
    tokens.push(Token {
        kind,
        start,
        end,
        depth,
        newline_before: std::mem::take(newline),
    });
}

fn regex_allowed(code: &str, tokens: &[Token]) -> bool {
    match tokens.last() {
        None => true,
        Some(t) => match t.kind {
            Kind::Word => REGEX_AFTER_WORDS.contains(&t.text(code)),
            Kind::Literal => false,
            Kind::Punct(b')') | Kind::Punct(b']') => false,
            Kind::Punct(_) => true,
        },
    }
}

fn skip_string(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' | b'\r' => return i,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Skips template characters; returns the index after the closing backtick or after `${`.
fn skip_template(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => return i + 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => return i + 2,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn skip_regex(bytes: &[u8], mut i: usize) -> usize {
    let mut in_class = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'[' => {
                in_class = true;
                i += 1
            }
            b']' => {
                in_class = false;
                i += 1
            }
            b'/' if !in_class => {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
                return i;
            }
            b'\n' | b'\r' => return i,
            _ => i += 1,
        }
    }
    bytes.len().min(i)
}

#[cfg(test)]
mod tests;
