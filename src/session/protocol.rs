//! Messages from the Worker to a session object. The Worker has already authenticated and
//! validated them; the object trusts their shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::Limits;

/// Paths of the object's internal API.
pub const CREATE: &str = "/create";
pub const INFO: &str = "/info";
pub const DELETE: &str = "/delete";
pub const EXEC: &str = "/exec";
/// `/files` lists (query `prefix`, `limit`, `cursor`); `/files/{path}` is one file, with the
/// client's method, headers and body passed through. The path is already normalised.
pub const FILES: &str = "/files";
/// Header carrying the sandbox's own `host:port` to the object, for the fetch policy.
pub const ORIGIN_HEADER: &str = "x-sandbox-origin";
/// Header carrying the client's checked `Idempotency-Key` to the object.
pub const IDEMPOTENCY_HEADER: &str = "x-sandbox-idempotency-key";

/// Creates the session in a fresh object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateCommand {
    pub id: String,
    pub tenant: String,
    pub ttl_seconds: u64,
    pub metadata: BTreeMap<String, String>,
    pub limits: Limits,
    /// `network.allow` rules, already checked.
    pub network: Vec<String>,
    /// Secrets, already checked.
    pub env: serde_json::Map<String, serde_json::Value>,
}

/// `POST /fork`: the new sessions' ids (minted by the Worker) and what they change.
pub const FORK: &str = "/fork";
/// `GET`/`POST /checkpoints`, `DELETE /checkpoints/{name}`, `POST /checkpoints/{name}/restore`.
pub const CHECKPOINTS: &str = "/checkpoints";
/// `POST /adopt`: a fork's object takes its state ([`encode_adopt`]).
pub const ADOPT: &str = "/adopt";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForkCommand {
    pub ids: Vec<String>,
    pub ttl_seconds: Option<u64>,
    pub metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointCommand {
    pub name: String,
}

/// One file's index row as forks and checkpoints copy it: the object is shared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRow {
    pub path: String,
    pub size: i64,
    pub content_type: String,
    pub etag: String,
    pub modified_ms: i64,
    pub object_key: String,
}

/// What a fork's object is given: its row, the checkpoint its image is (none for a session
/// that never ran a cell: the fork starts from the same seed) and its files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdoptHead {
    pub record: crate::session::record::SessionRecord,
    pub checkpoint: Option<crate::session::checkpoint::CheckpointMeta>,
    pub files: Vec<FileRow>,
}

/// `[head length: u32 LE][head JSON][image]`: the image travels as raw bytes.
pub fn encode_adopt(head: &AdoptHead, image: &[u8]) -> Result<Vec<u8>, String> {
    let json = serde_json::to_vec(head).map_err(|e| e.to_string())?;
    let len = u32::try_from(json.len()).map_err(|_| "adopt head too large".to_string())?;
    let mut out = Vec::with_capacity(4 + json.len() + image.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(image);
    Ok(out)
}

/// Reverses [`encode_adopt`].
pub fn decode_adopt(bytes: &[u8]) -> Result<(AdoptHead, &[u8]), String> {
    let len = bytes
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or("adopt message truncated")?;
    let json = bytes.get(4..4 + len).ok_or("adopt head truncated")?;
    let head: AdoptHead = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let image = &bytes[4 + len..];
    let expected = head
        .checkpoint
        .as_ref()
        .map_or(0, |m| m.image_bytes as usize);
    if image.len() != expected {
        return Err(format!(
            "adopt image has {} bytes, its checkpoint says {expected}",
            image.len()
        ));
    }
    Ok((head, image))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{checkpoint::CheckpointMeta, record::SessionRecord};

    #[test]
    fn adopt_messages_round_trip_and_check_the_image_length() {
        let record = SessionRecord {
            id: "ses_a".into(),
            tenant: "t".into(),
            created_at: 1,
            last_used_at: 2,
            ttl_seconds: 60,
            metadata: "{}".into(),
            seed: 7,
            execution_count: 3,
            limits: "{}".into(),
            network: "[]".into(),
            env: "{\"K\":\"v\"}".into(),
            files_count: 0,
            files_bytes: 0,
        };
        let meta = CheckpointMeta {
            format: 1,
            build_id: "b".into(),
            through_seq: 9,
            execution_count: 3,
            memory_bytes: 100,
            image_bytes: 3,
            created_ms: 5,
            journal_pruned: true,
        };
        let head = AdoptHead {
            record,
            checkpoint: Some(meta),
            files: vec![FileRow {
                path: "a.txt".into(),
                size: 1,
                content_type: "text/plain".into(),
                etag: "e".into(),
                modified_ms: 4,
                object_key: "t/objects/00".into(),
            }],
        };
        let bytes = encode_adopt(&head, &[1, 2, 3]).expect("encode");
        let (back, image) = decode_adopt(&bytes).expect("decode");
        assert_eq!(image, &[1, 2, 3]);
        assert_eq!(back.record, head.record);
        assert_eq!(back.files, head.files);
        assert!(decode_adopt(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_adopt(&bytes[..3]).is_err());
    }
}
