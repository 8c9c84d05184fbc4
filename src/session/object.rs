//! `SessionObject`: the Durable Object that holds one session.
//!
//! It is a thin shell: it keeps the realm in memory, persists every acknowledged cell in its
//! SQLite journal before answering, rebuilds the realm by replaying the journal when it wakes
//! without one, and deletes everything the session owns when it expires or is deleted.
//!
//! Requests that change the session (exec, file writes, delete) take a turn ([`Turns`]) and run
//! one at a time in arrival order, even while a cell waits for I/O; between awaits the runtime
//! runs one event at a time per object anyway.

use std::cell::RefCell;

use serde_json::json;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, ScheduledTime, State};

use crate::{
    api::{
        error::ApiError,
        handler::{internal, json_response},
        wire,
    },
    engine::{Engine, Outcome, Step},
    files::staging::Quotas,
    host_io::{CellIo, Files},
    ids,
    net::{client::Client, policy::AllowList},
    session::{
        files,
        protocol::{self, CreateCommand},
        record::SessionRecord,
        turn::Turns,
    },
    storage::{artifacts, journal, metadata, migrations},
};

/// KV allows one write per second per key: counters are synced at most this often.
const KV_SYNC_INTERVAL_MS: i64 = 1000;

/// Most cells a session's journal holds. Rebuilding replays every journaled cell, so the journal
/// is bounded to keep waking a session well inside a Worker's CPU limit (README: "Durability").
const MAX_JOURNAL_CELLS: i64 = 5_000;
/// Most fuel the journaled cells together may have used (the replay's work).
const MAX_JOURNAL_FUEL: i64 = 300_000_000;
/// Most bytes of I/O replies (file reads, fetch responses) the journal keeps for replay.
const MAX_JOURNAL_IO_BYTES: i64 = 64 << 20;

#[durable_object]
pub struct SessionObject {
    state: State,
    env: Env,
    inner: Shared,
    turns: Turns,
}

/// The object's in-memory state. Built with panic=unwind, the runtime glue requires the object
/// to be unwind-safe. It is in the sense that matters: the engine catches its own panics and
/// reports them as that cell's error, after which the realm is dropped and rebuilt from the
/// journal, so no half-updated realm is used again.
struct Shared(RefCell<Inner>);

impl std::panic::UnwindSafe for Shared {}
impl std::panic::RefUnwindSafe for Shared {}

impl std::ops::Deref for Shared {
    type Target = RefCell<Inner>;
    fn deref(&self) -> &RefCell<Inner> {
        &self.0
    }
}

#[derive(Default)]
struct Inner {
    migrated: bool,
    /// The realm, when it is in memory and matches the journal.
    engine: Option<Engine>,
    last_kv_sync: i64,
    /// The KV record lags the session row; the alarm syncs it.
    kv_dirty: bool,
}

fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

impl DurableObject for SessionObject {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            inner: Shared(RefCell::new(Inner::default())),
            turns: Turns::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let path = req.path();
        let result = match (req.method(), path.as_str()) {
            (Method::Post, protocol::CREATE) => match req.json::<CreateCommand>().await {
                Ok(cmd) => self.create(cmd).await,
                Err(e) => Err(internal("create command", e)),
            },
            (Method::Get, protocol::INFO) => self.info(),
            (Method::Post, protocol::DELETE) => {
                let _turn = self.turns.take().await;
                self.delete().await
            }
            (Method::Post, protocol::EXEC) => {
                let origin = req.headers().get(protocol::ORIGIN_HEADER).ok().flatten();
                match req.json::<crate::api::wire::ExecRequest>().await {
                    Ok(cmd) => {
                        let _turn = self.turns.take().await;
                        self.exec(&cmd.code, cmd.input.as_ref(), origin.as_deref())
                            .await
                    }
                    Err(e) => Err(internal("exec command", e)),
                }
            }
            (Method::Get, protocol::FILES) => self
                .live()
                .await
                .and_then(|_| files::list(&self.sql(), &req)),
            (method, p) if p.starts_with(protocol::FILES) => {
                // The Worker sent a normalised path, percent-encoded per segment.
                let result = match crate::files::path::from_url(
                    p[protocol::FILES.len()..].trim_start_matches('/'),
                ) {
                    Ok(file) => self.file(method, &file, &req).await,
                    Err(e) => Err(ApiError::InvalidPath(e.to_string())),
                };
                drain_unread_body(&req).await;
                result
            }
            _ => Err(ApiError::NotFound("no such object route".into())),
        };
        Ok(result.unwrap_or_else(|e| crate::api::handler::error_response(&e)))
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let Some(record) = self
            .load()
            .map_err(|_| worker::Error::RustError("load".into()))?
        else {
            return Response::empty();
        };
        if record.expires_at() > now_ms() {
            // A deferred KV sync, or the session was used since the alarm was set.
            if std::mem::take(&mut self.inner.borrow_mut().kv_dirty) {
                self.inner.borrow_mut().last_kv_sync = now_ms();
                if let Err(e) = metadata::put(&self.env, &record.tenant, &record.view()).await {
                    worker::console_error!("kv sync: {e}");
                }
            }
            self.schedule_alarm(&record).await;
            return Response::empty();
        }
        self.destroy(&record)
            .await
            .map_err(|_| worker::Error::RustError("expire".into()))?;
        Response::empty()
    }
}

