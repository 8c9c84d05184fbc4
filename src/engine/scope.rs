//! The scope object of a cell with top-level `await` (`notebook.rs`): a Proxy of `globalThis`
//! whose `has` trap claims the cell's top-level names, so that inside the cell's
//! `with (scope)` those names resolve to global object properties and every other name falls
//! through to the enclosing scopes as usual.
//!
//! The trap is native: a JavaScript one cost a call and a comparison per claimed name on every
//! lookup that reached it. It also answers from the target itself where a Proxy may not deny a
//! property: one the global object holds as non-configurable (the realm's `undefined`, `NaN`,
//! `Infinity`, or one the guest defined so), or any of its own once it is not extensible.
//! Denying those makes the lookup throw "Proxy trap returned unexpected property".

use std::collections::HashSet;

use boa_engine::{
    object::FunctionObjectBuilder, property::PropertyKey, Context, JsObject, JsResult, JsString,
    JsValue, NativeFunction,
};

/// Builds the scope object that claims `names`.
pub(super) fn scope_object(names: &[String], ctx: &mut Context) -> JsResult<JsObject> {
    let claims: HashSet<JsString> = names.iter().map(|n| JsString::from(n.as_str())).collect();
    let has = NativeFunction::from_copy_closure_with_captures(
        |_, args, claims: &HashSet<JsString>, ctx| {
            let target = args.first().and_then(JsValue::as_object);
            let key = args.get(1).cloned().unwrap_or_default();
            if let Some(name) = key.as_string() {
                if claims.contains(&name) {
                    return Ok(true.into());
                }
            }
            let Some(target) = target else {
                return Ok(false.into());
            };
            let key = key.to_property_key(ctx)?;
            Ok(must_claim(&target, &key, ctx)?.into())
        },
        claims,
    );
    let has = FunctionObjectBuilder::new(ctx.realm(), has)
        .name("has")
        .length(2)
        .build();
    let handler = JsObject::with_object_proto(ctx.intrinsics());
    handler.set(JsString::from("has"), has, true, ctx)?;
    let proxy = ctx.intrinsics().constructors().proxy().constructor();
    let global = ctx.global_object();
    proxy.construct(&[global.into(), handler.into()], None, ctx)
}

/// Whether the invariants of a Proxy's `has` trap forbid denying `key` of `target`.
fn must_claim(target: &JsObject, key: &PropertyKey, ctx: &mut Context) -> JsResult<bool> {
    let own = target.borrow().properties().get(key);
    Ok(match own {
        None => false,
        Some(desc) => desc.configurable() == Some(false) || !target.is_extensible(ctx)?,
    })
}
