//! The Worker's fetch handler: authenticate, route, validate, and forward session requests to
//! the session's Durable Object.

use serde::Serialize;
use serde_json::json;
use worker::{Env, Headers, Method, Request, RequestInit, Response};

use super::{
    auth::KeyTable,
    branch_wire::{self, CheckpointRequest, ForkRequest},
    error::ApiError,
    events::{self, EventStream},
    openapi,
    route::Route,
    wire::{self, CreateSessionRequest, ExecRequest, InlineFile, RunRequest, SessionPolicy},
};
use crate::{
    bindings,
    engine::abi::{InitMessage, StartMessage},
    files::{
        path,
        staging::{Index as _, MemoryFiles, Quotas, Staged, StagedFile},
        DEFAULT_CONTENT_TYPE,
    },
    host_io::{CellIo, Files},
    ids, instance,
    net::client::Client,
    session::{
        idempotency,
        protocol::{self, CheckpointCommand, CreateCommand, ForkCommand},
        service,
    },
    storage::{keys, metadata},
};

/// Most bytes of written files a one-shot run returns inline.
const MAX_INLINE_FILES_BYTES: usize = 1 << 20;

/// Handles one request; never fails: every error becomes a JSON error response.
pub async fn handle(req: Request, env: Env) -> Response {
    match dispatch(req, &env).await {
        Ok(resp) => resp,
        Err(err) => error_response(&err),
    }
}

/// Renders an API error as its JSON response.
pub fn error_response(err: &ApiError) -> Response {
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    if let ApiError::MethodNotAllowed { allow } = err {
        let _ = headers.set("allow", allow);
    }
    match Response::ok(err.body()) {
        Ok(resp) => resp.with_status(err.status()).with_headers(headers),
        Err(_) => Response::empty()
            .unwrap_or_else(|_| unreachable_response())
            .with_status(500),
    }
}

fn unreachable_response() -> Response {
    // Building an empty response cannot fail in practice; keep a value for the type checker.
    Response::error("internal error", 500).unwrap_or_else(|_| unreachable_response())
}

/// Serializes `body` as a JSON response with `status`.
pub fn json_response<T: Serialize>(status: u16, body: &T) -> Result<Response, ApiError> {
    let text = serde_json::to_string(body).map_err(|_| ApiError::Internal)?;
    json_text_response(status, text)
}

/// A JSON response of already encoded `text`.
pub fn json_text_response(status: u16, text: String) -> Result<Response, ApiError> {
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    Ok(Response::ok(text)
        .map_err(|_| ApiError::Internal)?
        .with_status(status)
        .with_headers(headers))
}

/// Logs a platform failure with its context and answers the generic 500 (the cause is not sent).
pub fn internal(context: &str, err: impl std::fmt::Display) -> ApiError {
    worker::console_error!("{context}: {err}");
    ApiError::Internal
}

