//! Serves a cell's guest I/O: file requests against the session's files (or a run's in-memory
//! files) with the cell's staged changes on top, and `fetch` through the network [`Client`].
//! Every reply is kept, in order, for the journal.

use std::rc::Rc;

use worker::{Env, SqlStorage};

use crate::{
    engine::{
        io::{ErrorKind, Failure},
        Reply, Request,
    },
    files::{
        staging::{Action, MemoryFiles, Quotas, Staged},
        FileInfo,
    },
    net::client::Client,
    storage::{artifacts, file_index, keys},
};

/// Most guest I/O calls per execution: each reply is journaled, so the journal stays bounded.
pub const MAX_IO_PER_EXEC: usize = 1000;

/// Where a cell's files are stored.
pub enum Files<'a> {
    /// A session's files: the index in the object's SQL, the bytes in R2.
    Session {
        env: &'a Env,
        sql: SqlStorage,
        tenant: String,
        id: String,
    },
    /// A one-shot run's input files.
    Memory(MemoryFiles),
}

/// One execution's I/O.
pub struct CellIo<'a> {
    files: Files<'a>,
    staged: Staged,
    quotas: Quotas,
    client: Client,
    now_ms: i64,
    /// Every reply given, in order: the journal's record of the cell's I/O.
    pub replies: Vec<Recorded>,
}

pub use crate::session::service::Recorded;

impl<'a> CellIo<'a> {
    pub fn new(files: Files<'a>, quotas: Quotas, client: Client, now_ms: i64) -> Self {
        Self {
            files,
            staged: Staged::default(),
            quotas,
            client,
            now_ms,
            replies: Vec::new(),
        }
    }

    /// Performs `requests` in order and returns their replies.
    pub async fn serve(&mut self, requests: Vec<Request>) -> Vec<Reply> {
        let mut out = Vec::with_capacity(requests.len());
        for request in requests {
            let (reply, blob) = if self.replies.len() >= MAX_IO_PER_EXEC {
                let failure = Failure::new(
                    ErrorKind::RangeError,
                    None,
                    format!("I/O limit: an execution may make at most {MAX_IO_PER_EXEC} fs and fetch calls"),
                );
                (Reply::Failed(failure), None)
            } else {
                self.perform(request).await
            };
            self.replies.push(Recorded {
                reply: reply.clone(),
                blob,
            });
            out.push(reply);
        }
        out
    }

    /// The reply, and the name of its payload's contents when it is a stored file's.
    async fn perform(&mut self, request: Request) -> (Reply, Option<String>) {
        if let Request::Fetch(fetch) = request {
            return (self.client.fetch(fetch).await, None);
        }
        let action = match &self.files {
            Files::Session { sql, .. } => self.staged.handle(
                request,
                &file_index::SqlIndex(sql),
                self.quotas,
                self.now_ms,
            ),
            Files::Memory(memory) => self
                .staged
                .handle(request, memory, self.quotas, self.now_ms),
        };
        match action {
            Action::Reply(reply) => (reply, None),
            Action::ReadStored(path) => self.read_stored(&path).await,
        }
    }

    async fn read_stored(&self, path: &str) -> (Reply, Option<String>) {
        match &self.files {
            Files::Memory(memory) => match memory.read(path) {
                Some(bytes) => (Reply::Bytes(Rc::new(bytes.to_vec())), None),
                None => (Reply::Failed(Failure::not_found(path)), None),
            },
            Files::Session {
                env,
                sql,
                tenant,
                id,
            } => match artifacts::read(
                env,
                &file_index::held(sql, tenant, id, path)
                    .map_or_else(|| keys::file_key(tenant, id, path), |h| h.key),
            )
            .await
            {
                Ok(Some((bytes, etag))) => {
                    let blob = format!("{etag}:{}", bytes.len());
                    (Reply::Bytes(Rc::new(bytes)), Some(blob))
                }
                Ok(None) => (Reply::Failed(Failure::not_found(path)), None),
                Err(e) => {
                    let failure = Failure::new(
                        ErrorKind::Error,
                        Some("EIO"),
                        format!("EIO: could not read {path}: {e}"),
                    );
                    (Reply::Failed(failure), None)
                }
            },
        }
    }

    /// Whether the cell wrote or removed any file.
    pub fn changes_files(&self) -> bool {
        !self.staged.is_empty()
    }

    /// The cell's changes, for a one-shot run's answer (nothing is stored).
    pub fn into_staged(self) -> Staged {
        self.staged
    }

    /// Stores the cell's changes (its effects stand): bytes to R2 first, then the index.
    pub async fn commit(&mut self) -> worker::Result<()> {
        let Files::Session {
            env,
            sql,
            tenant,
            id,
        } = &self.files
        else {
            return Ok(());
        };
        let (env, sql, tenant, id) = (*env, sql, tenant.as_str(), id.as_str());
        // Replaced and removed files' objects, let go of once the index no longer points at them.
        let mut released = Vec::new();
        for (path, change) in std::mem::take(&mut self.staged).into_changes() {
            released.extend(file_index::held(sql, tenant, id, &path));
            match change {
                Some(file) => {
                    // A new object per write: the old one may be shared with forks and checkpoints.
                    let random = crate::ids::random_bytes()
                        .map_err(|e| worker::Error::RustError(e.to_string()))?;
                    let key = keys::object_key(tenant, random);
                    let size = file.data.len() as u64;
                    let object =
                        artifacts::put(env, &key, file.data.into(), &file.content_type).await?;
                    file_index::upsert(
                        sql,
                        &FileInfo {
                            path,
                            size,
                            content_type: file.content_type,
                            etag: object.etag(),
                            modified_ms: file.modified_ms,
                        },
                        &key,
                    )?;
                }
                None => file_index::remove(sql, &path)?,
            }
        }
        if let Err(e) = crate::storage::file_refs::release(env, tenant, released).await {
            worker::console_error!("release replaced files: {e}");
        }
        Ok(())
    }
}

impl crate::session::service::CellHost for CellIo<'_> {
    async fn serve(&mut self, requests: Vec<Request>) -> Vec<Reply> {
        CellIo::serve(self, requests).await
    }

    fn take_replies(&mut self) -> Vec<Recorded> {
        std::mem::take(&mut self.replies)
    }

    fn changes_files(&self) -> bool {
        CellIo::changes_files(self)
    }

    async fn commit(&mut self) -> Result<(), String> {
        CellIo::commit(self).await.map_err(|e| e.to_string())
    }
}
