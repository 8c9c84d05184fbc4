//! File paths: one set of rules for URLs, guest `fs` calls and `/v1/run` files, so every way in
//! names the same file the same way and none can leave the session's root.
//!
//! A valid path is relative, has no NUL, control character or backslash, does not end with `/`,
//! and after dropping `.` and empty segments and resolving `..` names a file inside the root,
//! in at most [`MAX_PATH_BYTES`] bytes and [`MAX_SEGMENTS`] segments.

use std::fmt;

/// Longest normalised path, in bytes. R2 keys are at most 1024 bytes and a file's key adds
/// `{tenant}/{session}/files/` (up to 102 bytes) in front of its path.
pub const MAX_PATH_BYTES: usize = 896;
/// Most segments in a normalised path.
pub const MAX_SEGMENTS: usize = 32;

/// How much of a bad path an error message quotes, in characters.
const QUOTED_CHARS: usize = 80;

/// A path broke a rule; the message names the rule and quotes the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError(String);

impl PathError {
    fn new(input: &str, rule: impl fmt::Display) -> Self {
        PathError(format!("invalid path {}: {rule}", quote(input)))
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PathError {}

/// Percent-decodes one URL path (the part after `/files/`) then normalises it. `%2F` decodes to
/// `/` (it is a separator after decoding). Invalid UTF-8 after decoding or a bad `%` escape is
/// an error.
pub fn from_url(encoded: &str) -> Result<String, PathError> {
    let bytes = percent_decode(encoded)?;
    let decoded = String::from_utf8(bytes)
        .map_err(|_| PathError::new(encoded, "not valid UTF-8 after percent-decoding"))?;
    normalize(&decoded)
}

/// Validates and normalises a path given as a string (guest fs calls, /v1/run files).
pub fn normalize(raw: &str) -> Result<String, PathError> {
    check_shape(raw)?;
    let segments = resolve(raw)?;
    check_size(raw, &segments)?;
    Ok(segments.join("/"))
}

/// The rules that hold for the raw string, before segments are resolved.
fn check_shape(raw: &str) -> Result<(), PathError> {
    if raw.is_empty() {
        return Err(PathError::new(raw, "a path must not be empty"));
    }
    if let Some(c) = raw.chars().find(|&c| is_forbidden(c)) {
        return Err(PathError::new(raw, forbidden_rule(c)));
    }
    if raw.starts_with('/') {
        return Err(PathError::new(raw, "must be relative (no leading \"/\")"));
    }
    if raw.ends_with('/') {
        return Err(PathError::new(
            raw,
            "must not end with \"/\" (a path names a file)",
        ));
    }
    Ok(())
}

/// `char::is_control` is exactly Cc: U+0000-U+001F, U+007F and the C1 controls U+0080-U+009F.
fn is_forbidden(c: char) -> bool {
    c.is_control() || c == '\\'
}

fn forbidden_rule(c: char) -> String {
    match c {
        '\0' => "NUL is not allowed".to_owned(),
        '\\' => "backslash is not allowed (\"/\" separates segments)".to_owned(),
        _ => format!("control character U+{:04X} is not allowed", c as u32),
    }
}

/// Drops `.` and empty segments and applies `..`; the result names a file inside the root.
fn resolve(raw: &str) -> Result<Vec<&str>, PathError> {
    let mut segments = Vec::new();
    for segment in raw.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(PathError::new(raw, "\"..\" would leave the session's root"));
                }
            }
            name => segments.push(name),
        }
    }
    if segments.is_empty() {
        return Err(PathError::new(
            raw,
            "names the session's root, not a file (nothing is left after resolving \".\" and \"..\")",
        ));
    }
    Ok(segments)
}

/// Limits apply after normalisation, so `a/../b` is measured as `b`.
fn check_size(raw: &str, segments: &[&str]) -> Result<(), PathError> {
    if segments.len() > MAX_SEGMENTS {
        return Err(PathError::new(
            raw,
            format!(
                "has {} segments, more than the {MAX_SEGMENTS} allowed",
                segments.len()
            ),
        ));
    }
    // Segments joined by one `/` each.
    let bytes = segments.iter().map(|s| s.len()).sum::<usize>() + segments.len() - 1;
    if bytes > MAX_PATH_BYTES {
        return Err(PathError::new(
            raw,
            format!("is {bytes} bytes, more than the {MAX_PATH_BYTES} allowed"),
        ));
    }
    Ok(())
}

