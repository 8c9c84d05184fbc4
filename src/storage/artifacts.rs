//! Session artifacts in R2, under `{tenant}/{session}/`.

use worker::Env;

use crate::{bindings, storage::keys};

/// Deletes every object under the session's prefix.
pub async fn delete_all(env: &Env, tenant: &str, id: &str) -> worker::Result<()> {
    let bucket = env.bucket(bindings::ARTIFACTS)?;
    let prefix = keys::artifacts_prefix(tenant, id);
    loop {
        let page = bucket.list().prefix(prefix.clone()).execute().await?;
        let names: Vec<String> = page.objects().iter().map(|o| o.key()).collect();
        if names.is_empty() {
            return Ok(());
        }
        bucket.delete_multiple(names).await?;
        if !page.truncated() {
            return Ok(());
        }
    }
}
