//! The `Range` header of a file GET (RFC 9110 §14), single byte ranges only.
//!
//! A malformed header, another unit or several ranges are ignored (the whole file is served),
//! as the RFC allows; only a well-formed single range can be partial or unsatisfiable.

/// What a GET answers for a `Range` header.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// 200 with the whole file.
    Full,
    /// 206 with `length` (at least 1) bytes from `offset`.
    Partial { offset: u64, length: u64 },
    /// 416: no byte of the file is in the range.
    Unsatisfiable,
}

/// One `range-spec`, as written: `a-b`, `a-` or `-n`.
enum Spec {
    From { first: u64, last: Option<u64> },
    Suffix(u64),
}

/// Parses the `Range` header (if any) of a request for a file of `size` bytes.
pub fn parse(header: Option<&str>, size: u64) -> RangeRequest {
    match header.and_then(single_spec) {
        Some(spec) => resolve(spec, size),
        None => RangeRequest::Full,
    }
}

impl RangeRequest {
    /// The `content-range` header to send: `bytes a-b/size` for a partial answer and
    /// `bytes */size` for an unsatisfiable one; none for the whole file.
    pub fn content_range(&self, size: u64) -> Option<String> {
        match *self {
            RangeRequest::Full => None,
            RangeRequest::Partial { offset, length } => {
                Some(format!("bytes {offset}-{}/{size}", offset + length - 1))
            }
            RangeRequest::Unsatisfiable => Some(format!("bytes */{size}")),
        }
    }
}

/// The one range of a `bytes=` header, or `None` when the header is to be ignored.
fn single_spec(header: &str) -> Option<Spec> {
    let (unit, set) = header.trim().split_once('=')?;
    // Range units are case-insensitive (RFC 9110 §14.1).
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    // A list may have empty elements and whitespace around commas (RFC 9110 §5.6.1).
    let mut specs = set.split(',').map(str::trim).filter(|s| !s.is_empty());
    let spec = specs.next()?;
    if specs.next().is_some() {
        return None;
    }
    parse_spec(spec)
}

fn parse_spec(spec: &str) -> Option<Spec> {
    let (first, last) = spec.split_once('-')?;
    if first.is_empty() {
        return Some(Spec::Suffix(number(last)?));
    }
    let first = number(first)?;
    let last = match last {
        "" => None,
        last => Some(number(last)?),
    };
    // `a-b` with b < a is invalid, so the header is ignored rather than unsatisfiable.
    if last.is_some_and(|last| last < first) {
        return None;
    }
    Some(Spec::From { first, last })
}

/// ASCII digits only (`u64::from_str` would also take a `+`). Values past `u64::MAX` saturate:
/// they are still well-formed and beyond any file.
fn number(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().unwrap_or(u64::MAX))
}

