//! edge-sandbox patch: rope strings.
//!
//! Every concatenation used to copy both operands into a new sequence string, so building a
//! string by appending (`s += i + ','`) was quadratic. A [`RopeString`] is the concatenation of
//! two strings made in O(1): it holds its two halves and the total length, and copies the
//! leaves into one sequence string (Latin-1 if every leaf is, UTF-16 otherwise) the first time
//! anything needs its contents (`as_str`, `code_points`, and so everything else). The flat
//! string is then kept in the node and the halves are released.
//!
//! Ropes are DAGs (`a + a` shares a child), possibly a million nodes deep (a left-deep chain of
//! appends), so flattening and dropping walk them with an explicit worklist, never by
//! recursion. Halves are reference counted like any `JsString`: a shared child is copied once
//! per path to it by a flatten (the result holds it that many times) and freed when its last
//! parent is.

use crate::iter::CodePointsIter;
use crate::r#type::{Latin1, Utf16};
use crate::vtable::{JsStringFns, JsStringVTable, SequenceString};
use crate::{JsStr, JsStrVariant, JsString, JsStringKind, alloc_overflow};
use std::cell::{Cell, UnsafeCell};
use std::mem::{ManuallyDrop, MaybeUninit};
use std::process::abort;
use std::ptr::NonNull;

/// Concatenations shorter than this are copied, not made ropes. A copy of fewer than 256 code
/// units (at most 512 bytes) costs about what allocating a rope node (88 bytes) does, and the
/// strings a program handles most (property keys, identifiers, short messages) stay flat, so
/// they never pay an indirection or a later flatten. Building a string below this length by
/// appending is quadratic in it, which is a constant.
pub(crate) const ROPE_MIN_LEN: usize = 256;

/// A short piece appended to a rope whose last leaf is short (or prepended to one whose first
/// leaf is) is merged with that leaf into a new leaf of at most this many code units, instead
/// of becoming a leaf of its own. Each append then copies at most this much (a constant), and
/// leaves fill up to about this size, so the nodes and leaf headers (about 170 bytes a leaf)
/// add about a third to the contents of a rope built from small pieces, instead of 20 times
/// their size for one-character appends.
pub(crate) const MERGED_LEAF_MAX: usize = 512;

/// Told of a flatten: the code units copied and the rope nodes walked.
type FlattenHook = fn(usize, usize);

thread_local! {
    static FLATTEN_HOOK: Cell<Option<FlattenHook>> = const { Cell::new(None) };
}

/// Sets the function told of every flatten on this thread, with the code units it copied and
/// the rope nodes it walked, before the flat string replaces the halves. It runs inside
/// `as_str` (so within any string access) and must not fail or touch strings; `boa_engine`'s
/// budget charges fuel in it.
pub fn set_flatten_hook(hook: Option<FlattenHook>) {
    FLATTEN_HOOK.set(hook);
}

/// The contents of a rope node.
enum RopeState {
    /// Not flattened yet: the two halves, neither empty.
    Halves(JsString, JsString),
    /// Flattened: a sequence string with the same contents. The halves were released.
    Flat(JsString),
}

/// The concatenation of two strings, flattened on first use.
///
/// # Notes
/// `state` changes once, from `Halves` to `Flat`, at the end of this node's `flatten`, when no
/// reference into it is live: references into `Halves` are only taken by flattens walking the
/// node (which never flatten or drop the nodes they walk, and end before any replacement) and
/// by `concat` (which only clones the halves). The `JsStr` that `as_str` returns points into
/// the flat string's own allocation, which lives as long as the node.
#[repr(C)]
pub(crate) struct RopeString {
    /// Embedded `VTable` - must be the first field for vtable dispatch.
    vtable: JsStringVTable,
    refcount: Cell<usize>,
    /// Whether every leaf is Latin-1, and so the flat string will be.
    latin1: bool,
    state: UnsafeCell<RopeState>,
}