/// Decodes `%XX` escapes; every other byte stands for itself (a URL path is not form data, so
/// `+` stays `+`).
fn percent_decode(encoded: &str) -> Result<Vec<u8>, PathError> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let escape = bytes.get(i + 1..i + 3);
        let value = escape.and_then(|hex| Some((hex_digit(hex[0])? << 4) | hex_digit(hex[1])?));
        let Some(value) = value else {
            let shown = String::from_utf8_lossy(&bytes[i..bytes.len().min(i + 3)]);
            return Err(PathError::new(
                encoded,
                format!("bad percent-escape {shown:?} (\"%\" must be followed by two hex digits)"),
            ));
        };
        out.push(value);
        i += 3;
    }
    Ok(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The input as a Rust string literal, so control characters show as escapes; long inputs are
/// cut (at a character boundary) so one bad path cannot make a huge message.
fn quote(input: &str) -> String {
    match input.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{:?}... ({} bytes)", &input[..cut], input.len()),
        None => format!("{input:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(raw: &str) -> String {
        normalize(raw).unwrap_err().to_string()
    }

    fn url_err(encoded: &str) -> String {
        from_url(encoded).unwrap_err().to_string()
    }

    #[test]
    fn spec_examples_normalise() {
        assert_eq!(normalize("a/./b//c").unwrap(), "a/b/c");
        assert_eq!(normalize("a/../b").unwrap(), "b");
        assert_eq!(from_url("a/./b//c").unwrap(), "a/b/c");
        assert_eq!(from_url("a/../b").unwrap(), "b");
    }

    #[test]
    fn plain_paths_are_unchanged() {
        assert_eq!(normalize("x").unwrap(), "x");
        assert_eq!(normalize("dir/sub/file.txt").unwrap(), "dir/sub/file.txt");
        assert_eq!(
            normalize("héllo wörld/日本.txt").unwrap(),
            "héllo wörld/日本.txt"
        );
        // Only "." and ".." are special; other dot names are ordinary.
        assert_eq!(normalize(".hidden/...").unwrap(), ".hidden/...");
        assert_eq!(normalize("a..b/..c").unwrap(), "a..b/..c");
    }

    #[test]
    fn dot_and_empty_segments_are_dropped() {
        assert_eq!(normalize("./a").unwrap(), "a");
        assert_eq!(normalize("a/.").unwrap(), "a");
        assert_eq!(normalize("a//b").unwrap(), "a/b");
        assert_eq!(normalize("./././a/./././b").unwrap(), "a/b");
    }

    #[test]
    fn dot_dot_pops_inside_the_root() {
        assert_eq!(normalize("a/b/../c").unwrap(), "a/c");
        assert_eq!(normalize("a/b/..").unwrap(), "a");
        assert_eq!(normalize("a/b/../../c").unwrap(), "c");
    }

    #[test]
    fn leaving_the_root_is_an_error() {
        for raw in ["../x", "a/../../x", "..", "./..", "a/b/../../.."] {
            let e = err(raw);
            assert!(
                e.contains("\"..\" would leave the session's root"),
                "{raw}: {e}"
            );
        }
        assert_eq!(
            err("../x"),
            r#"invalid path "../x": ".." would leave the session's root"#
        );
        // Coming back inside later does not undo having left.
        assert!(err("../a/../a").contains("leave the session's root"));
    }

    #[test]
    fn absolute_paths_are_errors() {
        assert_eq!(
            err("/abs"),
            r#"invalid path "/abs": must be relative (no leading "/")"#
        );
        assert!(err("//a").contains("must be relative"));
        assert!(err("/").contains("must be relative"));
        assert!(url_err("/abs").contains("must be relative"));
        // An encoded slash is still a slash.
        assert!(url_err("%2Fabs").contains("must be relative"));
    }

    #[test]
    fn trailing_slash_is_an_error() {
        assert_eq!(
            err("a/"),
            r#"invalid path "a/": must not end with "/" (a path names a file)"#
        );
        assert!(err("a/b//").contains("must not end with \"/\""));
        assert!(url_err("a%2F").contains("must not end with \"/\""));
    }

    #[test]
    fn empty_and_root_only_paths_are_errors() {
        assert_eq!(err(""), r#"invalid path "": a path must not be empty"#);
        assert!(url_err("").contains("must not be empty"));
        for raw in [".", "./.", "a/..", "a/b/../.."] {
            let e = err(raw);
            assert!(
                e.contains("names the session's root, not a file"),
                "{raw}: {e}"
            );
        }
    }

    #[test]
    fn nul_is_an_error() {
        assert_eq!(err("a\0b"), r#"invalid path "a\0b": NUL is not allowed"#);
        assert_eq!(
            url_err("a%00b"),
            r#"invalid path "a\0b": NUL is not allowed"#
        );
    }

    #[test]
    fn control_characters_are_errors_and_visible_in_the_message() {
        assert_eq!(
            url_err("a%0Ab"),
            r#"invalid path "a\nb": control character U+000A is not allowed"#
        );
        assert_eq!(
            err("a\u{1f}b"),
            r#"invalid path "a\u{1f}b": control character U+001F is not allowed"#
        );
        assert!(err("a\u{7f}").contains("control character U+007F"));
        assert!(err("\tx").contains("control character U+0009"));
        assert!(err("x\r").contains("control character U+000D"));
        // C1 controls too (U+0080 is %C2%80 in UTF-8).
        assert!(err("a\u{80}b").contains("control character U+0080"));
        assert!(url_err("a%C2%9Fb").contains("control character U+009F"));
        // Just outside the control ranges is fine.
        assert_eq!(normalize("a\u{a0}b ~").unwrap(), "a\u{a0}b ~");
    }

    #[test]
    fn backslash_is_an_error() {
        assert_eq!(
            err(r"a\b"),
            r#"invalid path "a\\b": backslash is not allowed ("/" separates segments)"#
        );
        assert!(url_err("a%5Cb").contains("backslash is not allowed"));
        // A backslash is not a separator, so it cannot smuggle a "..".
        assert!(err(r"..\x").contains("backslash"));
    }

    #[test]
    fn length_is_limited_after_normalisation() {
        let longest = "a".repeat(MAX_PATH_BYTES);
        assert_eq!(normalize(&longest).unwrap(), longest);
        let too_long = "a".repeat(MAX_PATH_BYTES + 1);
        let e = err(&too_long);
        let expected = format!(
            "is {} bytes, more than the {MAX_PATH_BYTES} allowed",
            MAX_PATH_BYTES + 1
        );
        assert!(e.contains(&expected), "{e}");
        // Measured after normalisation: dropped segments do not count.
        let padded = format!("./x/../{longest}");
        assert_eq!(normalize(&padded).unwrap(), longest);
        let multi = format!("{}/{}", "a".repeat(512), "b".repeat(512));
        assert!(err(&multi).contains("is 1025 bytes"));
        // Bytes, not characters: 342 three-byte characters are 1026 bytes.
        assert!(err(&"日".repeat(342)).contains("is 1026 bytes"));
    }

    #[test]
    fn segment_count_is_limited_after_normalisation() {
        let most = vec!["s"; MAX_SEGMENTS].join("/");
        assert_eq!(normalize(&most).unwrap(), most);
        let too_many = vec!["s"; MAX_SEGMENTS + 1].join("/");
        assert_eq!(
            err(&too_many),
            format!("invalid path {too_many:?}: has 33 segments, more than the 32 allowed")
        );
        // Dropped and popped segments do not count.
        assert_eq!(normalize(&format!("x/../{most}/.//.")).unwrap(), most);
    }

    #[test]
    fn percent_escapes_decode() {
        assert_eq!(from_url("a%20b").unwrap(), "a b");
        assert_eq!(from_url("dir%2Ffile").unwrap(), "dir/file");
        assert_eq!(from_url("dir%2ffile").unwrap(), "dir/file");
        assert_eq!(from_url("a+b").unwrap(), "a+b");
        assert_eq!(from_url("%E6%97%A5.txt").unwrap(), "日.txt");
        assert_eq!(from_url("%25").unwrap(), "%");
        // Decoded dots are segments like any other.
        assert_eq!(from_url("a/%2E%2E/b").unwrap(), "b");
        assert!(url_err("%2E%2E/x").contains("leave the session's root"));
        // Already-decoded text passes through.
        assert_eq!(from_url("日.txt").unwrap(), "日.txt");
    }

    #[test]
    fn bad_percent_escapes_are_errors() {
        assert_eq!(
            url_err("a%G1"),
            r#"invalid path "a%G1": bad percent-escape "%G1" ("%" must be followed by two hex digits)"#
        );
        assert!(url_err("a%").contains(r#"bad percent-escape "%""#));
        assert!(url_err("a%4").contains(r#"bad percent-escape "%4""#));
        assert!(url_err("%%41").contains("bad percent-escape"));
        // The escape is decoded once: "%2541" is "%41", not "A".
        assert_eq!(from_url("%2541").unwrap(), "%41");
    }

    #[test]
    fn invalid_utf8_after_decoding_is_an_error() {
        assert_eq!(
            url_err("%FF"),
            r#"invalid path "%FF": not valid UTF-8 after percent-decoding"#
        );
        assert!(url_err("a/%C3").contains("not valid UTF-8"));
        // An encoded surrogate half is not UTF-8 either.
        assert!(url_err("%ED%A0%80").contains("not valid UTF-8"));
    }

    #[test]
    fn long_inputs_are_quoted_truncated() {
        let raw = format!("{}\n", "a".repeat(2000));
        let e = err(&raw);
        let quoted = format!("{:?}... (2001 bytes)", "a".repeat(QUOTED_CHARS));
        assert_eq!(
            e,
            format!("invalid path {quoted}: control character U+000A is not allowed")
        );
        // Cut at a character boundary: "/" and 79 three-byte characters.
        let e = err(&format!("/{}", "日".repeat(100)));
        let kept = format!("/{}", "日".repeat(QUOTED_CHARS - 1));
        assert!(e.starts_with(&format!("invalid path {kept:?}... (301 bytes):")));
        // Up to the limit, the input is quoted whole.
        let fits = format!("/{}", "a".repeat(QUOTED_CHARS - 1));
        assert!(err(&fits).starts_with(&format!("invalid path {fits:?}: must be relative")));
        let over = format!("/{}", "a".repeat(QUOTED_CHARS));
        assert!(err(&over).starts_with(&format!("invalid path {:?}... (81 bytes):", &over[..80])));
    }

    #[test]
    fn errors_display_their_message() {
        let e = normalize("/x").unwrap_err();
        assert_eq!(e.clone(), e);
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(boxed.to_string().starts_with("invalid path \"/x\""));
    }
}