async fn dispatch(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let url = req.url().map_err(|e| internal("url", e))?;
    // The method as sent: `req.method()` reads any method it does not know (QUERY, ...) as GET.
    let route = Route::parse(&req.inner().method(), url.path())?;
    if !route.needs_auth() {
        return public(&route, env);
    }
    if route == Route::Mcp {
        // A page of another origin must not drive the sandbox with a user's key (DNS rebinding).
        if let Some(origin) = req.headers().get("origin").ok().flatten() {
            let own = url.origin().ascii_serialization();
            if !super::mcp_http::origin_allowed(&origin, &own, env) {
                return Err(ApiError::Forbidden(format!(
                    "Origin {origin:?} may not use the MCP endpoint; allowed: this sandbox's own \
                     origin and MCP_ALLOWED_ORIGINS"
                )));
            }
        }
    }
    let tenant = authenticate(&req, env)?;
    match route {
        Route::Health | Route::OpenApi => public(&route, env),
        Route::Mcp => super::mcp_http::handle(req, env).await,
        Route::CreateSession => {
            let body: CreateSessionRequest = read_body(&mut req).await?.unwrap_or_default();
            let (ttl_seconds, limits) = body.validate(policy(env))?;
            let network = wire::network_rules(body.network.as_ref())?.rules();
            let secrets = wire::env_values(body.env.as_ref())?;
            let mut random = [0u8; 16];
            getrandom::fill(&mut random).map_err(|e| internal("random", e))?;
            let id = ids::session_id(random);
            let cmd = CreateCommand {
                id: id.clone(),
                tenant: tenant.clone(),
                ttl_seconds,
                metadata: body.metadata.unwrap_or_default(),
                limits,
                network,
                env: secrets,
            };
            forward(
                env,
                &tenant,
                &id,
                Method::Post,
                protocol::CREATE,
                Some(&cmd),
            )
            .await
        }
        Route::ListSessions => {
            let sessions = metadata::list(env, &tenant)
                .await
                .map_err(|e| internal("kv list", e))?;
            json_response(200, &json!({ "sessions": sessions }))
        }
        Route::GetSession(id) => {
            forward::<()>(
                env,
                &tenant,
                &session_id(&id)?,
                Method::Get,
                protocol::INFO,
                None,
            )
            .await
        }
        Route::DeleteSession(id) => {
            forward::<()>(
                env,
                &tenant,
                &session_id(&id)?,
                Method::Post,
                protocol::DELETE,
                None,
            )
            .await
        }
        Route::Run => {
            let body: RunRequest = read_body_within(&mut req, wire::MAX_RUN_BODY_BYTES)
                .await?
                .ok_or_else(|| ApiError::InvalidRequest("missing field `code`".into()))?;
            run_once(env, body, origin(&url), wants_stream(&req)).await
        }
        Route::Exec(id) => {
            let id = session_id(&id)?;
            let body: ExecRequest = read_body(&mut req)
                .await?
                .ok_or_else(|| ApiError::InvalidRequest("missing field `code`".into()))?;
            let key = idempotency_key(&req)?;
            let request = object_request(Method::Post, protocol::EXEC, Some(&body))?;
            if let Some(key) = key {
                let _ = request.headers().set(protocol::IDEMPOTENCY_HEADER, &key);
            }
            if wants_stream(&req) {
                let _ = request.headers().set("accept", events::EVENT_STREAM);
            }
            if let Some((host, port)) = origin(&url) {
                let _ = request
                    .headers()
                    .set(protocol::ORIGIN_HEADER, &format!("{host}:{port}"));
            }
            send(env, &tenant, &id, request).await
        }
        Route::Fork(id) => {
            let id = session_id(&id)?;
            let body: ForkRequest = read_body(&mut req).await?.unwrap_or_default();
            let fork = body.validate(policy(env))?;
            let mut ids = Vec::new();
            for _ in 0..fork.count {
                ids.push(ids::session_id(
                    ids::random_bytes().map_err(|e| internal("random", e))?,
                ));
            }
            let cmd = ForkCommand {
                ids,
                ttl_seconds: fork.ttl_seconds,
                metadata: fork.metadata,
            };
            forward(env, &tenant, &id, Method::Post, protocol::FORK, Some(&cmd)).await
        }
        Route::ListCheckpoints(id) => {
            forward::<()>(
                env,
                &tenant,
                &session_id(&id)?,
                Method::Get,
                protocol::CHECKPOINTS,
                None,
            )
            .await
        }
        Route::CreateCheckpoint(id) => {
            let id = session_id(&id)?;
            let body: CheckpointRequest = read_body(&mut req).await?.unwrap_or_default();
            let name = match body.name {
                Some(name) => {
                    branch_wire::check_name(&name)?;
                    name
                }
                None => {
                    let random = ids::random_bytes().map_err(|e| internal("random", e))?;
                    branch_wire::generated_name(
                        worker::Date::now().as_millis(),
                        u32::from_le_bytes([random[0], random[1], random[2], random[3]]),
                    )
                }
            };
            let cmd = CheckpointCommand { name };
            forward(
                env,
                &tenant,
                &id,
                Method::Post,
                protocol::CHECKPOINTS,
                Some(&cmd),
            )
            .await
        }
        Route::DeleteCheckpoint(ref id, ref name) | Route::RestoreCheckpoint(ref id, ref name) => {
            let (id, name) = (session_id(id)?, name.clone());
            // A name that breaks the rules cannot exist.
            branch_wire::check_name(&name)
                .map_err(|_| ApiError::CheckpointNotFound(name.clone()))?;
            let (method, path) = match route {
                Route::DeleteCheckpoint(..) => {
                    (Method::Delete, format!("{}/{name}", protocol::CHECKPOINTS))
                }
                _ => (
                    Method::Post,
                    format!("{}/{name}/restore", protocol::CHECKPOINTS),
                ),
            };
            forward::<()>(env, &tenant, &id, method, &path, None).await
        }
        Route::ListFiles(id) => {
            let id = session_id(&id)?;
            let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
            let request =
                object_request::<()>(Method::Get, &format!("{}{query}", protocol::FILES), None)?;
            send(env, &tenant, &id, request).await
        }
        Route::File(id, raw) => {
            let id = session_id(&id)?;
            let path = path::from_url(&raw).map_err(|e| ApiError::InvalidPath(e.to_string()))?;
            send(env, &tenant, &id, file_request(&req, &path)?).await
        }
    }
}

