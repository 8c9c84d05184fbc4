//! The session row, the journal of acknowledged cells and the checkpoints, in the object's
//! SQLite: the Worker's [`Store`] for the session service.

use serde::Deserialize;
use worker::SqlStorage;

use crate::{
    engine::Reply,
    session::{
        checkpoint::CheckpointMeta,
        idempotency,
        record::SessionRecord,
        service::{Cell, JournalEntry, JournalSize, Store},
    },
};

/// Largest piece of a journaled reply per row (SQLite rows in Durable Objects are at most 2 MB).
const REPLY_PART_BYTES: usize = 1 << 20;

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
pub fn append(sql: &SqlStorage, r: &SessionRecord, cell: &Cell<'_>) -> worker::Result<i64> {
    #[derive(Deserialize)]
    struct Seq {
        seq: i64,
    }
    let rows: Vec<Seq> = sql
        .exec(
            // Numbered after both the journal and the checkpoint: pruning may have emptied the
            // journal, and a seq must never fall inside the checkpoint again.
            "INSERT INTO journal (seq, code, now_ms, input, fuel) VALUES \
             ((SELECT MAX(COALESCE((SELECT MAX(seq) FROM journal), 0), \
                          COALESCE((SELECT MAX(through_seq) FROM checkpoints), 0)) + 1), \
              ?, ?, ?, ?) RETURNING seq",
            vec![
                cell.code.into(),
                cell.now_ms.into(),
                cell.input.map(|v| v.to_string()).into(),
                cell.journaled_fuel().into(),
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
    touch(sql, r)?;
    Ok(seq)
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
    insert_parts(sql, "journal_blobs", key, payload)
}

/// Stores `bytes` as `table`'s rows for `key`, in parts of at most [`REPLY_PART_BYTES`] (a row
/// is at most 2 MB); [`parts`] reads them back. One row even for no bytes, so the key is known.
fn insert_parts(sql: &SqlStorage, table: &str, key: &str, bytes: &[u8]) -> worker::Result<()> {
    let mut chunks: Vec<&[u8]> = bytes.chunks(REPLY_PART_BYTES).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let insert = format!("INSERT INTO {table} (key, part, data) VALUES (?, ?, ?)");
    for (part, chunk) in chunks.into_iter().enumerate() {
        sql.exec(
            &insert,
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

/// Size of the journaled cells after `after`: what replaying them costs. File contents count
/// once however many cells read them.
pub fn size(sql: &SqlStorage, after: i64) -> worker::Result<JournalSize> {
    let rows: Vec<JournalSize> = sql
        .exec(
            "SELECT COUNT(*) AS cells, COALESCE(SUM(fuel), 0) AS fuel, \
             (SELECT COALESCE(SUM(length(data)), 0) FROM journal_io WHERE seq > ?1) + \
             (SELECT COALESCE(SUM(length(data)), 0) FROM journal_blobs WHERE key IN \
               (SELECT blob FROM journal_io WHERE seq > ?1)) AS io_bytes \
             FROM journal WHERE seq > ?1",
            vec![after.into()],
        )?
        .to_array()?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// Journaled cells after `after`, oldest first, without their replies (see [`replies`]).
pub fn tail(sql: &SqlStorage, after: i64) -> worker::Result<Vec<JournalEntry>> {
    sql.exec(
        "SELECT seq, code, now_ms, input FROM journal WHERE seq > ? ORDER BY seq",
        vec![after.into()],
    )?
    .to_array()
}

pub fn last_seq(sql: &SqlStorage) -> worker::Result<i64> {
    #[derive(Deserialize)]
    struct Last {
        seq: i64,
    }
    let rows: Vec<Last> = sql
        .exec(
            "SELECT MAX(COALESCE((SELECT MAX(seq) FROM journal), 0), \
             COALESCE((SELECT MAX(through_seq) FROM checkpoints), 0)) AS seq",
            None,
        )?
        .to_array()?;
    Ok(rows.first().map_or(0, |r| r.seq))
}

/// The name of the session's own checkpoint.
const LATEST: &str = "latest";

/// A checkpoint row (SQLite has no booleans).
#[derive(Deserialize)]
struct CheckpointRow {
    format: i64,
    build_id: String,
    through_seq: i64,
    execution_count: i64,
    memory_bytes: i64,
    image_bytes: i64,
    created_ms: i64,
    journal_pruned: i64,
}

pub fn checkpoint(sql: &SqlStorage) -> worker::Result<Option<CheckpointMeta>> {
    let rows: Vec<CheckpointRow> = sql
        .exec(
            "SELECT format, build_id, through_seq, execution_count, memory_bytes, image_bytes, \
             created_ms, journal_pruned FROM checkpoints WHERE name = ?",
            vec![LATEST.into()],
        )?
        .to_array()?;
    Ok(rows.into_iter().next().map(|r| CheckpointMeta {
        format: r.format,
        build_id: r.build_id,
        through_seq: r.through_seq,
        execution_count: r.execution_count,
        memory_bytes: r.memory_bytes.max(0) as u64,
        image_bytes: r.image_bytes.max(0) as u64,
        created_ms: r.created_ms,
        journal_pruned: r.journal_pruned != 0,
    }))
}

/// The latest checkpoint's image, a row at a time.
pub fn checkpoint_image(sql: &SqlStorage, sink: &mut dyn FnMut(&[u8])) -> worker::Result<()> {
    for row in sql
        .exec(
            "SELECT data FROM checkpoint_chunks WHERE name = ? ORDER BY part",
            vec![LATEST.into()],
        )?
        .raw()
    {
        if let Some(worker::SqlStorageValue::Blob(data)) = row?.into_iter().next() {
            sink(&data);
        }
    }
    Ok(())
}

/// Replaces the latest checkpoint, and with `prune` drops the journaled cells it holds and the
/// file contents only they read. All in one event: committed together.
pub fn put_checkpoint(
    sql: &SqlStorage,
    meta: &CheckpointMeta,
    chunks: &mut dyn Iterator<Item = Vec<u8>>,
    prune: bool,
) -> worker::Result<()> {
    sql.exec(
        "DELETE FROM checkpoint_chunks WHERE name = ?",
        vec![LATEST.into()],
    )?;
    for (part, chunk) in chunks.enumerate() {
        sql.exec(
            "INSERT INTO checkpoint_chunks (name, part, data) VALUES (?, ?, ?)",
            vec![
                LATEST.into(),
                (part as i64).into(),
                worker::SqlStorageValue::Blob(chunk),
            ],
        )?;
    }
    sql.exec(
        "INSERT OR REPLACE INTO checkpoints (name, format, build_id, through_seq, \
         execution_count, memory_bytes, image_bytes, created_ms, journal_pruned) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            LATEST.into(),
            meta.format.into(),
            meta.build_id.as_str().into(),
            meta.through_seq.into(),
            meta.execution_count.into(),
            (meta.memory_bytes as i64).into(),
            (meta.image_bytes as i64).into(),
            meta.created_ms.into(),
            i64::from(meta.journal_pruned).into(),
        ],
    )?;
    if prune {
        let through: worker::SqlStorageValue = meta.through_seq.into();
        sql.exec("DELETE FROM journal WHERE seq <= ?", vec![through.clone()])?;
        sql.exec("DELETE FROM journal_io WHERE seq <= ?", vec![through])?;
        sql.exec(
            "DELETE FROM journal_blobs WHERE key NOT IN \
             (SELECT blob FROM journal_io WHERE blob IS NOT NULL)",
            None,
        )?;
    }
    Ok(())
}

/// The object's SQL as the session service's [`Store`].
pub struct SqlStore(pub SqlStorage);

fn text(e: worker::Error) -> String {
    e.to_string()
}

/// The tables a session's storage consists of.
const TABLES: [&str; 9] = [
    "session",
    "journal",
    "journal_io",
    "journal_blobs",
    "files",
    "checkpoints",
    "checkpoint_chunks",
    "idempotency",
    "idempotency_parts",
];

impl Store for SqlStore {
    fn insert_session(&self, record: &SessionRecord) -> Result<(), String> {
        insert_session(&self.0, record).map_err(text)
    }
    fn delete_all(&self) -> Result<(), String> {
        for table in TABLES {
            self.0
                .exec(&format!("DELETE FROM {table}"), None)
                .map_err(text)?;
        }
        Ok(())
    }
    fn append(&self, record: &SessionRecord, cell: &Cell<'_>) -> Result<i64, String> {
        append(&self.0, record, cell).map_err(text)
    }
    fn touch(&self, record: &SessionRecord) -> Result<(), String> {
        touch(&self.0, record).map_err(text)
    }
    fn tail(&self, after: i64) -> Result<Vec<JournalEntry>, String> {
        tail(&self.0, after).map_err(text)
    }
    fn replies(&self, seq: i64) -> Result<Vec<Reply>, String> {
        replies(&self.0, seq).map_err(text)
    }
    fn journal_size(&self, after: i64) -> Result<JournalSize, String> {
        size(&self.0, after).map_err(text)
    }
    fn last_seq(&self) -> Result<i64, String> {
        last_seq(&self.0).map_err(text)
    }
    fn checkpoint(&self) -> Result<Option<CheckpointMeta>, String> {
        checkpoint(&self.0).map_err(text)
    }
    fn checkpoint_image(
        &self,
        _meta: &CheckpointMeta,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), String> {
        checkpoint_image(&self.0, sink).map_err(text)
    }
    fn put_checkpoint(
        &self,
        meta: &CheckpointMeta,
        chunks: &mut dyn Iterator<Item = Vec<u8>>,
        prune: bool,
    ) -> Result<(), String> {
        put_checkpoint(&self.0, meta, chunks, prune).map_err(text)
    }
    fn recall(&self, key: &str, now: i64) -> Result<Option<idempotency::Recorded>, String> {
        recall(&self.0, key, now).map_err(text)
    }
    fn remember(&self, key: &str, record: &idempotency::Recorded, now: i64) -> Result<(), String> {
        remember(&self.0, key, record, now).map_err(text)
    }
}

/// The answer recorded under `key`, unless it is past the retention.
pub fn recall(
    sql: &SqlStorage,
    key: &str,
    now: i64,
) -> worker::Result<Option<idempotency::Recorded>> {
    #[derive(Deserialize)]
    struct Row {
        fingerprint: String,
    }
    let rows: Vec<Row> = sql
        .exec(
            "SELECT fingerprint FROM idempotency WHERE key = ? AND created_ms > ?",
            vec![key.into(), (now - idempotency::RETENTION_MS).into()],
        )?
        .to_array()?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    let answer = parts(sql, "idempotency_parts", key)?;
    Ok(Some(idempotency::Recorded {
        fingerprint: row.fingerprint,
        answer: String::from_utf8(answer)
            .map_err(|e| worker::Error::RustError(format!("recorded answer: {e}")))?,
    }))
}

/// Records `record` under `key`, dropping keys past the retention.
pub fn remember(
    sql: &SqlStorage,
    key: &str,
    record: &idempotency::Recorded,
    now: i64,
) -> worker::Result<()> {
    let cutoff = now - idempotency::RETENTION_MS;
    sql.exec(
        "DELETE FROM idempotency_parts WHERE key IN \
         (SELECT key FROM idempotency WHERE created_ms <= ?) OR key = ?",
        vec![cutoff.into(), key.into()],
    )?;
    sql.exec(
        "DELETE FROM idempotency WHERE created_ms <= ? OR key = ?",
        vec![cutoff.into(), key.into()],
    )?;
    sql.exec(
        "INSERT INTO idempotency (key, fingerprint, created_ms) VALUES (?, ?, ?)",
        vec![key.into(), record.fingerprint.as_str().into(), now.into()],
    )?;
    insert_parts(sql, "idempotency_parts", key, record.answer.as_bytes())
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
    parts(sql, "journal_blobs", key)
}

/// The `data` of `table`'s rows for `key`, joined in `part` order.
fn parts(sql: &SqlStorage, table: &str, key: &str) -> worker::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    for row in sql
        .exec(
            &format!("SELECT data FROM {table} WHERE key = ? ORDER BY part"),
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
