//! Module defining the [`JsString`] `VTable` and kinds of strings.
use crate::iter::CodePointsIter;
use crate::{JsStr, JsString, JsStringKind};
use std::ptr::NonNull;

mod sequence;
pub(crate) use sequence::SequenceString;

pub(crate) mod slice;
pub(crate) use slice::SliceString;

pub(crate) mod r#static;
pub use r#static::StaticString;

// edge-sandbox patch: rope strings (lazy concatenation).
pub(crate) mod rope;
pub(crate) use rope::RopeString;

/// The header every `JsString` points to: its kind's functions, its length and kind.
///
/// edge-sandbox patch: upstream embedded the five function pointers in every string (a 32-byte
/// header per heap string in Wasm, 56 natively, before the refcount); one shared table per kind
/// of string halves that, at the cost of one load per call. 1e5 short strings held 3.2 MB less
/// in Wasm, which is what `JSON.parse` of 1e5 small records needed to fit the default memory
/// limit.
#[derive(Debug, Copy, Clone)]
#[repr(C)]
pub(crate) struct JsStringVTable {
    /// The functions of this kind of string.
    pub fns: &'static JsStringFns,
    /// Get the length of the string. Since a string is immutable, this does not need
    /// to be a call, can be calculated at construction.
    pub len: usize,
    /// Kind tag to identify the string type.
    pub kind: JsStringKind,
}

/// The functions of one kind of string (see [`JsStringVTable`]).
#[derive(Debug, Copy, Clone)]
pub(crate) struct JsStringFns {
    /// Clone the string, incrementing the refcount.
    pub clone: fn(NonNull<JsStringVTable>) -> JsString,
    /// Drop the string, decrementing the refcount and freeing if needed.
    pub drop: fn(NonNull<JsStringVTable>),
    /// Get the string as a `JsStr`. Although this is marked as `'static`, this is really
    /// of the lifetime of the string itself. This is conveyed by the [`JsString`] API
    /// itself rather than this vtable.
    pub as_str: fn(NonNull<JsStringVTable>) -> JsStr<'static>,
    /// Get an iterator of code points. This is the basic form of character access.
    /// Although this is marked as `'static`, this is really of the lifetime of the string
    /// itself. This is conveyed by the [`JsString`] API itself rather than this vtable.
    pub code_points: fn(NonNull<JsStringVTable>) -> CodePointsIter<'static>,
    /// Get the refcount, if applicable.
    pub refcount: fn(NonNull<JsStringVTable>) -> Option<usize>,
}
