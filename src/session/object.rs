//! `SessionObject`: the Durable Object that holds one session.
//!
//! A thin shell around the session service (`session::service`): it routes the Worker's
//! messages, takes the turn for every change, keeps the session's engine instance in the
//! isolate's pool (`instance::pool`) and its latest checkpoint in memory, and renders answers.
//!
//! Requests that change the session (exec, file writes, delete, and the alarm: expiry and idle
//! checkpoints) take a turn ([`Turns`]) and run one at a time in arrival order, even while a
//! cell waits for I/O; so a session never expires or is deleted under a running cell.

use std::{cell::RefCell, rc::Rc};

use serde_json::json;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, ScheduledTime, State};

use crate::{
    api::{
        error::ApiError,
        events::{self, EventStream},
        handler::{internal, json_response, json_text_response},
        wire,
    },
    engine::abi::StartMessage,
    files::staging::Quotas,
    host_io::{CellIo, Files},
    ids,
    instance::{self, pool::Pool, OutputSink, WasmEngines},
    net::{client::Client, policy::AllowList},
    session::{
        files,
        idempotency::{self, Recall},
        protocol::{self, CheckpointCommand, CreateCommand, ForkCommand},
        record::SessionRecord,
        service::{
            CheckpointPolicy, Image as _, Instance as _, Remember, Service, ServiceError,
            Store as _, Warm,
        },
        turn::Turns,
    },
    storage::{artifacts, journal, journal::SqlStore, metadata, migrations},
};

mod branches;

/// KV allows one write per second per key: counters are synced at most this often.
const KV_SYNC_INTERVAL_MS: i64 = 1000;

/// A session idle this long after a cell that left journal cells past its checkpoint is
/// checkpointed by the alarm, so its next wake replays nothing (README: "Durability").
const IDLE_CHECKPOINT_MS: i64 = 5_000;

/// Response header of an `exec` that had to rebuild the session first (eviction, restart,
/// rollback): whether a checkpoint was restored and how many journaled cells were replayed.
pub const WAKE_HEADER: &str = "x-sandbox-wake";

/// Response header of an `exec` after which the session was checkpointed: the instance's memory
/// and the stored image's size.
pub const CHECKPOINT_HEADER: &str = "x-sandbox-checkpoint";

/// Bytes of engine-instance memory the isolate's live sessions may hold together, unless the
/// `ENGINE_POOL_BYTES` var says otherwise. An isolate has 128 MB in production, shared with the
/// Worker's own memory and JavaScript heap.
const DEFAULT_POOL_BYTES: u64 = 80 << 20;

thread_local! {
    /// The isolate's warm sessions (live engine instance and in-memory checkpoint), by object id.
    static POOL: RefCell<Pool<Warm<WasmEngines>>> = RefCell::new(Pool::new(DEFAULT_POOL_BYTES));
}

#[durable_object]
pub struct SessionObject {
    core: Rc<Core>,
}

/// The object itself, shared with the task of a streaming exec (which goes on after its
/// request has answered, holding the session's turn).
struct Core {
    state: State,
    env: Env,
    inner: Shared,
    turns: Rc<Turns>,
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
    /// Journaled cells exist past the checkpoint: the alarm checkpoints once the session idles.
    checkpoint_due: bool,
    last_kv_sync: i64,
    /// The KV record lags the session row; the alarm syncs it.
    kv_dirty: bool,
    /// When the pending alarm fires, as this object last set it (`None`: unknown, or it fired).
    alarm_at: Option<i64>,
}

fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

