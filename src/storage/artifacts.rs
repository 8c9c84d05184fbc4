//! Session artifacts in R2, under `{tenant}/{session}/`.

use worker::Env;

use crate::{bindings, storage::keys};

/// Deletes every object under the session's prefix except those in `keep` (files written
/// before forks existed that a fork or checkpoint now shares).
pub async fn delete_all(
    env: &Env,
    tenant: &str,
    id: &str,
    keep: &std::collections::BTreeSet<String>,
) -> worker::Result<()> {
    let bucket = env.bucket(bindings::ARTIFACTS)?;
    let prefix = keys::artifacts_prefix(tenant, id);
    let mut cursor: Option<String> = None;
    loop {
        let mut list = bucket.list().prefix(prefix.clone());
        if let Some(c) = cursor.take() {
            list = list.cursor(c);
        }
        let page = list.execute().await?;
        let names: Vec<String> = page
            .objects()
            .iter()
            .map(|o| o.key())
            .filter(|k| !keep.contains(k))
            .collect();
        if !names.is_empty() {
            bucket.delete_multiple(names).await?;
        }
        match page.cursor() {
            Some(c) if page.truncated() => cursor = Some(c),
            _ => return Ok(()),
        }
    }
}

/// Stores one file's bytes (from a stream of known length, or in memory).
pub async fn put(
    env: &Env,
    key: &str,
    data: worker::Data,
    content_type: &str,
) -> worker::Result<worker::Object> {
    env.bucket(bindings::ARTIFACTS)?
        .put(key, data)
        .http_metadata(worker::HttpMetadata {
            content_type: Some(content_type.to_string()),
            ..Default::default()
        })
        .execute()
        .await?
        .ok_or_else(|| worker::Error::RustError("R2 stored nothing".into()))
}

/// One file, or the part of it `range` asks for.
pub async fn get(
    env: &Env,
    key: &str,
    range: Option<worker::Range>,
) -> worker::Result<Option<worker::Object>> {
    let bucket = env.bucket(bindings::ARTIFACTS)?;
    let mut get = bucket.get(key);
    if let Some(range) = range {
        get = get.range(range);
    }
    get.execute().await
}

/// All of one file's bytes, and its etag.
pub async fn read(env: &Env, key: &str) -> worker::Result<Option<(Vec<u8>, String)>> {
    let Some(object) = get(env, key, None).await? else {
        return Ok(None);
    };
    let etag = object.etag();
    let bytes = match object.body() {
        Some(body) => body.bytes().await?,
        None => Vec::new(),
    };
    Ok(Some((bytes, etag)))
}

pub async fn delete(env: &Env, key: &str) -> worker::Result<()> {
    env.bucket(bindings::ARTIFACTS)?.delete(key).await
}
