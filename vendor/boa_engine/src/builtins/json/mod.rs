//! Boa's implementation of ECMAScript's global `JSON` object.
//!
//! The `JSON` object contains methods for parsing [JavaScript Object Notation (JSON)][spec]
//! and converting values to JSON. It can't be called or constructed, and aside from its
//! two method properties, it has no interesting functionality of its own.
//!
//! More information:
//!  - [ECMAScript reference][spec]
//!  - [MDN documentation][mdn]
//!  - [JSON specification][json]
//!
//! [spec]: https://tc39.es/ecma262/#sec-json
//! [json]: https://www.json.org/json-en.html
//! [mdn]: https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/JSON

use std::rc::Rc;

use rustc_hash::FxHashSet;

use boa_ast::scope::Scope;
use boa_gc::{Finalize, Gc, Trace};

use crate::JsExpect;
use crate::{
    Context, JsArgs, JsBigInt, JsData, JsResult, JsString, JsValue, SpannedSourceText,
    builtins::BuiltInObject,
    bytecompiler::ByteCompiler,
    context::intrinsics::Intrinsics,
    error::JsNativeError,
    js_string,
    object::{IntegrityLevel, JsObject, internal_methods::InternalMethodPropertyContext},
    property::{Attribute, PropertyNameKind},
    realm::Realm,
    string::{JsStr, JsStrVariant, Latin1JsStringBuilder, StaticJsStrings, Utf16JsStringBuilder},
    symbol::JsSymbol,
    value::IntegerOrInfinity,
    vm::{CallFrame, CallFrameFlags, source_info::SourcePath},
};
use boa_parser::{Parser, Source};

/// edge-sandbox patch: fuel per value `JSON.stringify` writes or `JSON.parse` builds (besides
/// what allocating it costs): serializing and building values ran at about half the fuel per CPU
/// second of interpreted code without it, and at about 0.65x with 8 (bench/engine.mjs, "JSON").
const JSON_VALUE_FUEL: u64 = 12;

use super::{BuiltInBuilder, IntrinsicObject};

/// Converts a nibble (0-15) to its lowercase hex digit.
// edge-sandbox patch: as a Latin-1 byte, for the output buffer (`Output`).
const fn to_hex_digit(val: u16) -> u8 {
    match (val & 0xF) as u8 {
        v @ 0..=9 => b'0' + v,
        v => b'a' + (v - 10),
    }
}

#[cfg(test)]
mod tests;

// edge-sandbox patch: JSON.parse without a reviver.
mod direct;

/// Marker struct for the `[[IsRawJSON]]` internal slot.
#[derive(Debug, Trace, Finalize, JsData)]
pub(crate) struct RawJson;

/// A tree node representing the structure of parsed JSON, preserving source
/// text spans for primitive values. Used to provide `context.source` to
/// the reviver function in `JSON.parse`.
#[derive(Debug)]
enum JsonNode {
    /// A primitive value (string, number, boolean, null) with its original source text.
    Primitive(String),
    /// An array of child nodes.
    Array(Vec<JsonNode>),
    /// An object with key-value pairs.
    Object(Vec<(String, JsonNode)>),
}

/// Visitor that builds a `JsonNode` source tree by walking the parsed AST,
/// extracting source text from `LinearSpan` information tracked by the parser.
/// Uses a stack to build the tree bottom-up during depth-first traversal.
struct JsonSourceVisitor<'a> {
    source_text: &'a boa_ast::SourceText,
    interner: &'a boa_interner::Interner,
    /// Stack used to build the tree bottom-up. Leaf nodes (literals) are pushed
    /// first, then parent nodes (arrays/objects) pop their children and push themselves.
    stack: Vec<JsonNode>,
}

impl<'a> JsonSourceVisitor<'a> {
    /// Creates a new `JsonSourceVisitor`.
    fn new(source_text: &'a boa_ast::SourceText, interner: &'a boa_interner::Interner) -> Self {
        Self {
            source_text,
            interner,
            stack: Vec::new(),
        }
    }

    /// Consumes the visitor and returns the final `JsonNode` tree.
    fn finish(mut self) -> Option<JsonNode> {
        self.stack.pop()
    }
}

impl<'ast> boa_ast::visitor::Visitor<'ast> for JsonSourceVisitor<'_> {
    type BreakTy = std::convert::Infallible;

    fn visit_literal(
        &mut self,
        node: &'ast boa_ast::expression::literal::Literal,
    ) -> std::ops::ControlFlow<Self::BreakTy> {
        let span = node.linear_span();
        let code_points = self.source_text.get_code_points_from_span(span);
        let text = String::from_utf16_lossy(code_points);
        self.stack.push(JsonNode::Primitive(text));
        std::ops::ControlFlow::Continue(())
    }

    fn visit_array_literal(
        &mut self,
        node: &'ast boa_ast::expression::literal::ArrayLiteral,
    ) -> std::ops::ControlFlow<Self::BreakTy> {
        let count = node.as_ref().len();
        let base = self.stack.len();

        // Visit each element, which pushes child nodes onto the stack
        for elem in node.as_ref() {
            if let Some(expr) = elem {
                self.visit_expression(expr)?;
            } else {
                // Sparse element (should not happen in JSON)
                self.stack.push(JsonNode::Primitive("null".to_string()));
            }
        }

        // Pop the children that were just pushed and collect into array
        let children: Vec<JsonNode> = self.stack.drain(base..).collect();
        debug_assert_eq!(children.len(), count);
        self.stack.push(JsonNode::Array(children));
        std::ops::ControlFlow::Continue(())
    }

    fn visit_object_literal(
        &mut self,
        node: &'ast boa_ast::expression::literal::ObjectLiteral,
    ) -> std::ops::ControlFlow<Self::BreakTy> {
        use boa_ast::expression::literal::PropertyDefinition;

        let base = self.stack.len();
        let mut keys: Vec<String> = Vec::new();

        for prop in node.properties() {
            if let PropertyDefinition::Property(name, value) = prop {
                let key = if let Some(ident) = name.literal() {
                    self.interner.resolve_expect(ident.sym()).to_string()
                } else {
                    String::new()
                };
                keys.push(key);
                // Visit the value expression, which pushes the child node
                self.visit_expression(value)?;
            }
        }

        // Pop the value nodes and zip with keys
        let values: Vec<JsonNode> = self.stack.drain(base..).collect();
        debug_assert_eq!(keys.len(), values.len());
        let entries: Vec<(String, JsonNode)> = keys.into_iter().zip(values).collect();
        self.stack.push(JsonNode::Object(entries));
        std::ops::ControlFlow::Continue(())
    }

    fn visit_unary(
        &mut self,
        node: &'ast boa_ast::expression::operator::Unary,
    ) -> std::ops::ControlFlow<Self::BreakTy> {
        use boa_ast::expression::operator::unary::UnaryOp;
        use boa_ast::visitor::VisitWith;

        if node.op() == UnaryOp::Minus
            && let boa_ast::Expression::Literal(lit) = node.target()
        {
            let span = lit.linear_span();
            let code_points = self.source_text.get_code_points_from_span(span);
            let num_text = String::from_utf16_lossy(code_points);
            self.stack.push(JsonNode::Primitive(format!("-{num_text}")));
            return std::ops::ControlFlow::Continue(());
        }

        // Default: recurse into children
        node.visit_with(self)
    }

    fn visit_parenthesized(
        &mut self,
        node: &'ast boa_ast::expression::Parenthesized,
    ) -> std::ops::ControlFlow<Self::BreakTy> {
        // Unwrap parentheses and visit inner expression
        self.visit_expression(node.expression())
    }
}

