//! The Worker's fetch handler: authenticate, route, validate, and forward session requests to
//! the session's Durable Object.

use serde::Serialize;
use serde_json::json;
use worker::{Env, Headers, Method, Request, RequestInit, Response};

use super::{
    auth::KeyTable,
    error::ApiError,
    route::Route,
    wire::{self, CreateSessionRequest, ExecRequest, RunRequest, SessionPolicy},
};
use crate::{
    bindings,
    engine::Engine,
    ids,
    session::protocol::{self, CreateCommand},
    storage::{keys, metadata},
};

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
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    Ok(Response::ok(text)
        .map_err(|_| ApiError::Internal)?
        .with_status(status)
        .with_headers(headers))
}

fn internal(context: &str, err: impl std::fmt::Display) -> ApiError {
    worker::console_error!("{context}: {err}");
    ApiError::Internal
}

async fn dispatch(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let url = req.url().map_err(|e| internal("url", e))?;
    let route = Route::parse(req.method().as_ref(), url.path())?;
    if !route.needs_auth() {
        return json_response(200, &json!({"status": "ok"}));
    }
    let tenant = authenticate(&req, env)?;
    match route {
        Route::Health => json_response(200, &json!({"status": "ok"})),
        Route::CreateSession => {
            let body: CreateSessionRequest = read_body(&mut req).await?.unwrap_or_default();
            let (ttl_seconds, limits) = body.validate(policy(env))?;
            let mut random = [0u8; 16];
            getrandom::fill(&mut random).map_err(|e| internal("random", e))?;
            let id = ids::session_id(random);
            let cmd = CreateCommand {
                id: id.clone(),
                tenant: tenant.clone(),
                ttl_seconds,
                metadata: body.metadata.unwrap_or_default(),
                limits,
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
            let body: RunRequest = read_body(&mut req)
                .await?
                .ok_or_else(|| ApiError::InvalidRequest("missing field `code`".into()))?;
            run_once(env, body)
        }
        Route::Exec(id) => {
            let id = session_id(&id)?;
            let body: ExecRequest = read_body(&mut req)
                .await?
                .ok_or_else(|| ApiError::InvalidRequest("missing field `code`".into()))?;
            forward(env, &tenant, &id, Method::Post, protocol::EXEC, Some(&body)).await
        }
    }
}

/// `POST /v1/run`: a fresh realm in this Worker (no Durable Object round trip), dropped after.
fn run_once(env: &Env, body: RunRequest) -> Result<Response, ApiError> {
    let policy = policy(env);
    let limits = body
        .limits
        .unwrap_or_default()
        .resolve(policy.default_limits, policy.max_limits)
        .map_err(ApiError::InvalidRequest)?;
    let seed = ids::random_seed().map_err(|e| internal("seed", e))?;
    let started = worker::Date::now().as_millis();
    let mut engine = Engine::new(seed, limits).map_err(|e| internal("engine", e))?;
    let outcome = engine.execute_with_input(&body.code, started as f64, body.input.as_ref());
    let duration_ms = worker::Date::now().as_millis().saturating_sub(started);
    json_response(200, &wire::exec_result(&outcome, 1, duration_ms))
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
    let headers = req.headers();
    let declared = headers
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > wire::MAX_BODY_BYTES) {
        return Err(ApiError::PayloadTooLarge {
            limit: wire::MAX_BODY_BYTES,
        });
    }
    let content_type = headers.get("content-type").ok().flatten();
    let bytes = req
        .bytes()
        .await
        .map_err(|e| ApiError::InvalidRequest(format!("could not read the body: {e}")))?;
    wire::parse_body(content_type.as_deref(), &bytes)
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
    let namespace = env
        .durable_object(bindings::SESSIONS)
        .map_err(|e| internal("namespace", e))?;
    let stub = namespace
        .get_by_name(&keys::object_name(tenant, id))
        .map_err(|e| internal("stub", e))?;
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        let text = serde_json::to_string(body).map_err(|e| internal("encode", e))?;
        let headers = Headers::new();
        let _ = headers.set("content-type", "application/json");
        init.with_headers(headers).with_body(Some(text.into()));
    }
    let req = Request::new_with_init(&format!("https://session{path}"), &init)
        .map_err(|e| internal("request", e))?;
    stub.fetch_with_request(req)
        .await
        .map_err(|e| internal("object fetch", e))
}
