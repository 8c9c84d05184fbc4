//! Named checkpoints and the file rows forks and checkpoints share, in the object's SQL
//! (migration 0008). Each function runs without an `await`, so what it writes is committed
//! together.

use serde::{Deserialize, Serialize};
use worker::SqlStorage;

use super::{keys, refs::Held};
use crate::session::protocol::FileRow;

/// Most named checkpoints a session keeps (docs/api.md).
pub const MAX_CHECKPOINTS: usize = 32;

/// A named checkpoint as the API lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Named {
    pub name: String,
    pub through_seq: i64,
    pub execution_count: i64,
    pub image_bytes: i64,
    pub memory_bytes: i64,
    pub files_count: i64,
    pub files_bytes: i64,
    pub created_ms: i64,
}

/// What the session holds: its files' objects, as sharing sees them.
pub fn held(sql: &SqlStorage, tenant: &str, id: &str) -> worker::Result<Vec<Held>> {
    Ok(super::file_index::object_rows(sql, tenant, id)?
        .into_iter()
        .map(|(row, shared)| Held {
            key: row.object_key,
            shared,
        })
        .collect())
}

/// Marks every file's object as shared (the registry counts it from now on), naming the objects
/// of older files explicitly.
pub fn mark_shared(sql: &SqlStorage, tenant: &str, id: &str) -> worker::Result<()> {
    let legacy = format!("{}files/", keys::artifacts_prefix(tenant, id));
    sql.exec(
        "UPDATE files SET object_key = COALESCE(object_key, ? || path), shared = 1",
        vec![legacy.into()],
    )?;
    Ok(())
}

/// Adds shared file rows (a fork's, or a restored checkpoint's).
pub fn insert_shared_files(sql: &SqlStorage, rows: &[FileRow]) -> worker::Result<()> {
    for row in rows {
        sql.exec(
            "INSERT INTO files (path, size, content_type, etag, modified_ms, object_key, shared) \
             VALUES (?, ?, ?, ?, ?, ?, 1)",
            vec![
                row.path.as_str().into(),
                row.size.into(),
                row.content_type.as_str().into(),
                row.etag.as_str().into(),
                row.modified_ms.into(),
                row.object_key.as_str().into(),
            ],
        )?;
    }
    Ok(())
}

/// The named checkpoints, oldest first.
pub fn list(sql: &SqlStorage) -> worker::Result<Vec<Named>> {
    sql.exec(
        "SELECT name, through_seq, execution_count, image_bytes, memory_bytes, files_count, \
         files_bytes, created_ms FROM named_checkpoints ORDER BY created_ms, name",
        None,
    )?
    .to_array()
}

pub fn get(sql: &SqlStorage, name: &str) -> worker::Result<Option<Named>> {
    let rows: Vec<Named> = sql
        .exec(
            "SELECT name, through_seq, execution_count, image_bytes, memory_bytes, files_count, \
             files_bytes, created_ms FROM named_checkpoints WHERE name = ?",
            vec![name.into()],
        )?
        .to_array()?;
    Ok(rows.into_iter().next())
}

/// Records the session's state as checkpoint `name`: a copy of its latest checkpoint (brought
/// to the journal's head by the caller; none if the session never ran a cell) and its file
/// rows (marked shared by the caller).
pub fn create(
    sql: &SqlStorage,
    name: &str,
    execution_count: i64,
    now_ms: i64,
) -> worker::Result<()> {
    let totals = super::file_index::totals(sql);
    let args = |rest: Vec<worker::SqlStorageValue>| {
        let mut v: Vec<worker::SqlStorageValue> = vec![name.into()];
        v.extend(rest);
        v
    };
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    let has_image = sql
        .exec(
            "SELECT COUNT(*) AS n FROM checkpoints WHERE name = 'latest'",
            None,
        )?
        .to_array::<Count>()?
        .first()
        .is_some_and(|c| c.n > 0);
    // The latest checkpoint's row, or the values of "no image".
    let source = if has_image {
        "SELECT ?1, format, build_id, through_seq, ?2, memory_bytes, image_bytes, journal_pruned, \
         ?3, ?4, ?5 FROM checkpoints WHERE name = 'latest'"
    } else {
        "SELECT ?1, 0, '', 0, ?2, 0, 0, 0, ?3, ?4, ?5"
    };
    sql.exec(
        &format!(
            "INSERT INTO named_checkpoints (name, format, build_id, through_seq, execution_count, \
             memory_bytes, image_bytes, journal_pruned, files_count, files_bytes, created_ms) \
             {source}"
        ),
        args(vec![
            execution_count.into(),
            (totals.count as i64).into(),
            (totals.bytes as i64).into(),
            now_ms.into(),
        ]),
    )?;
    if has_image {
        sql.exec(
            "INSERT INTO named_checkpoint_chunks (name, part, data) \
             SELECT ?, part, data FROM checkpoint_chunks WHERE name = 'latest'",
            vec![name.into()],
        )?;
    }
    sql.exec(
        "INSERT INTO named_checkpoint_files (name, path, size, content_type, etag, modified_ms, \
         object_key) SELECT ?, path, size, content_type, etag, modified_ms, object_key FROM files",
        vec![name.into()],
    )?;
    Ok(())
}