/// edge-sandbox patch: the output of one `JSON.stringify`, in one buffer. Upstream serialized
/// every object and array into a string of its own, kept the members in a list and joined them
/// into a new string, so the text was copied once per level of nesting and an array of 100,000
/// small objects held 100,000 strings besides its 4 MB of JSON (the heap grew by 33 MB beyond
/// the array's 22 MB). Every step appends here instead. The buffer holds Latin-1 until a code unit
/// above 0xFF is appended (most JSON is ASCII), and it is a `JsString` builder, so the result is
/// the buffer itself (shrunk to fit), not a copy of it. It reserves the memory budget before it
/// grows and charges fuel for what is appended (`account`).
#[derive(Debug)]
struct Output {
    buffer: Buffer,
    /// Where the first code unit above 0xFF is in a UTF-16 buffer; `usize::MAX` if there is
    /// none (always, in a Latin-1 buffer; in a UTF-16 one, after the member holding it was
    /// dropped), and then the result is narrowed to Latin-1.
    first_wide: usize,
    /// How many of the code units fuel has been charged for.
    charged: usize,
}

#[derive(Debug)]
enum Buffer {
    Latin1(Latin1JsStringBuilder),
    Utf16(Utf16JsStringBuilder),
}

impl Output {
    fn new() -> Self {
        Self {
            buffer: Buffer::Latin1(Latin1JsStringBuilder::new()),
            first_wide: usize::MAX,
            charged: 0,
        }
    }

    /// The number of code units appended.
    fn len(&self) -> usize {
        match &self.buffer {
            Buffer::Latin1(buffer) => buffer.len(),
            Buffer::Utf16(buffer) => buffer.len(),
        }
    }

    /// Makes room for `additional` more code units. The capacity grows by half at least, so a
    /// long output is reallocated a few times only, and its unused part stays under a third of
    /// it (the budget counts it until the result is shrunk to fit); the memory budget is checked
    /// first for the whole new storage, which a reallocation may hold beside the old one.
    fn grow(&mut self, additional: usize) -> JsResult<()> {
        let (len, capacity, unit) = match &self.buffer {
            Buffer::Latin1(buffer) => (buffer.len(), buffer.capacity(), 1),
            Buffer::Utf16(buffer) => (buffer.len(), buffer.capacity(), 2),
        };
        let needed = len.saturating_add(additional);
        if needed <= capacity {
            return Ok(());
        }
        let capacity = needed.max(capacity.saturating_add(capacity / 2)).max(64);
        crate::budget::reserve(capacity.saturating_mul(unit))?;
        match &mut self.buffer {
            Buffer::Latin1(buffer) => buffer.reserve_exact(capacity - len),
            Buffer::Utf16(buffer) => buffer.reserve_exact(capacity - len),
        }
        Ok(())
    }

    /// Copies a Latin-1 buffer into a UTF-16 one with room for `additional` more code units
    /// (no more: both are held while copying, and widening late in a long output is common).
    fn widen(&mut self, additional: usize) -> JsResult<()> {
        let Buffer::Latin1(narrow) = &self.buffer else {
            return Ok(());
        };
        let capacity = narrow.len().saturating_add(additional);
        crate::budget::reserve(capacity.saturating_mul(2))?;
        crate::budget::charge_scan(narrow.len())?;
        let mut wide = Utf16JsStringBuilder::with_capacity(capacity);
        wide.extend(narrow.as_slice().iter().copied().map(u16::from));
        self.buffer = Buffer::Utf16(wide);
        Ok(())
    }

    /// Appends Latin-1 code units.
    fn push_latin1(&mut self, units: &[u8]) -> JsResult<()> {
        self.grow(units.len())?;
        match &mut self.buffer {
            Buffer::Latin1(buffer) => buffer.extend_from_slice(units),
            Buffer::Utf16(buffer) => buffer.extend(units.iter().copied().map(u16::from)),
        }
        Ok(())
    }

    /// Appends UTF-16 code units, widening the buffer at the first one above 0xFF.
    fn push_utf16(&mut self, units: &[u16]) -> JsResult<()> {
        if self.first_wide == usize::MAX
            && let Some(at) = units.iter().position(|&unit| unit > 0xFF)
        {
            self.widen(units.len())?;
            self.first_wide = self.len() + at;
        }
        self.grow(units.len())?;
        match &mut self.buffer {
            // Every unit is at most 0xFF, or the buffer would have been widened.
            Buffer::Latin1(buffer) => buffer.extend(units.iter().map(|&unit| unit as u8)),
            Buffer::Utf16(buffer) => buffer.extend_from_slice(units),
        }
        Ok(())
    }

    /// Appends a string's code units.
    fn push_str(&mut self, string: JsStr<'_>) -> JsResult<()> {
        match string.variant() {
            JsStrVariant::Latin1(units) => self.push_latin1(units),
            JsStrVariant::Utf16(units) => self.push_utf16(units),
        }
    }

    /// Appends a line feed and `indent`.
    fn push_line(&mut self, indent: &JsString) -> JsResult<()> {
        self.push_latin1(b"\n")?;
        self.push_str(indent.as_str())
    }

    /// Appends the escape sequence of `unit` (Table 73, or `UnicodeEscape(unit)`).
    fn push_escape(&mut self, unit: u16) -> JsResult<()> {
        let short = match unit {
            0x08 => b'b',
            0x09 => b't',
            0x0A => b'n',
            0x0C => b'f',
            0x0D => b'r',
            0x22 => b'"',
            0x5C => b'\\',
            _ => {
                return self.push_latin1(&[
                    b'\\',
                    b'u',
                    to_hex_digit(unit >> 12),
                    to_hex_digit(unit >> 8),
                    to_hex_digit(unit >> 4),
                    to_hex_digit(unit),
                ]);
            }
        };
        self.push_latin1(&[b'\\', short])
    }