impl DurableObject for SessionObject {
    fn new(state: State, env: Env) -> Self {
        Self {
            core: Rc::new(Core {
                state,
                env,
                inner: Shared(RefCell::new(Inner::default())),
                turns: Rc::default(),
            }),
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        self.core.fetch(req).await
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.core.alarm().await
    }
}

impl Core {
    async fn fetch(self: &Rc<Self>, mut req: Request) -> worker::Result<Response> {
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
                let accept = req.headers().get("accept").ok().flatten();
                let key = req
                    .headers()
                    .get(protocol::IDEMPOTENCY_HEADER)
                    .ok()
                    .flatten();
                match req.json::<crate::api::wire::ExecRequest>().await {
                    Ok(cmd) if events::wants_stream(accept.as_deref()) => {
                        self.exec_stream(cmd, origin, key).await
                    }
                    Ok(cmd) => {
                        let _turn = self.turns.take().await;
                        self.exec(&cmd, origin.as_deref(), key.as_deref()).await
                    }
                    Err(e) => Err(internal("exec command", e)),
                }
            }
            (Method::Post, protocol::FORK) => match req.json::<ForkCommand>().await {
                Ok(cmd) => {
                    let _turn = self.turns.take().await;
                    self.fork(cmd).await
                }
                Err(e) => Err(internal("fork command", e)),
            },
            (Method::Post, protocol::ADOPT) => self.adopt(req.clone()?).await,
            (Method::Get, protocol::CHECKPOINTS) => self.list_checkpoints(),
            (Method::Post, protocol::CHECKPOINTS) => match req.json::<CheckpointCommand>().await {
                Ok(cmd) => {
                    let _turn = self.turns.take().await;
                    self.create_checkpoint(cmd).await
                }
                Err(e) => Err(internal("checkpoint command", e)),
            },
            (method, p) if p.starts_with(protocol::CHECKPOINTS) => {
                let rest = p[protocol::CHECKPOINTS.len()..].trim_start_matches('/');
                let _turn = self.turns.take().await;
                match (method, rest.split_once('/')) {
                    (Method::Post, Some((name, "restore"))) => self.restore_checkpoint(name).await,
                    (Method::Delete, None) => self.delete_checkpoint(rest).await,
                    _ => Err(ApiError::NotFound("no such object route".into())),
                }
            }
            (Method::Get, protocol::FILES) => {
                self.live().and_then(|_| files::list(&self.sql(), &req))
            }
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
        // The alarm changes the session: it waits for a running cell, whose end moves the
        // expiry, and never destroys a session under it.
        let _turn = self.turns.take().await;
        self.inner.borrow_mut().alarm_at = None;
        let Some(record) = self
            .load()
            .map_err(|_| worker::Error::RustError("load".into()))?
        else {
            return Response::empty();
        };
        let now = now_ms();
        if record.expires_at() <= now {
            self.destroy(&record)
                .await
                .map_err(|_| worker::Error::RustError("expire".into()))?;
            return Response::empty();
        }
        // A deferred KV sync, an idle checkpoint, or the session was used since the alarm was set.
        if std::mem::take(&mut self.inner.borrow_mut().kv_dirty) {
            self.inner.borrow_mut().last_kv_sync = now;
            if let Err(e) = metadata::put(&self.env, &record.tenant, &record.view()).await {
                worker::console_error!("kv sync: {e}");
            }
        }
        let due = self.inner.borrow().checkpoint_due;
        if due && now - record.last_used_at >= IDLE_CHECKPOINT_MS {
            self.idle_checkpoint(&record).await;
        }
        self.schedule_alarm(&record).await;
        Response::empty()
    }
}

impl Core {
    fn sql(&self) -> worker::SqlStorage {
        self.state.storage().sql()
    }

