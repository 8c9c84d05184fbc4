#![allow(clippy::redundant_clone)]

use std::hash::{BuildHasher, BuildHasherDefault, Hash};

use crate::{
    CodePoint, CommonJsStringBuilder, JsStr, JsString, JsStringKind, Latin1JsStringBuilder,
    StaticJsStrings, StaticString, Utf16JsStringBuilder,
};

use rustc_hash::FxHasher;

fn hash_value<T: Hash>(value: &T) -> u64 {
    BuildHasherDefault::<FxHasher>::default().hash_one(value)
}

const fn ascii_to_utf16<const LEN: usize>(ascii: &[u8; LEN]) -> [u16; LEN] {
    let mut array = [0; LEN];
    let mut i = 0;
    while i < LEN {
        array[i] = ascii[i] as u16;
        i += 1;
    }
    array
}

#[test]
fn empty() {
    let s = StaticJsStrings::EMPTY_STRING;
    assert_eq!(&s, &[]);
}

#[test]
fn refcount() {
    let x = JsString::from("Hello world");
    assert_eq!(x.refcount(), Some(1));

    {
        let y = x.clone();
        assert_eq!(x.refcount(), Some(2));
        assert_eq!(y.refcount(), Some(2));

        {
            let z = y.clone();
            assert_eq!(x.refcount(), Some(3));
            assert_eq!(y.refcount(), Some(3));
            assert_eq!(z.refcount(), Some(3));
        }

        assert_eq!(x.refcount(), Some(2));
        assert_eq!(y.refcount(), Some(2));
    }

    assert_eq!(x.refcount(), Some(1));
}

#[test]
fn static_refcount() {
    let x = StaticJsStrings::EMPTY_STRING;
    assert_eq!(x.refcount(), None);

    {
        let y = x.clone();
        assert_eq!(x.refcount(), None);
        assert_eq!(y.refcount(), None);
    };

    assert_eq!(x.refcount(), None);
}

#[test]
fn ptr_eq() {
    let x = JsString::from("Hello");
    let y = x.clone();

    assert!(!x.is_static());

    assert_eq!(x.ptr.addr(), y.ptr.addr());

    let z = JsString::from("Hello");
    assert_ne!(x.ptr.addr(), z.ptr.addr());
    assert_ne!(y.ptr.addr(), z.ptr.addr());
}

#[test]
fn static_ptr_eq() {
    let x = StaticJsStrings::EMPTY_STRING;
    let y = x.clone();

    assert!(x.is_static());

    assert_eq!(x.ptr.addr(), y.ptr.addr());

    let z = StaticJsStrings::EMPTY_STRING;
    assert_eq!(x.ptr.addr(), z.ptr.addr());
    assert_eq!(y.ptr.addr(), z.ptr.addr());
}

#[test]
fn as_str() {
    const HELLO: &[u16] = &ascii_to_utf16(b"Hello");
    let x = JsString::from(HELLO);

    assert_eq!(&x, HELLO);
}

#[test]
fn hash() {
    const HELLOWORLD: JsStr<'_> = JsStr::latin1("Hello World!".as_bytes());
    let x = JsString::from(HELLOWORLD);

    assert_eq!(x.as_str(), HELLOWORLD);

    assert!(HELLOWORLD.is_latin1());
    assert!(x.as_str().is_latin1());

    let s_hash = hash_value(&HELLOWORLD);
    let x_hash = hash_value(&x);

    assert_eq!(s_hash, x_hash);
}

#[test]
fn concat() {
    const Y: &[u16] = &ascii_to_utf16(b", ");
    const W: &[u16] = &ascii_to_utf16(b"!");

    let x = JsString::from("hello");
    let z = JsString::from("world");

    let xy = JsString::concat(x.as_str(), JsString::from(Y).as_str());
    assert_eq!(&xy, &ascii_to_utf16(b"hello, "));
    assert_eq!(xy.refcount(), Some(1));

    let xyz = JsString::concat(xy.as_str(), z.as_str());
    assert_eq!(&xyz, &ascii_to_utf16(b"hello, world"));
    assert_eq!(xyz.refcount(), Some(1));

    let xyzw = JsString::concat(xyz.as_str(), JsString::from(W).as_str());
    assert_eq!(&xyzw, &ascii_to_utf16(b"hello, world!"));
    assert_eq!(xyzw.refcount(), Some(1));
}

