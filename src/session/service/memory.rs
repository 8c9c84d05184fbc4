//! In-memory implementations of the service's traits, for native tests: a [`MemoryStore`] with
//! the SQL store's semantics, [`NativeEngines`] whose instances are native realms, and a
//! [`NoIo`] host.
//!
//! A native realm cannot be copied as memory, so a [`NativeImage`] records how the realm was
//! made (its init message and every cell it ran, with their replies) and restoring replays
//! that. What the service does with images (when it takes, stores, prunes and restores them)
//! is the same as with the Worker's memory images.

use std::cell::{Cell as StdCell, RefCell};

use serde::{Deserialize, Serialize};

use super::{
    Cell, CellHost, CheckpointMeta, Engines, Image, Instance, JournalEntry, JournalSize, Recorded,
    Store,
};
use crate::{
    engine::{
        abi::{InitMessage, StartMessage},
        io, Engine, Outcome, Reply, Request, Step,
    },
    session::{idempotency, record::SessionRecord},
};

struct Row {
    entry: JournalEntry,
    fuel: i64,
    replies: Vec<Vec<u8>>,
}

#[derive(Default)]
pub struct MemoryStore {
    pub session: RefCell<Option<SessionRecord>>,
    journal: RefCell<Vec<Row>>,
    next_seq: StdCell<i64>,
    checkpoint: RefCell<Option<(CheckpointMeta, Vec<Vec<u8>>)>>,
    pub touched: RefCell<Option<SessionRecord>>,
    idempotency: RefCell<std::collections::BTreeMap<String, (idempotency::Recorded, i64)>>,
    /// Calls of `journal_size` and `checkpoint`: what a cell asks storage before it runs.
    pub size_reads: StdCell<u32>,
}

impl MemoryStore {
    pub fn journal_len(&self) -> usize {
        self.journal.borrow().len()
    }

    /// Rewrites the stored checkpoint's format, as a build that writes another format sees it.
    pub fn set_checkpoint_format(&self, format: i64) {
        if let Some((meta, _)) = self.checkpoint.borrow_mut().as_mut() {
            meta.format = format;
        }
    }

    /// Rewrites the stored checkpoint's build id, as a deploy of another engine build sees it.
    pub fn set_checkpoint_build(&self, build: &str) {
        if let Some((meta, _)) = self.checkpoint.borrow_mut().as_mut() {
            meta.build_id = build.into();
        }
    }
}

impl Store for MemoryStore {
    fn recall(&self, key: &str, now: i64) -> Result<Option<idempotency::Recorded>, String> {
        Ok(self
            .idempotency
            .borrow()
            .get(key)
            .filter(|(_, at)| now - at < idempotency::RETENTION_MS)
            .map(|(record, _)| record.clone()))
    }
    fn remember(&self, key: &str, record: &idempotency::Recorded, now: i64) -> Result<(), String> {
        let mut keys = self.idempotency.borrow_mut();
        keys.retain(|_, (_, at)| now - *at < idempotency::RETENTION_MS);
        keys.insert(key.to_string(), (record.clone(), now));
        Ok(())
    }
    fn insert_session(&self, record: &SessionRecord) -> Result<(), String> {
        let mut session = self.session.borrow_mut();
        if session.is_some() {
            return Err("session already exists".into());
        }
        *session = Some(record.clone());
        Ok(())
    }

    fn delete_all(&self) -> Result<(), String> {
        *self.session.borrow_mut() = None;
        self.journal.borrow_mut().clear();
        *self.checkpoint.borrow_mut() = None;
        *self.touched.borrow_mut() = None;
        Ok(())
    }

    fn append(&self, record: &SessionRecord, cell: &Cell<'_>) -> Result<i64, String> {
        let seq = self.next_seq.get() + 1;
        self.next_seq.set(seq);
        self.journal.borrow_mut().push(Row {
            entry: JournalEntry {
                seq,
                code: cell.code.into(),
                now_ms: cell.now_ms,
                input: cell.input.map(|v| v.to_string()),
            },
            fuel: cell.journaled_fuel(),
            replies: cell.replies.iter().map(|r| r.reply.encode()).collect(),
        });
        self.touch(record)?;
        Ok(seq)
    }

    fn touch(&self, record: &SessionRecord) -> Result<(), String> {
        *self.touched.borrow_mut() = Some(record.clone());
        Ok(())
    }

    fn tail(&self, after: i64) -> Result<Vec<JournalEntry>, String> {
        Ok(self
            .journal
            .borrow()
            .iter()
            .filter(|r| r.entry.seq > after)
            .map(|r| r.entry.clone())
            .collect())
    }

    fn replies(&self, seq: i64) -> Result<Vec<Reply>, String> {
        let journal = self.journal.borrow();
        let row = journal
            .iter()
            .find(|r| r.entry.seq == seq)
            .ok_or("no such cell")?;
        row.replies.iter().map(|b| Reply::decode(b)).collect()
    }

    fn journal_size(&self, after: i64) -> Result<JournalSize, String> {
        self.size_reads.set(self.size_reads.get() + 1);
        let journal = self.journal.borrow();
        let rows = journal.iter().filter(|r| r.entry.seq > after);
        let mut size = JournalSize::default();
        for row in rows {
            size.cells += 1;
            size.fuel += row.fuel;
            size.io_bytes += row.replies.iter().map(|r| r.len() as i64).sum::<i64>();
        }
        Ok(size)
    }

    fn last_seq(&self) -> Result<i64, String> {
        Ok(self.next_seq.get())
    }

    fn checkpoint(&self) -> Result<Option<CheckpointMeta>, String> {
        self.size_reads.set(self.size_reads.get() + 1);
        Ok(self.checkpoint.borrow().as_ref().map(|(m, _)| m.clone()))
    }

