//! Forks and named checkpoints of a session, in its object. All of them take the session's
//! turn, so a cell running when one arrives finishes first and they see the state after it.
//!
//! The engine's state travels as the latest checkpoint's memory image (brought to the
//! journal's head first); files are shared, not copied: the rows point at the same R2 objects,
//! whose references the tenant's registry counts (`storage::file_refs`).

use serde_json::json;
use worker::{Method, Request, RequestInit, Response};

use super::{now_ms, service_error, Core, POOL};
use crate::{
    api::{
        error::ApiError,
        handler::{internal, json_response},
    },
    session::{
        checkpoint::CheckpointMeta,
        protocol::{self, AdoptHead, CheckpointCommand, FileRow, ForkCommand},
        record::SessionRecord,
    },
    storage::{
        branches::{self, Named, MAX_CHECKPOINTS},
        file_index, file_refs, journal, keys, metadata,
        refs::{self, Held},
    },
    time::rfc3339,
};

/// A named checkpoint as the API shows it.
pub fn view(named: &Named) -> serde_json::Value {
    json!({
        "name": named.name,
        "created_at": rfc3339(named.created_ms),
        "execution_count": named.execution_count,
        "bytes": named.image_bytes,
        "memory_bytes": named.memory_bytes,
        "files": {"count": named.files_count, "bytes": named.files_bytes},
    })
}

impl Core {
    /// Brings the latest checkpoint to the journal's head (nothing to do for a session that
    /// never ran a cell, or whose checkpoint is current).
    async fn settle(&self, record: &SessionRecord) -> Result<Option<CheckpointMeta>, ApiError> {
        let mut warm = self.check_out();
        let result = self
            .parts(record)
            .service()
            .checkpoint(record, &mut warm, now_ms())
            .await;
        self.check_in(warm);
        result.map_err(service_error)?;
        self.inner.borrow_mut().checkpoint_due = false;
        journal::checkpoint(&self.sql()).map_err(|e| internal("checkpoint", e))
    }

    /// Makes the session's files shared with `copies` new holders: the registry counts them
    /// before anything else points at them. Answers the rows to copy.
    async fn share_files(
        &self,
        record: &SessionRecord,
        copies: i64,
    ) -> Result<Vec<FileRow>, ApiError> {
        let sql = self.sql();
        let rows = file_index::object_rows(&sql, &record.tenant, &record.id)
            .map_err(|e| internal("file rows", e))?;
        let held: Vec<Held> = rows
            .iter()
            .map(|(row, shared)| Held {
                key: row.object_key.clone(),
                shared: *shared,
            })
            .collect();
        file_refs::send(&self.env, &record.tenant, &refs::share(&held, copies))
            .await
            .map_err(|e| internal("share files", e))?;
        branches::mark_shared(&sql, &record.tenant, &record.id)
            .map_err(|e| internal("mark shared", e))?;
        Ok(rows.into_iter().map(|(row, _)| row).collect())
    }