#[test]
fn trim_start_non_ascii_to_ascii() {
    let s = "\u{2029}abc";
    let x = JsString::from(s);

    let y = x.trim_start();

    assert_eq!(&y, s.trim_start());
}

#[test]
fn conversion_to_known_static_js_string() {
    const JS_STR_U8: &JsStr<'_> = &JsStr::latin1("length".as_bytes());
    const JS_STR_U16: &JsStr<'_> = &JsStr::utf16(&ascii_to_utf16(b"length"));

    assert!(JS_STR_U8.is_latin1());
    assert!(!JS_STR_U16.is_latin1());

    assert_eq!(JS_STR_U8, JS_STR_U8);
    assert_eq!(JS_STR_U16, JS_STR_U16);

    assert_eq!(JS_STR_U8, JS_STR_U16);
    assert_eq!(JS_STR_U16, JS_STR_U8);

    assert_eq!(hash_value(JS_STR_U8), hash_value(JS_STR_U16));

    let string = StaticJsStrings::get_string(JS_STR_U8);

    assert!(string.is_some());
    assert!(string.unwrap().as_str().is_latin1());

    let string = StaticJsStrings::get_string(JS_STR_U16);

    assert!(string.is_some());
    assert!(string.unwrap().as_str().is_latin1());
}

#[test]
fn to_std_string_escaped() {
    assert_eq!(
        JsString::from("Hello, \u{1D49E} world!").to_std_string_escaped(),
        "Hello, \u{1D49E} world!"
    );

    assert_eq!(
        JsString::from("Hello, world!").to_std_string_escaped(),
        "Hello, world!"
    );

    // 15 should not be escaped.
    let unpaired_surrogates: [u16; 3] = [0xDC58, 0xD83C, 0x0015];
    assert_eq!(
        JsString::from(&unpaired_surrogates).to_std_string_escaped(),
        "\\uDC58\\uD83C\u{15}"
    );
}

#[test]
fn from_static_js_string() {
    static STATIC_HELLO_WORLD: StaticString =
        StaticString::new(JsStr::latin1("hello world".as_bytes()));
    static STATIC_EMOJIS: StaticString = StaticString::new(JsStr::utf16(&[
        0xD83C, 0xDFB9, 0xD83C, 0xDFB6, 0xD83C, 0xDFB5,
    ])); // 🎹🎶🎵

    let latin1 = JsString::from_static(&STATIC_HELLO_WORLD);
    let utf16 = JsString::from_static(&STATIC_EMOJIS);

    // content compare
    assert_eq!(latin1, "hello world");
    assert_eq!(utf16, "🎹🎶🎵");

    // refcount check
    let clone = latin1.clone();

    assert_eq!(clone, latin1);

    let clone = utf16.clone();

    assert_eq!(clone, utf16);

    assert!(latin1.refcount().is_none());
    assert!(utf16.refcount().is_none());

    // `is_latin1` check
    assert!(latin1.as_str().is_latin1());
    assert!(!utf16.as_str().is_latin1());
}

#[test]
fn compare_static_and_dynamic_js_string() {
    static STATIC_HELLO_WORLD: StaticString =
        StaticString::new(JsStr::latin1("hello world".as_bytes()));
    static STATIC_EMOJIS: StaticString = StaticString::new(JsStr::utf16(&[
        0xD83C, 0xDFB9, 0xD83C, 0xDFB6, 0xD83C, 0xDFB5,
    ])); // 🎹🎶🎵

    let static_latin1 = JsString::from_static(&STATIC_HELLO_WORLD);
    let static_utf16 = JsString::from_static(&STATIC_EMOJIS);

    let dynamic_latin1 = JsString::from(JsStr::latin1("hello world".as_bytes()));
    let dynamic_utf16 = JsString::from(&[0xD83C, 0xDFB9, 0xD83C, 0xDFB6, 0xD83C, 0xDFB5]);

    // content compare
    assert_eq!(static_latin1, dynamic_latin1);
    assert_eq!(static_utf16, dynamic_utf16);

    // length check
    assert_eq!(static_latin1.len(), dynamic_latin1.len());
    assert_eq!(static_utf16.len(), dynamic_utf16.len());

    // `is_static` check
    assert!(static_latin1.is_static());
    assert!(static_utf16.is_static());
    assert!(!dynamic_latin1.is_static());
    assert!(!dynamic_utf16.is_static());
}

