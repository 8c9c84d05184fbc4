//! The session's logic, free of Workers: creating and destroying a session's storage, running
//! cells on an engine instance, journaling the acknowledged ones, checkpointing the instance's
//! memory and waking from a checkpoint.
//!
//! It works over three traits: [`Store`] (the object's SQL in the Worker, [`memory::MemoryStore`]
//! in tests), [`Engines`] (engine instances: Wasm instances in the Worker, native realms in
//! tests) and [`CellHost`] (a cell's file and network I/O). The Durable Object
//! (`session::object`) routes requests, holds the turn for every change and renders answers.
//!
//! The state of a session is its latest checkpoint plus the journal's cells after it:
//! - **wake** = restore the checkpoint (the in-memory copy if there is one, else the stored one)
//!   and replay the tail; a session without a checkpoint replays its whole journal;
//! - **rollback** after a limit or a trap = drop the instance; the next wake restores;
//! - **checkpoint** when the tail's replay cost passes [`CheckpointPolicy`], and when the session
//!   goes idle. The journal's older cells are kept while the whole history stays within
//!   [`REPLAY_BOUND`], so a session can be rebuilt by a later engine build that cannot read the
//!   checkpoint; past it they are pruned, and such a session answers
//!   [`ServiceError::Incompatible`] after an engine upgrade instead of a wrong state.

use std::future::Future;

use serde::Deserialize;

use super::{checkpoint::CheckpointMeta, idempotency, record::SessionRecord};
use crate::engine::{
    abi::{InitMessage, StartMessage},
    Outcome, Reply, Request, Step,
};

/// One acknowledged cell, as journaled.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JournalEntry {
    pub seq: i64,
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

    fn start(&self) -> StartMessage {
        StartMessage {
            code: self.code.clone(),
            now_ms: self.now_ms,
            input: self.input(),
            yield_fuel: 0,
        }
    }
}

/// A reply as the journal keeps it.
pub struct Recorded {
    pub reply: Reply,
    /// For the contents of a stored file: a name for those contents (etag and size), so the
    /// journal keeps each content once however often cells read it.
    pub blob: Option<String>,
}

/// A cell to journal.
pub struct Cell<'a> {
    pub code: &'a str,
    pub now_ms: f64,
    pub input: Option<&'a serde_json::Value>,
    pub fuel: u64,
    pub replies: &'a [Recorded],
}

impl Cell<'_> {
    /// The fuel the journal records for the cell (a signed 64-bit column).
    pub fn journaled_fuel(&self) -> i64 {
        self.fuel.min(i64::MAX as u64) as i64
    }
}

/// An `exec` made under an idempotency key: its answer is recorded with the cell.
pub struct Remember<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    /// Renders the answer the client gets, from the cell's outcome and the session after it.
    pub answer: &'a dyn Fn(&Outcome, &SessionRecord) -> String,
}

impl Remember<'_> {
    fn record<S: Store>(
        &self,
        store: &S,
        outcome: &Outcome,
        record: &SessionRecord,
    ) -> Result<(), String> {
        let recorded = idempotency::Recorded {
            fingerprint: self.fingerprint.to_string(),
            answer: (self.answer)(outcome, record),
        };
        store.remember(self.key, &recorded, record.last_used_at)
    }
}

/// Size of (part of) the journal: what replaying it costs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct JournalSize {
    pub cells: i64,
    pub fuel: i64,
    #[serde(default)]
    pub io_bytes: i64,
}

impl JournalSize {
    fn within(&self, bound: &JournalSize) -> bool {
        self.cells <= bound.cells && self.fuel <= bound.fuel && self.io_bytes <= bound.io_bytes
    }
}

/// The most a session's journal replays in one wake when it has to start from its first cell
/// (no checkpoint this engine build can read). Also the most the tail after a checkpoint may
/// hold before cells are refused (`limit: "journal"`), which only happens if checkpoints fail.
pub const REPLAY_BOUND: JournalSize = JournalSize {
    cells: 5_000,
    fuel: 300_000_000,
    io_bytes: 64 << 20,
};