    /// Drops the code units after the first `len` (a member whose value is undefined).
    fn truncate(&mut self, len: usize) {
        if len >= self.len() {
            return;
        }
        // SAFETY: `len` is less than the length, so the first `len` units are initialised.
        unsafe {
            match &mut self.buffer {
                Buffer::Latin1(buffer) => buffer.set_len(len),
                Buffer::Utf16(buffer) => buffer.set_len(len),
            }
        }
        if self.first_wide >= len {
            self.first_wide = usize::MAX;
        }
        self.charged = self.charged.min(len);
    }

    /// Charges fuel for the code units appended since the last charge: `JSON_VALUE_FUEL` per
    /// value, plus one per 16 code units (upstream's `account` charged each member's string as
    /// it was made, and again in each enclosing one).
    fn account(&mut self) -> JsResult<()> {
        let len = self.len();
        let added = len.saturating_sub(self.charged);
        self.charged = len;
        crate::budget::charge(JSON_VALUE_FUEL + (added as u64 >> 4))
    }

    /// The output as a string: the buffer itself, unless it is UTF-16 and holds no code unit
    /// above 0xFF any more, and is narrowed.
    fn finish(self) -> JsResult<JsString> {
        match self.buffer {
            // SAFETY: only code units up to 0xFF were appended to a Latin-1 buffer.
            Buffer::Latin1(buffer) => Ok(unsafe { buffer.build_as_latin1() }),
            Buffer::Utf16(buffer) if self.first_wide == usize::MAX => {
                crate::budget::reserve(buffer.len())?;
                let mut narrow = Latin1JsStringBuilder::with_capacity(buffer.len());
                narrow.extend(buffer.as_slice().iter().map(|&unit| unit as u8));
                // SAFETY: no code unit is above 0xFF (`first_wide`).
                Ok(unsafe { narrow.build_as_latin1() })
            }
            Buffer::Utf16(buffer) => Ok(buffer.build()),
        }
    }
}

/// Whether `QuoteJSONString` escapes the code unit `unit` (other than a lone surrogate).
const fn needs_escape(unit: u16) -> bool {
    unit < 0x20 || unit == 0x22 || unit == 0x5C
}

/// JavaScript `JSON` global object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Json;

impl IntrinsicObject for Json {
    fn init(realm: &Realm) {
        let to_string_tag = JsSymbol::to_string_tag();
        let attribute = Attribute::READONLY | Attribute::NON_ENUMERABLE | Attribute::CONFIGURABLE;

        BuiltInBuilder::with_intrinsic::<Self>(realm)
            .static_method(Self::parse, js_string!("parse"), 2)
            .static_method(Self::stringify, js_string!("stringify"), 3)
            .static_method(Self::raw_json, js_string!("rawJSON"), 1)
            .static_method(Self::is_raw_json, js_string!("isRawJSON"), 1)
            .static_property(to_string_tag, Self::NAME, attribute)
            .build();
    }

    fn get(intrinsics: &Intrinsics) -> JsObject {
        intrinsics.objects().json()
    }
}

impl BuiltInObject for Json {
    const NAME: JsString = StaticJsStrings::JSON;
}

impl Json {
    /// `JSON.parse( text[, reviver] )`
    ///
    /// This `JSON` method parses a JSON string, constructing the JavaScript value or object described by the string.
    ///
    /// An optional `reviver` function can be provided to perform a transformation on the resulting object before it is returned.
    ///
    /// More information:
    ///  - [ECMAScript reference][spec]
    ///  - [MDN documentation][mdn]
    ///
    /// [spec]: https://tc39.es/ecma262/#sec-json.parse
    /// [mdn]: https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/JSON/parse
    pub(crate) fn parse(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
        // 1. Let jsonString be ? ToString(text).
        let text = args.first().cloned().unwrap_or_default().to_string(context)?;
        // edge-sandbox patch: ASCII text (what JSON.stringify makes) is UTF-8 as it is stored:
        // it is read in place instead of copied, which took as much memory again as the text
        // while the parsed values were being built.
        let json_string: std::borrow::Cow<'_, str> = match text.as_str().variant() {
            JsStrVariant::Latin1(bytes) if bytes.is_ascii() => std::str::from_utf8(bytes)
                .map_err(|e| JsNativeError::syntax().with_message(e.to_string()))?
                .into(),
            _ => text
                .to_std_string()
                .map_err(|e| JsNativeError::syntax().with_message(e.to_string()))?
                .into(),
        };

        // edge-sandbox patch: parsing goes through serde_json (to validate), the JS parser, the
        // bytecompiler and the VM; charge per input byte and reserve for the syntax tree and
        // bytecode, which take tens of bytes per input byte (one `Vec` per array literal).
        // Nesting is bounded by serde_json's recursion limit (128) before the JS parser runs.
        // Validation runs first, so too-deep or malformed text is a SyntaxError, not a limit.
        crate::budget::charge(json_string.len() as u64)?;

        // Check if a reviver is provided, to determine if we need source text tracking
        let has_reviver = args.get_or_undefined(1).is_callable();
        // edge-sandbox patch: without a reviver, no source text is needed: build the values in
        // one pass (direct.rs) instead of validating, then parsing and running the text as JS.
        if !has_reviver {
            return direct::parse(&json_string, context);
        }