#[test]
#[allow(clippy::cast_possible_truncation)]
#[allow(clippy::undocumented_unsafe_blocks)]
fn js_string_builder() {
    let s = "2024年5月21日";
    let utf16 = s.encode_utf16().collect::<Vec<_>>();
    let s_utf16 = utf16.as_slice();
    let ascii = "Lorem ipsum dolor sit amet";
    let s_ascii = ascii.as_bytes();
    let latin1_as_utf8_literal = "Déjà vu";
    let s_latin1_literal: &[u8] = &[
        b'D', 0xE9, /* é */
        b'j', 0xE0, /* à */
        b' ', b'v', b'u',
    ];

    // latin1 builder -- test

    // push ascii
    let mut builder = Latin1JsStringBuilder::new();
    for &code in s_ascii {
        builder.push(code);
    }
    let s_builder = builder.build().unwrap_or_default();
    assert_eq!(s_builder, ascii);

    // push latin1
    let mut builder = Latin1JsStringBuilder::new();
    for &code in s_latin1_literal {
        builder.push(code);
    }
    let s_builder = unsafe { builder.build_as_latin1() };
    assert_eq!(
        s_builder.to_std_string().unwrap_or_default(),
        latin1_as_utf8_literal
    );

    // from_iter ascii
    let s_builder = s_ascii
        .iter()
        .copied()
        .collect::<Latin1JsStringBuilder>()
        .build()
        .unwrap_or_default();
    assert_eq!(s_builder.to_std_string().unwrap_or_default(), ascii);

    // from_iter latin1
    let s_builder = unsafe {
        s_latin1_literal
            .iter()
            .copied()
            .collect::<Latin1JsStringBuilder>()
            .build_as_latin1()
    };
    assert_eq!(
        s_builder.to_std_string().unwrap_or_default(),
        latin1_as_utf8_literal
    );

    // extend_from_slice ascii
    let mut builder = Latin1JsStringBuilder::new();
    builder.extend_from_slice(s_ascii);
    let s_builder = builder.build().unwrap_or_default();
    assert_eq!(s_builder.to_std_string().unwrap_or_default(), ascii);

    // extend_from_slice latin1
    let mut builder = Latin1JsStringBuilder::new();
    builder.extend_from_slice(s_latin1_literal);
    let s_builder = unsafe { builder.build_as_latin1() };
    assert_eq!(
        s_builder.to_std_string().unwrap_or_default(),
        latin1_as_utf8_literal
    );

    // build from utf16 encoded string
    let s_builder = s
        .as_bytes()
        .iter()
        .copied()
        .collect::<Latin1JsStringBuilder>()
        .build();
    assert_eq!(None, s_builder);

    let s_builder = s_utf16
        .iter()
        .copied()
        .map(|v| v as u8)
        .collect::<Latin1JsStringBuilder>()
        .build();
    assert_eq!(None, s_builder);

    // utf16 builder -- test

    // push
    let mut builder = Utf16JsStringBuilder::new();
    for &code in s_utf16 {
        builder.push(code);
    }
    let s_builder = builder.build();
    assert_eq!(s_builder.to_std_string().unwrap_or_default(), s);

    // from_iter
    let s_builder = s_utf16
        .iter()
        .copied()
        .collect::<Utf16JsStringBuilder>()
        .build();
    assert_eq!(s_builder.to_std_string().unwrap_or_default(), s);

    // extend_from_slice
    let mut builder = Utf16JsStringBuilder::new();
    builder.extend_from_slice(s_utf16);
    let s_builder = builder.build();
    assert_eq!(s_builder.to_std_string().unwrap_or_default(), s);
}

