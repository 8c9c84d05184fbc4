//! `FileRefs`: one Durable Object per tenant counting the references to the tenant's shared R2
//! objects (see [`super::refs`]), and deleting an object when its count reaches zero. Changes
//! to one tenant's counts are serialised by the object, so concurrent forks, checkpoints and
//! deletions of several sessions never lose an update.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Method, Request, RequestInit, Response, State};

use super::{
    keys, migrations,
    refs::{self, RefChange},
};
use crate::bindings;

#[durable_object]
pub struct FileRefs {
    state: State,
    env: Env,
}

impl DurableObject for FileRefs {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let change: RefChange = req.json().await?;
        let sql = self.state.storage().sql();
        migrations::apply_list(&sql, migrations::REFS_MIGRATIONS)?;
        let gone = self.apply(&sql, &change)?;
        // After the counts are stored: an object is deleted only once nothing counts it.
        delete_objects(&self.env, &gone).await?;
        Response::from_json(&serde_json::json!({ "deleted": gone.len() }))
    }
}

impl FileRefs {
    /// Updates the counts of the keys `change` names (one event: committed together).
    fn apply(&self, sql: &worker::SqlStorage, change: &RefChange) -> worker::Result<Vec<String>> {
        #[derive(Deserialize)]
        struct Row {
            count: i64,
        }
        // Each key the change names, once: its count is read, changed and written back.
        let keys: BTreeSet<&String> = change
            .add
            .iter()
            .map(|(k, _)| k)
            .chain(&change.drop)
            .collect();
        let mut counts = BTreeMap::new();
        for key in &keys {
            let rows: Vec<Row> = sql
                .exec(
                    "SELECT count FROM refs WHERE key = ?",
                    vec![key.as_str().into()],
                )?
                .to_array()?;
            if let Some(row) = rows.first() {
                counts.insert((*key).clone(), row.count);
            }
        }
        let gone = refs::apply(&mut counts, change);
        for key in keys {
            match counts.get(key) {
                Some(count) => sql.exec(
                    "INSERT INTO refs (key, count) VALUES (?, ?) \
                     ON CONFLICT(key) DO UPDATE SET count = excluded.count",
                    vec![key.as_str().into(), (*count).into()],
                )?,
                None => sql.exec("DELETE FROM refs WHERE key = ?", vec![key.as_str().into()])?,
            };
        }
        Ok(gone)
    }
}

/// Sends `change` to `tenant`'s registry.
pub async fn send(env: &Env, tenant: &str, change: &RefChange) -> worker::Result<()> {
    if change.is_empty() {
        return Ok(());
    }
    let stub = env
        .durable_object(bindings::FILE_REFS)?
        .get_by_name(&keys::refs_name(tenant))?;
    let headers = worker::Headers::new();
    headers.set("content-type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(serde_json::to_string(change)?.into()));
    let resp = stub
        .fetch_with_request(Request::new_with_init("https://refs/apply", &init)?)
        .await?;
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "reference registry answered {}",
            resp.status_code()
        )));
    }
    Ok(())
}

/// Lets go of `files`: objects the session held alone are deleted now, shared ones lose a
/// reference.
pub async fn release(env: &Env, tenant: &str, files: Vec<refs::Held>) -> worker::Result<()> {
    let (alone, change) = refs::release(files);
    delete_objects(env, &alone).await?;
    send(env, tenant, &change).await
}

/// Deletes R2 objects, 1000 per call (R2's bound).
async fn delete_objects(env: &Env, keys: &[String]) -> worker::Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let bucket = env.bucket(bindings::ARTIFACTS)?;
    for batch in keys.chunks(1000) {
        bucket.delete_multiple(batch.to_vec()).await?;
    }
    Ok(())
}