        // 2. Parse ! StringToCodePoints(jsonString) as a JSON text as specified in ECMA-404.
        //    Throw a SyntaxError exception if it is not a valid JSON text as defined in that specification.
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&json_string) {
            return Err(JsNativeError::syntax().with_message(e.to_string()).into());
        }
        crate::budget::reserve(json_string.len().saturating_mul(32))?;

        // 3. Let scriptString be the string-concatenation of "(", jsonString, and ");".
        let script_string = format!("({json_string});");

        // 4-10. Parse and evaluate the script
        let source = Source::from_bytes(&script_string);
        let mut parser = Parser::new(source);
        parser.set_json_parse();

        // Use parse_script_with_source to get SourceText for span-based source extraction
        let (script, source_text) =
            parser.parse_script_with_source(&Scope::new_global(), context.interner_mut())?;

        // Build the source tree from the AST if a reviver is present.
        // This walks the parsed AST and extracts source text from LinearSpan information,
        // avoiding the need to re-parse the JSON string separately.
        let source_tree = if has_reviver {
            let expr = script.statements().statements().first().and_then(|item| {
                if let boa_ast::StatementListItem::Statement(stmt) = item
                    && let boa_ast::Statement::Expression(expr) = stmt.as_ref()
                {
                    return Some(expr);
                }
                None
            });
            expr.and_then(|e| {
                use boa_ast::visitor::Visitor;
                let mut visitor = JsonSourceVisitor::new(&source_text, context.interner());
                let _ = visitor.visit_expression(e);
                visitor.finish()
            })
        } else {
            None
        };

        let code_block = {
            let in_with = context.vm.frame().environments.has_object_environment();
            let spanned_source_text = SpannedSourceText::new_source_only(
                crate::spanned_source_text::SourceText::new(source_text),
            );
            let mut compiler = ByteCompiler::new(
                js_string!("<json>"),
                script.strict(),
                true,
                context.realm().scope().clone(),
                context.realm().scope().clone(),
                false,
                false,
                context.interner_mut(),
                in_with,
                spanned_source_text,
                SourcePath::Json,
            );
            compiler.compile_statement_list(script.statements(), true, false);
            Gc::new(compiler.finish())
        };

        let realm = context.realm().clone();

        let env_fp = context.vm.frame().environments.len() as u32;
        context.vm.push_frame_with_stack(
            CallFrame::new(
                code_block,
                None,
                context.vm.frame().environments.clone(),
                realm,
            )
            .with_env_fp(env_fp)
            .with_flags(CallFrameFlags::EXIT_EARLY),
            JsValue::undefined(),
            JsValue::null(),
        );

        context.realm().resize_global_env();
        let record = context.run();
        context.vm.pop_frame();

        let unfiltered = record.consume()?;

        // 11. If IsCallable(reviver) is true, then
        if let Some(obj) = args.get_or_undefined(1).as_callable() {
            // a. Let root be ! OrdinaryObjectCreate(%Object.prototype%).
            let root = JsObject::with_object_proto(context.intrinsics());

            // b. Let rootName be the empty String.
            // c. Perform ! CreateDataPropertyOrThrow(root, rootName, unfiltered).
            root.create_data_property_or_throw(js_string!(), unfiltered, context)
                .js_expect("CreateDataPropertyOrThrow should never throw here")?;

            // d. Return ? InternalizeJSONProperty(root, rootName, reviver).
            Self::internalize_json_property(
                &root,
                js_string!(),
                &obj,
                source_tree.as_ref(),
                context,
            )
        } else {
            // 12. Else,
            // a. Return unfiltered.
            Ok(unfiltered)
        }
    }

    /// `25.5.1.1 InternalizeJSONProperty ( holder, name, reviver )`
    ///
    /// More information:
    ///  - [ECMAScript reference][spec]
    ///
    /// [spec]: https://tc39.es/ecma262/#sec-internalizejsonproperty
    fn internalize_json_property(
        holder: &JsObject,
        name: JsString,
        reviver: &JsObject,
        source_node: Option<&JsonNode>,
        context: &mut Context,
    ) -> JsResult<JsValue> {
        // 1. Let val be ? Get(holder, name).
        let val = holder.get(name.clone(), context)?;

        // 2. If Type(val) is Object, then
        if let Some(obj) = val.as_object() {
            // a. Let isArray be ? IsArray(val).
            // b. If isArray is true, then
            if obj.is_array_abstract()? {
                // i. Let I be 0.
                // ii. Let len be ? LengthOfArrayLike(val).
                // iii. Repeat, while I < len,
                let len = obj.length_of_array_like(context)? as i64;
                let children = match source_node {
                    Some(JsonNode::Array(children)) => Some(children),
                    _ => None,
                };
                for i in 0..len {
                    let child_node = children.and_then(|c| c.get(i as usize));
                    // 1. Let prop be ! ToString(𝔽(I)).
                    // 2. Let newElement be ? InternalizeJSONProperty(val, prop, reviver).
                    let new_element = Self::internalize_json_property(
                        &obj,
                        i.into(),
                        reviver,
                        child_node,
                        context,
                    )?;

                    // 3. If newElement is undefined, then
                    if new_element.is_undefined() {
                        // a. Perform ? val.[[Delete]](prop).
                        obj.__delete__(
                            &i.into(),
                            &mut InternalMethodPropertyContext::new(context),
                        )?;
                    }
                    // 4. Else,
                    else {
                        // a. Perform ? CreateDataProperty(val, prop, newElement).
                        obj.create_data_property(i, new_element, context)?;
                    }
                }
            }
            // c. Else,
            else {
                // i. Let keys be ? EnumerableOwnPropertyNames(val, key).
                let keys = obj.enumerable_own_property_names(PropertyNameKind::Key, context)?;
                let entries = match source_node {
                    Some(JsonNode::Object(entries)) => Some(entries),
                    _ => None,
                };

                // ii. For each String P of keys, do
                for p in keys {
                    // This is safe, because EnumerableOwnPropertyNames with 'key' type only returns strings.
                    let p = p
                        .as_string()
                        .js_expect("EnumerableOwnPropertyNames only returns strings")?;

                    let p_std = p.to_std_string_escaped();
                    let child_node =
                        entries.and_then(|e| e.iter().rfind(|(k, _)| k == &p_std).map(|(_, v)| v));

                    // 1. Let newElement be ? InternalizeJSONProperty(val, P, reviver).
                    let new_element = Self::internalize_json_property(
                        &obj,
                        p.clone(),
                        reviver,
                        child_node,
                        context,
                    )?;

                    // 2. If newElement is undefined, then
                    if new_element.is_undefined() {
                        // a. Perform ? val.[[Delete]](P).
                        obj.__delete__(
                            &p.into(),
                            &mut InternalMethodPropertyContext::new(context),
                        )?;
                    }
                    // 3. Else,
                    else {
                        // a. Perform ? CreateDataProperty(val, P, newElement).
                        obj.create_data_property(p, new_element, context)?;
                    }
                }
            }
        }

        // Build the context object for the reviver call.
        // For primitive JSON values: context = { source: "<original text>" }
        // For objects/arrays or modified values: context = {} (no source property)
        // Per spec, source is only provided when the value is still the same
        // primitive that was produced by parsing the original JSON text.
        let ctx_obj = JsObject::with_object_proto(context.intrinsics());
        if let Some(JsonNode::Primitive(source_text)) = source_node {
            // Check if the current value matches what the source text produces.
            // If the reviver modified the value, it won't match and we skip source.
            let value_matches = match source_text.as_str() {
                "null" => val.is_null(),
                "true" => val.as_boolean() == Some(true),
                "false" => val.as_boolean() == Some(false),
                s if s.starts_with('"') => {
                    // String: compare parsed string value
                    if let Some(js_str) = val.as_string() {
                        serde_json::from_str::<String>(s)
                            .is_ok_and(|parsed| js_str.to_std_string_escaped() == parsed)
                    } else {
                        false
                    }
                }
                s => {
                    // Number: compare parsed number value
                    // Exact comparison is intentional: we want to detect if the
                    // value was replaced by the reviver, not approximate equality.
                    #[allow(clippy::float_cmp)]
                    if let Some(n) = val.as_number() {
                        s.parse::<f64>().is_ok_and(|parsed| n == parsed)
                    } else {
                        false
                    }
                }
            };
            if value_matches {
                ctx_obj.create_data_property_or_throw(
                    js_string!("source"),
                    JsValue::from(js_string!(source_text.as_str())),
                    context,
                )?;
            }
        }

        // 3. Return ? Call(reviver, holder, « name, val, context »).
        reviver.call(
            &holder.clone().into(),
            &[name.into(), val, ctx_obj.into()],
            context,
        )
    }

    /// `JSON.rawJSON ( text )`
    ///
    /// Creates a raw JSON object from the given text.
    ///
    /// More information:
    ///  - [ECMAScript reference][spec]
    ///
    /// [spec]: https://tc39.es/ecma262/#sec-json.rawjson
    pub(crate) fn raw_json(
        _: &JsValue,
        args: &[JsValue],
        context: &mut Context,
    ) -> JsResult<JsValue> {
        // 1. Let jsonString be ? ToString(text).
        let json_string = args.get_or_undefined(0).to_string(context)?;

        // 2. Throw a SyntaxError exception if jsonString is the empty String, or if
        //    either the first or last code unit of jsonString is any of 0x0009
        //    (CHARACTER TABULATION), 0x000A (LINE FEED), 0x000D (CARRIAGE RETURN), or
        //    0x0020 (SPACE).
        let std_string = json_string
            .to_std_string()
            .map_err(|e| JsNativeError::syntax().with_message(e.to_string()))?;

        if std_string.is_empty() {
            return Err(JsNativeError::syntax()
                .with_message("JSON.rawJSON text must not be the empty string")
                .into());
        }

        let first = std_string.as_bytes()[0];
        let last = std_string.as_bytes()[std_string.len() - 1];
        if matches!(first, b'\t' | b'\n' | b'\r' | b' ')
            || matches!(last, b'\t' | b'\n' | b'\r' | b' ')
        {
            return Err(JsNativeError::syntax()
                .with_message("JSON.rawJSON text must not start or end with whitespace")
                .into());
        }

        // 3. Parse StringToCodePoints(jsonString) as a JSON text as specified in ECMA-404.
        //    Throw a SyntaxError exception if it is not a valid JSON text as defined in that
        //    specification, or if its outermost value is an object or array.
        let parsed: serde_json::Value = serde_json::from_str(&std_string)
            .map_err(|e| JsNativeError::syntax().with_message(e.to_string()))?;

        // Must not be an object or array
        match parsed {
            serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                return Err(JsNativeError::syntax()
                    .with_message("JSON.rawJSON text must not be an object or array")
                    .into());
            }
            _ => {}
        }

        // 3. Let internalSlotsList be « [[IsRawJSON]] ».
        // 4. Let obj be OrdinaryObjectCreate(null, internalSlotsList).
        let obj = JsObject::from_proto_and_data(None::<JsObject>, RawJson);

        // 5. Perform ! CreateDataPropertyOrThrow(obj, "rawJSON", jsonString).
        obj.create_data_property_or_throw(js_string!("rawJSON"), json_string, context)
            .js_expect("CreateDataPropertyOrThrow should never throw here")?;

        // 6. Perform ! SetIntegrityLevel(obj, frozen).
        obj.set_integrity_level(IntegrityLevel::Frozen, context)
            .js_expect("SetIntegrityLevel should never throw here")?;

        // 7. Return obj.
        Ok(obj.into())
    }

    /// `JSON.isRawJSON ( O )`
    ///
    /// Checks if the given value is a raw JSON object.
    ///
    /// More information:
    ///  - [ECMAScript reference][spec]
    ///
    /// [spec]: https://tc39.es/ecma262/#sec-json.israwjson
    #[allow(clippy::unnecessary_wraps)]
    pub(crate) fn is_raw_json(
        _: &JsValue,
        args: &[JsValue],
        _context: &mut Context,
    ) -> JsResult<JsValue> {
        // 1. If Type(O) is Object and O has an [[IsRawJSON]] internal slot, return true.
        // 2. Return false.
        let value = args.get_or_undefined(0);
        let result = value.as_object().is_some_and(|obj| obj.is::<RawJson>());
        Ok(result.into())
    }

    /// `JSON.stringify( value[, replacer[, space]] )`
    ///
    /// This `JSON` method converts a JavaScript object or value to a JSON string.
    ///
    /// This method optionally replaces values if a `replacer` function is specified or
    /// optionally including only the specified properties if a replacer array is specified.
    ///
    /// An optional `space` argument can be supplied of type `String` or `Number` that's used to insert
    /// white space into the output JSON string for readability purposes.
    ///
    /// More information:
    ///  - [ECMAScript reference][spec]
    ///  - [MDN documentation][mdn]
    ///
    /// [spec]: https://tc39.es/ecma262/#sec-json.stringify
    /// [mdn]: https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/JSON/stringify
    pub(crate) fn stringify(
        _: &JsValue,
        args: &[JsValue],
        context: &mut Context,
    ) -> JsResult<JsValue> {
        // 1. Let indent be the empty String.
        let indent = js_string!();

        // 2. Let PropertyList and ReplacerFunction be undefined.
        let mut property_list = None;
        let mut replacer_function = None;

        let replacer = args.get_or_undefined(1);

        // 4. If Type(replacer) is Object, then
        if let Some(replacer_obj) = replacer.as_object() {
            // a. If IsCallable(replacer) is true, then
            if replacer_obj.is_callable() {
                // i. Set ReplacerFunction to replacer.
                replacer_function = Some(replacer_obj.clone());
            // b. Else,
            } else {
                // i. Let isArray be ? IsArray(replacer).
                // ii. If isArray is true, then
                if replacer_obj.is_array_abstract()? {
                    // 1. Set PropertyList to a new empty List.
                    let mut property_set = indexmap::IndexSet::new();

                    // 2. Let len be ? LengthOfArrayLike(replacer).
                    let len = replacer_obj.length_of_array_like(context)?;

                    // 3. Let k be 0.
                    let mut k = 0;

                    // 4. Repeat, while k < len,
                    while k < len {
                        // edge-sandbox patch: `len` is guest-controlled; charge each index.
                        crate::budget::charge(1)?;
                        // a. Let prop be ! ToString(𝔽(k)).
                        // b. Let v be ? Get(replacer, prop).
                        let v = replacer_obj.get(k, context)?;

                        // c. Let item be undefined.
                        // d. If Type(v) is String, set item to v.
                        // e. Else if Type(v) is Number, set item to ! ToString(v).
                        // f. Else if Type(v) is Object, then
                        // g. If item is not undefined and item is not currently an element of PropertyList, then
                        // i. Append item to the end of PropertyList.
                        if let Some(s) = v.as_string() {
                            property_set.insert(s);
                        } else if v.is_number() {
                            property_set.insert(
                                v.to_string(context)
                                    .js_expect("ToString cannot fail on number value")?,
                            );
                        } else if let Some(obj) = v.as_object()
                            && (obj.is::<JsString>() || obj.is::<f64>())
                        {
                            // i. If v has a [[StringData]] or [[NumberData]] internal slot, set item to ? ToString(v).
                            property_set.insert(v.to_string(context)?);
                        }

                        // h. Set k to k + 1.
                        k += 1;
                    }
                    // edge-sandbox patch: shared, not cloned for every object serialized.
                    property_list = Some(property_set.into_iter().collect::<Rc<[_]>>());
                }
            }
        }

        let mut space = args.get_or_undefined(2).clone();

        // 5. If Type(space) is Object, then
        if let Some(space_obj) = space.as_object() {
            // a. If space has a [[NumberData]] internal slot, then
            if space_obj.is::<f64>() {
                // i. Set space to ? ToNumber(space).
                space = space.to_number(context)?.into();
            }
            // b. Else if space has a [[StringData]] internal slot, then
            else if space_obj.is::<JsString>() {
                // i. Set space to ? ToString(space).
                space = space.to_string(context)?.into();
            }
        }

        // 6. If Type(space) is Number, then
        let gap = if space.is_number() {
            // a. Let spaceMV be ! ToIntegerOrInfinity(space).
            // b. Set spaceMV to min(10, spaceMV).
            // c. If spaceMV < 1, let gap be the empty String; otherwise let gap be the String value containing spaceMV occurrences of the code unit 0x0020 (SPACE).
            match space
                .to_integer_or_infinity(context)
                .js_expect("ToIntegerOrInfinity cannot fail on number")?
            {
                IntegerOrInfinity::PositiveInfinity => js_string!("          "),
                IntegerOrInfinity::NegativeInfinity => js_string!(),
                IntegerOrInfinity::Integer(i) if i < 1 => js_string!(),
                IntegerOrInfinity::Integer(i) => {
                    let mut s = String::new();
                    let i = std::cmp::min(10, i);
                    for _ in 0..i {
                        s.push(' ');
                    }
                    s.into()
                }
            }
        // 7. Else if Type(space) is String, then
        } else if let Some(s) = space.as_string() {
            // a. If the length of space is 10 or less, let gap be space; otherwise let gap be the substring of space from 0 to 10.
            s.get(..10).unwrap_or(s)
        // 8. Else,
        } else {
            // a. Let gap be the empty String.
            js_string!()
        };

        // 9. Let wrapper be ! OrdinaryObjectCreate(%Object.prototype%).
        let wrapper = JsObject::with_object_proto(context.intrinsics());

        // 10. Perform ! CreateDataPropertyOrThrow(wrapper, the empty String, value).
        wrapper
            .create_data_property_or_throw(js_string!(), args.get_or_undefined(0).clone(), context)
            .js_expect("CreateDataPropertyOrThrow should never fail here")?;

        // 11. Let state be the Record { [[ReplacerFunction]]: ReplacerFunction, [[Stack]]: stack, [[Indent]]: indent, [[Gap]]: gap, [[PropertyList]]: PropertyList }.
        let mut state = StateRecord {
            replacer_function,
            stack_set: FxHashSet::default(),
            indent,
            gap,
            property_list,
            output: Output::new(),
        };

        // 12. Return ? SerializeJSONProperty(state, the empty String, wrapper).
        // edge-sandbox patch: the serialization is appended to `state.output`.
        if !Self::serialize_json_property(&mut state, js_string!(), &wrapper, context)? {
            return Ok(JsValue::undefined());
        }
        state.output.account()?;
        Ok(state.output.finish()?.into())
    }

    /// `25.5.2.1 SerializeJSONProperty ( state, key, holder )`
    ///
    /// More information:
    ///  - [ECMAScript reference][spec]
    ///
    /// [spec]: https://tc39.es/ecma262/#sec-serializejsonproperty
    ///
    /// edge-sandbox patch: appends the serialization to `state.output` and returns whether there
    /// is one (upstream returned it as a string of its own, or undefined).
    fn serialize_json_property(
        state: &mut StateRecord,
        key: JsString,
        holder: &JsObject,
        context: &mut Context,
    ) -> JsResult<bool> {
        // 1. Let value be ? Get(holder, key).
        let mut value = holder.get(key.clone(), context)?;

        // 2. If Type(value) is Object or BigInt, then
        if value.is_object() || value.is_bigint() {
            // a. Let toJSON be ? GetV(value, "toJSON").
            let to_json = value.get_v(js_string!("toJSON"), context)?;

            // b. If IsCallable(toJSON) is true, then
            if let Some(obj) = to_json.as_callable() {
                // i. Set value to ? Call(toJSON, value, « key »).
                value = obj.call(&value, &[key.clone().into()], context)?;
            }
        }

        // 3. If state.[[ReplacerFunction]] is not undefined, then
        if let Some(obj) = &state.replacer_function {
            // a. Set value to ? Call(state.[[ReplacerFunction]], holder, « key, value »).
            value = obj.call(&holder.clone().into(), &[key.into(), value], context)?;
        }

        // 4. If Type(value) is Object, then
        if let Some(obj) = value.as_object() {
            // a. If value has a [[NumberData]] internal slot, then
            if obj.is::<f64>() {
                // i. Set value to ? ToNumber(value).
                value = value.to_number(context)?.into();
            }
            // b. Else if value has a [[StringData]] internal slot, then
            else if obj.is::<JsString>() {
                // i. Set value to ? ToString(value).
                value = value.to_string(context)?.into();
            }
            // c. Else if value has a [[BooleanData]] internal slot, then
            else if let Some(boolean) = obj.downcast_ref::<bool>() {
                // i. Set value to value.[[BooleanData]].
                value = (*boolean).into();
            }
            // d. Else if value has a [[BigIntData]] internal slot, then
            else if let Some(bigint) = obj.downcast_ref::<JsBigInt>() {
                // i. Set value to value.[[BigIntData]].
                value = bigint.clone().into();
            }
            // e. Else if value has a [[IsRawJSON]] internal slot, then
            else if obj.is::<RawJson>() {
                // i. Return the value of the "rawJSON" property of value.
                let raw = obj.get(js_string!("rawJSON"), context)?;
                let Some(raw) = raw.as_string() else {
                    return Ok(false);
                };
                state.output.push_str(raw.as_str())?;
                return Ok(true);
            }
        }

        // 5. If value is null, return "null".
        if value.is_null() {
            state.output.push_latin1(b"null")?;
            return Ok(true);
        }

        // 6. If value is true, return "true".
        // 7. If value is false, return "false".
        if let Some(boolean) = value.as_boolean() {
            state.output.push_latin1(if boolean {
                b"true".as_slice()
            } else {
                b"false"
            })?;
            return Ok(true);
        }

        // 8. If Type(value) is String, return QuoteJSONString(value).
        if let Some(s) = value.as_string() {
            Self::quote_json_string(&mut state.output, s.as_str())?;
            return Ok(true);
        }

        // 9. If Type(value) is Number, then
        if let Some(n) = value.as_number() {
            // a. If value is finite, return ! ToString(value).
            if n.is_finite() {
                let s = value
                    .to_string(context)
                    .js_expect("ToString should never fail here")?;
                state.output.push_str(s.as_str())?;
            // b. Return "null".
            } else {
                state.output.push_latin1(b"null")?;
            }
            return Ok(true);
        }

        // 10. If Type(value) is BigInt, throw a TypeError exception.
        if value.is_bigint() {
            return Err(JsNativeError::typ()
                .with_message("cannot serialize bigint to JSON")
                .into());
        }

        // 11. If Type(value) is Object and IsCallable(value) is false, then
        if let Some(obj) = value.as_object()
            && !obj.is_callable()
        {
            // a. Let isArray be ? IsArray(value).
            // b. If isArray is true, return ? SerializeJSONArray(state, value).
            // c. Return ? SerializeJSONObject(state, value).
            if obj.is_array_abstract()? {
                Self::serialize_json_array(state, &obj, context)?;
            } else {
                Self::serialize_json_object(state, &obj, context)?;
            }
            return Ok(true);
        }

        // 12. Return undefined.
        Ok(false)
    }

    /// `25.5.2.2 QuoteJSONString ( value )`
    ///
    /// More information:
    ///  - [ECMAScript reference][spec]
    ///
    /// [spec]: https://tc39.es/ecma262/#sec-quotejsonstring
    ///
    /// edge-sandbox patch: appends to the output, copying the runs of code units that need no
    /// escape as slices (the buffer reserves and `account` charges as it grows).
    fn quote_json_string(output: &mut Output, value: JsStr<'_>) -> JsResult<()> {
        // 1. Let product be the String value consisting solely of the code unit 0x0022 (QUOTATION MARK).
        output.push_latin1(b"\"")?;

        // 2. For each code point C of ! StringToCodePoints(value), do
        match value.variant() {
            JsStrVariant::Latin1(units) => {
                // Latin-1 has no surrogates.
                let mut run = 0;
                for (i, &unit) in units.iter().enumerate() {
                    // a. If C is listed in the "Code Point" column of Table 73, or
                    // b. if C has a numeric value less than 0x0020 (SPACE), then
                    //    set product to the string-concatenation of product and its escape sequence.
                    if needs_escape(u16::from(unit)) {
                        output.push_latin1(&units[run..i])?;
                        output.push_escape(u16::from(unit))?;
                        run = i + 1;
                    }
                    // c. Else, set product to the string-concatenation of product and ! UTF16EncodeCodePoint(C).
                }
                output.push_latin1(&units[run..])?;
            }
            JsStrVariant::Utf16(units) => {
                let mut run = 0;
                let mut i = 0;
                while i < units.len() {
                    let unit = units[i];
                    let escape = match unit {
                        // c. A surrogate pair is a code point: appended as it is.
                        0xD800..=0xDBFF
                            if units
                                .get(i + 1)
                                .is_some_and(|next| (0xDC00..=0xDFFF).contains(next)) =>
                        {
                            i += 2;
                            continue;
                        }
                        // b. A code point with the numeric value of a leading or trailing
                        //    surrogate (a lone one) is escaped: UnicodeEscape(unit).
                        0xD800..=0xDFFF => true,
                        // a./b. Table 73 and controls.
                        _ => needs_escape(unit),
                    };
                    if escape {
                        output.push_utf16(&units[run..i])?;
                        output.push_escape(unit)?;
                        run = i + 1;
                    }
                    i += 1;
                }
                output.push_utf16(&units[run..])?;
            }
        }

        // 3. Set product to the string-concatenation of product and the code unit 0x0022 (QUOTATION MARK).
        // 4. Return product.
        output.push_latin1(b"\"")
    }

    /// `25.5.2.4 SerializeJSONObject ( state, value )`
    ///
    /// More information:
    ///  - [ECMAScript reference][spec]
    ///
    /// [spec]: https://tc39.es/ecma262/#sec-serializejsonobject
    ///
    /// edge-sandbox patch: appends to `state.output`: each member (its separator, key and value)
    /// as it is serialized, dropped again if the value is undefined; there is no `partial` list.
    /// An error ends the whole `JSON.stringify`, so the state needs no cleanup then.
    fn serialize_json_object(
        state: &mut StateRecord,
        value: &JsObject,
        context: &mut Context,
    ) -> JsResult<()> {
        // edge-sandbox patch: serialization recurses natively once per level of nesting.
        let _depth = crate::budget::enter()?;
        // 1. If state.[[Stack]] contains value, throw a TypeError exception because the structure is cyclical.
        // 2. Append value to state.[[Stack]].
        if !state.stack_set.insert(value.clone()) {
            return Err(JsNativeError::typ()
                .with_message("cyclic object value")
                .into());
        }

        // 3. Let stepback be state.[[Indent]].
        let stepback = state.indent.clone();

        // 4. Set state.[[Indent]] to the string-concatenation of state.[[Indent]] and state.[[Gap]].
        state.indent = js_string!(&state.indent, &state.gap);

        // 5. If state.[[PropertyList]] is not undefined, then
        let list = state.property_list.clone();
        let own;
        let k: &[JsString] = if let Some(list) = &list {
            // a. Let K be state.[[PropertyList]].
            list
        // 6. Else,
        } else {
            // a. Let K be ? EnumerableOwnPropertyNames(value, key).
            own = value
                .enumerable_own_property_names(PropertyNameKind::Key, context)?
                .iter()
                .map(|v| {
                    v.to_string(context)
                        .js_expect("EnumerableOwnPropertyNames only returns strings")
                })
                .collect::<Result<Vec<_>, _>>()?;
            &own
        };

        // 7. Let partial be a new empty List.
        // edge-sandbox patch: whether partial is empty; its members are in the output.
        let mut empty = true;
        state.output.push_latin1(b"{")?;

        // 8. For each element P of K, do
        for p in k {
            // edge-sandbox patch: the member is appended, with the separator before it (10.),
            // then its value; `member` is where it starts, to drop it if strP is undefined.
            let member = state.output.len();
            if !empty {
                state.output.push_latin1(b",")?;
            }
            if !state.gap.is_empty() {
                state.output.push_line(&state.indent)?;
            }

            // b. i. Let member be QuoteJSONString(P).
            Self::quote_json_string(&mut state.output, p.as_str())?;

            // ii. Set member to the string-concatenation of member and ":".
            state.output.push_latin1(b":")?;

            // iii. If state.[[Gap]] is not the empty String, then
            if !state.gap.is_empty() {
                // 1. Set member to the string-concatenation of member and the code unit 0x0020 (SPACE).
                state.output.push_latin1(b" ")?;
            }

            // a. Let strP be ? SerializeJSONProperty(state, P, value).
            // iv. Set member to the string-concatenation of member and strP.
            let defined = Self::serialize_json_property(state, p.clone(), value, context)?;

            // edge-sandbox patch: charge for the member, also one that is dropped (its key
            // was quoted).
            state.output.account()?;

            // b. If strP is not undefined, then
            if defined {
                // v. Append member to partial.
                empty = false;
            } else {
                state.output.truncate(member);
            }
        }

        // 9. If partial is empty, then
        //    a. Let final be "{}".
        // 10. Else,
        //    a. If state.[[Gap]] is the empty String, then
        //       i. Let properties be the String value formed by concatenating all the element Strings of partial
        //          with each adjacent pair of Strings separated with the code unit 0x002C (COMMA).
        //       ii. Let final be the string-concatenation of "{", properties, and "}".
        //    b. Else,
        //       i. Let separator be the string-concatenation of the code unit 0x002C (COMMA),
        //          the code unit 0x000A (LINE FEED), and state.[[Indent]].
        //       ii. Let properties be the String value formed by concatenating all the element Strings of partial
        //           with each adjacent pair of Strings separated with separator.
        //       iii. Let final be the string-concatenation of "{", the code
        //            unit 0x000A (LINE FEED), state.[[Indent]], properties,
        //            the code unit 0x000A (LINE FEED), stepback, and "}".
        if !empty && !state.gap.is_empty() {
            state.output.push_line(&stepback)?;
        }
        state.output.push_latin1(b"}")?;

        // 11. Remove value from state.[[Stack]].
        let removed = state.stack_set.remove(value);
        debug_assert!(removed);

        // 12. Set state.[[Indent]] to stepback.
        state.indent = stepback;

        // 13. Return final.
        Ok(())
    }

    /// `25.5.2.5 SerializeJSONArray ( state, value )`
    ///
    /// More information:
    ///  - [ECMAScript reference][spec]
    ///
    /// [spec]: https://tc39.es/ecma262/#sec-serializejsonarray
    ///
    /// edge-sandbox patch: appends to `state.output`, each element as it is serialized; there is
    /// no `partial` list. An error ends the whole `JSON.stringify`, so the state needs no cleanup
    /// then.
    fn serialize_json_array(
        state: &mut StateRecord,
        value: &JsObject,
        context: &mut Context,
    ) -> JsResult<()> {
        // edge-sandbox patch: serialization recurses natively once per level of nesting.
        let _depth = crate::budget::enter()?;
        // 1. If state.[[Stack]] contains value, throw a TypeError exception because the structure is cyclical.
        // 2. Append value to state.[[Stack]].
        if !state.stack_set.insert(value.clone()) {
            return Err(JsNativeError::typ()
                .with_message("cyclic object value")
                .into());
        }

        // 3. Let stepback be state.[[Indent]].
        let stepback = state.indent.clone();

        // 4. Set state.[[Indent]] to the string-concatenation of state.[[Indent]] and state.[[Gap]].
        state.indent = js_string!(&state.indent, &state.gap);

        // 5. Let partial be a new empty List.
        // edge-sandbox patch: the elements are in the output; `len` is guest-controlled
        // (`new Array(1e9)`): each index is charged below, and the buffer reserves as it grows.

        // 6. Let len be ? LengthOfArrayLike(value).
        let len = value.length_of_array_like(context)?;
        state.output.push_latin1(b"[")?;

        // 7. Let index be 0.
        let mut index = 0;

        // 8. Repeat, while index < len,
        while index < len {
            // edge-sandbox patch: the separator (10.) comes before each element but the first.
            if index > 0 {
                state.output.push_latin1(b",")?;
            }
            if !state.gap.is_empty() {
                state.output.push_line(&state.indent)?;
            }

            // a. Let strP be ? SerializeJSONProperty(state, ! ToString(𝔽(index)), value).
            // b. If strP is undefined, then
            if !Self::serialize_json_property(state, index.into(), value, context)? {
                // i. Append "null" to partial.
                state.output.push_latin1(b"null")?;
            }
            // c. Else,
            //    i. Append strP to partial.

            // edge-sandbox patch: charge for the element.
            state.output.account()?;

            // d. Set index to index + 1.
            index += 1;
        }

        // 9. If partial is empty, then
        //    a. Let final be "[]".
        // 10. Else,
        //    a. If state.[[Gap]] is the empty String, then
        //       i. Let properties be the String value formed by concatenating all the element Strings of partial
        //          with each adjacent pair of Strings separated with the code unit 0x002C (COMMA).
        //       ii. Let final be the string-concatenation of "[", properties, and "]".
        //    b. Else,
        //       i. Let separator be the string-concatenation of the code unit 0x002C (COMMA),
        //          the code unit 0x000A (LINE FEED), and state.[[Indent]].
        //       ii. Let properties be the String value formed by concatenating all the element Strings of partial
        //           with each adjacent pair of Strings separated with separator.
        //       iii. Let final be the string-concatenation of "[", the code unit 0x000A (LINE FEED), state.[[Indent]], properties, the code unit 0x000A (LINE FEED), stepback, and "]".
        if len > 0 && !state.gap.is_empty() {
            state.output.push_line(&stepback)?;
        }
        state.output.push_latin1(b"]")?;

        // 11. Remove value from state.[[Stack]].
        let removed = state.stack_set.remove(value);
        debug_assert!(removed);

        // 12. Set state.[[Indent]] to stepback.
        state.indent = stepback;

        // 13. Return final.
        Ok(())
    }
}

struct StateRecord {
    replacer_function: Option<JsObject>,
    stack_set: FxHashSet<JsObject>,
    indent: JsString,
    gap: JsString,
    // edge-sandbox patch: shared by every object serialized (upstream cloned the list).
    property_list: Option<Rc<[JsString]>>,
    // edge-sandbox patch: the serialization, appended to as it goes.
    output: Output,
}
