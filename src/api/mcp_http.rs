//! `POST /mcp`: the MCP server over Streamable HTTP, stateless (no `Mcp-Session-Id`). The
//! protocol is [`super::mcp`]; a tool call is sent through the REST handler as the same client
//! (same bearer key), so tenancy, validation and limits are the REST API's.

use serde_json::Value;
use worker::{Env, Headers, Method, Request, RequestInit, Response};

use super::{
    error::ApiError,
    events,
    handler::{self, internal},
    mcp::{self, Answer, Message, RpcError},
    mcp_tools::{Body, Call},
    wire,
};

/// Largest message accepted: a `run_js` call may carry files, like `POST /v1/run`.
const MAX_MESSAGE_BYTES: usize = wire::MAX_RUN_BODY_BYTES;

/// Answers one POST to `/mcp` from an authenticated client.
pub async fn handle(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    if let Err(message) = mcp::check_version_header(
        req.headers()
            .get("mcp-protocol-version")
            .ok()
            .flatten()
            .as_deref(),
    ) {
        return rpc_error(&RpcError {
            http_status: 400,
            id: Value::Null,
            code: mcp::INVALID_REQUEST,
            message,
        });
    }
    let accept = req
        .headers()
        .get("accept")
        .ok()
        .flatten()
        .unwrap_or_default();
    if !accepts_json(&accept) {
        return Err(ApiError::NotAcceptable(
            "the MCP endpoint answers application/json: send `Accept: application/json, \
             text/event-stream`"
                .into(),
        ));
    }
    let content_type = req.headers().get("content-type").ok().flatten();
    if !content_type.as_deref().is_some_and(|t| {
        t.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/json")
    }) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_MESSAGE_BYTES) {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let body = req
        .bytes()
        .await
        .map_err(|e| ApiError::InvalidRequest(format!("could not read the body: {e}")))?;
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let (id, method, params) = match mcp::parse(&body) {
        Ok(Message::Request { id, method, params }) => (id, method, params),
        Ok(Message::Accepted) => {
            return Response::empty()
                .map(|r| r.with_status(202))
                .map_err(|e| internal("response", e))
        }
        Err(err) => return rpc_error(&err),
    };
    match mcp::answer(&method, &params, &id) {
        Ok(Answer::Result(result)) => rpc_result(&id, result),
        Ok(Answer::ToolError(message)) => rpc_result(
            &id,
            serde_json::json!({
                "content": [{"type": "text", "text": message}],
                "isError": true,
            }),
        ),
        Ok(Answer::Call(call)) => {
            // Progress asked for, and the client reads event streams: stream the console output.
            if let Some(token) = mcp::progress_token(&params) {
                if call.tool.runs_code() && events::wants_stream(Some(&accept)) {
                    return stream_tool(&req, env, call, id, token).await;
                }
            }
            let (status, content_type, bytes) = send(&req, env, &call, false).await?;
            rpc_result(&id, call.tool.result(&call, status, &content_type, &bytes))
        }
        Err(err) => rpc_error(&err),
    }
}

/// Whether `Accept` allows a JSON answer (absent means anything).
fn accepts_json(accept: &str) -> bool {
    accept.trim().is_empty()
        || accept.split(',').any(|part| {
            let media = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            matches!(media.as_str(), "application/json" | "application/*" | "*/*")
        })
}