impl SessionObject {
    fn sql(&self) -> worker::SqlStorage {
        self.state.storage().sql()
    }

    /// One file route; writes take a turn so they never interleave with a cell.
    async fn file(&self, method: Method, path: &str, req: &Request) -> Result<Response, ApiError> {
        let record = self.live().await?;
        let sql = self.sql();
        match method {
            Method::Get => files::get(&self.env, &sql, &record, path, req, true).await,
            Method::Head => files::get(&self.env, &sql, &record, path, req, false).await,
            Method::Put => {
                let _turn = self.turns.take().await;
                let response = files::put(&self.env, &sql, &record, path, req).await;
                self.files_changed().await;
                response
            }
            Method::Delete => {
                let _turn = self.turns.take().await;
                let response = files::delete(&self.env, &sql, &record, path).await;
                self.files_changed().await;
                response
            }
            _ => Err(ApiError::MethodNotAllowed {
                allow: "GET, HEAD, PUT, DELETE",
            }),
        }
    }

    /// Brings the KV record's file totals up to date (throttled like other counters; a deferred
    /// update is left to the alarm).
    async fn files_changed(&self) {
        if let Ok(Some(record)) = self.load() {
            self.sync_metadata(&record, now_ms());
            self.schedule_alarm(&record).await;
        }
    }

    /// The session row, applying migrations first if this instance has not yet.
    fn load(&self) -> Result<Option<SessionRecord>, ApiError> {
        let sql = self.sql();
        if !self.inner.borrow().migrated {
            migrations::apply(&sql).map_err(|e| internal("migrations", e))?;
            self.inner.borrow_mut().migrated = true;
        }
        journal::load_session(&sql).map_err(|e| internal("load session", e))
    }

    /// The live session, or 404 (an expired session whose alarm is late counts as gone).
    async fn live(&self) -> Result<SessionRecord, ApiError> {
        let record = self.load()?.ok_or_else(ApiError::session_not_found)?;
        if record.expires_at() <= now_ms() {
            self.destroy(&record).await?;
            return Err(ApiError::session_not_found());
        }
        Ok(record)
    }

    async fn create(&self, cmd: CreateCommand) -> Result<Response, ApiError> {
        if self.load()?.is_some() {
            return Err(internal("create", "session already exists"));
        }
        let now = now_ms();
        let seed = ids::random_seed().map_err(|e| internal("seed", e))?;
        let record = SessionRecord {
            id: cmd.id,
            tenant: cmd.tenant,
            created_at: now,
            last_used_at: now,
            ttl_seconds: cmd.ttl_seconds as i64,
            metadata: serde_json::to_string(&cmd.metadata).map_err(|e| internal("metadata", e))?,
            seed: seed as i64,
            execution_count: 0,
            limits: serde_json::to_string(&cmd.limits).map_err(|e| internal("limits", e))?,
            network: serde_json::to_string(&cmd.network).map_err(|e| internal("network", e))?,
            env: serde_json::to_string(&cmd.env).map_err(|e| internal("env", e))?,
            files_count: 0,
            files_bytes: 0,
        };
        journal::insert_session(&self.sql(), &record).map_err(|e| internal("insert", e))?;
        self.schedule_alarm(&record).await;
        let view = record.view();
        metadata::put(&self.env, &record.tenant, &view)
            .await
            .map_err(|e| internal("kv put", e))?;
        self.inner.borrow_mut().last_kv_sync = now;
        json_response(201, &view)
    }

