//! The session row and the journal of acknowledged cells, in the object's SQLite.

use serde::Deserialize;
use worker::SqlStorage;

use crate::session::record::SessionRecord;

/// One acknowledged cell.
#[derive(Debug, Clone, Deserialize)]
pub struct JournalEntry {
    pub code: String,
    pub now_ms: f64,
    /// JSON text of the cell's `input`.
    pub input: Option<String>,
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
             execution_count, limits FROM session LIMIT 1",
            None,
        )?
        .to_array()?;
    Ok(rows.into_iter().next())
}

pub fn insert_session(sql: &SqlStorage, r: &SessionRecord) -> worker::Result<()> {
    sql.exec(
        "INSERT INTO session (id, tenant, created_at, last_used_at, ttl_seconds, metadata, seed, \
         execution_count, limits) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        ],
    )?;
    Ok(())
}

/// Records an acknowledged cell and the session's new counters, in the same event, so both are
/// committed together before the response leaves.
pub fn append(
    sql: &SqlStorage,
    r: &SessionRecord,
    code: &str,
    now_ms: f64,
    input: Option<&serde_json::Value>,
    fuel: u64,
) -> worker::Result<()> {
    sql.exec(
        "INSERT INTO journal (code, now_ms, input, fuel) VALUES (?, ?, ?, ?)",
        vec![
            code.into(),
            now_ms.into(),
            input.map(|v| v.to_string()).into(),
            (fuel.min(i64::MAX as u64) as i64).into(),
        ],
    )?;
    touch(sql, r)
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
}

pub fn size(sql: &SqlStorage) -> worker::Result<JournalSize> {
    let rows: Vec<JournalSize> = sql
        .exec(
            "SELECT COUNT(*) AS cells, COALESCE(SUM(fuel), 0) AS fuel FROM journal",
            None,
        )?
        .to_array()?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// Every acknowledged cell, oldest first.
pub fn entries(sql: &SqlStorage) -> worker::Result<Vec<JournalEntry>> {
    sql.exec("SELECT code, now_ms, input FROM journal ORDER BY seq", None)?
        .to_array()
}
