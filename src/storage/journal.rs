//! The session row and the journal of acknowledged cells, in the object's SQLite.

use serde::Deserialize;
use worker::SqlStorage;

use crate::{engine::Reply, host_io::Recorded, session::record::SessionRecord};

/// Largest piece of a journaled reply per row (SQLite rows in Durable Objects are at most 2 MB).
const REPLY_PART_BYTES: usize = 1 << 20;

/// One acknowledged cell.
#[derive(Debug, Clone, Deserialize)]
pub struct JournalEntry {
    pub seq: i64,
    pub code: String,
    pub now_ms: f64,
    /// JSON text of the cell's `input`.
    pub input: Option<String>,
}

/// A cell to journal.
pub struct Cell<'a> {
    pub code: &'a str,
    pub now_ms: f64,
    pub input: Option<&'a serde_json::Value>,
    pub fuel: u64,
    pub replies: &'a [Recorded],
}

impl JournalEntry {
    pub fn input(&self) -> Option<serde_json::Value> {
        self.input
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
    }
}

/// The session row, if this object holds a session.
pub fn load_session(sql: &SqlStorage) -> worker::Result<Option<SessionRecord>> {
    let rows: Vec<SessionRecord> = sql
        .exec(
            "SELECT id, tenant, created_at, last_used_at, ttl_seconds, metadata, seed, \
             execution_count, limits, network, env, \
             (SELECT COUNT(*) FROM files) AS files_count, \
             (SELECT COALESCE(SUM(size), 0) FROM files) AS files_bytes FROM session LIMIT 1",
            None,
        )?
        .to_array()?;
    Ok(rows.into_iter().next())
}

pub fn insert_session(sql: &SqlStorage, r: &SessionRecord) -> worker::Result<()> {
    sql.exec(
        "INSERT INTO session (id, tenant, created_at, last_used_at, ttl_seconds, metadata, seed, \
         execution_count, limits, network, env) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            r.id.as_str().into(),
            r.tenant.as_str().into(),
            r.created_at.into(),
            r.last_used_at.into(),
            r.ttl_seconds.into(),
            r.metadata.as_str().into(),
            r.seed.into(),
            r.execution_count.into(),
            r.limits.as_str().into(),
            r.network.as_str().into(),
            r.env.as_str().into(),
        ],
    )?;
    Ok(())
}

/// Records an acknowledged cell, its I/O replies and the session's new counters, in the same
/// event, so all are committed together before the response leaves.
pub fn append(sql: &SqlStorage, r: &SessionRecord, cell: &Cell<'_>) -> worker::Result<()> {
    #[derive(Deserialize)]
    struct Seq {
        seq: i64,
    }
    let rows: Vec<Seq> = sql
        .exec(
            "INSERT INTO journal (code, now_ms, input, fuel) VALUES (?, ?, ?, ?) RETURNING seq",
            vec![
                cell.code.into(),
                cell.now_ms.into(),
                cell.input.map(|v| v.to_string()).into(),
                (cell.fuel.min(i64::MAX as u64) as i64).into(),
            ],
        )?
        .to_array()?;
    let seq = rows.first().map(|r| r.seq).unwrap_or_default();
    for (n, recorded) in cell.replies.iter().enumerate() {
        // The head, then the payload in parts: no copy of the whole payload is made.
        let (head, payload) = recorded.reply.parts();
        let insert = |part: usize, chunk: &[u8]| {
            sql.exec(
                "INSERT INTO journal_io (seq, n, part, data, blob) VALUES (?, ?, ?, ?, ?)",
                vec![
                    seq.into(),
                    (n as i64).into(),
                    (part as i64).into(),
                    worker::SqlStorageValue::Blob(chunk.to_vec()),
                    recorded.blob.as_deref().into(),
                ],
            )
        };
        insert(0, &head)?;
        match &recorded.blob {
            // A stored file's contents: kept once, however many cells read them.
            Some(key) => store_blob(sql, key, payload)?,
            None => {
                for (part, chunk) in payload.chunks(REPLY_PART_BYTES).enumerate() {
                    insert(part + 1, chunk)?;
                }
            }
        }
    }
    touch(sql, r)
}