    /// One file route; writes take a turn so they never interleave with a cell.
    async fn file(&self, method: Method, path: &str, req: &Request) -> Result<Response, ApiError> {
        let sql = self.sql();
        match method {
            Method::Get => {
                let record = self.live()?;
                files::get(&self.env, &sql, &record, path, req, true).await
            }
            Method::Head => {
                let record = self.live()?;
                files::get(&self.env, &sql, &record, path, req, false).await
            }
            Method::Put => {
                let _turn = self.turns.take().await;
                let record = self.live()?;
                let response = files::put(&self.env, &sql, &record, path, req).await;
                self.files_changed().await;
                response
            }
            Method::Delete => {
                let _turn = self.turns.take().await;
                let record = self.live()?;
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

    /// The live session, or 404 (an expired session whose alarm is late counts as gone; the
    /// alarm, holding the turn, removes it).
    fn live(&self) -> Result<SessionRecord, ApiError> {
        let record = self.load()?.ok_or_else(ApiError::session_not_found)?;
        if record.expires_at() <= now_ms() {
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
        self.parts(&record)
            .service()
            .create(&record)
            .map_err(|e| internal("create", e))?;
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
        // What forks and checkpoints share is let go of through the registry, and kept in R2
        // while another holder points at it; the rest is deleted.
        let held = self.everything_held(record);
        let keep = held
            .iter()
            .filter(|h| h.shared)
            .map(|h| h.key.clone())
            .collect();
        artifacts::delete_all(&self.env, &record.tenant, &record.id, &keep)
            .await
            .map_err(|e| internal("r2 delete", e))?;
        crate::storage::file_refs::release(&self.env, &record.tenant, held)
            .await
            .map_err(|e| internal("release files", e))?;
        metadata::delete(&self.env, &record.tenant, &record.id)
            .await
            .map_err(|e| internal("kv delete", e))?;
        let key = self.key();
        let mut warm = POOL.with_borrow_mut(|pool| {
            let warm = pool.check_out(&key);
            pool.forget(&key);
            warm.unwrap_or_default()
        });
        self.parts(record)
            .service()
            .destroy(&mut warm)
            .map_err(|e| internal("sql delete", e))?;
        let storage = self.state.storage();
        self.inner.borrow_mut().alarm_at = None;
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

    /// Sets the alarm for the session's expiry, or earlier for a deferred KV sync or an idle
    /// checkpoint. An alarm already pending at or before that time is left: when it fires it
    /// finds the session in use and sets the next one, so a busy session does not pay a storage
    /// write per cell.
    async fn schedule_alarm(&self, record: &SessionRecord) {
        let at = {
            let inner = self.inner.borrow();
            let mut at = record.expires_at();
            if inner.kv_dirty {
                at = at.min(inner.last_kv_sync + KV_SYNC_INTERVAL_MS);
            }
            if inner.checkpoint_due {
                at = at.min(record.last_used_at + IDLE_CHECKPOINT_MS);
            }
            at
        };
        let pending = self.inner.borrow().alarm_at;
        if pending.is_some_and(|pending| pending <= at && pending > now_ms()) {
            return;
        }
        let when = worker::js_sys::Date::new(&(at as f64).into());
        match self
            .state
            .storage()
            .set_alarm(ScheduledTime::new(when))
            .await
        {
            Ok(()) => self.inner.borrow_mut().alarm_at = Some(at),
            Err(e) => worker::console_error!("set alarm: {e}"),
        }
    }

    /// The key of this object's instance in the pool.
    fn key(&self) -> String {
        self.state.id().to_string()
    }

    /// What the session service works over: this object's storage and the deployment's engine.
    fn parts(&self, record: &SessionRecord) -> Parts {
        Parts {
            store: SqlStore(self.sql()),
            engines: WasmEngines {
                limits: record.limits(),
                sink: None,
            },
        }
    }

    /// The session's warm state from the pool (its instance and in-memory checkpoint); when
    /// there is none, room is made for the instance its wake will make.
    fn check_out(&self) -> Warm<WasmEngines> {
        let key = self.key();
        let budget = pool_budget(&self.env);
        POOL.with_borrow_mut(|pool| {
            pool.set_budget(budget);
            let warm = pool.check_out(&key).unwrap_or_default();
            if warm.instance.is_none() {
                // At least what a new instance starts with; a restored one is the checkpoint's size.
                let bytes = warm
                    .checkpoint
                    .as_ref()
                    .map_or(instance::initial_bytes(), |(meta, _)| meta.memory_bytes);
                drop(pool.reserve(&key, bytes));
            }
            warm
        })
    }

    /// Puts the warm state back (a dead instance is dropped); other sessions' warm states past
    /// the pool's budget are evicted, and restored from their stored checkpoints when next used.
    fn check_in(&self, mut warm: Warm<WasmEngines>) {
        let key = self.key();
        if warm
            .instance
            .as_ref()
            .is_some_and(|live| live.instance.is_dead())
        {
            warm.instance = None;
        }
        let bytes = warm.instance.as_ref().map_or(0, |live| live.memory_bytes())
            + warm
                .checkpoint
                .as_ref()
                .map_or(0, |(_, image)| image.len() as u64);
        let evicted = POOL.with_borrow_mut(|pool| pool.check_in(&key, warm, bytes));
        drop(evicted);
    }

    /// The session an exec runs in (holding the turn), or 404. An expired session whose alarm
    /// is late is removed here.
    async fn exec_record(&self) -> Result<SessionRecord, ApiError> {
        let Some(record) = self.load()? else {
            return Err(ApiError::session_not_found());
        };
        if record.expires_at() <= now_ms() {
            // Holding the turn: no cell is running.
            self.destroy(&record).await?;
            return Err(ApiError::session_not_found());
        }
        Ok(record)
    }

    /// What an idempotency key already says about `cmd`: the recorded answer, a conflict, or
    /// nothing yet (then its fingerprint, to record the answer under).
    fn recall(&self, key: &str, cmd: &wire::ExecRequest) -> Result<Prior, ApiError> {
        let fingerprint = idempotency::fingerprint(&cmd.code, cmd.input.as_ref());
        let recorded = SqlStore(self.sql())
            .recall(key, now_ms())
            .map_err(|e| internal("recall", e))?;
        match recorded.map(|r| r.recall(&fingerprint)) {
            Some(Recall::Replay(answer)) => Ok(Prior::Answered(answer)),
            Some(Recall::Conflict) => Err(ApiError::IdempotencyKeyReused(format!(
                "Idempotency-Key {key:?} was already used on this session with other code or \
                 input; use a new key for a new cell"
            ))),
            None => Ok(Prior::New(fingerprint)),
        }
    }

    async fn exec(
        &self,
        cmd: &wire::ExecRequest,
        origin: Option<&str>,
        key: Option<&str>,
    ) -> Result<Response, ApiError> {
        let record = self.exec_record().await?;
        let mut remember = None;
        if let Some(key) = key {
            match self.recall(key, cmd)? {
                Prior::Answered(answer) => {
                    let response = json_text_response(200, answer)?;
                    let _ = response.headers().set(idempotency::REPLAYED_HEADER, "true");
                    return Ok(response);
                }
                Prior::New(fingerprint) => remember = Some((key.to_string(), fingerprint)),
            }
        }
        let answer = self
            .run_exec(
                record,
                &cmd.code,
                cmd.input.as_ref(),
                origin,
                None,
                remember,
            )
            .await?;
        let response = json_response(200, &answer.body)?;
        if let Some(woke) = answer.woke {
            // How the session was rebuilt for this cell (README: "Durability").
            let _ = response.headers().set(
                WAKE_HEADER,
                &format!(
                    "restored={}; replayed={}",
                    woke.restored, woke.replayed_cells
                ),
            );
        }
        if let Some(meta) = &answer.checkpointed {
            let _ = response.headers().set(
                CHECKPOINT_HEADER,
                &format!(
                    "memory_bytes={}; image_bytes={}",
                    meta.memory_bytes, meta.image_bytes
                ),
            );
        }
        Ok(response)
    }

    /// An exec answered with server-sent events (`api::events`): errors found before the cell
    /// starts (no such session) are plain JSON; then the stream is returned and the cell runs in
    /// a task that holds the session's turn until it has ended and been committed, exactly as a
    /// plain exec, and sends the plain answer's body as the `result` event.
    async fn exec_stream(
        self: &Rc<Self>,
        cmd: crate::api::wire::ExecRequest,
        origin: Option<String>,
        key: Option<String>,
    ) -> Result<Response, ApiError> {
        let turn = self.turns.take_owned().await;
        let record = self.exec_record().await?;
        let mut remember = None;
        if let Some(key) = key {
            match self.recall(&key, &cmd)? {
                // The recorded answer again, its console lines first, as a stream.
                Prior::Answered(answer) => {
                    let body: serde_json::Value =
                        serde_json::from_str(&answer).map_err(|e| internal("recorded", e))?;
                    let (stream, response) =
                        EventStream::new().map_err(|e| internal("stream", e))?;
                    let _ = response.headers().set(idempotency::REPLAYED_HEADER, "true");
                    for (name, field) in [("stdout", "stdout"), ("stderr", "stderr")] {
                        for line in body["logs"][field].as_array().into_iter().flatten() {
                            stream.send(&events::event(name, &serde_json::json!({"text": line})));
                        }
                    }
                    stream.send(&events::result_event(&body));
                    stream.close();
                    return Ok(response);
                }
                Prior::New(fingerprint) => remember = Some((key, fingerprint)),
            }
        }
        let (stream, response) = EventStream::new().map_err(|e| internal("stream", e))?;
        stream.start_heartbeat(crate::api::handler::heartbeat_ms(&self.env));
        let sink = stream.output_sink(events::YIELD_FUEL);
        let core = self.clone();
        worker::wasm_bindgen_futures::spawn_local(async move {
            let _turn = turn;
            let answer = core
                .run_exec(
                    record,
                    &cmd.code,
                    cmd.input.as_ref(),
                    origin.as_deref(),
                    Some(sink),
                    remember,
                )
                .await;
            let body = match answer {
                Ok(answer) => answer.body,
                Err(e) => serde_json::from_str(&e.body()).unwrap_or_default(),
            };
            stream.send(&events::result_event(&body));
            stream.close();
        });
        Ok(response)
    }

    /// Runs one cell in the session (the caller holds the turn); `sink` streams its output.
    async fn run_exec(
        &self,
        mut record: SessionRecord,
        code: &str,
        input: Option<&serde_json::Value>,
        origin: Option<&str>,
        sink: Option<OutputSink>,
        remember: Option<(String, String)>,
    ) -> Result<ExecAnswer, ApiError> {
        let now = now_ms();
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
        let cell = StartMessage {
            code: code.to_string(),
            now_ms: now as f64,
            input: input.cloned(),
            yield_fuel: 0,
        };
        let mut warm = self.check_out();
        if let Some(live) = warm.instance.as_mut() {
            live.sink = sink.clone();
        }
        let mut parts = self.parts(&record);
        // A wake makes the instance with the sink already set.
        parts.engines.sink = sink;
        // Under a key, the answer is rendered when the cell ends and recorded with it; the
        // client gets exactly that body (a retry with the key gets the same bytes).
        let recorded = RefCell::new(None);
        let answer = |outcome: &crate::engine::Outcome, after: &SessionRecord| {
            let duration_ms = (now_ms() - now).max(0) as u64;
            let body = wire::exec_result(outcome, after.execution_count, duration_ms);
            let text = body.to_string();
            *recorded.borrow_mut() = Some(body);
            text
        };
        let remember = remember.as_ref().map(|(key, fingerprint)| Remember {
            key,
            fingerprint,
            answer: &answer,
        });
        let result = parts
            .service()
            .exec(
                &mut record,
                &mut warm,
                &cell,
                &mut io,
                now_ms,
                remember.as_ref(),
            )
            .await;
        if let Some(live) = warm.instance.as_mut() {
            live.sink = None;
        }
        self.check_in(warm);
        let done = result.map_err(service_error)?;
        let outcome = done.outcome;
        self.inner.borrow_mut().checkpoint_due = done.pending;
        let duration_ms = (now_ms() - now).max(0) as u64;
        if outcome.committed && crate::session::service::CellHost::changes_files(&io) {
            // The KV record shows the file totals: read them again only when the cell changed them.
            if let Some(stored) = self.load()? {
                record = stored;
            }
        }
        self.sync_metadata(&record, now);
        self.schedule_alarm(&record).await;
        Ok(ExecAnswer {
            body: recorded.into_inner().unwrap_or_else(|| {
                wire::exec_result(&outcome, record.execution_count, duration_ms)
            }),
            woke: done.woke,
            checkpointed: done.checkpointed,
        })
    }

    /// Checkpoints an idle session whose instance is live (one that is not would have to be
    /// restored first: its next request does that anyway).
    async fn idle_checkpoint(&self, record: &SessionRecord) {
        let mut warm = self.check_out();
        if warm.instance.is_some() {
            let parts = self.parts(record);
            match parts
                .service()
                .checkpoint(record, &mut warm, now_ms())
                .await
            {
                Ok(_) => self.inner.borrow_mut().checkpoint_due = false,
                Err(e) => worker::console_error!("idle checkpoint: {e}"),
            }
        }
        self.check_in(warm);
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

/// What an idempotency key already says about a request.
enum Prior {
    /// The answer recorded for the same request.
    Answered(String),
    /// Nothing yet: the request's fingerprint, to record its answer under.
    New(String),
}

/// What an exec answers: the body, and how the session was rebuilt and checkpointed.
struct ExecAnswer {
    body: serde_json::Value,
    woke: Option<crate::session::service::WakeReport>,
    checkpointed: Option<crate::session::checkpoint::CheckpointMeta>,
}

/// The session service's storage and engine, owned for the length of one request.
struct Parts {
    store: SqlStore,
    engines: WasmEngines,
}

impl Parts {
    fn service(&self) -> Service<'_, SqlStore, WasmEngines> {
        Service {
            store: &self.store,
            engines: &self.engines,
            policy: CheckpointPolicy::default(),
            base_bytes: instance::BASE_BYTES,
        }
    }
}

/// The pool's budget: `ENGINE_POOL_BYTES`, or the default.
fn pool_budget(env: &Env) -> u64 {
    env.var("ENGINE_POOL_BYTES")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(DEFAULT_POOL_BYTES)
}

/// A service failure as the API answers it: an engine upgrade that cannot restore the session
/// is the client's to know (409), anything else is ours (500).
fn service_error(err: ServiceError) -> ApiError {
    match err {
        ServiceError::Incompatible { .. } => ApiError::EngineChanged(err.to_string()),
        other => internal("session", other),
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