#[test]
fn clone_builder() {
    // latin1 builder -- test
    let origin = Latin1JsStringBuilder::from(&b"0123456789"[..]);
    let empty_origin = Latin1JsStringBuilder::new();

    // clone == origin
    let cloned = origin.clone();
    assert_eq!(origin, cloned);

    // clone_from == origin
    let mut cloned_from = Latin1JsStringBuilder::new();
    cloned_from.clone_from(&origin);
    assert_eq!(origin, cloned_from);

    // clone == origin(empty)
    let cloned = empty_origin.clone();
    assert_eq!(empty_origin, cloned);

    // clone_from == origin(empty)

    cloned_from.clone_from(&empty_origin);
    assert!(cloned_from.capacity() > 0); // Should not be reallocated so the capacity is preserved.
    assert_eq!(empty_origin, cloned_from);

    // clone_from(empty) == origin(empty)
    let mut cloned_from = Latin1JsStringBuilder::new();
    cloned_from.clone_from(&empty_origin);
    assert_eq!(cloned_from.capacity(), 0);
    assert_eq!(empty_origin, cloned_from);

    // utf16 builder -- test
    let s = "2024年5月21日";

    let origin = Utf16JsStringBuilder::from(s.encode_utf16().collect::<Vec<_>>().as_slice());
    let empty_origin = Utf16JsStringBuilder::new();
    // clone == origin
    let cloned = origin.clone();
    assert_eq!(origin, cloned);

    // clone_from == origin(empty)
    let mut cloned_from = Utf16JsStringBuilder::new();
    cloned_from.clone_from(&origin);

    assert_eq!(origin, cloned_from);
    // clone == origin(empty)
    let cloned = empty_origin.clone();
    assert_eq!(empty_origin, cloned);

    // clone_from == origin(empty)

    cloned_from.clone_from(&empty_origin);
    assert!(cloned_from.capacity() > 0); // should not be reallocated so the capacity is preserved.
    assert_eq!(empty_origin, cloned_from);

    // clone_from(empty) == origin(empty)
    let mut cloned_from = Utf16JsStringBuilder::new();
    cloned_from.clone_from(&empty_origin);
    assert_eq!(cloned_from.capacity(), 0);
    assert_eq!(empty_origin, cloned_from);
}

#[test]
fn common_js_string_builder() {
    let utf16 = "2024年5月21日".encode_utf16().collect::<Vec<_>>();
    let s_utf16 = utf16.as_slice();
    let s = "Lorem ipsum dolor sit amet";
    let js_str_utf16 = JsStr::utf16(s_utf16);
    let js_str_ascii = JsStr::latin1(s.as_bytes());
    let latin1_bytes = [
        b'D', 0xE9, /* é */
        b'j', 0xE0, /* à */
        b' ', b'v', b'u',
    ];
    let ch = '🎹';
    let mut builder = CommonJsStringBuilder::with_capacity(10);
    builder += ch;
    builder += s;
    builder += js_str_utf16;
    builder += js_str_ascii;
    builder += ch;
    assert_eq!(builder.len(), 5);
    let js_string = builder.build_from_utf16();
    assert_eq!(
        js_string,
        "🎹Lorem ipsum dolor sit amet2024年5月21日Lorem ipsum dolor sit amet🎹"
    );
    let mut builder = CommonJsStringBuilder::new();
    for b in latin1_bytes {
        builder += b;
    }
    builder += s_utf16;
    builder += ch;
    let js_string = builder.build();
    assert_eq!(
        js_string.to_std_string().unwrap_or_default(),
        "Déjà vu2024年5月21日🎹"
    );
}

#[test]
fn code_points_optimization() {
    // Test Latin1 optimization with extended Latin1 characters
    let latin1_str = JsStr::latin1(b"Caf\xe9 na\xefve"); // "Café naïve" in Latin1 encoding
    let latin1_points: Vec<CodePoint> = latin1_str.code_points().collect();
    let expected_latin1: Vec<CodePoint> = "Café naïve".chars().map(CodePoint::Unicode).collect();
    assert_eq!(latin1_points, expected_latin1);

    // Test UTF-16 behavior unchanged (including non-ASCII)
    let utf16_str = JsStr::utf16(&[
        0x0043, 0x0061, 0x0066, 0x00E9, // "Café"
        0x0020, // space
        0x006E, 0x0061, 0x00EF, 0x0076, 0x0065, // "naïve"
    ]);
    let utf16_points: Vec<CodePoint> = utf16_str.code_points().collect();
    assert_eq!(latin1_points, utf16_points); // Same result for same content
}

