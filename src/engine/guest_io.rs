//! The realm's side of guest I/O: the native function behind `prelude.js`, the queue of
//! requests a cell made, and settling their promises with the host's replies.

use std::{cell::RefCell, rc::Rc};

use boa_engine::{
    builtins::promise::ResolvingFunctions,
    js_string,
    object::builtins::{AlignedVec, JsArrayBuffer, JsFunction, JsPromise, JsUint8Array},
    Context, JsNativeError, JsObject, JsResult, JsValue, NativeFunction, Source,
};

use super::io::{ErrorKind, Failure, FetchRequest, FetchResponse, Reply, Request};
use crate::files::{path, FileInfo};

/// The prelude: defines `fs`, `fetch`, `Headers`, `Response` and `env`.
const PRELUDE: &str = include_str!("prelude.js");

/// A request handed to the host, and the promise waiting for its reply.
pub(super) struct Pending {
    pub request: Request,
    pub resolvers: ResolvingFunctions,
}

/// Requests made since the host last took them.
pub(super) type Queue = Rc<RefCell<Vec<Pending>>>;

/// The queue, in the context's host data, for the native function to find.
struct QueueHandle(Queue);

/// Defines the guest API. `env` becomes the frozen global `env`.
pub(super) fn install(
    ctx: &mut Context,
    queue: Queue,
    env: &serde_json::Map<String, serde_json::Value>,
) -> JsResult<()> {
    ctx.insert_data(QueueHandle(queue));
    let io = native(ctx, io_call, "io");
    let decode = native(ctx, utf8_decode, "decode");
    let encode = native(ctx, utf8_encode, "encode");
    let env = JsValue::from_json(&serde_json::Value::Object(env.clone()), ctx)?;
    let setup = ctx.eval(Source::from_bytes(PRELUDE))?;
    let setup = setup
        .as_object()
        .and_then(|o| JsFunction::from_object(o.clone()))
        .ok_or_else(|| JsNativeError::typ().with_message("prelude: not a function"))?;
    setup.call(
        &JsValue::undefined(),
        &[io.into(), decode.into(), encode.into(), env],
        ctx,
    )?;
    Ok(())
}

fn native(
    ctx: &mut Context,
    f: fn(&JsValue, &[JsValue], &mut Context) -> JsResult<JsValue>,
    name: &str,
) -> JsFunction {
    boa_engine::object::FunctionObjectBuilder::new(ctx.realm(), NativeFunction::from_fn_ptr(f))
        .name(js_string!(name))
        .build()
}

fn arg_string(args: &[JsValue], index: usize, ctx: &mut Context) -> JsResult<String> {
    let value = args.get(index).cloned().unwrap_or_default();
    if !value.is_string() {
        return Err(JsNativeError::typ()
            .with_message("expected a string")
            .into());
    }
    Ok(value.to_string(ctx)?.to_std_string_escaped())
}

fn arg_bytes(args: &[JsValue], index: usize, ctx: &mut Context) -> JsResult<Vec<u8>> {
    let object = args
        .get(index)
        .and_then(JsValue::as_object)
        .ok_or_else(|| JsNativeError::typ().with_message("expected a Uint8Array"))?;
    JsUint8Array::from_object(object.clone())?.to_vec(ctx)
}

/// `io(op, ...)`: queues a request and returns its promise. Paths are checked here, so a bad
/// one rejects at once without reaching the host.
fn io_call(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let op = arg_string(args, 0, ctx)?;
    let checked = |raw: String| path::normalize(&raw).map_err(|e| e.to_string());
    let request = match op.as_str() {
        "read" => checked(arg_string(args, 1, ctx)?).map(|path| Request::Read { path }),
        "stat" => checked(arg_string(args, 1, ctx)?).map(|path| Request::Stat { path }),
        "remove" => checked(arg_string(args, 1, ctx)?).map(|path| Request::Remove { path }),
        "list" => Ok(Request::List {
            prefix: arg_string(args, 1, ctx)?,
        }),
        "write" => {
            let path = checked(arg_string(args, 1, ctx)?);
            let data = arg_bytes(args, 2, ctx)?;
            let content_type = arg_string(args, 3, ctx)?;
            path.map(|path| Request::Write {
                path,
                data,
                content_type,
            })
        }
        "fetch" => Ok(Request::Fetch(fetch_request(args, ctx)?)),
        _ => {
            return Err(JsNativeError::typ()
                .with_message(format!("unknown operation {op}"))
                .into())
        }
    };
    let (promise, resolvers) = JsPromise::new_pending(ctx);
    match request {
        Ok(request) => {
            let queue = ctx
                .get_data::<QueueHandle>()
                .map(|h| h.0.clone())
                .ok_or_else(|| JsNativeError::typ().with_message("no I/O in this realm"))?;
            queue.borrow_mut().push(Pending { request, resolvers });
        }
        Err(message) => {
            let failure = Failure::new(ErrorKind::Error, Some("EINVAL"), message);
            let error = failure_value(&failure, ctx)?;
            resolvers
                .reject
                .call(&JsValue::undefined(), &[error], ctx)?;
        }
    }
    Ok(promise.into())
}