impl RopeString {
    /// A rope of `left` and `right`, neither empty, their total length (at most `usize::MAX`)
    /// `len`.
    pub(crate) fn new_string(left: JsString, right: JsString, len: usize) -> JsString {
        debug_assert!(!left.is_empty() && !right.is_empty());
        debug_assert_eq!(left.len() + right.len(), len);
        let node = Box::new(RopeString {
            vtable: JsStringVTable {
                fns: &const {
                    JsStringFns {
                        clone: rope_clone,
                        drop: rope_drop,
                        as_str: rope_as_str,
                        code_points: rope_code_points,
                        refcount: rope_refcount,
                    }
                },
                len,
                kind: JsStringKind::Rope,
            },
            refcount: Cell::new(1),
            latin1: left.is_latin1() && right.is_latin1(),
            state: UnsafeCell::new(RopeState::Halves(left, right)),
        });
        // SAFETY: a `RopeString` starts with its vtable, which matches its kind.
        unsafe { JsString::from_ptr(NonNull::from(Box::leak(node)).cast()) }
    }

    /// Whether every leaf is Latin-1 (the flat string is, or will be).
    #[inline]
    pub(crate) fn is_latin1(&self) -> bool {
        self.latin1
    }

    #[inline]
    fn state(&self) -> &RopeState {
        // SAFETY: see the notes on `RopeString`: the state is only replaced by `as_str` when
        // no reference into it is live.
        unsafe { &*self.state.get() }
    }

    /// The two halves, if not flattened yet.
    #[inline]
    fn halves(&self) -> Option<(&JsString, &JsString)> {
        match self.state() {
            RopeState::Halves(left, right) => Some((left, right)),
            RopeState::Flat(_) => None,
        }
    }

    /// The flat string, if flattened.
    #[inline]
    pub(crate) fn flat(&self) -> Option<&JsString> {
        match self.state() {
            RopeState::Flat(flat) => Some(flat),
            RopeState::Halves(..) => None,
        }
    }