fn resolve(spec: Spec, size: u64) -> RangeRequest {
    match spec {
        Spec::From { first, .. } if first >= size => RangeRequest::Unsatisfiable,
        Spec::From { first, last } => {
            let last = last.map_or(size - 1, |last| last.min(size - 1));
            RangeRequest::Partial {
                offset: first,
                length: last - first + 1,
            }
        }
        Spec::Suffix(0) => RangeRequest::Unsatisfiable,
        // RFC 9110 §14.1.1 calls a non-zero suffix of an empty file satisfiable, yet no 206
        // can describe zero bytes: serve the (empty) whole file.
        Spec::Suffix(_) if size == 0 => RangeRequest::Full,
        Spec::Suffix(n) => {
            let length = n.min(size);
            RangeRequest::Partial {
                offset: size - length,
                length,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(offset: u64, length: u64) -> RangeRequest {
        RangeRequest::Partial { offset, length }
    }

    fn range(header: &str, size: u64) -> RangeRequest {
        parse(Some(header), size)
    }

    #[test]
    fn no_header_is_the_whole_file() {
        assert_eq!(parse(None, 10), RangeRequest::Full);
        assert_eq!(parse(None, 0), RangeRequest::Full);
        assert_eq!(RangeRequest::Full.content_range(10), None);
    }

    #[test]
    fn first_and_last() {
        assert_eq!(range("bytes=0-4", 10), partial(0, 5));
        assert_eq!(range("bytes=2-2", 10), partial(2, 1));
        assert_eq!(range("bytes=9-9", 10), partial(9, 1));
        assert_eq!(range("bytes=0-9", 10), partial(0, 10));
        assert_eq!(
            range("bytes=2-5", 10).content_range(10).as_deref(),
            Some("bytes 2-5/10")
        );
    }

    #[test]
    fn last_is_clamped_to_the_end() {
        assert_eq!(range("bytes=5-100", 10), partial(5, 5));
        assert_eq!(
            range("bytes=5-100", 10).content_range(10).as_deref(),
            Some("bytes 5-9/10")
        );
        assert_eq!(range("bytes=0-99999999999999999999999", 10), partial(0, 10));
    }

    #[test]
    fn open_ended() {
        assert_eq!(range("bytes=3-", 10), partial(3, 7));
        assert_eq!(range("bytes=0-", 10), partial(0, 10));
        assert_eq!(range("bytes=9-", 10), partial(9, 1));
        assert_eq!(
            range("bytes=3-", 10).content_range(10).as_deref(),
            Some("bytes 3-9/10")
        );
    }

    #[test]
    fn suffix() {
        assert_eq!(range("bytes=-3", 10), partial(7, 3));
        assert_eq!(range("bytes=-10", 10), partial(0, 10));
        assert_eq!(
            range("bytes=-3", 10).content_range(10).as_deref(),
            Some("bytes 7-9/10")
        );
        // Longer than the file: the whole file, as a 206.
        assert_eq!(range("bytes=-100", 10), partial(0, 10));
        assert_eq!(range("bytes=-99999999999999999999999", 10), partial(0, 10));
        assert_eq!(
            range("bytes=-100", 10).content_range(10).as_deref(),
            Some("bytes 0-9/10")
        );
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(range("bytes=10-", 10), RangeRequest::Unsatisfiable);
        assert_eq!(range("bytes=10-20", 10), RangeRequest::Unsatisfiable);
        assert_eq!(range("bytes=11-11", 10), RangeRequest::Unsatisfiable);
        assert_eq!(
            range("bytes=99999999999999999999999-", 10),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(range("bytes=-0", 10), RangeRequest::Unsatisfiable);
        assert_eq!(
            RangeRequest::Unsatisfiable.content_range(10).as_deref(),
            Some("bytes */10")
        );
    }

    #[test]
    fn empty_file() {
        assert_eq!(range("bytes=0-", 0), RangeRequest::Unsatisfiable);
        assert_eq!(range("bytes=0-0", 0), RangeRequest::Unsatisfiable);
        assert_eq!(range("bytes=-0", 0), RangeRequest::Unsatisfiable);
        assert_eq!(
            RangeRequest::Unsatisfiable.content_range(0).as_deref(),
            Some("bytes */0")
        );
        // Satisfiable by the RFC but not expressible as a 206: the whole (empty) file.
        assert_eq!(range("bytes=-5", 0), RangeRequest::Full);
    }

    #[test]
    fn malformed_headers_are_ignored() {
        for header in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=5",
            "bytes=a-b",
            "bytes=1-x",
            "bytes=+1-2",
            "bytes=1-+2",
            "bytes=-+2",
            "bytes=--1",
            "bytes=1--2",
            "bytes=0x1-2",
            "bytes=1.5-2",
            "bytes=1 - 2",
            "bytes=1-2-3",
            "=0-1",
            "0-1",
        ] {
            assert_eq!(range(header, 10), RangeRequest::Full, "{header:?}");
        }
    }

    #[test]
    fn first_after_last_is_malformed_not_unsatisfiable() {
        assert_eq!(range("bytes=5-2", 10), RangeRequest::Full);
        // Even when the first position is past the end.
        assert_eq!(range("bytes=20-15", 10), RangeRequest::Full);
    }

    #[test]
    fn other_units_are_ignored() {
        assert_eq!(range("items=0-1", 10), RangeRequest::Full);
        assert_eq!(range("byte=0-1", 10), RangeRequest::Full);
        assert_eq!(range("bytesx=0-1", 10), RangeRequest::Full);
    }

    #[test]
    fn multiple_ranges_are_ignored() {
        assert_eq!(range("bytes=0-1,5-6", 10), RangeRequest::Full);
        assert_eq!(range("bytes=0-1, 5-6", 10), RangeRequest::Full);
        assert_eq!(range("bytes=-1,0-", 10), RangeRequest::Full);
        // Even if every range is unsatisfiable: the header as a whole is ignored.
        assert_eq!(range("bytes=20-,30-", 10), RangeRequest::Full);
    }

    #[test]
    fn whitespace_and_case_are_tolerated() {
        assert_eq!(range("  bytes=0-4  ", 10), partial(0, 5));
        assert_eq!(range("bytes = 0-4", 10), partial(0, 5));
        assert_eq!(range("bytes=\t0-4 ", 10), partial(0, 5));
        assert_eq!(range("Bytes=0-4", 10), partial(0, 5));
        assert_eq!(range("BYTES=-2", 10), partial(8, 2));
        // Empty list elements do not count as ranges.
        assert_eq!(range("bytes=0-4,", 10), partial(0, 5));
        assert_eq!(range("bytes= , 0-4 ,", 10), partial(0, 5));
    }

    #[test]
    fn large_files() {
        let size = u64::MAX;
        assert_eq!(range("bytes=0-", size), partial(0, u64::MAX));
        assert_eq!(range("bytes=-1", size), partial(u64::MAX - 1, 1));
        assert_eq!(
            range("bytes=-1", size).content_range(size),
            Some(format!("bytes {}-{}/{size}", u64::MAX - 1, u64::MAX - 1))
        );
    }
}