/// When to take a checkpoint after a cell: once the tail since the last one costs this much to
/// replay. Wake and rollback replay at most this (plus the one cell that passed it, which is
/// checkpointed right after).
#[derive(Debug, Clone, Copy)]
pub struct CheckpointPolicy {
    pub tail: JournalSize,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        Self {
            tail: JournalSize {
                cells: 200,
                fuel: 20_000_000,
                io_bytes: 8 << 20,
            },
        }
    }
}

/// The object's durable storage. Synchronous, as the Durable Object SQL API is; the calls one
/// method makes are committed together.
pub trait Store {
    /// Stores a new session's row.
    fn insert_session(&self, record: &SessionRecord) -> Result<(), String>;
    /// Removes everything the session stored: its row, journal, checkpoints and file index.
    fn delete_all(&self) -> Result<(), String>;
    fn append(&self, record: &SessionRecord, cell: &Cell<'_>) -> Result<i64, String>;
    /// Stores the session's counters (last use, execution count).
    fn touch(&self, record: &SessionRecord) -> Result<(), String>;
    /// Journaled cells with `seq > after`, oldest first.
    fn tail(&self, after: i64) -> Result<Vec<JournalEntry>, String>;
    /// The replies one journaled cell's I/O got, in order.
    fn replies(&self, seq: i64) -> Result<Vec<Reply>, String>;
    /// Size of the journaled cells with `seq > after` (0: all of them).
    fn journal_size(&self, after: i64) -> Result<JournalSize, String>;
    /// The highest journaled seq (0 for none).
    fn last_seq(&self) -> Result<i64, String>;
    /// The session's latest checkpoint.
    fn checkpoint(&self) -> Result<Option<CheckpointMeta>, String>;
    /// Its image, handed to `sink` in the chunks it was stored in, in order, one at a time (an
    /// image can be tens of MiB; the Worker's own memory never holds it whole).
    fn checkpoint_image(
        &self,
        meta: &CheckpointMeta,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), String>;
    /// Replaces the latest checkpoint; with `prune`, drops the journaled cells it holds.
    fn put_checkpoint(
        &self,
        meta: &CheckpointMeta,
        chunks: &mut dyn Iterator<Item = Vec<u8>>,
        prune: bool,
    ) -> Result<(), String>;
    /// The answer recorded under an idempotency key, if it is younger than the retention.
    fn recall(&self, key: &str, now: i64) -> Result<Option<idempotency::Recorded>, String>;
    /// Records an answer under an idempotency key (and forgets keys past the retention).
    fn remember(&self, key: &str, record: &idempotency::Recorded, now: i64) -> Result<(), String>;
}

/// A memory image of an engine instance.
pub trait Image: Clone {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Bytes `start..end`, for storing in chunks.
    fn chunk(&self, start: usize, end: usize) -> Vec<u8>;
    /// An image of `len` bytes to fill with [`Image::write`].
    fn with_len(len: usize) -> Self;
    fn write(&mut self, at: usize, bytes: &[u8]);
}

/// Largest piece of an image per stored row (SQLite rows in Durable Objects are at most 2 MB).
pub const IMAGE_CHUNK_BYTES: usize = 1 << 20;

/// A running engine instance (see `engine::abi`).
/// `start` and `resume` may suspend: an instance whose cell streams its output hands control to
/// the host's event loop while it runs (see `instance::wasm`).
pub trait Instance {
    fn start(&mut self, cell: &StartMessage) -> impl Future<Output = Step>;
    fn resume(&mut self, replies: Vec<Reply>) -> impl Future<Output = Step>;
    fn replay(&mut self, cell: &StartMessage, replies: Vec<Reply>) -> Outcome;
    /// Bytes of memory it holds now.
    fn memory_bytes(&self) -> u64;
}

/// Makes, snapshots and restores engine instances.
pub trait Engines {
    type Instance: Instance;
    type Image: Image;
    /// The engine build: a checkpoint is restored only by the build that took it.
    fn build_id(&self) -> String;
    /// A fresh realm whose instance may hold at most `max_bytes` of memory.
    fn fresh(&self, init: &InitMessage, max_bytes: u64) -> Result<Self::Instance, String>;
    fn snapshot(
        &self,
        instance: &Self::Instance,
    ) -> impl Future<Output = Result<Self::Image, String>>;
    fn restore(
        &self,
        image: &Self::Image,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Self::Instance, String>>;
}

/// A cell's I/O: files and network, with its writes staged until [`CellHost::commit`].
pub trait CellHost {
    fn serve(&mut self, requests: Vec<Request>) -> impl Future<Output = Vec<Reply>>;
    /// The replies served so far, for the journal.
    fn take_replies(&mut self) -> Vec<Recorded>;
    fn changes_files(&self) -> bool;
    /// Stores the cell's staged writes (its effects stand).
    fn commit(&mut self) -> impl Future<Output = Result<(), String>>;
}

/// Runs one cell to its end on `instance`, serving its I/O with `host`. The one cell driver:
/// sessions and one-shot runs both use it.
pub async fn drive<I: Instance, H: CellHost>(
    instance: &mut I,
    cell: &StartMessage,
    host: &mut H,
) -> Outcome {
    let mut step = instance.start(cell).await;
    loop {
        match step {
            Step::Done(outcome) => return *outcome,
            Step::Io(requests) => {
                let replies = host.serve(requests).await;
                step = instance.resume(replies).await;
            }
        }
    }
}

/// What a session holds in memory between requests.
pub struct Warm<E: Engines> {
    /// The instance, when it matches the journal's head.
    pub instance: Option<E::Instance>,
    /// The latest checkpoint and its image: restoring from it needs no storage read.
    pub checkpoint: Option<(CheckpointMeta, E::Image)>,
    /// The seq the latest checkpoint holds the journal through, and the size of the journal
    /// past it, as of the last cell or checkpoint this object made: a cell reads them here
    /// instead of asking storage twice. Only this object writes its journal; `None` (a new
    /// warm state, or after a failed write) means measure.
    pub tail: Option<(i64, JournalSize)>,
}

impl<E: Engines> Default for Warm<E> {
    fn default() -> Self {
        Self {
            instance: None,
            checkpoint: None,
            tail: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceError {
    /// Storage failed.
    Store(String),
    /// The engine could not be created or restored.
    Engine(String),
    /// The checkpoint was taken by another engine build and the journal no longer holds the
    /// session's whole history, so this build cannot rebuild it.
    Incompatible { stored: String, current: String },
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceError::Store(e) => write!(f, "storage: {e}"),
            ServiceError::Engine(e) => write!(f, "engine: {e}"),
            ServiceError::Incompatible { stored, current } => write!(
                f,
                "the session's checkpoint was taken by engine build {stored}, which this \
                 deployment (engine build {current}) cannot restore, and its journal no longer \
                 holds the whole history to replay; its files are still readable: start a new \
                 session"
            ),
        }
    }
}

/// What a wake did: whether it restored a checkpoint, and how many journaled cells it replayed
/// on top. `None` from [`Service::exec`] when the instance was live already.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WakeReport {
    pub restored: bool,
    pub replayed_cells: u64,
}

/// What [`Service::exec`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Executed {
    pub outcome: Outcome,
    /// The wake the cell needed first, if any.
    pub woke: Option<WakeReport>,
    /// The checkpoint taken after it, if the tail passed the policy.
    pub checkpointed: Option<CheckpointMeta>,
    /// Journaled cells remain past the latest checkpoint (an idle checkpoint would have work).
    pub pending: bool,
}

/// One session's operations over a store and an engine factory.
pub struct Service<'a, S: Store, E: Engines> {
    pub store: &'a S,
    pub engines: &'a E,
    pub policy: CheckpointPolicy,
    /// Memory an instance may hold besides what [`instance_bytes`] allows the session's heap.
    pub base_bytes: u64,
}