    /// The contents, flattening the rope the first time.
    fn as_str(&self) -> JsStr<'_> {
        if let Some(flat) = self.flat() {
            return flat.as_str();
        }
        let flat = self.flatten();
        // SAFETY: `flatten` has returned, so nothing borrows the state (see the notes on
        // `RopeString`). The old halves are dropped after the state is consistent again.
        let halves = unsafe { std::mem::replace(&mut *self.state.get(), RopeState::Flat(flat)) };
        drop(halves);
        self.flat().expect("the rope was just flattened").as_str()
    }

    /// Copies the leaves into a new sequence string.
    fn flatten(&self) -> JsString {
        let len = self.vtable.len;
        let (flat, nodes) = if self.latin1 {
            let ptr = SequenceString::<Latin1>::allocate(len);
            // SAFETY: `allocate` made room for `len` bytes after the header; they are written
            // below (`fill` checks that exactly `len` are) before the string is read.
            let data = unsafe {
                std::slice::from_raw_parts_mut(
                    (&raw mut (*ptr.as_ptr()).data).cast::<MaybeUninit<u8>>(),
                    len,
                )
            };
            let nodes = self.fill(data, |dst, leaf| match leaf.variant() {
                JsStrVariant::Latin1(units) => {
                    for (slot, unit) in dst.iter_mut().zip(units) {
                        slot.write(*unit);
                    }
                }
                JsStrVariant::Utf16(_) => unreachable!("a Latin-1 rope has only Latin-1 leaves"),
            });
            // SAFETY: a sequence string, every unit written.
            (unsafe { JsString::from_ptr(ptr.cast()) }, nodes)
        } else {
            let ptr = SequenceString::<Utf16>::allocate(len);
            // SAFETY: as above, with room for `len` code units.
            #[allow(clippy::cast_ptr_alignment)]
            let data = unsafe {
                std::slice::from_raw_parts_mut(
                    (&raw mut (*ptr.as_ptr()).data).cast::<MaybeUninit<u16>>(),
                    len,
                )
            };
            let nodes = self.fill(data, |dst, leaf| match leaf.variant() {
                JsStrVariant::Latin1(units) => {
                    for (slot, unit) in dst.iter_mut().zip(units) {
                        slot.write(u16::from(*unit));
                    }
                }
                JsStrVariant::Utf16(units) => {
                    for (slot, unit) in dst.iter_mut().zip(units) {
                        slot.write(*unit);
                    }
                }
            });
            // SAFETY: a sequence string, every unit written.
            (unsafe { JsString::from_ptr(ptr.cast()) }, nodes)
        };
        if let Some(hook) = FLATTEN_HOOK.get() {
            hook(len, nodes);
        }
        flat
    }

    /// Writes the leaves of this unflattened rope into `dst` (its length), from the end, and
    /// returns how many rope nodes it walked. Walking from the right keeps the worklist short
    /// for left-deep ropes (appends): the right half, a leaf, is written at once.
    ///
    /// # Panics
    /// If the leaves do not fill `dst` exactly (the lengths are inconsistent; never).
    fn fill<T>(
        &self,
        dst: &mut [MaybeUninit<T>],
        copy: impl Fn(&mut [MaybeUninit<T>], JsStr<'_>),
    ) -> usize {
        let (left, right) = self.halves().expect("fill of a flattened rope");
        let mut end = dst.len();
        let mut nodes = 1;
        let mut pending: Vec<&JsString> = vec![left];
        let mut next = Some(right);
        while let Some(piece) = next.take().or_else(|| pending.pop()) {
            let leaf = if piece.kind() == JsStringKind::Rope {
                // SAFETY: the kind says so.
                let rope: &RopeString = unsafe { piece.as_inner() };
                match rope.state() {
                    RopeState::Halves(left, right) => {
                        nodes += 1;
                        pending.push(left);
                        next = Some(right);
                        continue;
                    }
                    RopeState::Flat(flat) => flat.as_str(),
                }
            } else {
                // Not a rope: its contents are at hand, nothing is flattened.
                piece.as_str()
            };
            let start = end
                .checked_sub(leaf.len())
                .expect("rope leaves longer than the rope");
            copy(&mut dst[start..end], leaf);
            end = start;
        }
        assert_eq!(end, 0, "rope leaves shorter than the rope");
        nodes
    }

    /// `x + y` for strings that are both non-empty and together at least [`ROPE_MIN_LEN`]
    /// long: a new rope node, merging a short piece into the adjacent short leaf of a rope.
    pub(crate) fn concat(x: &JsString, y: &JsString) -> JsString {
        let Some(len) = x.len().checked_add(y.len()) else {
            alloc_overflow()
        };
        debug_assert!(len >= ROPE_MIN_LEN && !x.is_empty() && !y.is_empty());
        // Appending: `(l + r) + y` is `l + (r + y)` with `r + y` copied, if short.
        if let Some((l, r)) = unflattened(x)
            && !is_rope(r)
            && !is_rope(y)
            && r.len() + y.len() <= MERGED_LEAF_MAX
        {
            let leaf = JsString::concat(r.as_str(), y.as_str());
            return Self::new_string(leaf_of(l), leaf, len);
        }
        // Prepending: `x + (l + r)` is `(x + l) + r`.
        if let Some((l, r)) = unflattened(y)
            && !is_rope(l)
            && !is_rope(x)
            && x.len() + l.len() <= MERGED_LEAF_MAX
        {
            let leaf = JsString::concat(x.as_str(), l.as_str());
            return Self::new_string(leaf, leaf_of(r), len);
        }
        Self::new_string(leaf_of(x), leaf_of(y), len)
    }
}

/// Whether `s` is a rope (flattened or not).
#[inline]
fn is_rope(s: &JsString) -> bool {
    s.kind() == JsStringKind::Rope
}

