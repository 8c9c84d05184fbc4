//! Guest I/O: the `fs` module and `fetch`.
//!
//! The realm cannot wait for I/O, so a guest call leaves it as a [`Request`] and gets a pending
//! promise back. The engine hands the cell's requests to its host between job runs
//! ([`super::Step::Io`]); the host answers each with a [`Reply`], the engine settles the promises
//! and runs the jobs that follow, until the cell settles. Replies are journaled with the cell, so
//! replaying it gets the same replies without repeating a request or reading a file again.
//!
//! These are the messages only, shared by the engine and its host; the realm's side is
//! `guest_io` (the guest-facing API, argument checks, `Headers`, `Response`, is JavaScript in
//! `prelude.js`, reaching the host through one native function kept in a closure).

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::files::FileInfo;

/// A guest I/O call for the host to perform.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `fs.readFile`: the file's bytes.
    Read { path: String },
    /// `fs.writeFile`.
    Write {
        path: String,
        data: Vec<u8>,
        content_type: String,
    },
    /// `fs.stat`.
    Stat { path: String },
    /// `fs.list`: files whose path starts with `prefix`.
    List { prefix: String },
    /// `fs.remove`: whether the file existed.
    Remove { path: String },
    /// `fetch`.
    Fetch(FetchRequest),
}

/// What the guest asked `fetch` for.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchRequest {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// `follow`, `manual` or `error`.
    pub redirect: String,
}

/// Bytes a reply brings into the realm. Shared, so the copy journaled with the cell and the copy
/// handed to the engine are one allocation (file reads can be tens of MiB).
pub type Payload = Rc<Vec<u8>>;

/// The host's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// Resolves with `undefined`.
    Done,
    Bool(bool),
    Bytes(#[serde(skip)] Payload),
    Stat(FileInfo),
    List(Vec<FileInfo>),
    Fetched(FetchResponse),
    Failed(Failure),
}

/// A response `fetch` resolves with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchResponse {
    pub status: u16,
    pub status_text: String,
    /// The final URL, after redirects.
    pub url: String,
    pub redirected: bool,
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub body: Payload,
}

/// The constructor of a rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    Error,
    TypeError,
    RangeError,
}

/// A rejection: an error of `kind` with `message`, and `code` (`ENOENT`, …) when set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: ErrorKind,
    pub code: Option<String>,
    pub message: String,
}

impl Failure {
    pub fn new(kind: ErrorKind, code: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.map(str::to_string),
            message: message.into(),
        }
    }

    /// A file that does not exist.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            ErrorKind::Error,
            Some("ENOENT"),
            format!("ENOENT: no such file: {path}"),
        )
    }
}

impl Reply {
    /// The reply for the journal: a length-prefixed JSON head, and the payload bytes, raw (JSON
    /// would quadruple them). Stored one after the other, they read back with [`Reply::decode`].
    pub fn parts(&self) -> (Vec<u8>, &[u8]) {
        let head = serde_json::to_vec(self).unwrap_or_default();
        let mut prefixed = Vec::with_capacity(4 + head.len());
        prefixed.extend_from_slice(&(head.len() as u32).to_le_bytes());
        prefixed.extend_from_slice(&head);
        let payload: &[u8] = match self {
            Reply::Bytes(bytes) => bytes,
            Reply::Fetched(response) => &response.body,
            _ => &[],
        };
        (prefixed, payload)
    }

    /// [`Reply::parts`] in one buffer.
    pub fn encode(&self) -> Vec<u8> {
        let (mut head, payload) = self.parts();
        head.extend_from_slice(payload);
        head
    }

    /// Reads a reply written by [`Reply::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Reply, String> {
        let len = bytes
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or("journaled reply: truncated")?;
        let head = bytes.get(4..4 + len).ok_or("journaled reply: truncated")?;
        let payload = Rc::new(bytes[4 + len..].to_vec());
        let mut reply: Reply = serde_json::from_slice(head).map_err(|e| e.to_string())?;
        match &mut reply {
            Reply::Bytes(bytes) => *bytes = payload,
            Reply::Fetched(response) => response.body = payload,
            _ => {}
        }
        Ok(reply)
    }
}

/// The error a cell's pending request gets when the host gives no reply for it.
pub fn unanswered() -> Reply {
    Reply::Failed(Failure::new(
        ErrorKind::Error,
        Some("EIO"),
        "the host gave no reply to this request",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replies as the journal has stored them since it first held them (`journal_io.data`):
    /// a u32 length, the JSON head, then the payload raw. A deploy must keep reading these.
    #[test]
    fn replies_stored_by_earlier_builds_still_decode() {
        let mut bytes = 14u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(br#"{"Bytes":null}"#);
        bytes.extend_from_slice(b"abc");
        assert_eq!(
            Reply::decode(&bytes),
            Ok(Reply::Bytes(Rc::new(b"abc".to_vec())))
        );
        let mut failed = Vec::new();
        let head =
            br#"{"Failed":{"kind":"Error","code":"ENOENT","message":"ENOENT: no such file: x"}}"#;
        failed.extend_from_slice(&(head.len() as u32).to_le_bytes());
        failed.extend_from_slice(head);
        assert_eq!(
            Reply::decode(&failed),
            Ok(Reply::Failed(Failure::not_found("x")))
        );
        let stat = br#"{"Stat":{"path":"a","size":3,"content_type":"text/plain","etag":"e","modified_ms":7}}"#;
        let mut stat_bytes = (stat.len() as u32).to_le_bytes().to_vec();
        stat_bytes.extend_from_slice(stat);
        assert!(matches!(Reply::decode(&stat_bytes), Ok(Reply::Stat(info)) if info.size == 3));
    }

    #[test]
    fn replies_round_trip_through_the_journal_encoding() {
        let replies = [
            Reply::Done,
            Reply::Bool(true),
            Reply::Bytes(Rc::new((0..=255).collect())),
            Reply::Stat(FileInfo {
                path: "a/b".into(),
                size: 3,
                content_type: "text/plain".into(),
                etag: "e".into(),
                modified_ms: 7,
            }),
            Reply::Fetched(FetchResponse {
                status: 200,
                status_text: "OK".into(),
                url: "https://x/".into(),
                redirected: false,
                headers: vec![("a".into(), "b".into())],
                body: Rc::new(b"hello".to_vec()),
            }),
            Reply::Failed(Failure::not_found("x")),
        ];
        for reply in replies {
            assert_eq!(Reply::decode(&reply.encode()), Ok(reply));
        }
        assert!(Reply::decode(&[1, 0]).is_err());
    }
}
