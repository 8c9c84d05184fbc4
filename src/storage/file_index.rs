//! The index of a session's files in the object's SQL (table `files`): what quotas, listings and
//! `stat` read. The bytes are in R2 (`storage::artifacts`); the index is written after R2, so
//! every indexed file has its bytes stored.

use serde::Deserialize;
use worker::SqlStorage;

use super::refs::Held;
use crate::files::{
    staging::{Index, Totals},
    FileInfo,
};
use crate::session::protocol::FileRow;

#[derive(Deserialize)]
struct Row {
    path: String,
    size: i64,
    content_type: String,
    etag: String,
    modified_ms: i64,
    /// Selected only where the object matters (see [`object_rows`]).
    #[serde(default)]
    object_key: Option<String>,
    #[serde(default)]
    shared: i64,
}

impl From<Row> for FileInfo {
    fn from(row: Row) -> Self {
        FileInfo {
            path: row.path,
            size: row.size.max(0) as u64,
            content_type: row.content_type,
            etag: row.etag,
            modified_ms: row.modified_ms,
        }
    }
}

const COLUMNS: &str = "path, size, content_type, etag, modified_ms";

fn rows(sql: &SqlStorage, query: &str, args: Vec<worker::SqlStorageValue>) -> Vec<FileInfo> {
    match sql.exec(query, args).and_then(|c| c.to_array::<Row>()) {
        Ok(rows) => rows.into_iter().map(FileInfo::from).collect(),
        Err(e) => {
            worker::console_error!("file index: {e}");
            Vec::new()
        }
    }
}

pub fn get(sql: &SqlStorage, path: &str) -> Option<FileInfo> {
    rows(
        sql,
        &format!("SELECT {COLUMNS} FROM files WHERE path = ?"),
        vec![path.into()],
    )
    .into_iter()
    .next()
}

/// Up to `limit` files whose path starts with `prefix` and sorts after `after`, in path order.
pub fn page(sql: &SqlStorage, prefix: &str, after: &str, limit: u32) -> Vec<FileInfo> {
    rows(
        sql,
        &format!(
            "SELECT {COLUMNS} FROM files WHERE substr(path, 1, length(?1)) = ?1 AND path > ?2 \
             ORDER BY path LIMIT ?3"
        ),
        vec![prefix.into(), after.into(), i64::from(limit).into()],
    )
}

pub fn totals(sql: &SqlStorage) -> Totals {
    #[derive(Deserialize)]
    struct Sums {
        count: i64,
        bytes: i64,
    }
    match sql
        .exec(
            "SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes FROM files",
            None,
        )
        .and_then(|c| c.to_array::<Sums>())
    {
        Ok(rows) => rows
            .into_iter()
            .next()
            .map(|s| Totals {
                count: s.count.max(0) as u64,
                bytes: s.bytes.max(0) as u64,
            })
            .unwrap_or_default(),
        Err(e) => {
            worker::console_error!("file totals: {e}");
            Totals::default()
        }
    }
}

/// Indexes `file` as stored in the new object `object_key`, which only this session holds.
pub fn upsert(sql: &SqlStorage, file: &FileInfo, object_key: &str) -> worker::Result<()> {
    sql.exec(
        "INSERT INTO files (path, size, content_type, etag, modified_ms, object_key, shared) \
         VALUES (?, ?, ?, ?, ?, ?, 0) \
         ON CONFLICT(path) DO UPDATE SET size = excluded.size, \
         content_type = excluded.content_type, etag = excluded.etag, \
         modified_ms = excluded.modified_ms, object_key = excluded.object_key, shared = 0",
        vec![
            file.path.as_str().into(),
            (file.size as i64).into(),
            file.content_type.as_str().into(),
            file.etag.as_str().into(),
            file.modified_ms.into(),
            object_key.into(),
        ],
    )?;
    Ok(())
}

/// The object holding a file's contents: the one its row names, or for a file written before
/// objects were per write, the one under the session's prefix (migration 0008).
fn object_of(tenant: &str, id: &str, path: &str, stored: Option<String>) -> String {
    stored.unwrap_or_else(|| super::keys::file_key(tenant, id, path))
}

/// The object holding `path`'s contents, and whether it is shared (see migration 0008).
pub fn held(sql: &SqlStorage, tenant: &str, id: &str, path: &str) -> Option<Held> {
    #[derive(Deserialize)]
    struct Row {
        object_key: Option<String>,
        shared: i64,
    }
    let rows: Vec<Row> = sql
        .exec(
            "SELECT object_key, shared FROM files WHERE path = ?",
            vec![path.into()],
        )
        .and_then(|c| c.to_array())
        .ok()?;
    rows.into_iter().next().map(|r| Held {
        key: object_of(tenant, id, path, r.object_key),
        shared: r.shared != 0,
    })
}

/// Every file's row with its object, and whether the object is shared, in path order.
pub fn object_rows(
    sql: &SqlStorage,
    tenant: &str,
    id: &str,
) -> worker::Result<Vec<(FileRow, bool)>> {
    let rows: Vec<Row> = sql
        .exec(
            &format!("SELECT {COLUMNS}, object_key, shared FROM files ORDER BY path"),
            None,
        )?
        .to_array()?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let object_key = object_of(tenant, id, &r.path, r.object_key);
            let row = FileRow {
                path: r.path,
                size: r.size,
                content_type: r.content_type,
                etag: r.etag,
                modified_ms: r.modified_ms,
                object_key,
            };
            (row, r.shared != 0)
        })
        .collect())
}

pub fn remove(sql: &SqlStorage, path: &str) -> worker::Result<()> {
    sql.exec("DELETE FROM files WHERE path = ?", vec![path.into()])?;
    Ok(())
}

/// The index as the guest `fs` sees it.
pub struct SqlIndex<'a>(pub &'a SqlStorage);

impl Index for SqlIndex<'_> {
    fn get(&self, path: &str) -> Option<FileInfo> {
        get(self.0, path)
    }

    fn list(&self, prefix: &str) -> Vec<FileInfo> {
        page(self.0, prefix, "", u32::MAX)
    }

    fn totals(&self) -> Totals {
        totals(self.0)
    }
}
