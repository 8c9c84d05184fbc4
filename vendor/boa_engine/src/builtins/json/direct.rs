//! edge-sandbox patch: `JSON.parse` without a reviver builds its values straight from the text.
//!
//! Upstream validates the text with serde_json, throws that away, then parses the text again as
//! JavaScript, compiles it to bytecode and runs it: an array of 1e5 small objects took a syntax
//! tree, bytecode and a stack of tens of bytes per input byte, so a 3 MB text could not be
//! parsed under a 32 MiB memory limit. Here one serde_json pass creates the objects, arrays and
//! strings directly, as `CreateDataProperty` would. Every 256 values the memory budget is
//! checked, so a text that would fill the limit stops early instead of overshooting it.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::{
    Context, JsError, JsResult, JsString, JsValue,
    builtins::{Array, OrdinaryObject},
    object::JsObject,
    property::PropertyDescriptor,
};

/// Values built between two checks of the memory budget.
const CHECK_EVERY: u32 = 256;

/// Bytes reserved at each check: about what the next values take (an object of a few keys takes
/// a couple of hundred), so that near the limit the check collects garbage (the text's earlier
/// values, say, from `JSON.parse(JSON.stringify(a))`) before an allocation trips the budget,
/// which cannot be undone inside a builtin.
const CHECK_BYTES: usize = 64 << 10;

/// Parses `text` as JSON into a JavaScript value. Malformed text is a `SyntaxError` with
/// serde_json's message (what the validation step of upstream threw).
pub(super) fn parse(text: &str, context: &mut Context) -> JsResult<JsValue> {
    let mut builder = Builder {
        context,
        since_check: 0,
        failure: None,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let result = Seed(&mut builder)
        .deserialize(&mut de)
        .and_then(|value| de.end().map(|()| value));
    match result {
        Ok(value) => Ok(value),
        // A JavaScript error raised while building (the memory limit) wins over the message
        // serde_json wraps it in.
        Err(e) => Err(builder.failure.take().unwrap_or_else(|| {
            crate::JsNativeError::syntax()
                .with_message(e.to_string())
                .into()
        })),
    }
}

struct Builder<'c> {
    context: &'c mut Context,
    since_check: u32,
    /// The JavaScript error that stopped the parse, if one did.
    failure: Option<JsError>,
}

impl Builder<'_> {
    /// Charges one value's fuel and counts it; every [`CHECK_EVERY`] values, checks the memory
    /// budget.
    fn built<E: de::Error>(&mut self) -> Result<(), E> {
        if let Err(err) = crate::budget::charge(super::JSON_VALUE_FUEL) {
            self.failure = Some(err);
            return Err(E::custom("fuel limit"));
        }
        self.since_check += 1;
        if self.since_check >= CHECK_EVERY {
            self.since_check = 0;
            if let Err(err) = crate::budget::reserve(CHECK_BYTES) {
                self.failure = Some(err);
                return Err(E::custom("memory limit"));
            }
        }
        Ok(())
    }
}

struct Seed<'b, 'c>(&'b mut Builder<'c>);

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = JsValue;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<JsValue, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_> {
    type Value = JsValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<JsValue, E> {
        self.0.built()?;
        Ok(JsValue::null())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<JsValue, E> {
        self.0.built()?;
        Ok(JsValue::new(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsValue, E> {
        self.0.built()?;
        Ok(i32::try_from(v).map_or_else(|_| JsValue::new(v as f64), JsValue::new))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsValue, E> {
        self.0.built()?;
        Ok(i32::try_from(v).map_or_else(|_| JsValue::new(v as f64), JsValue::new))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsValue, E> {
        self.0.built()?;
        Ok(JsValue::new(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<JsValue, E> {
        self.0.built()?;
        Ok(JsValue::from(JsString::from(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsValue, A::Error> {
        let builder = self.0;
        // edge-sandbox patch: the array's own element storage, filled in place and trimmed
        // (collecting a `Vec` into it copied every element once more).
        let mut elements = thin_vec::ThinVec::new();
        while let Some(value) = seq.next_element_seed(Seed(&mut *builder))? {
            elements.push(value);
        }
        if elements.capacity() - elements.len() > elements.len() / 8 {
            elements.shrink_to_fit();
        }
        builder.built()?;
        Ok(Array::create_array_from_elements(elements, builder.context).into())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsValue, A::Error> {
        let builder = self.0;
        // edge-sandbox patch: a shape shared by every object with the same keys, as object
        // literals have; a shape of its own (`with_object_proto`) kept a property table in each
        // object, hundreds of bytes per property (1e5 objects of three keys took 45 MB, not 22).
        let context = &*builder.context;
        let prototype = context.intrinsics().constructors().object().prototype();
        let object = JsObject::from_proto_and_data_with_shared_shape(
            context.root_shape(),
            prototype,
            OrdinaryObject,
        )
        .upcast();
        while let Some(key) = map.next_key_seed(Key)? {
            let value = map.next_value_seed(Seed(&mut *builder))?;
            // As CreateDataProperty: a repeated key keeps its first position, last value wins.
            object.borrow_mut().insert(
                key,
                PropertyDescriptor::builder()
                    .value(value)
                    .writable(true)
                    .enumerable(true)
                    .configurable(true),
            );
        }
        // edge-sandbox patch: storage of the object's exact size (its first insert reserved room
        // for four values; parsed records are often many, and each keeps that room for life).
        {
            let mut object = object.borrow_mut();
            let storage = &mut object.properties_mut().storage;
            if storage.capacity() > storage.len() {
                storage.shrink_to_fit();
            }
        }
        builder.built()?;
        Ok(object.into())
    }
}

/// An object's key, made a `JsString` without an intermediate `String` when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = JsString;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<JsString, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Key {
    type Value = JsString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<JsString, E> {
        Ok(JsString::from(v))
    }
}