    fn info(&self) -> Result<Response, ApiError> {
        let record = self.load()?.ok_or_else(ApiError::session_not_found)?;
        if record.expires_at() <= now_ms() {
            return Err(ApiError::session_not_found());
        }
        json_response(200, &record.view())
    }

    async fn delete(&self) -> Result<Response, ApiError> {
        let record = self.load()?.ok_or_else(ApiError::session_not_found)?;
        self.destroy(&record).await?;
        json_response(200, &json!({"id": record.id, "deleted": true}))
    }

    /// Removes the session's artifacts, its KV record and all of the object's storage.
    async fn destroy(&self, record: &SessionRecord) -> Result<(), ApiError> {
        artifacts::delete_all(&self.env, &record.tenant, &record.id)
            .await
            .map_err(|e| internal("r2 delete", e))?;
        metadata::delete(&self.env, &record.tenant, &record.id)
            .await
            .map_err(|e| internal("kv delete", e))?;
        let sql = self.sql();
        for table in ["session", "journal", "journal_io", "journal_blobs", "files"] {
            sql.exec(&format!("DELETE FROM {table}"), None)
                .map_err(|e| internal("sql delete", e))?;
        }
        let storage = self.state.storage();
        storage
            .delete_alarm()
            .await
            .map_err(|e| internal("delete alarm", e))?;
        storage
            .delete_all()
            .await
            .map_err(|e| internal("delete all", e))?;
        *self.inner.borrow_mut() = Inner::default();
        Ok(())
    }

    /// Sets the alarm for the session's expiry, or earlier for a deferred KV sync.
    async fn schedule_alarm(&self, record: &SessionRecord) {
        let at = {
            let inner = self.inner.borrow();
            if inner.kv_dirty {
                record
                    .expires_at()
                    .min(inner.last_kv_sync + KV_SYNC_INTERVAL_MS)
            } else {
                record.expires_at()
            }
        };
        let at = worker::js_sys::Date::new(&(at as f64).into());
        if let Err(e) = self.state.storage().set_alarm(ScheduledTime::new(at)).await {
            worker::console_error!("set alarm: {e}");
        }
    }

    async fn exec(
        &self,
        code: &str,
        input: Option<&serde_json::Value>,
        origin: Option<&str>,
    ) -> Result<Response, ApiError> {
        let mut record = self.live().await?;
        let now = now_ms();
        let started = worker::Date::now().as_millis();
        let journal = journal::size(&self.sql()).map_err(|e| internal("journal size", e))?;
        if journal.cells >= MAX_JOURNAL_CELLS
            || journal.fuel >= MAX_JOURNAL_FUEL
            || journal.io_bytes >= MAX_JOURNAL_IO_BYTES
        {
            let outcome = Outcome::refused(
                "journal",
                format!(
                    "this session holds {} cells that used {} fuel and {} bytes of I/O, the most \
                     a session keeps (at most {MAX_JOURNAL_CELLS} cells, {MAX_JOURNAL_FUEL} fuel \
                     and {MAX_JOURNAL_IO_BYTES} bytes, so it can be rebuilt quickly); the cell \
                     did not run: start a new session",
                    journal.cells, journal.fuel, journal.io_bytes
                ),
            );
            return json_response(200, &wire::exec_result(&outcome, record.execution_count, 0));
        }
        let limits = record.limits();
        let allow = AllowList::parse(&record.network_rules()).unwrap_or_default();
        let client = Client::new(allow, origin.and_then(split_origin), &limits);
        let files = Files::Session {
            env: &self.env,
            sql: self.sql(),
            tenant: record.tenant.clone(),
            id: record.id.clone(),
        };
        let mut io = CellIo::new(files, Quotas::from(&limits), client, now);
        let mut step = self.start_cell(&record, code, now as f64, input)?;
        let outcome = loop {
            match step {
                Step::Done(outcome) => break *outcome,
                Step::Io(requests) => {
                    let replies = io.serve(requests).await;
                    let mut inner = self.inner.borrow_mut();
                    let engine = inner.engine.as_mut().ok_or(ApiError::Internal)?;
                    step = engine.resume(replies);
                }
            }
        };
        record.execution_count += 1;
        record.last_used_at = now;
        let files_changed = outcome.committed && io.changes_files();
        let sql = self.sql();
        if !outcome.committed {
            // Stopped mid-way: drop the realm so the next cell replays the journal without it;
            // its file changes are dropped with it.
            self.inner.borrow_mut().engine = None;
            journal::touch(&sql, &record).map_err(|e| internal("touch", e))?;
        } else {
            let replies = std::mem::take(&mut io.replies);
            // Files first: a cell is acknowledged only once what it wrote is stored.
            if let Err(e) = io.commit().await {
                self.inner.borrow_mut().engine = None;
                return Err(internal("store files", e));
            }
            journal::append(
                &sql,
                &record,
                &journal::Cell {
                    code,
                    now_ms: now as f64,
                    input,
                    fuel: outcome.usage.fuel,
                    replies: &replies,
                },
            )
            .map_err(|e| {
                // The realm holds a cell the journal does not: rebuild it from the journal.
                self.inner.borrow_mut().engine = None;
                internal("journal", e)
            })?;
        }
        let duration_ms = worker::Date::now().as_millis().saturating_sub(started);
        if files_changed {
            // The KV record shows the file totals: read them again only when the cell changed them.
            if let Some(stored) = self.load()? {
                record = stored;
            }
        }
        self.sync_metadata(&record, now);
        self.schedule_alarm(&record).await;
        json_response(
            200,
            &wire::exec_result(&outcome, record.execution_count, duration_ms),
        )
    }

