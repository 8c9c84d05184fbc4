//! Per-session metadata records in KV: what `GET /v1/sessions` lists without waking objects.
//! KV is eventually consistent; the object's own row is the source of truth.

use futures_util::future::join_all;
use worker::{Env, KvStore};

use crate::{api::wire::SessionView, bindings, storage::keys};

/// Records outlive their session in KV by this much, in case its alarm never runs.
const EXPIRY_MARGIN_SECONDS: u64 = 3600;

fn store(env: &Env) -> worker::Result<KvStore> {
    env.kv(bindings::SESSIONS_KV)
}

pub async fn put(env: &Env, tenant: &str, view: &SessionView) -> worker::Result<()> {
    let body = serde_json::to_string(view)?;
    store(env)?
        .put(&keys::session_record(tenant, &view.id), body)?
        .expiration_ttl(view.ttl_seconds + EXPIRY_MARGIN_SECONDS)
        .execute()
        .await?;
    Ok(())
}

pub async fn delete(env: &Env, tenant: &str, id: &str) -> worker::Result<()> {
    store(env)?
        .delete(&keys::session_record(tenant, id))
        .await?;
    Ok(())
}

/// The tenant's session records.
pub async fn list(env: &Env, tenant: &str) -> worker::Result<Vec<SessionView>> {
    let kv = store(env)?;
    let prefix = keys::tenant_sessions_prefix(tenant);
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut req = kv.list().prefix(prefix.clone());
        if let Some(c) = cursor.take() {
            req = req.cursor(c);
        }
        let page = req.execute().await?;
        names.extend(page.keys.into_iter().map(|k| k.name));
        match page.cursor {
            Some(c) if !page.list_complete && !c.is_empty() => cursor = Some(c),
            _ => break,
        }
    }
    let reads = names.iter().map(|name| kv.get(name).json::<SessionView>());
    let mut views: Vec<SessionView> = join_all(reads)
        .await
        .into_iter()
        .filter_map(|r| r.ok().flatten())
        .collect();
    views.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    Ok(views)
}