#[test]
fn slice() {
    let sliced = {
        let base_str = JsString::from("Hello World");
        assert_eq!(base_str.kind(), JsStringKind::Latin1Sequence);

        base_str.slice(1, 5)
    };
    assert_eq!(sliced, JsString::from("ello"));
    assert_eq!(sliced.kind(), JsStringKind::Slice);

    let sliced2 = sliced.slice(1, 3);
    drop(sliced);
    assert_eq!(sliced2, JsString::from("ll"));
    assert_eq!(sliced2.kind(), JsStringKind::Slice);

    let sliced3 = sliced2.slice(0, 2);
    drop(sliced2);
    assert_eq!(sliced3, JsString::from("ll"));
    assert_eq!(sliced3.kind(), JsStringKind::Slice);

    let sliced4 = sliced3.slice(0, 2);
    drop(sliced3);
    assert_eq!(sliced4, JsString::from("ll"));
    assert_eq!(sliced4.kind(), JsStringKind::Slice);

    let sliced4 = sliced4.slice(0, 2);
    assert_eq!(sliced4, JsString::from("ll"));
    assert_eq!(sliced4.kind(), JsStringKind::Slice);

    let sliced5 = sliced4.slice(1, 1);
    assert_eq!(sliced5, JsString::from(""));
    assert_eq!(sliced5.kind(), JsStringKind::Static);

    assert_eq!(sliced5.slice(4, 4), StaticJsStrings::EMPTY_STRING);
}

#[test]
fn split() {
    let base_str = JsString::from("Hello World");
    assert_eq!(base_str.kind(), JsStringKind::Latin1Sequence);

    let str1 = base_str.slice(0, 5);
    let str2 = base_str.slice(6, base_str.len());

    assert_eq!(str1, JsString::from("Hello"));
    assert_eq!(str2, JsString::from("World"));

    let str3 = str1.clone();
    drop(str1);
    assert_eq!(str3, JsString::from("Hello"));
    drop(base_str);
    assert_eq!(str3, JsString::from("Hello"));
}

#[test]
fn trim() {
    // Very basic test for trimming. The extensive testing is done by `boa_engine`.
    let base_str = JsString::from(" \u{000B} Hello World \t ");
    assert_eq!(base_str.trim(), JsString::from("Hello World"));
}

#[test]
fn starts_with_and_ends_with_basic() {
    let basic = JsString::from("abcdef");
    let start_needle = JsStr::latin1("abc".as_bytes());
    assert!(basic.starts_with(start_needle));
    assert!(!basic.ends_with(start_needle));

    let end_needle = JsStr::latin1("def".as_bytes());
    assert!(!basic.starts_with(end_needle));
    assert!(basic.ends_with(end_needle));
}

// edge-sandbox patch: rope strings (vtable/rope.rs).

mod ropes {
    use super::hash_value;
    use crate::vtable::{RopeString, SliceString};
    use crate::{JsStr, JsString, JsStringKind, StaticJsStrings};
    use std::cell::Cell;

    fn rope_of(left: &JsString, right: &JsString) -> JsString {
        RopeString::new_string(left.clone(), right.clone(), left.len() + right.len())
    }

    fn is_flattened(s: &JsString) -> bool {
        assert_eq!(s.kind(), JsStringKind::Rope);
        // SAFETY: checked the kind.
        unsafe { s.as_inner::<RopeString>() }.flat().is_some()
    }

    thread_local! {
        static FLATTENED: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    }

    fn count_flatten(units: usize, nodes: usize) {
        let (u, n) = FLATTENED.get();
        FLATTENED.set((u + units, n + nodes));
    }

    #[test]
    fn short_results_are_copied_long_ones_are_ropes() {
        let a = JsString::from("a".repeat(100).as_str());
        let b = JsString::from("b".repeat(155).as_str());
        let short = JsString::concat_strings(&a, &b);
        assert_eq!(short.kind(), JsStringKind::Latin1Sequence);
        assert_eq!(short.len(), 255);

        let c = JsString::from("c".repeat(156).as_str());
        let long = JsString::concat_strings(&a, &c);
        assert_eq!(long.kind(), JsStringKind::Rope);
        assert_eq!(long.len(), 256);
        assert!(!is_flattened(&long));
        let expected = format!("{}{}", "a".repeat(100), "c".repeat(156));
        assert_eq!(long.to_std_string().unwrap(), expected);
        assert!(is_flattened(&long));
        assert_eq!(long.len(), 256);

        // An empty operand gives the other one.
        let empty = StaticJsStrings::EMPTY_STRING;
        assert_eq!(JsString::concat_strings(&long, &empty).ptr, long.ptr);
        assert_eq!(JsString::concat_strings(&empty, &a).ptr, a.ptr);
    }