/// Answers a tool call that runs code as an event stream: progress notifications while it
/// runs, then the response. An answer that is not a stream (an error before the cell ran) is
/// answered as JSON.
async fn stream_tool(
    req: &Request,
    env: &Env,
    call: Call,
    id: Value,
    token: Value,
) -> Result<Response, ApiError> {
    use futures_util::StreamExt as _;
    let mut resp = forward(req, env, &call, true).await?;
    let status = resp.status_code();
    let content_type = header(&resp, "content-type");
    if status != 200 || !content_type.starts_with(events::EVENT_STREAM) {
        let bytes = resp.bytes().await.map_err(|e| internal("mcp answer", e))?;
        return rpc_result(&id, call.tool.result(&call, status, &content_type, &bytes));
    }
    let inner = resp.stream().map_err(|e| internal("mcp stream", e))?;
    let relay = mcp::ProgressRelay::new(call, id, token);
    let events = futures_util::stream::unfold(
        (inner, relay, false),
        |(mut inner, mut relay, ended)| async move {
            if ended {
                return None;
            }
            loop {
                match inner.next().await {
                    Some(Ok(chunk)) => {
                        let out = relay.push(&chunk);
                        if !out.is_empty() {
                            return Some((
                                Ok::<Vec<u8>, worker::Error>(out.into_bytes()),
                                (inner, relay, false),
                            ));
                        }
                    }
                    Some(Err(_)) | None => {
                        let out = if relay.answered() {
                            return None;
                        } else {
                            relay.cut_short()
                        };
                        return Some((Ok(out.into_bytes()), (inner, relay, true)));
                    }
                }
            }
        },
    );
    let headers = Headers::new();
    let _ = headers.set("content-type", events::EVENT_STREAM);
    let _ = headers.set("cache-control", "no-cache");
    Ok(Response::from_stream(events)
        .map_err(|e| internal("mcp stream", e))?
        .with_headers(headers))
}

fn header(resp: &Response, name: &str) -> String {
    resp.headers().get(name).ok().flatten().unwrap_or_default()
}

/// Carries out a tool call as a REST request of the same client: its status, content type and
/// body.
async fn send(
    req: &Request,
    env: &Env,
    call: &Call,
    stream: bool,
) -> Result<(u16, String, Vec<u8>), ApiError> {
    let mut resp = forward(req, env, call, stream).await?;
    let status = resp.status_code();
    let content_type = header(&resp, "content-type");
    let bytes = resp.bytes().await.map_err(|e| internal("mcp answer", e))?;
    Ok((status, content_type, bytes))
}

/// Sends a tool call's REST request through the Worker's own handler, as the same client.
async fn forward(
    req: &Request,
    env: &Env,
    call: &Call,
    stream: bool,
) -> Result<Response, ApiError> {
    let url = req.url().map_err(|e| internal("url", e))?;
    let headers = Headers::new();
    if let Some(auth) = req.headers().get("authorization").ok().flatten() {
        let _ = headers.set("authorization", &auth);
    }
    for (name, value) in &call.headers {
        let _ = headers.set(name, value);
    }
    if stream {
        let _ = headers.set("accept", events::EVENT_STREAM);
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(call.method.to_string()));
    match &call.body {
        Body::None => {}
        Body::Json(value) => {
            let _ = headers.set("content-type", "application/json");
            init.with_body(Some(value.to_string().into()));
        }
        Body::Bytes { data, content_type } => {
            let _ = headers.set("content-type", content_type);
            let _ = headers.set("content-length", &data.len().to_string());
            let array = worker::js_sys::Uint8Array::from(data.as_slice());
            init.with_body(Some(array.into()));
        }
    }
    init.with_headers(headers);
    // The same origin as the client's request: guest fetch policy sees the same sandbox host.
    let target = format!("{}://{}{}", url.scheme(), host_port(&url), call.path);
    let inner = Request::new_with_init(&target, &init).map_err(|e| internal("mcp request", e))?;
    Ok(Box::pin(handler::handle(inner, env.clone())).await)
}

fn host_port(url: &worker::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => "localhost".into(),
    }
}

fn rpc_result(id: &Value, result: Value) -> Result<Response, ApiError> {
    handler::json_response(200, &mcp::result_body(id, result))
}

fn rpc_error(err: &RpcError) -> Result<Response, ApiError> {
    handler::json_response(err.http_status, &err.body())
}

/// Whether a browser page at `origin` may call the MCP endpoint: the sandbox's own origin, or
/// one listed in the `MCP_ALLOWED_ORIGINS` var (comma-separated, `*` for any). Requests without
/// `Origin` (agents, CLIs, servers) are not affected.
pub fn origin_allowed(origin: &str, own: &str, env: &Env) -> bool {
    if origin.eq_ignore_ascii_case(own) {
        return true;
    }
    let listed = env
        .var("MCP_ALLOWED_ORIGINS")
        .map(|v| v.to_string())
        .unwrap_or_default();
    listed
        .split(',')
        .map(str::trim)
        .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
}