    /// Starts a cell on the realm, rebuilding the realm from the journal first if needed.
    fn start_cell(
        &self,
        record: &SessionRecord,
        code: &str,
        now: f64,
        input: Option<&serde_json::Value>,
    ) -> Result<Step, ApiError> {
        let mut inner = self.inner.borrow_mut();
        if inner.engine.is_none() {
            let mut engine = Engine::with_env(record.seed as u64, record.limits(), &record.env())
                .map_err(|e| internal("engine", e))?;
            let sql = self.sql();
            let with_io = journal::cells_with_io(&sql).map_err(|e| internal("journal read", e))?;
            for entry in journal::entries(&sql).map_err(|e| internal("journal read", e))? {
                let replies = if with_io.contains(&entry.seq) {
                    journal::replies(&sql, entry.seq).map_err(|e| internal("journal read", e))?
                } else {
                    Vec::new()
                };
                engine.replay(&entry.code, entry.now_ms, entry.input().as_ref(), replies);
            }
            inner.engine = Some(engine);
        }
        let engine = inner.engine.as_mut().ok_or(ApiError::Internal)?;
        Ok(engine.start(code, now, input))
    }

    /// Updates the KV record in the background, at most once per `KV_SYNC_INTERVAL_MS`; a
    /// later update is left to the alarm.
    fn sync_metadata(&self, record: &SessionRecord, now: i64) {
        {
            let mut inner = self.inner.borrow_mut();
            if now - inner.last_kv_sync < KV_SYNC_INTERVAL_MS {
                inner.kv_dirty = true;
                return;
            }
            inner.last_kv_sync = now;
            inner.kv_dirty = false;
        }
        let env = self.env.clone();
        let tenant = record.tenant.clone();
        let view = record.view();
        self.state.wait_until(async move {
            if let Err(e) = metadata::put(&env, &tenant, &view).await {
                worker::console_error!("kv sync: {e}");
            }
        });
    }
}

/// `host:port` (as the Worker saw its own URL) → host and port.
fn split_origin(origin: &str) -> Option<(String, u16)> {
    let (host, port) = origin.rsplit_once(':')?;
    Some((host.to_string(), port.parse().ok()?))
}

/// Reads and discards an upload's body that was refused before being read. The Worker pipes the
/// client's body into this request; answering without consuming it leaves that pipe reading
/// after the response ("Can't read from request stream after response has been sent") and can
/// stall the client's connection. Piping to a null sink stays in JavaScript: no bytes reach Wasm.
async fn drain_unread_body(req: &Request) {
    use worker::worker_sys::web_sys::WritableStream;
    let Some(body) = req.inner().body().filter(|b| !b.locked()) else {
        return;
    };
    let Ok(sink) = WritableStream::new() else {
        return;
    };
    let _ = worker::wasm_bindgen_futures::JsFuture::from(body.pipe_to(&sink)).await;
}