/// The request's `Idempotency-Key`, checked (400 naming the rule otherwise).
fn idempotency_key(req: &Request) -> Result<Option<String>, ApiError> {
    let Some(key) = req.headers().get(idempotency::HEADER).ok().flatten() else {
        return Ok(None);
    };
    idempotency::check_key(&key).map_err(ApiError::InvalidRequest)?;
    Ok(Some(key))
}

/// The routes that need no API key: health and the OpenAPI document.
fn public(route: &Route, env: &Env) -> Result<Response, ApiError> {
    match route {
        Route::OpenApi => {
            let doc = openapi::document(&policy(env)).map_err(|e| internal("openapi", e))?;
            let headers = Headers::new();
            let _ = headers.set("content-type", "application/json");
            Ok(Response::ok(doc)
                .map_err(|e| internal("response", e))?
                .with_headers(headers))
        }
        _ => json_response(200, &json!({"status": "ok"})),
    }
}

/// The sandbox's own host and port, as the client reached it (for the fetch policy).
fn origin(url: &worker::Url) -> Option<(String, u16)> {
    Some((url.host_str()?.to_string(), url.port_or_known_default()?))
}

/// A file request for the object: the client's method, the headers the object reads, and the
/// body as a stream (an upload is never read into memory here).
fn file_request(req: &Request, path: &str) -> Result<Request, ApiError> {
    let headers = Headers::new();
    for name in ["content-type", "content-length", "range", "if-none-match"] {
        if let Some(value) = req.headers().get(name).ok().flatten() {
            let _ = headers.set(name, &value);
        }
    }
    let mut init = RequestInit::new();
    init.with_method(req.method()).with_headers(headers);
    if req.method() == Method::Put {
        if let Some(body) = req.inner().body() {
            init.with_body(Some(body.into()));
        }
    }
    let encoded: String = path
        .split('/')
        .map(|segment| {
            worker::js_sys::encode_uri_component(segment)
                .as_string()
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("/");
    Request::new_with_init(
        &format!("https://session{}/{encoded}", protocol::FILES),
        &init,
    )
    .map_err(|e| internal("request", e))
}

/// Whether the request asks for server-sent events (`Accept: text/event-stream`).
fn wants_stream(req: &Request) -> bool {
    events::wants_stream(req.headers().get("accept").ok().flatten().as_deref())
}

/// Keepalive interval of streams: `STREAM_HEARTBEAT_MS`, or the default.
pub fn heartbeat_ms(env: &Env) -> u64 {
    env.var("STREAM_HEARTBEAT_MS")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .filter(|&ms| ms > 0)
        .unwrap_or(events::DEFAULT_HEARTBEAT_MS)
}

/// `POST /v1/run`: a fresh engine instance in this Worker (no Durable Object round trip), dropped
/// after; the same cell driver as sessions. With `stream`, the answer is an event stream (see
/// `api::events`) and the cell runs after it is returned; errors found before the cell starts
/// are still plain JSON.
async fn run_once(
    env: &Env,
    body: RunRequest,
    origin: Option<(String, u16)>,
    stream: bool,
) -> Result<Response, ApiError> {
    let policy = policy(env);
    let limits = body
        .limits
        .unwrap_or_default()
        .resolve(policy.default_limits, policy.max_limits)
        .map_err(ApiError::InvalidRequest)?;
    let allow = wire::network_rules(body.network.as_ref())?;
    let secrets = wire::env_values(body.env.as_ref())?;
    let quotas = Quotas::from(&limits);
    let files = inline_files(body.files.unwrap_or_default(), quotas)?;
    let seed = ids::random_seed().map_err(|e| internal("seed", e))?;
    let started = worker::Date::now().as_millis();
    let init = InitMessage {
        seed,
        limits,
        env: secrets,
    };
    let engines = instance::WasmEngines { limits, sink: None };
    let pristine = limits == policy.default_limits;
    let mut live = engines
        .fresh_for_run(
            &init,
            instance::BASE_BYTES.saturating_add(limits.memory_bytes),
            pristine,
        )
        .await
        .map_err(|e| internal("engine", e))?;
    let client = Client::new(allow, origin, &limits);
    let io = CellIo::new(Files::Memory(files), quotas, client, started as i64);
    let cell = StartMessage {
        code: body.code,
        now_ms: started as f64,
        input: body.input,
        yield_fuel: 0,
    };
    if !stream {
        let result = run_cell(live, cell, io, started).await;
        return json_response(200, &result);
    }
    let (events, response) = EventStream::new().map_err(|e| internal("stream", e))?;
    live.sink = Some(events.output_sink(events::YIELD_FUEL));
    events.start_heartbeat(heartbeat_ms(env));
    worker::wasm_bindgen_futures::spawn_local(async move {
        let result = run_cell(live, cell, io, started).await;
        events.send(&events::result_event(&result));
        events.close();
    });
    Ok(response)
}

/// Runs a one-shot cell; its answer's body.
async fn run_cell(
    mut live: instance::Live,
    cell: StartMessage,
    mut io: CellIo<'static>,
    started: u64,
) -> serde_json::Value {
    let outcome = service::drive(&mut live, &cell, &mut io).await;
    let duration_ms = worker::Date::now().as_millis().saturating_sub(started);
    let mut result = wire::exec_result(&outcome, 1, duration_ms);
    let written = if outcome.committed {
        written_files(io.into_staged())
    } else {
        Vec::new()
    };
    result["files"] = serde_json::Value::Array(written);
    result
}

/// A run's input files, checked like uploads: path rules, then quotas.
fn inline_files(
    given: std::collections::BTreeMap<String, InlineFile>,
    quotas: Quotas,
) -> Result<MemoryFiles, ApiError> {
    use base64::Engine as _;
    // Every entry is checked and decoded before any quota, so a malformed one is a 400 even
    // when an earlier one is over a quota.
    let mut decoded = Vec::with_capacity(given.len());
    for (raw, file) in given {
        let path = path::normalize(&raw).map_err(|e| ApiError::InvalidPath(e.to_string()))?;
        let (data, content_type) = match file {
            InlineFile::Text(text) => (text.into_bytes(), "text/plain; charset=utf-8".to_string()),
            InlineFile::Encoded(encoded) => {
                let data = match (encoded.text, encoded.base64) {
                    (Some(text), None) => text.into_bytes(),
                    (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                        .decode(b64.trim())
                        .map_err(|e| {
                            ApiError::InvalidRequest(format!("`files.{raw}.base64`: {e}"))
                        })?,
                    _ => {
                        return Err(ApiError::InvalidRequest(format!(
                            "`files.{raw}` needs exactly one of `text` and `base64`"
                        )))
                    }
                };
                let content_type = encoded
                    .content_type
                    .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string());
                (data, content_type)
            }
        };
        decoded.push((path, data, content_type));
    }
    let mut files = MemoryFiles::default();
    let now = worker::Date::now().as_millis() as i64;
    for (path, data, content_type) in decoded {
        let size = data.len() as u64;
        let existing = files.files.get(&path).map(|f| f.data.len() as u64);
        quotas
            .check(files.totals(), existing, size)
            .map_err(ApiError::QuotaExceeded)?;
        files.files.insert(
            path,
            StagedFile {
                data,
                content_type,
                modified_ms: now,
            },
        );
    }
    Ok(files)
}

/// The files a run wrote, inline (UTF-8 text, else base64) up to a total size.
fn written_files(staged: Staged) -> Vec<serde_json::Value> {
    use base64::Engine as _;
    let mut budget = MAX_INLINE_FILES_BYTES;
    let mut out = Vec::new();
    for (path, change) in staged.into_changes() {
        let Some(file) = change else { continue };
        let mut entry = json!({
            "path": path,
            "size": file.data.len(),
            "content_type": file.content_type,
        });
        if file.data.len() > budget {
            entry["content"] = serde_json::Value::Null;
            entry["truncated"] = true.into();
        } else {
            budget -= file.data.len();
            match String::from_utf8(file.data) {
                Ok(text) => {
                    entry["encoding"] = "utf8".into();
                    entry["content"] = text.into();
                }
                Err(e) => {
                    entry["encoding"] = "base64".into();
                    entry["content"] = base64::engine::general_purpose::STANDARD
                        .encode(e.as_bytes())
                        .into();
                }
            }
        }
        out.push(entry);
    }
    out
}

/// A syntactically valid session ID; anything else cannot exist, so it is 404.
fn session_id(id: &str) -> Result<String, ApiError> {
    if ids::is_session_id(id) {
        Ok(id.to_string())
    } else {
        Err(ApiError::session_not_found())
    }
}

fn authenticate(req: &Request, env: &Env) -> Result<String, ApiError> {
    let secret = env
        .secret(bindings::API_KEYS)
        .map(|s| s.to_string())
        .or_else(|_| env.var(bindings::API_KEYS).map(|v| v.to_string()))
        .unwrap_or_default();
    let keys = KeyTable::parse(&secret).map_err(|e| internal("API_KEYS", e))?;
    let header = req.headers().get("authorization").ok().flatten();
    keys.authenticate(header.as_deref())
        .map(str::to_string)
        .ok_or(ApiError::Unauthorized)
}

fn policy(env: &Env) -> SessionPolicy {
    SessionPolicy::from_vars(|name| env.var(name).ok().map(|v| v.to_string()))
}

/// Reads and parses a JSON body, refusing oversized bodies before reading them when the
/// client declared their length.
async fn read_body<T: serde::de::DeserializeOwned>(
    req: &mut Request,
) -> Result<Option<T>, ApiError> {
    read_body_within(req, wire::MAX_BODY_BYTES).await
}

/// [`read_body`] for a route that takes bodies up to `limit` bytes.
async fn read_body_within<T: serde::de::DeserializeOwned>(
    req: &mut Request,
    limit: usize,
) -> Result<Option<T>, ApiError> {
    let headers = req.headers();
    let declared = headers
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let content_type = headers.get("content-type").ok().flatten();
    let bytes = req
        .bytes()
        .await
        .map_err(|e| ApiError::InvalidRequest(format!("could not read the body: {e}")))?;
    wire::parse_body_within(content_type.as_deref(), &bytes, limit)
}

/// Sends a command to the session's object and returns its answer as is.
async fn forward<T: Serialize>(
    env: &Env,
    tenant: &str,
    id: &str,
    method: Method,
    path: &str,
    body: Option<&T>,
) -> Result<Response, ApiError> {
    send(env, tenant, id, object_request(method, path, body)?).await
}

/// A request for the object's internal API.
fn object_request<T: Serialize>(
    method: Method,
    path: &str,
    body: Option<&T>,
) -> Result<Request, ApiError> {
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        let text = serde_json::to_string(body).map_err(|e| internal("encode", e))?;
        let headers = Headers::new();
        let _ = headers.set("content-type", "application/json");
        init.with_headers(headers).with_body(Some(text.into()));
    }
    Request::new_with_init(&format!("https://session{path}"), &init)
        .map_err(|e| internal("request", e))
}

/// Sends `req` to the session's object.
async fn send(env: &Env, tenant: &str, id: &str, req: Request) -> Result<Response, ApiError> {
    let namespace = env
        .durable_object(bindings::SESSIONS)
        .map_err(|e| internal("namespace", e))?;
    let stub = namespace
        .get_by_name(&keys::object_name(tenant, id))
        .map_err(|e| internal("stub", e))?;
    stub.fetch_with_request(req)
        .await
        .map_err(|e| internal("object fetch", e))
}
