//! The files HTTP API, inside the session's object: uploads and deletes keep the index (SQL) and
//! the bytes (R2) in step and check quotas; downloads stream from R2.

use serde_json::json;
use worker::{Env, Headers, Request, Response, SqlStorage};

use crate::{
    api::{
        error::ApiError,
        handler::{internal, json_response},
    },
    files::{
        range::{self, RangeRequest},
        staging::Quotas,
        FileInfo, DEFAULT_CONTENT_TYPE,
    },
    ids,
    session::record::SessionRecord,
    storage::{artifacts, file_index, file_refs, keys},
    time::{http_date, rfc3339},
};

/// Default and largest page of a listing.
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

/// A file as the API shows it.
pub fn view(file: &FileInfo) -> serde_json::Value {
    json!({
        "path": file.path,
        "size": file.size,
        "content_type": file.content_type,
        "etag": file.etag,
        "modified_at": rfc3339(file.modified_ms),
    })
}

/// `GET /files?prefix=&limit=&cursor=`: a page of files in path order.
pub fn list(sql: &SqlStorage, req: &Request) -> Result<Response, ApiError> {
    let url = req.url().map_err(|e| internal("url", e))?;
    let (mut prefix, mut limit, mut after) = (String::new(), DEFAULT_PAGE, String::new());
    for (name, value) in url.query_pairs() {
        match name.as_ref() {
            "prefix" => prefix = value.into_owned(),
            "limit" => {
                limit = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or_else(|| {
                        ApiError::InvalidRequest(format!(
                            "limit must be an integer from 1 to {MAX_PAGE}"
                        ))
                    })?
            }
            "cursor" => {
                after = decode_cursor(&value)
                    .ok_or_else(|| ApiError::InvalidRequest("cursor is not valid".into()))?
            }
            _ => {}
        }
    }
    if prefix.len() > crate::files::path::MAX_PATH_BYTES {
        return Err(ApiError::InvalidRequest(format!(
            "prefix is longer than {} bytes",
            crate::files::path::MAX_PATH_BYTES
        )));
    }
    // One more than asked tells whether another page follows.
    let mut files = file_index::page(sql, &prefix, &after, limit + 1);
    let more = files.len() > limit as usize;
    files.truncate(limit as usize);
    let cursor = more
        .then(|| files.last().map(|f| encode_cursor(&f.path)))
        .flatten();
    json_response(
        200,
        &json!({"files": files.iter().map(view).collect::<Vec<_>>(), "cursor": cursor}),
    )
}