    /// `POST /fork`: new sessions whose state is this one's now.
    pub(super) async fn fork(&self, cmd: ForkCommand) -> Result<Response, ApiError> {
        let record = self.live()?;
        let meta = self.settle(&record).await?;
        let mut image = Vec::new();
        if meta.is_some() {
            journal::checkpoint_image(&self.sql(), &mut |chunk| image.extend_from_slice(chunk))
                .map_err(|e| internal("checkpoint image", e))?;
        }
        let files = self.share_files(&record, cmd.ids.len() as i64).await?;
        let now = now_ms();
        let metadata = match &cmd.metadata {
            Some(m) => serde_json::to_string(m).map_err(|e| internal("metadata", e))?,
            None => record.metadata.clone(),
        };
        let namespace = self
            .env
            .durable_object(crate::bindings::SESSIONS)
            .map_err(|e| internal("namespace", e))?;
        let mut sessions = Vec::with_capacity(cmd.ids.len());
        for id in &cmd.ids {
            let head = AdoptHead {
                record: SessionRecord {
                    id: id.clone(),
                    created_at: now,
                    last_used_at: now,
                    ttl_seconds: cmd.ttl_seconds.map_or(record.ttl_seconds, |t| t as i64),
                    metadata: metadata.clone(),
                    ..record.clone()
                },
                // The fork's history is the image: its journal starts empty.
                checkpoint: meta.clone().map(|m| CheckpointMeta {
                    journal_pruned: true,
                    ..m
                }),
                files: files.clone(),
            };
            let body = protocol::encode_adopt(&head, &image).map_err(|e| internal("adopt", e))?;
            let mut init = RequestInit::new();
            init.with_method(Method::Post).with_body(Some(
                worker::js_sys::Uint8Array::from(body.as_slice()).into(),
            ));
            let req = Request::new_with_init(&format!("https://session{}", protocol::ADOPT), &init)
                .map_err(|e| internal("adopt request", e))?;
            let stub = namespace
                .get_by_name(&keys::object_name(&record.tenant, id))
                .map_err(|e| internal("stub", e))?;
            let mut resp = stub
                .fetch_with_request(req)
                .await
                .map_err(|e| internal("adopt", e))?;
            if resp.status_code() != 201 {
                return Err(internal("adopt", resp.status_code()));
            }
            let view: serde_json::Value = resp.json().await.map_err(|e| internal("adopt", e))?;
            sessions.push(view);
        }
        json_response(201, &json!({ "sessions": sessions }))
    }

    /// `POST /adopt`: this new object becomes a fork.
    pub(super) async fn adopt(&self, mut req: Request) -> Result<Response, ApiError> {
        if self.load()?.is_some() {
            return Err(internal("adopt", "session already exists"));
        }
        let bytes = req.bytes().await.map_err(|e| internal("adopt body", e))?;
        let (head, image) = protocol::decode_adopt(&bytes).map_err(|e| internal("adopt", e))?;
        let sql = self.sql();
        // One event: the fork exists with its state and files, or not at all.
        journal::insert_session(&sql, &head.record).map_err(|e| internal("adopt", e))?;
        if let Some(meta) = &head.checkpoint {
            let mut chunks = image.chunks(1 << 20).map(<[u8]>::to_vec);
            journal::put_checkpoint(&sql, meta, &mut chunks, false)
                .map_err(|e| internal("adopt checkpoint", e))?;
        }
        branches::insert_shared_files(&sql, &head.files).map_err(|e| internal("adopt files", e))?;
        let record = self.load()?.ok_or_else(|| internal("adopt", "no row"))?;
        self.schedule_alarm(&record).await;
        let view = record.view();
        metadata::put(&self.env, &record.tenant, &view)
            .await
            .map_err(|e| internal("kv put", e))?;
        self.inner.borrow_mut().last_kv_sync = now_ms();
        json_response(201, &view)
    }

    /// `POST /checkpoints`: records the session's state, files included, under a name.
    pub(super) async fn create_checkpoint(
        &self,
        cmd: CheckpointCommand,
    ) -> Result<Response, ApiError> {
        let record = self.live()?;
        let sql = self.sql();
        if branches::get(&sql, &cmd.name)
            .map_err(|e| internal("checkpoint", e))?
            .is_some()
        {
            return Err(ApiError::Conflict {
                code: "checkpoint_exists",
                message: format!(
                    "this session already has a checkpoint named {:?}; pick another name or \
                     delete that one first",
                    cmd.name
                ),
            });
        }
        let count = branches::list(&sql)
            .map_err(|e| internal("checkpoints", e))?
            .len();
        if count >= MAX_CHECKPOINTS {
            return Err(ApiError::Conflict {
                code: "checkpoint_limit",
                message: format!(
                    "this session has {count} checkpoints, the most it may keep \
                     ({MAX_CHECKPOINTS}); delete one (DELETE .../checkpoints/{{name}}) first"
                ),
            });
        }
        self.settle(&record).await?;
        self.share_files(&record, 1).await?;
        branches::create(&sql, &cmd.name, record.execution_count, now_ms())
            .map_err(|e| internal("create checkpoint", e))?;
        let named = branches::get(&sql, &cmd.name)
            .map_err(|e| internal("checkpoint", e))?
            .ok_or_else(|| internal("checkpoint", "vanished"))?;
        json_response(201, &view(&named))
    }