/// `io("fetch", url, method, headers, body, redirect)`, as the prelude calls it.
fn fetch_request(args: &[JsValue], ctx: &mut Context) -> JsResult<FetchRequest> {
    let url = arg_string(args, 1, ctx)?;
    let method = arg_string(args, 2, ctx)?;
    let pairs = args
        .get(3)
        .and_then(JsValue::as_object)
        .ok_or_else(|| JsNativeError::typ().with_message("expected headers"))?;
    let count = pairs.get(js_string!("length"), ctx)?.to_length(ctx)?;
    let mut headers = Vec::new();
    for i in 0..count {
        let pair = pairs.get(i, ctx)?;
        let pair = pair
            .as_object()
            .ok_or_else(|| JsNativeError::typ().with_message("expected a header pair"))?;
        let name = pair.get(0, ctx)?.to_string(ctx)?.to_std_string_escaped();
        let value = pair.get(1, ctx)?.to_string(ctx)?.to_std_string_escaped();
        headers.push((name, value));
    }
    let body = match args.get(4) {
        Some(v) if !v.is_undefined() => Some(arg_bytes(args, 4, ctx)?),
        _ => None,
    };
    Ok(FetchRequest {
        url,
        method,
        headers,
        body,
        redirect: arg_string(args, 5, ctx)?,
    })
}

fn utf8_decode(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let bytes = arg_bytes(args, 0, ctx)?;
    boa_engine::budget::reserve(bytes.len().saturating_mul(2))?;
    Ok(js_string!(String::from_utf8_lossy(&bytes).as_ref()).into())
}

fn utf8_encode(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let text = args
        .first()
        .cloned()
        .unwrap_or_default()
        .to_string(ctx)?
        .to_std_string_lossy();
    bytes_value(text.as_bytes(), ctx)
}

/// A `Uint8Array` holding `bytes`.
fn bytes_value(bytes: &[u8], ctx: &mut Context) -> JsResult<JsValue> {
    boa_engine::budget::reserve(bytes.len())?;
    let block = AlignedVec::from_iter(0, bytes.iter().copied());
    let buffer = JsArrayBuffer::from_byte_block(block, ctx)?;
    Ok(JsUint8Array::from_array_buffer(buffer, ctx)?.into())
}

/// `{path, size, contentType, etag, modified}`; `etag` is null until the file is stored.
fn info_json(info: &FileInfo) -> serde_json::Value {
    serde_json::json!({
        "path": info.path,
        "size": info.size,
        "contentType": info.content_type,
        "etag": if info.etag.is_empty() { None } else { Some(&info.etag) },
        "modified": info.modified_ms,
    })
}

/// The error object a failure rejects with.
fn failure_value(failure: &Failure, ctx: &mut Context) -> JsResult<JsValue> {
    let error = match failure.kind {
        ErrorKind::Error => JsNativeError::error(),
        ErrorKind::TypeError => JsNativeError::typ(),
        ErrorKind::RangeError => JsNativeError::range(),
    }
    .with_message(failure.message.clone())
    .into_opaque(ctx);
    if let Some(code) = &failure.code {
        error.set(js_string!("code"), js_string!(code.as_str()), false, ctx)?;
    }
    Ok(error.into())
}

/// Settles one request's promise with the host's reply.
pub(super) fn settle(
    resolvers: &ResolvingFunctions,
    reply: Reply,
    ctx: &mut Context,
) -> JsResult<()> {
    let (ok, value) = match reply {
        Reply::Done => (true, JsValue::undefined()),
        Reply::Bool(b) => (true, JsValue::from(b)),
        Reply::Bytes(bytes) => (true, bytes_value(&bytes, ctx)?),
        Reply::Stat(info) => (true, JsValue::from_json(&info_json(&info), ctx)?),
        Reply::List(files) => {
            let list = serde_json::Value::Array(files.iter().map(info_json).collect());
            (true, JsValue::from_json(&list, ctx)?)
        }
        Reply::Fetched(response) => (true, response_value(response, ctx)?),
        Reply::Failed(failure) => (false, failure_value(&failure, ctx)?),
    };
    let f = if ok {
        &resolvers.resolve
    } else {
        &resolvers.reject
    };
    f.call(&JsValue::undefined(), &[value], ctx)?;
    Ok(())
}

fn response_value(response: FetchResponse, ctx: &mut Context) -> JsResult<JsValue> {
    let head = serde_json::json!({
        "status": response.status,
        "statusText": response.status_text,
        "url": response.url,
        "redirected": response.redirected,
        "headers": response.headers.iter().map(|(k, v)| [k, v]).collect::<Vec<_>>(),
    });
    let value = JsValue::from_json(&head, ctx)?;
    let object: JsObject = value
        .as_object()
        .ok_or_else(|| JsNativeError::typ().with_message("response: not an object"))?;
    let body = bytes_value(&response.body, ctx)?;
    object.set(js_string!("body"), body, false, ctx)?;
    Ok(value)
}