    fn checkpoint_image(
        &self,
        _meta: &CheckpointMeta,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), String> {
        for chunk in self.checkpoint.borrow().iter().flat_map(|(_, c)| c) {
            sink(chunk);
        }
        Ok(())
    }

    fn put_checkpoint(
        &self,
        meta: &CheckpointMeta,
        chunks: &mut dyn Iterator<Item = Vec<u8>>,
        prune: bool,
    ) -> Result<(), String> {
        *self.checkpoint.borrow_mut() = Some((meta.clone(), chunks.collect()));
        if prune {
            self.journal
                .borrow_mut()
                .retain(|r| r.entry.seq > meta.through_seq);
        }
        Ok(())
    }
}

/// How a native realm was made: restoring replays it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct History {
    init: Option<InitMessage>,
    cells: Vec<(StartMessage, Vec<Vec<u8>>)>,
}

/// A native realm's [`History`], encoded: what the service stores and restores.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NativeImage(Vec<u8>);

impl Image for NativeImage {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn chunk(&self, start: usize, end: usize) -> Vec<u8> {
        self.0[start..end].to_vec()
    }

    fn with_len(len: usize) -> Self {
        Self(vec![0; len])
    }

    fn write(&mut self, at: usize, bytes: &[u8]) {
        self.0[at..at + bytes.len()].copy_from_slice(bytes);
    }
}

pub struct NativeInstance {
    engine: Engine,
    image: History,
    /// The running cell and the replies it got so far.
    running: Option<(StartMessage, Vec<Vec<u8>>)>,
}

impl NativeInstance {
    fn ended(&mut self, step: Step) -> Step {
        if let Step::Done(outcome) = &step {
            if let Some(cell) = self.running.take() {
                if outcome.committed {
                    self.image.cells.push(cell);
                }
            }
        }
        step
    }
}

impl Instance for NativeInstance {
    async fn start(&mut self, cell: &StartMessage) -> Step {
        self.running = Some((cell.clone(), Vec::new()));
        let step = self
            .engine
            .start(&cell.code, cell.now_ms, cell.input.as_ref());
        self.ended(step)
    }

    async fn resume(&mut self, replies: Vec<Reply>) -> Step {
        if let Some((_, got)) = self.running.as_mut() {
            got.extend(replies.iter().map(Reply::encode));
        }
        let step = self.engine.resume(replies);
        self.ended(step)
    }

    fn replay(&mut self, cell: &StartMessage, replies: Vec<Reply>) -> Outcome {
        let encoded = replies.iter().map(Reply::encode).collect();
        let outcome = self
            .engine
            .replay(&cell.code, cell.now_ms, cell.input.as_ref(), replies);
        if outcome.committed {
            self.image.cells.push((cell.clone(), encoded));
        }
        outcome
    }

    fn memory_bytes(&self) -> u64 {
        serde_json::to_vec(&self.image).map_or(0, |b| b.len() as u64)
    }
}

/// Native realms, counting what the service asks of them.
pub struct NativeEngines {
    pub build: String,
    pub made: StdCell<u32>,
    pub snapshots: StdCell<u32>,
    pub restores: StdCell<u32>,
}

impl NativeEngines {
    pub fn new(build: &str) -> Self {
        Self {
            build: build.into(),
            made: StdCell::new(0),
            snapshots: StdCell::new(0),
            restores: StdCell::new(0),
        }
    }
}

impl Engines for NativeEngines {
    type Instance = NativeInstance;
    type Image = NativeImage;

    fn build_id(&self) -> String {
        self.build.clone()
    }

    fn fresh(&self, init: &InitMessage, _max_bytes: u64) -> Result<NativeInstance, String> {
        self.made.set(self.made.get() + 1);
        Ok(NativeInstance {
            engine: Engine::with_env(init.seed, init.limits, &init.env)?,
            image: History {
                init: Some(init.clone()),
                cells: Vec::new(),
            },
            running: None,
        })
    }

    async fn snapshot(&self, instance: &NativeInstance) -> Result<NativeImage, String> {
        self.snapshots.set(self.snapshots.get() + 1);
        serde_json::to_vec(&instance.image)
            .map(NativeImage)
            .map_err(|e| e.to_string())
    }

    async fn restore(&self, image: &NativeImage, max_bytes: u64) -> Result<NativeInstance, String> {
        self.restores.set(self.restores.get() + 1);
        let image: History = serde_json::from_slice(&image.0).map_err(|e| e.to_string())?;
        let init = image.init.as_ref().ok_or("empty image")?;
        let mut instance = self.fresh(init, max_bytes)?;
        self.made.set(self.made.get() - 1);
        for (cell, replies) in &image.cells {
            let replies = replies
                .iter()
                .map(|r| Reply::decode(r))
                .collect::<Result<_, _>>()?;
            instance.replay(cell, replies);
        }
        Ok(instance)
    }
}

/// A cell host without files or network: every request fails with `EIO`.
#[derive(Default)]
pub struct NoIo {
    replies: Vec<Recorded>,
}

impl CellHost for NoIo {
    async fn serve(&mut self, requests: Vec<Request>) -> Vec<Reply> {
        let replies: Vec<Reply> = requests.iter().map(|_| io::unanswered()).collect();
        self.replies.extend(replies.iter().map(|reply| Recorded {
            reply: reply.clone(),
            blob: None,
        }));
        replies
    }

    fn take_replies(&mut self) -> Vec<Recorded> {
        std::mem::take(&mut self.replies)
    }

    fn changes_files(&self) -> bool {
        false
    }

    async fn commit(&mut self) -> Result<(), String> {
        Ok(())
    }
}