    /// `GET /checkpoints`.
    pub(super) fn list_checkpoints(&self) -> Result<Response, ApiError> {
        self.live()?;
        let named = branches::list(&self.sql()).map_err(|e| internal("checkpoints", e))?;
        json_response(
            200,
            &json!({"checkpoints": named.iter().map(view).collect::<Vec<_>>()}),
        )
    }

    fn named(&self, name: &str) -> Result<Named, ApiError> {
        branches::get(&self.sql(), name)
            .map_err(|e| internal("checkpoint", e))?
            .ok_or_else(|| ApiError::CheckpointNotFound(name.to_string()))
    }

    /// `POST /checkpoints/{name}/restore`: the session is exactly as it was then, files
    /// included; the cells after it are gone.
    pub(super) async fn restore_checkpoint(&self, name: &str) -> Result<Response, ApiError> {
        let record = self.live()?;
        let named = self.named(name)?;
        let sql = self.sql();
        let files = branches::files(&sql, name).map_err(|e| internal("checkpoint files", e))?;
        // The restored rows are counted before they point anywhere; the replaced ones are let
        // go of after.
        let add = refs::RefChange {
            add: files.iter().map(|f| (f.object_key.clone(), 1)).collect(),
            drop: Vec::new(),
        };
        file_refs::send(&self.env, &record.tenant, &add)
            .await
            .map_err(|e| internal("share files", e))?;
        let replaced = branches::held(&sql, &record.tenant, &record.id)
            .map_err(|e| internal("file rows", e))?;
        // The warm instance holds the state being abandoned.
        let key = self.key();
        POOL.with_borrow_mut(|pool| {
            drop(pool.check_out(&key));
            pool.forget(&key);
        });
        branches::restore(&sql, &named).map_err(|e| internal("restore", e))?;
        self.inner.borrow_mut().checkpoint_due = false;
        if let Err(e) = file_refs::release(&self.env, &record.tenant, replaced).await {
            worker::console_error!("release replaced files: {e}");
        }
        let record = self.live()?;
        self.sync_metadata(&record, now_ms());
        self.schedule_alarm(&record).await;
        json_response(
            200,
            &json!({"session": record.view(), "checkpoint": view(&named)}),
        )
    }

    /// `DELETE /checkpoints/{name}`.
    pub(super) async fn delete_checkpoint(&self, name: &str) -> Result<Response, ApiError> {
        let record = self.live()?;
        self.named(name)?;
        let sql = self.sql();
        let files = branches::files(&sql, name).map_err(|e| internal("checkpoint files", e))?;
        branches::delete(&sql, name).map_err(|e| internal("delete checkpoint", e))?;
        let held = files
            .into_iter()
            .map(|f| Held {
                key: f.object_key,
                shared: true,
            })
            .collect();
        if let Err(e) = file_refs::release(&self.env, &record.tenant, held).await {
            worker::console_error!("release checkpoint files: {e}");
        }
        json_response(200, &json!({"name": name, "deleted": true}))
    }

    /// Every object the session points at (its files and its checkpoints'), for deleting it.
    pub(super) fn everything_held(&self, record: &SessionRecord) -> Vec<Held> {
        let sql = self.sql();
        let mut held = branches::held(&sql, &record.tenant, &record.id).unwrap_or_default();
        held.extend(
            branches::all_files(&sql)
                .unwrap_or_default()
                .into_iter()
                .map(|f| Held {
                    key: f.object_key,
                    shared: true,
                }),
        );
        held
    }
}