fn store_blob(sql: &SqlStorage, key: &str, payload: &[u8]) -> worker::Result<()> {
    let known = sql
        .exec(
            "SELECT part FROM journal_blobs WHERE key = ? LIMIT 1",
            vec![key.into()],
        )?
        .raw()
        .next()
        .is_some();
    if known {
        return Ok(());
    }
    // One row even for empty contents, so the key is known.
    let mut chunks: Vec<&[u8]> = payload.chunks(REPLY_PART_BYTES).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    for (part, chunk) in chunks.into_iter().enumerate() {
        sql.exec(
            "INSERT INTO journal_blobs (key, part, data) VALUES (?, ?, ?)",
            vec![
                key.into(),
                (part as i64).into(),
                worker::SqlStorageValue::Blob(chunk.to_vec()),
            ],
        )?;
    }
    Ok(())
}

/// Stores the session's counters (last use, execution count).
pub fn touch(sql: &SqlStorage, r: &SessionRecord) -> worker::Result<()> {
    sql.exec(
        "UPDATE session SET last_used_at = ?, execution_count = ?",
        vec![r.last_used_at.into(), r.execution_count.into()],
    )?;
    Ok(())
}

/// Size of the journal: what rebuilding the realm would replay.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct JournalSize {
    pub cells: i64,
    pub fuel: i64,
    #[serde(default)]
    pub io_bytes: i64,
}

pub fn size(sql: &SqlStorage) -> worker::Result<JournalSize> {
    let rows: Vec<JournalSize> = sql
        .exec(
            "SELECT COUNT(*) AS cells, COALESCE(SUM(fuel), 0) AS fuel, \
             (SELECT COALESCE(SUM(length(data)), 0) FROM journal_io) + \
             (SELECT COALESCE(SUM(length(data)), 0) FROM journal_blobs) AS io_bytes FROM journal",
            None,
        )?
        .to_array()?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// Every acknowledged cell, oldest first, without its replies (see [`replies`]).
pub fn entries(sql: &SqlStorage) -> worker::Result<Vec<JournalEntry>> {
    sql.exec(
        "SELECT seq, code, now_ms, input FROM journal ORDER BY seq",
        None,
    )?
    .to_array()
}

/// Journaled cells that made I/O: the ones [`replies`] has anything for.
pub fn cells_with_io(sql: &SqlStorage) -> worker::Result<std::collections::HashSet<i64>> {
    let mut seqs = std::collections::HashSet::new();
    for row in sql.exec("SELECT DISTINCT seq FROM journal_io", None)?.raw() {
        if let Some(seq) = row?.first().and_then(integer) {
            seqs.insert(seq);
        }
    }
    Ok(seqs)
}

/// The replies one journaled cell's I/O got, in order. Loaded one cell at a time while
/// replaying, so a rebuild holds at most one cell's replies in memory.
pub fn replies(sql: &SqlStorage, seq: i64) -> worker::Result<Vec<Reply>> {
    let mut replies = Vec::new();
    let mut current: Option<(i64, Vec<u8>)> = None;
    let mut finish = |bytes: Vec<u8>| match Reply::decode(&bytes) {
        Ok(reply) => replies.push(reply),
        Err(e) => worker::console_error!("journal reply {seq}: {e}"),
    };
    let cursor = sql.exec(
        "SELECT n, data, blob FROM journal_io WHERE seq = ? ORDER BY n, part",
        vec![seq.into()],
    )?;
    for row in cursor.raw() {
        let row = row?;
        let (Some(n), Some(worker::SqlStorageValue::Blob(mut data))) =
            (row.first().and_then(integer), row.get(1).cloned())
        else {
            continue;
        };
        if let Some(worker::SqlStorageValue::String(key)) = row.get(2) {
            data.extend_from_slice(&blob(sql, key)?);
        }
        match &mut current {
            Some((m, bytes)) if *m == n => bytes.extend_from_slice(&data),
            _ => {
                if let Some((_, done)) = current.take() {
                    finish(done);
                }
                current = Some((n, data));
            }
        }
    }
    if let Some((_, done)) = current.take() {
        finish(done);
    }
    Ok(replies)
}

/// The contents stored under `key` by [`store_blob`].
fn blob(sql: &SqlStorage, key: &str) -> worker::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    for row in sql
        .exec(
            "SELECT data FROM journal_blobs WHERE key = ? ORDER BY part",
            vec![key.into()],
        )?
        .raw()
    {
        if let Some(worker::SqlStorageValue::Blob(data)) = row?.first() {
            bytes.extend_from_slice(data);
        }
    }
    Ok(bytes)
}

fn integer(value: &worker::SqlStorageValue) -> Option<i64> {
    match value {
        worker::SqlStorageValue::Integer(i) => Some(*i),
        worker::SqlStorageValue::Float(f) => Some(*f as i64),
        _ => None,
    }
}