/// The halves of `s`, if it is a rope not flattened yet.
#[inline]
fn unflattened(s: &JsString) -> Option<(&JsString, &JsString)> {
    if !is_rope(s) {
        return None;
    }
    // SAFETY: the kind says so.
    let rope: &RopeString = unsafe { s.as_inner() };
    rope.halves()
}

/// `s` as a half of a new rope: a flattened rope gives its flat string, so the new rope does
/// not keep the old node alive.
#[inline]
fn leaf_of(s: &JsString) -> JsString {
    if is_rope(s) {
        // SAFETY: the kind says so.
        let rope: &RopeString = unsafe { s.as_inner() };
        if let Some(flat) = rope.flat() {
            return flat.clone();
        }
    }
    s.clone()
}

#[inline]
fn rope_clone(vtable: NonNull<JsStringVTable>) -> JsString {
    // SAFETY: This is part of the correct vtable which is validated on construction.
    let this: &RopeString = unsafe { vtable.cast().as_ref() };
    let Some(strong) = this.refcount.get().checked_add(1) else {
        abort();
    };
    this.refcount.set(strong);
    // SAFETY: validated the string outside this function.
    unsafe { JsString::from_ptr(vtable) }
}

#[inline]
fn rope_drop(vtable: NonNull<JsStringVTable>) {
    // SAFETY: This is part of the correct vtable which is validated on construction.
    let this: &RopeString = unsafe { vtable.cast().as_ref() };
    let Some(new) = this.refcount.get().checked_sub(1) else {
        abort();
    };
    this.refcount.set(new);
    if new != 0 {
        return;
    }
    // SAFETY: that was the last reference.
    unsafe { free(vtable.cast()) };
}

/// Frees `node` and every node only it kept alive, without recursion: a half whose last
/// reference this was is unwound in the same loop (a worklist holds the second one when both
/// are); every other half just loses a reference (and frees itself, not being a rope, or being
/// a rope someone else still holds, without reaching here again).
///
/// # Safety
/// `node` is a rope node whose reference count reached zero.
unsafe fn free(node: NonNull<RopeString>) {
    let mut pending: Vec<NonNull<RopeString>> = Vec::new();
    let mut next = Some(node);
    while let Some(node) = next.take().or_else(|| pending.pop()) {
        // SAFETY: the node was allocated by `Box` in `new_string`, and nothing refers to it
        // any more (its count reached zero, or it was the last reference's half).
        let node = unsafe { Box::from_raw(node.as_ptr()) };
        match node.state.into_inner() {
            RopeState::Flat(flat) => drop(flat),
            RopeState::Halves(left, right) => {
                for half in [left, right] {
                    if is_rope(&half) && half.refcount() == Some(1) {
                        // This was the last reference: unwind the half here, not in its drop.
                        let half = ManuallyDrop::new(half);
                        let ptr = half.ptr.cast::<RopeString>();
                        if next.is_none() {
                            next = Some(ptr);
                        } else {
                            pending.push(ptr);
                        }
                    } else {
                        drop(half);
                    }
                }
            }
        }
    }
}

#[inline]
fn rope_as_str(vtable: NonNull<JsStringVTable>) -> JsStr<'static> {
    // SAFETY: This is part of the correct vtable which is validated on construction.
    let this: &RopeString = unsafe { vtable.cast().as_ref() };
    // SAFETY: the contents live as long as the node, which `JsString`'s API ties the result to.
    unsafe { this.as_str().as_static() }
}

#[inline]
fn rope_code_points(vtable: NonNull<JsStringVTable>) -> CodePointsIter<'static> {
    CodePointsIter::new(rope_as_str(vtable))
}

/// `VTable` function for refcount, need to return an `Option<usize>`.
#[inline]
#[allow(clippy::unnecessary_wraps)]
fn rope_refcount(vtable: NonNull<JsStringVTable>) -> Option<usize> {
    // SAFETY: This is part of the correct vtable which is validated on construction.
    let this: &RopeString = unsafe { vtable.cast().as_ref() };
    Some(this.refcount.get())
}