/// The file rows checkpoint `name` holds.
pub fn files(sql: &SqlStorage, name: &str) -> worker::Result<Vec<FileRow>> {
    sql.exec(
        "SELECT path, size, content_type, etag, modified_ms, object_key \
         FROM named_checkpoint_files WHERE name = ? ORDER BY path",
        vec![name.into()],
    )?
    .to_array()
}

/// The file rows of every named checkpoint (for deleting the session).
pub fn all_files(sql: &SqlStorage) -> worker::Result<Vec<FileRow>> {
    sql.exec(
        "SELECT path, size, content_type, etag, modified_ms, object_key \
         FROM named_checkpoint_files",
        None,
    )?
    .to_array()
}

pub fn delete(sql: &SqlStorage, name: &str) -> worker::Result<()> {
    for table in [
        "named_checkpoints",
        "named_checkpoint_chunks",
        "named_checkpoint_files",
    ] {
        sql.exec(
            &format!("DELETE FROM {table} WHERE name = ?"),
            vec![name.into()],
        )?;
    }
    Ok(())
}

/// Returns the session to checkpoint `named`: its image becomes the latest checkpoint (or there
/// is none, for a checkpoint of a session that had run no cell), the journal is emptied (the
/// cells after it are gone; the image is the whole state, so only this engine build can restore
/// it), its file rows replace the session's, its execution count is the session's again, and
/// idempotency keys recorded after it are forgotten.
pub fn restore(sql: &SqlStorage, named: &Named) -> worker::Result<()> {
    let name: worker::SqlStorageValue = named.name.as_str().into();
    sql.exec("DELETE FROM checkpoint_chunks WHERE name = 'latest'", None)?;
    sql.exec("DELETE FROM checkpoints WHERE name = 'latest'", None)?;
    if named.image_bytes > 0 {
        sql.exec(
            "INSERT INTO checkpoint_chunks (name, part, data) \
             SELECT 'latest', part, data FROM named_checkpoint_chunks WHERE name = ?",
            vec![name.clone()],
        )?;
        sql.exec(
            "INSERT INTO checkpoints (name, format, build_id, through_seq, execution_count, \
             memory_bytes, image_bytes, created_ms, journal_pruned) \
             SELECT 'latest', format, build_id, through_seq, execution_count, memory_bytes, \
             image_bytes, created_ms, 1 FROM named_checkpoints WHERE name = ?",
            vec![name.clone()],
        )?;
    }
    for table in ["journal", "journal_io", "journal_blobs", "files"] {
        sql.exec(&format!("DELETE FROM {table}"), None)?;
    }
    sql.exec(
        "INSERT INTO files (path, size, content_type, etag, modified_ms, object_key, shared) \
         SELECT path, size, content_type, etag, modified_ms, object_key, 1 \
         FROM named_checkpoint_files WHERE name = ?",
        vec![name],
    )?;
    sql.exec(
        "UPDATE session SET execution_count = ?",
        vec![named.execution_count.into()],
    )?;
    sql.exec(
        "DELETE FROM idempotency_parts WHERE key IN \
         (SELECT key FROM idempotency WHERE created_ms > ?)",
        vec![named.created_ms.into()],
    )?;
    sql.exec(
        "DELETE FROM idempotency WHERE created_ms > ?",
        vec![named.created_ms.into()],
    )?;
    Ok(())
}