/// The cursor is the last path of the page, hex-encoded so it is opaque and URL-safe.
fn encode_cursor(path: &str) -> String {
    path.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(cursor: &str) -> Option<String> {
    if !cursor.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
        .collect();
    // Any hex string is a cursor: one this route did not give starts the page after that
    // string (bytes that are not UTF-8 read as U+FFFD).
    Some(String::from_utf8_lossy(&bytes?).into_owned())
}

/// `GET`/`HEAD` of one file, with `Range` and `If-None-Match`.
pub async fn get(
    env: &Env,
    sql: &SqlStorage,
    record: &SessionRecord,
    path: &str,
    req: &Request,
    with_body: bool,
) -> Result<Response, ApiError> {
    let file = file_index::get(sql, path).ok_or_else(|| ApiError::FileNotFound(path.into()))?;
    let headers = Headers::new();
    let etag = format!("\"{}\"", file.etag);
    let set = |name: &str, value: &str| headers.set(name, value).map_err(|e| internal("header", e));
    set("content-type", &file.content_type)?;
    set("etag", &etag)?;
    set("last-modified", &http_date(file.modified_ms))?;
    set("accept-ranges", "bytes")?;
    let header = |name: &str| req.headers().get(name).ok().flatten();
    if header("if-none-match").is_some_and(|tags| {
        tags.split(',')
            .any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*")
    }) {
        return Ok(Response::empty()
            .map_err(|e| internal("response", e))?
            .with_status(304)
            .with_headers(headers));
    }
    let (status, r2_range, length) = match range::parse(header("range").as_deref(), file.size) {
        RangeRequest::Full => (200, None, file.size),
        RangeRequest::Partial { offset, length } => {
            let content_range = RangeRequest::Partial { offset, length }
                .content_range(file.size)
                .unwrap_or_default();
            set("content-range", &content_range)?;
            (
                206,
                Some(worker::Range::OffsetWithLength { offset, length }),
                length,
            )
        }
        RangeRequest::Unsatisfiable => {
            let err = ApiError::RangeNotSatisfiable { size: file.size };
            let response = crate::api::handler::error_response(&err);
            let _ = response
                .headers()
                .set("content-range", &format!("bytes */{}", file.size));
            return Ok(response);
        }
    };
    set("content-length", &length.to_string())?;
    if !with_body {
        return Ok(Response::empty()
            .map_err(|e| internal("response", e))?
            .with_status(status)
            .with_headers(headers));
    }
    let key = file_index::held(sql, &record.tenant, &record.id, path)
        .ok_or_else(|| ApiError::FileNotFound(path.into()))?
        .key;
    let object = artifacts::get(env, &key, r2_range)
        .await
        .map_err(|e| internal("r2 get", e))?
        .ok_or_else(|| ApiError::FileNotFound(path.into()))?;
    let body = match object.body() {
        Some(body) => body.response_body().map_err(|e| internal("r2 body", e))?,
        None => worker::ResponseBody::Empty,
    };
    Ok(Response::from_body(body)
        .map_err(|e| internal("response", e))?
        .with_status(status)
        .with_headers(headers))
}

/// `PUT`: stores the body (streamed to R2, never held whole in memory) within the quotas.
pub async fn put(
    env: &Env,
    sql: &SqlStorage,
    record: &SessionRecord,
    path: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let size = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or(ApiError::LengthRequired)?;
    let existing = file_index::get(sql, path);
    Quotas::from(&record.limits())
        .check(
            file_index::totals(sql),
            existing.as_ref().map(|f| f.size),
            size,
        )
        .map_err(ApiError::QuotaExceeded)?;
    let content_type = req
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .filter(|ct| !ct.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string());
    let data = match req.inner().body() {
        Some(stream) if size > 0 => worker::Data::ReadableStream(stream),
        _ => worker::Data::Bytes(Vec::new()),
    };
    // A new object per write: the old one may be shared with forks and checkpoints.
    let key = keys::object_key(
        &record.tenant,
        ids::random_bytes().map_err(|e| internal("random", e))?,
    );
    let old = file_index::held(sql, &record.tenant, &record.id, path);
    let object = artifacts::put(env, &key, data, &content_type)
        .await
        .map_err(|e| ApiError::InvalidRequest(format!("could not store the body: {e}")))?;
    let file = FileInfo {
        path: path.to_string(),
        size: object.size(),
        content_type,
        etag: object.etag(),
        modified_ms: worker::Date::now().as_millis() as i64,
    };
    file_index::upsert(sql, &file, &key).map_err(|e| internal("file index", e))?;
    // After the index stops pointing at it.
    if let Some(old) = old {
        if let Err(e) = file_refs::release(env, &record.tenant, vec![old]).await {
            worker::console_error!("release replaced file: {e}");
        }
    }
    json_response(if existing.is_some() { 200 } else { 201 }, &view(&file))
}

/// `DELETE` of one file.
pub async fn delete(
    env: &Env,
    sql: &SqlStorage,
    record: &SessionRecord,
    path: &str,
) -> Result<Response, ApiError> {
    let held = file_index::held(sql, &record.tenant, &record.id, path)
        .ok_or_else(|| ApiError::FileNotFound(path.into()))?;
    file_index::remove(sql, path).map_err(|e| internal("file index", e))?;
    // After the index stops pointing at it; a failure leaves an unreferenced object behind.
    if let Err(e) = file_refs::release(env, &record.tenant, vec![held]).await {
        worker::console_error!("release deleted file: {e}");
    }
    json_response(200, &json!({"path": path, "deleted": true}))
}