    #[test]
    fn a_rope_equals_hashes_and_compares_as_its_flat_string() {
        let a = JsString::from("x".repeat(300).as_str());
        let b = JsString::from("y".repeat(300).as_str());
        let flat = JsString::from(format!("{}{}", "x".repeat(300), "y".repeat(300)).as_str());
        let rope = || JsString::concat_strings(&a, &b);
        assert_eq!(rope(), flat);
        assert_eq!(flat, rope());
        assert_eq!(rope(), rope());
        assert_eq!(hash_value(&rope()), hash_value(&flat));
        assert_eq!(rope().cmp(&flat), std::cmp::Ordering::Equal);
        assert!(rope() < JsString::concat_strings(&b, &a));
        assert!(rope() > a);
        // The same contents stored as UTF-16 compare and hash equal too.
        let wide = JsString::from(flat.to_vec().as_slice());
        assert_eq!(wide.kind(), JsStringKind::Utf16Sequence);
        assert_eq!(rope(), wide);
        assert_eq!(hash_value(&rope()), hash_value(&wide));
        // Other accessors.
        let r = rope();
        assert_eq!(r.code_unit_at(299), Some(u16::from(b'x')));
        assert_eq!(r.code_unit_at(300), Some(u16::from(b'y')));
        assert_eq!(r.iter().count(), 600);
        assert_eq!(r.code_points().count(), 600);
        assert_eq!(r.index_of(JsStr::latin1(b"xy"), 0), Some(299));
        assert_eq!(
            JsString::concat_strings(&r, &JsString::from("  ")).trim(),
            flat
        );
        assert_eq!(format!("{r:?}").len(), 600 + "JsString(\"\")".len());
        assert!(format!("{:?}", r.debug_info()).contains("Rope"));
    }

    #[test]
    fn refcounts_are_those_of_any_string() {
        let a = JsString::from("a".repeat(300).as_str());
        let rope = JsString::concat_strings(&a, &a);
        assert_eq!(a.refcount(), Some(3));
        assert_eq!(rope.refcount(), Some(1));
        let copy = rope.clone();
        assert_eq!(rope.refcount(), Some(2));
        assert_eq!(copy.ptr, rope.ptr);
        drop(copy);
        assert_eq!(rope.refcount(), Some(1));
        // Flattening releases the halves.
        assert_eq!(rope.len(), 600);
        let _ = rope.as_str();
        assert_eq!(a.refcount(), Some(1));
        drop(rope);
        assert_eq!(a.refcount(), Some(1));
    }

    #[test]
    fn latin1_leaves_flatten_to_latin1_others_to_utf16() {
        let latin1 = JsString::from("caf\u{e9} ".repeat(60).as_str());
        assert!(latin1.as_str().is_latin1());
        let rope = JsString::concat_strings(&latin1, &latin1);
        assert!(rope.is_latin1());
        assert!(rope.as_str().is_latin1());
        assert_eq!(rope.to_std_string().unwrap(), "caf\u{e9} ".repeat(120));

        let euro = JsString::from("\u{20ac}");
        assert!(!euro.is_latin1());
        let mixed = JsString::concat_strings(&JsString::concat_strings(&rope, &euro), &latin1);
        assert_eq!(mixed.kind(), JsStringKind::Rope);
        assert!(!mixed.is_latin1());
        assert!(!mixed.as_str().is_latin1());
        let expected = format!(
            "{}\u{20ac}{}",
            "caf\u{e9} ".repeat(120),
            "caf\u{e9} ".repeat(60)
        );
        assert_eq!(mixed.to_std_string().unwrap(), expected);
        assert_eq!(mixed, JsString::from(expected.as_str()));

        // An ASCII string stored as UTF-16 is a UTF-16 leaf: the flat string is UTF-16.
        let wide = JsString::from("wide".encode_utf16().collect::<Vec<_>>().as_slice());
        assert!(!wide.is_latin1());
        let rope = JsString::concat_strings(&latin1, &wide);
        assert!(!rope.as_str().is_latin1());
        assert_eq!(
            rope,
            JsString::from(format!("{}wide", "caf\u{e9} ".repeat(60)).as_str())
        );

        // Surrogate pairs split across leaves join up.
        let high = JsString::from(&[0xD83D_u16][..]);
        let low = JsString::from(&[0xDE00_u16][..]);
        let pad = JsString::from("p".repeat(300).as_str());
        let joined = JsString::concat_strings_array(&[pad.clone(), high, low]);
        assert_eq!(
            joined.to_std_string().unwrap(),
            format!("{}\u{1F600}", "p".repeat(300))
        );
    }