/// The most memory an engine instance of a session with `memory_bytes` may hold: `base` (the
/// engine's stack and data and the realm itself) plus twice the limit. A cell is stopped when
/// its heap grows past `memory_bytes` (counted by the engine's allocator); the instance's size
/// is the hard bound behind that, which garbage not yet collected and the copies a cell's
/// answer needs must fit under too.
pub fn instance_bytes(base: u64, memory_bytes: u64) -> u64 {
    base.saturating_add(memory_bytes.saturating_mul(2))
}

impl<S: Store, E: Engines> Service<'_, S, E> {
    /// Stores a new session. Its realm is made by its first cell's wake.
    pub fn create(&self, record: &SessionRecord) -> Result<(), ServiceError> {
        self.store
            .insert_session(record)
            .map_err(ServiceError::Store)
    }

    /// Forgets the session: its storage, and its warm state (instance and checkpoint).
    pub fn destroy(&self, warm: &mut Warm<E>) -> Result<(), ServiceError> {
        *warm = Warm::default();
        self.store.delete_all().map_err(ServiceError::Store)
    }

    fn max_bytes(&self, record: &SessionRecord) -> u64 {
        instance_bytes(self.base_bytes, record.limits().memory_bytes)
    }

    fn init(record: &SessionRecord) -> InitMessage {
        InitMessage {
            seed: record.seed as u64,
            limits: record.limits(),
            env: record.env(),
        }
    }

    /// Makes `warm.instance` match the journal's head.
    pub async fn wake(
        &self,
        record: &SessionRecord,
        warm: &mut Warm<E>,
    ) -> Result<WakeReport, ServiceError> {
        if warm.instance.is_some() {
            return Ok(WakeReport::default());
        }
        let max = self.max_bytes(record);
        if warm.checkpoint.is_none() {
            if let Some(meta) = self.store.checkpoint().map_err(ServiceError::Store)? {
                if self.restorable(&meta) {
                    let image = self.stored_image(&meta)?;
                    warm.checkpoint = Some((meta, image));
                } else if meta.journal_pruned {
                    return Err(ServiceError::Incompatible {
                        stored: format!("{} (checkpoint format {})", meta.build_id, meta.format),
                        current: self.engines.build_id(),
                    });
                }
                // Else: the journal holds every cell; replay it all on a fresh realm.
            }
        }
        let (mut instance, after, restored) = match &warm.checkpoint {
            Some((meta, image)) => (
                self.engines
                    .restore(image, max)
                    .await
                    .map_err(ServiceError::Engine)?,
                meta.through_seq,
                true,
            ),
            None => (
                self.engines
                    .fresh(&Self::init(record), max)
                    .map_err(ServiceError::Engine)?,
                0,
                false,
            ),
        };
        let mut replayed = 0;
        for entry in self.store.tail(after).map_err(ServiceError::Store)? {
            let replies = self.store.replies(entry.seq).map_err(ServiceError::Store)?;
            let outcome = instance.replay(&entry.start(), replies);
            if !outcome.committed {
                let why = outcome.error.map(|e| e.message).unwrap_or_default();
                return Err(ServiceError::Engine(format!(
                    "replaying journaled cell {} did not complete: {why}",
                    entry.seq
                )));
            }
            replayed += 1;
        }
        warm.instance = Some(instance);
        Ok(WakeReport {
            restored,
            replayed_cells: replayed,
        })
    }

    /// Runs one cell: wakes the session if needed, journals the cell if its effects stand,
    /// rolls back otherwise, and checkpoints when the tail passes the policy.
    /// `clock` is read when the cell ends: a session's TTL counts from then.
    pub async fn exec<H: CellHost>(
        &self,
        record: &mut SessionRecord,
        warm: &mut Warm<E>,
        cell: &StartMessage,
        host: &mut H,
        clock: impl Fn() -> i64,
        remember: Option<&Remember<'_>>,
    ) -> Result<Executed, ServiceError> {
        // Taken: put back only where the journal is known not to have changed, or changed as
        // counted.
        let (after, tail) = match warm.tail.take() {
            Some(known) => known,
            None => {
                let after = self.checkpointed_through(warm)?;
                let size = self
                    .store
                    .journal_size(after)
                    .map_err(ServiceError::Store)?;
                (after, size)
            }
        };
        if !tail.within(&REPLAY_BOUND) {
            warm.tail = Some((after, tail));
            let refused = Outcome::refused(
                "journal",
                format!(
                    "this session's journal since its last checkpoint holds {} cells that used {} \
                     fuel and {} bytes of I/O, more than it may replay (checkpoints are failing); \
                     the cell did not run",
                    tail.cells, tail.fuel, tail.io_bytes
                ),
            );
            return Ok(Executed {
                outcome: refused,
                woke: None,
                checkpointed: None,
                pending: tail.cells > 0,
            });
        }
        let woke = if warm.instance.is_none() {
            Some(self.wake(record, warm).await?)
        } else {
            None
        };
        let Some(instance) = warm.instance.as_mut() else {
            return Err(ServiceError::Engine("no instance after wake".into()));
        };
        let outcome = drive(instance, cell, host).await;
        record.execution_count += 1;
        record.last_used_at = clock();
        if !outcome.committed {
            // Rolled back: the instance holds a part of a cell; the next wake restores.
            warm.instance = None;
            self.store.touch(record).map_err(ServiceError::Store)?;
            warm.tail = Some((after, tail));
            // In the same storage event as the counters: a retry gets this answer.
            if let Some(remember) = remember {
                remember
                    .record(self.store, &outcome, record)
                    .map_err(ServiceError::Store)?;
            }
            return Ok(Executed {
                outcome,
                woke,
                checkpointed: None,
                pending: tail.cells > 0,
            });
        }
        let replies = host.take_replies();
        // Files first: a cell is acknowledged only once what it wrote is stored.
        if let Err(e) = host.commit().await {
            warm.instance = None;
            return Err(ServiceError::Store(format!("store files: {e}")));
        }
        let entry = Cell {
            code: &cell.code,
            now_ms: cell.now_ms,
            input: cell.input.as_ref(),
            fuel: outcome.usage.fuel,
            replies: &replies,
        };
        let journaled = self.store.append(record, &entry);
        if let Err(e) = journaled {
            // The instance holds a cell the journal does not: rebuild it from the journal.
            warm.instance = None;
            return Err(ServiceError::Store(format!("journal: {e}")));
        }
        // In the same storage event as the journal entry, so a committed cell always has its
        // answer recorded: a retry can never run it again.
        if let Some(remember) = remember {
            if let Err(e) = remember.record(self.store, &outcome, record) {
                warm.instance = None;
                return Err(ServiceError::Store(format!("idempotency: {e}")));
            }
        }
        // A cell without I/O replies adds itself and its fuel to the tail measured before it:
        // no second query per exec. One with replies may share stored file contents with
        // earlier cells (counted once), so the store measures it.
        let tail = if replies.is_empty() {
            JournalSize {
                cells: tail.cells + 1,
                fuel: tail.fuel.saturating_add(entry.journaled_fuel()),
                io_bytes: tail.io_bytes,
            }
        } else {
            self.store
                .journal_size(after)
                .map_err(ServiceError::Store)?
        };
        let checkpointed = if tail.within(&self.policy.tail) {
            warm.tail = Some((after, tail));
            None
        } else {
            // The cell's answer stands even if the checkpoint fails; the next cell retries (and
            // measures the tail again). A checkpoint taken records the empty tail after it.
            self.checkpoint(record, warm, clock()).await.ok().flatten()
        };
        Ok(Executed {
            outcome,
            woke,
            // The cell just journaled is past the checkpoint unless one was taken after it.
            pending: checkpointed.is_none(),
            checkpointed,
        })
    }

    /// The stored image of `meta`, read a chunk at a time.
    fn stored_image(&self, meta: &CheckpointMeta) -> Result<E::Image, ServiceError> {
        let expected = meta.image_bytes as usize;
        let mut image = E::Image::with_len(expected);
        let mut at = 0;
        self.store
            .checkpoint_image(meta, &mut |chunk| {
                if at + chunk.len() <= expected {
                    image.write(at, chunk);
                }
                at += chunk.len();
            })
            .map_err(ServiceError::Store)?;
        if at != expected {
            return Err(ServiceError::Store(format!(
                "the stored checkpoint image has {at} bytes, its row says {expected}"
            )));
        }
        Ok(image)
    }

    /// The seq the latest checkpoint holds the journal through (0 for none).
    fn checkpointed_through(&self, warm: &Warm<E>) -> Result<i64, ServiceError> {
        if let Some((meta, _)) = &warm.checkpoint {
            return Ok(meta.through_seq);
        }
        Ok(self
            .store
            .checkpoint()
            .map_err(ServiceError::Store)?
            .filter(|meta| self.restorable(meta))
            .map_or(0, |meta| meta.through_seq))
    }

    /// Whether this engine build can restore `meta`: its own build, in the format it writes.
    fn restorable(&self, meta: &CheckpointMeta) -> bool {
        meta.format == super::checkpoint::FORMAT && meta.build_id == self.engines.build_id()
    }

    /// Takes a checkpoint of the session at its journal's head, unless the latest one is there
    /// already. Answers it (None when there was nothing new).
    pub async fn checkpoint(
        &self,
        record: &SessionRecord,
        warm: &mut Warm<E>,
        now_ms: i64,
    ) -> Result<Option<CheckpointMeta>, ServiceError> {
        let head = self.store.last_seq().map_err(ServiceError::Store)?;
        let current = self.checkpointed_through(warm)?;
        if head == 0 || head == current {
            return Ok(None);
        }
        // Measured again by the next cell unless this checkpoint is stored.
        warm.tail = None;
        self.wake(record, warm).await?;
        let Some(instance) = warm.instance.as_ref() else {
            return Err(ServiceError::Engine("no instance after wake".into()));
        };
        let memory_bytes = instance.memory_bytes();
        let image = self
            .engines
            .snapshot(instance)
            .await
            .map_err(ServiceError::Engine)?;
        // Keep the older cells while the whole history stays replayable by another build.
        let stored = self.store.checkpoint().map_err(ServiceError::Store)?;
        let already_pruned = stored.as_ref().is_some_and(|m| m.journal_pruned);
        let whole = self.store.journal_size(0).map_err(ServiceError::Store)?;
        let prune = already_pruned || !whole.within(&REPLAY_BOUND);
        let meta = CheckpointMeta {
            format: super::checkpoint::FORMAT,
            build_id: self.engines.build_id(),
            through_seq: head,
            execution_count: record.execution_count,
            memory_bytes,
            image_bytes: image.len() as u64,
            created_ms: now_ms,
            journal_pruned: prune,
        };
        let mut chunks = (0..image.len())
            .step_by(IMAGE_CHUNK_BYTES)
            .map(|start| image.chunk(start, (start + IMAGE_CHUNK_BYTES).min(image.len())));
        self.store
            .put_checkpoint(&meta, &mut chunks, prune)
            .map_err(ServiceError::Store)?;
        warm.checkpoint = Some((meta.clone(), image));
        // Nothing is journaled past the checkpoint just stored.
        warm.tail = Some((head, JournalSize::default()));
        Ok(Some(meta))
    }
}

#[cfg(test)]
pub mod memory;
#[cfg(test)]
mod tests;
