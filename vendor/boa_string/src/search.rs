//! edge-sandbox patch: bounded substring search.
//!
//! Upstream `JsStr::index_of` skipped to `from_index` through a `windows()` iterator without
//! `nth`, so every call cost O(from_index) before it started, and `split`/`replaceAll` became
//! quadratic. This module searches from a slice that starts at `from_index`, and counts the work
//! it does against a per-thread *scan budget* that the engine sets from its fuel: a naive search
//! is O(haystack * needle) in the worst case, and when the budget runs out the search stops and
//! reports "not found"; the engine then trips its own budget (see `boa_engine::budget`).

use std::cell::Cell;

use crate::str::{JsStr, JsStrVariant};

thread_local! {
    static SCAN_BUDGET: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// Sets how many code-unit comparisons searches on this thread may still do.
pub fn set_scan_budget(units: u64) {
    SCAN_BUDGET.set(units);
}

/// How many code-unit comparisons searches on this thread may still do; zero once exhausted.
#[must_use]
pub fn scan_budget() -> u64 {
    SCAN_BUDGET.get()
}

/// Spends `units`; returns `false` (and empties the budget) if there were not enough.
#[inline]
fn spend(units: u64) -> bool {
    let left = SCAN_BUDGET.get();
    if left < units {
        SCAN_BUDGET.set(0);
        false
    } else {
        SCAN_BUDGET.set(left - units);
        true
    }
}

/// How much work (positions scanned plus code units compared) to do between two budget updates.
const CHUNK: usize = 4096;

/// Forward search of `needle` in `hay`, starting at the beginning of `hay`.
fn find<H, N>(hay: &[H], needle: &[N]) -> Option<usize>
where
    H: Copy + Into<u16>,
    N: Copy + Into<u16>,
{
    let m = needle.len();
    if m > hay.len() {
        return None;
    }
    let first: u16 = needle[0].into();
    let last_start = hay.len() - m;
    let mut work: u64 = 0;
    let mut i = 0;
    while i <= last_start {
        work += 1;
        if work >= CHUNK as u64 {
            if !spend(work) {
                return None;
            }
            work = 0;
        }
        if hay[i].into() == first {
            work += m as u64;
            if hay[i..i + m]
                .iter()
                .zip(needle)
                .all(|(&h, &n)| h.into() == n.into())
            {
                spend(work);
                return Some(i);
            }
        }
        i += 1;
    }
    spend(work);
    None
}

/// Backward search: the largest `i <= from` such that `needle` occurs at `i`.
fn rfind<H, N>(hay: &[H], needle: &[N], from: usize) -> Option<usize>
where
    H: Copy + Into<u16>,
    N: Copy + Into<u16>,
{
    let m = needle.len();
    if m > hay.len() {
        return None;
    }
    let first: u16 = needle[0].into();
    let mut i = from.min(hay.len() - m);
    let mut work: u64 = 0;
    loop {
        work += 1;
        if work >= CHUNK as u64 {
            if !spend(work) {
                return None;
            }
            work = 0;
        }
        if hay[i].into() == first {
            work += m as u64;
            if hay[i..i + m]
                .iter()
                .zip(needle)
                .all(|(&h, &n)| h.into() == n.into())
            {
                spend(work);
                return Some(i);
            }
        }
        if i == 0 {
            spend(work);
            return None;
        }
        i -= 1;
    }
}

/// `StringIndexOf` for a non-empty `needle` from `from` (which may exceed the length).
pub(crate) fn index_of(hay: JsStr<'_>, needle: JsStr<'_>, from: usize) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    let found = match (hay.variant(), needle.variant()) {
        (JsStrVariant::Latin1(h), JsStrVariant::Latin1(n)) => find(&h[from..], n),
        (JsStrVariant::Latin1(h), JsStrVariant::Utf16(n)) => find(&h[from..], n),
        (JsStrVariant::Utf16(h), JsStrVariant::Latin1(n)) => find(&h[from..], n),
        (JsStrVariant::Utf16(h), JsStrVariant::Utf16(n)) => find(&h[from..], n),
    };
    found.map(|i| i + from)
}

/// The last index `i <= from` where a non-empty `needle` occurs in `hay`.
pub(crate) fn last_index_of(hay: JsStr<'_>, needle: JsStr<'_>, from: usize) -> Option<usize> {
    match (hay.variant(), needle.variant()) {
        (JsStrVariant::Latin1(h), JsStrVariant::Latin1(n)) => rfind(h, n, from),
        (JsStrVariant::Latin1(h), JsStrVariant::Utf16(n)) => rfind(h, n, from),
        (JsStrVariant::Utf16(h), JsStrVariant::Latin1(n)) => rfind(h, n, from),
        (JsStrVariant::Utf16(h), JsStrVariant::Utf16(n)) => rfind(h, n, from),
    }
}
