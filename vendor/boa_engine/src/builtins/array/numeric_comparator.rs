//! edge-sandbox patch: recognising the numeric comparators `(a, b) => a - b` and
//! `(a, b) => b - a` (and their `function` and block-bodied forms), as SpiderMonkey's
//! `Array.prototype.sort` does.
//!
//! Such a comparator, called with two numbers, returns their difference and does nothing else:
//! its parameters are its own bindings, so the body cannot reach anything outside. Comparing two
//! numbers natively is then exactly what calling it would answer, without a VM frame per
//! comparison (the call was 60-70% of a 1e5-number sort). Anything that is not a number (a
//! string, a BigInt, an object with `valueOf`) still goes through the call, so every effect and
//! error is the same. The match is on the function's source text, token by token; any other
//! text (comments, default values, destructuring, `async`) is an ordinary comparator. Tested
//! through the engine in `src/engine/speed_tests.rs`.

use crate::{JsObject, builtins::function::OrdinaryFunction};

/// Fuel for one comparison the native path makes instead of a call: about what it costs against
/// an interpreted instruction (on top of the 1 every comparison pays).
pub(crate) const NUMERIC_COMPARE_FUEL: u64 = 1;

/// Which difference a recognised comparator returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Numeric {
    /// `a - b`: ascending.
    Ascending,
    /// `b - a`: descending.
    Descending,
}

impl Numeric {
    /// What the comparator returns for `x` and `y` (numbers).
    pub(crate) fn difference(self, x: f64, y: f64) -> f64 {
        match self {
            Self::Ascending => x - y,
            Self::Descending => y - x,
        }
    }
}

/// Whether `comparefn` is an ordinary function whose whole source is a numeric comparator.
pub(crate) fn recognise(comparefn: &JsObject) -> Option<Numeric> {
    let function = comparefn.downcast_ref::<OrdinaryFunction>()?;
    let code = function.codeblock();
    if code.is_class_constructor() {
        return None;
    }
    let text = code.source_info().text_spanned().to_code_points()?;
    // Longer texts are not one of the forms; bounding it keeps the scan trivial.
    if text.len() > 256 {
        return None;
    }
    let text = String::from_utf16(text).ok()?;
    match_source(&text)
}

/// The forms, by tokens (`X`, `Y`: two different parameter names; `A - B`: `X - Y` or `Y - X`):
/// `(X, Y) => A - B`, `(X, Y) => { return A - B; }` and `function [name](X, Y) { return A - B; }`,
/// with the `;` optional.
pub(crate) fn match_source(text: &str) -> Option<Numeric> {
    let tokens = tokens(text)?;
    let mut t = tokens.as_slice();
    let arrow = match t.first() {
        Some(&"function") => {
            t = &t[1..];
            if t.first().is_some_and(|s| is_identifier(s)) {
                t = &t[1..];
            }
            false
        }
        Some(&"(") => true,
        _ => return None,
    };
    let [open, x, comma, y, close, rest @ ..] = t else {
        return None;
    };
    if (*open, *comma, *close) != ("(", ",", ")") || !is_identifier(x) || !is_identifier(y) {
        return None;
    }
    if x == y {
        return None;
    }
    let body = if arrow {
        match rest {
            ["=>", "{", body @ ..] => block(body)?,
            ["=>", body @ ..] => body,
            _ => return None,
        }
    } else {
        match rest {
            ["{", body @ ..] => block(body)?,
            _ => return None,
        }
    };
    match body {
        [a, "-", b] if a == x && b == y => Some(Numeric::Ascending),
        [a, "-", b] if a == y && b == x => Some(Numeric::Descending),
        _ => None,
    }
}

/// The expression of `return E [;] }`.
fn block<'a, 'b>(body: &'b [&'a str]) -> Option<&'b [&'a str]> {
    let ["return", inner @ .., "}"] = body else {
        return None;
    };
    Some(inner.strip_suffix(&[";"]).unwrap_or(inner))
}

fn is_identifier(token: &str) -> bool {
    let mut chars = token.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !matches!(token, "function" | "return" | "this" | "async" | "yield" | "await")
}

/// ASCII identifiers and the punctuation of the forms; anything else (comments, other
/// operators, non-ASCII names) is no match.
fn tokens(text: &str) -> Option<Vec<&str>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(16);
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
            {
                i += 1;
            }
            out.push(&text[start..i]);
        } else if text[i..].starts_with("=>") {
            out.push("=>");
            i += 2;
        } else if matches!(c, b'(' | b')' | b',' | b'{' | b'}' | b';' | b'-') {
            // `--` and `-=` are other operators: a lone `-` only.
            if c == b'-' && matches!(bytes.get(i + 1), Some(b'-' | b'=')) {
                return None;
            }
            out.push(&text[i..=i]);
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}