    #[test]
    fn appending_short_pieces_merges_them_into_leaves() {
        let mut s = StaticJsStrings::EMPTY_STRING;
        let mut expected = String::new();
        for i in 0..100_000 {
            let piece = JsString::from(format!("{i},").as_str());
            s = JsString::concat_strings(&s, &piece);
            expected += &i.to_string();
            expected.push(',');
        }
        assert_eq!(s.kind(), JsStringKind::Rope);
        assert_eq!(s.len(), expected.len());
        assert_eq!(s.to_std_string().unwrap(), expected);

        // And prepending.
        let mut s = StaticJsStrings::EMPTY_STRING;
        let mut expected = String::new();
        for i in 0..10_000 {
            s = JsString::concat_strings(&JsString::from(format!("{i};").as_str()), &s);
            expected.insert_str(0, &format!("{i};"));
        }
        assert_eq!(s.to_std_string().unwrap(), expected);
    }

    #[test]
    fn a_rope_of_a_million_nodes_flattens_and_drops_without_recursion() {
        // Not static strings, which have no reference count.
        let x = JsString::from("x.");
        let y = JsString::from("y.");
        // Left-deep (appends) and right-deep (prepends), a million nodes each.
        let mut left = JsString::from("<");
        let mut right = JsString::from(">");
        for _ in 0..1_000_000 {
            left = rope_of(&left, &x);
            right = rope_of(&y, &right);
        }
        assert_eq!(left.len(), 2_000_001);
        assert_eq!(x.refcount(), Some(1_000_001));
        FLATTENED.set((0, 0));
        crate::set_flatten_hook(Some(count_flatten));
        let flat = left.as_str();
        assert_eq!(flat.len(), 2_000_001);
        assert_eq!(flat.get(0), Some(u16::from(b'<')));
        assert_eq!(flat.get(1..5), Some(JsStr::latin1(b"x.x.")));
        assert_eq!(flat.get(1_999_999..), Some(JsStr::latin1(b"x.")));
        assert_eq!(FLATTENED.get(), (2_000_001, 1_000_000));
        // The halves were released: only `x` itself and `flat`'s string are left.
        assert_eq!(x.refcount(), Some(1));
        let right = right.to_std_string().unwrap();
        assert_eq!(right.len(), 2_000_001);
        assert!(right.starts_with("y.y.") && right.ends_with("y.y.>"));
        crate::set_flatten_hook(None);
        // Dropping a million-node rope that was never flattened.
        let mut deep = JsString::from("<");
        for _ in 0..1_000_000 {
            deep = rope_of(&deep, &y);
        }
        assert_eq!(y.refcount(), Some(1_000_001));
        drop(deep);
        assert_eq!(y.refcount(), Some(1));
    }

    #[test]
    fn a_dag_flattens_every_path_and_frees_each_node_once() {
        // `s = s + s`: every node's two halves are the same node.
        let seed = JsString::from("ab".repeat(150).as_str());
        let mut s = seed.clone();
        let mut levels = Vec::new();
        for _ in 0..10 {
            s = JsString::concat_strings(&s, &s);
            levels.push(s.clone());
        }
        assert_eq!(s.len(), 300 << 10);
        assert_eq!(seed.refcount(), Some(3));
        // Each level is held by `levels` and twice by the next level.
        assert_eq!(levels[0].refcount(), Some(3));
        assert_eq!(s.refcount(), Some(2));
        FLATTENED.set((0, 0));
        crate::set_flatten_hook(Some(count_flatten));
        assert_eq!(s.to_std_string().unwrap(), "ab".repeat(150 << 10));
        assert_eq!(FLATTENED.get(), (300 << 10, (1 << 10) - 1));
        crate::set_flatten_hook(None);
        // Flattening the top released its halves; the rest still stand.
        assert_eq!(levels[8].refcount(), Some(1));
        assert!(!is_flattened(&levels[8]));
        assert_eq!(levels[8].len(), 300 << 9);
        drop(levels);
        // Only the flat top is left.
        assert_eq!(seed.refcount(), Some(1));
        assert_eq!(s.refcount(), Some(1));
        assert_eq!(s.len(), 300 << 10);
    }

    #[test]
    fn a_dag_with_shared_subtrees_at_several_depths_frees_each_node_once() {
        let leaf = JsString::from("a".repeat(300).as_str());
        let two = rope_of(&leaf, &leaf);
        let three = rope_of(&two, &leaf);
        let five = rope_of(&three, &two);
        let top = rope_of(&five, &rope_of(&five, &three));
        assert_eq!(top.len(), 300 * (5 + 5 + 3));
        drop((two, three, five));
        // Held twice by `two` and once by `three`, which `top` keeps alive.
        assert_eq!(leaf.refcount(), Some(4));
        let top2 = top.clone();
        drop(top);
        assert_eq!(leaf.refcount(), Some(4));
        assert_eq!(top2.to_std_string().unwrap(), "a".repeat(300 * 13));
        assert_eq!(leaf.refcount(), Some(1));
        drop(top2);
        assert_eq!(leaf.refcount(), Some(1));
        let two = rope_of(&leaf, &leaf);
        let three = rope_of(&two, &rope_of(&two, &leaf));
        drop(two);
        assert_eq!(leaf.refcount(), Some(4));
        drop(three);
        assert_eq!(leaf.refcount(), Some(1));
    }

    #[test]
    fn concatenating_onto_a_rope_makes_a_new_node() {
        let big = JsString::from("b".repeat(1000).as_str());
        let rope = JsString::concat_strings(&big, &big);
        let longer = JsString::concat_strings(&rope, &big);
        assert_eq!(longer.kind(), JsStringKind::Rope);
        assert_eq!(rope.refcount(), Some(2));
        assert!(!is_flattened(&rope));
        // A flattened rope is joined by its flat string, not its node.
        let _ = rope.as_str();
        let again = JsString::concat_strings(&rope, &big);
        assert_eq!(rope.refcount(), Some(2));
        assert_eq!(again.len(), 3000);
        drop(longer);
        assert_eq!(rope.refcount(), Some(1));
        assert_eq!(again, JsString::from("b".repeat(3000).as_str()));
    }

    #[test]
    fn slices_of_ropes_and_of_slices_keep_the_flat_data() {
        let a = JsString::from("0123456789".repeat(30).as_str());
        let rope = JsString::concat_strings(&a, &a);
        let slice = rope.slice(295, 305);
        assert_eq!(slice, JsString::from("5678901234"));
        assert_eq!(slice.kind(), JsStringKind::Slice);
        // SAFETY: checked the kind.
        let owner = unsafe { slice.as_inner::<SliceString>() }.owned();
        assert_eq!(owner.kind(), JsStringKind::Latin1Sequence);
        assert_eq!(owner.len(), 600);
        let inner = slice.slice(2, 8);
        assert_eq!(inner, JsString::from("789012"));
        // SAFETY: checked the kind.
        let owner2 = unsafe { inner.as_inner::<SliceString>() }.owned();
        assert_eq!(owner2.ptr, owner.ptr);
        drop(rope);
        assert_eq!(inner, JsString::from("789012"));

        // A long chain of slices drops without recursion.
        let long = JsString::from("z".repeat(200_000).as_str());
        let mut s = long.clone();
        for _ in 0..100_000 {
            s = s.slice(1, s.len());
        }
        assert_eq!(s.len(), 100_000);
        assert_eq!(long.refcount(), Some(2));
        drop(s);
        assert_eq!(long.refcount(), Some(1));
    }

    #[test]
    fn concat_strings_array_keeps_short_runs_flat() {
        let parts: Vec<JsString> = (0..10)
            .map(|i| JsString::from(format!("{i}-").as_str()))
            .collect();
        let short = JsString::concat_strings_array(&parts);
        assert_eq!(short.kind(), JsStringKind::Latin1Sequence);
        assert_eq!(short, JsString::from("0-1-2-3-4-5-6-7-8-9-"));

        let long = JsString::from("L".repeat(400).as_str());
        let mixed = [
            parts[0].clone(),
            parts[1].clone(),
            long.clone(),
            parts[2].clone(),
        ];
        let joined = JsString::concat_strings_array(&mixed);
        assert_eq!(joined.kind(), JsStringKind::Rope);
        assert_eq!(
            joined,
            JsString::from(format!("0-1-{}2-", "L".repeat(400)).as_str())
        );
        assert_eq!(JsString::from(&mixed[..]), joined);
        assert_eq!(
            JsString::concat_strings_array(&[]),
            StaticJsStrings::EMPTY_STRING
        );
    }
}
