//! What a cell produces: its [`Outcome`] (status, value, logs, error, usage), and the [`Step`]s
//! of a cell that waits for I/O. Plain data, shared by the engine and its host.

use serde::{Deserialize, Serialize};

use super::io::Request;

/// How a cell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The cell completed; `value` holds its completion value.
    Ok,
    /// The cell threw (or its promise rejected).
    Error,
    /// A limit stopped the cell, or its value was too large to return.
    Limit,
}

/// An error reported to the user: a guest exception or a limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuestError {
    pub name: String,
    pub message: String,
    pub stack: Option<String>,
    /// Which limit stopped the cell, for `LimitError`s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl GuestError {
    pub fn limit(limit: &str, message: String) -> Self {
        Self {
            name: "LimitError".into(),
            message,
            stack: None,
            limit: Some(limit.into()),
        }
    }
}

/// What an execution used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub fuel: u64,
    pub memory_bytes: u64,
    pub output_bytes: u64,
}

/// The result of one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    pub value: serde_json::Value,
    pub value_truncated: bool,
    pub logs: Logs,
    pub error: Option<GuestError>,
    pub usage: Usage,
    /// Whether the cell's effects stand. When false (a limit stopped it, or the engine failed)
    /// the realm is no longer the session's state and must be rebuilt from the journal.
    pub committed: bool,
}

/// Recorded console output.
#[derive(Default, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logs {
    /// Lines written by `log`, `info`, `debug`, `dir`, `table`, `count`, `time*`, `group`.
    pub stdout: Vec<String>,
    /// Lines written by `warn`, `error`, `trace`, `assert`.
    pub stderr: Vec<String>,
    /// UTF-8 bytes kept, counting one extra byte per line for its line break.
    pub bytes: usize,
    /// Whether output was dropped because `max_bytes` was reached.
    pub truncated: bool,
}

/// One step of a cell: it ended, or it waits for the host to perform I/O.
#[derive(Debug)]
pub enum Step {
    Done(Box<Outcome>),
    /// Perform these, in order, and pass the replies to [`Engine::resume`].
    Io(Vec<Request>),
}

impl Step {
    pub fn done(outcome: Outcome) -> Self {
        Step::Done(Box::new(outcome))
    }
}

impl Outcome {
    /// A cell whose effects stand; its value, if any, is filled in by the caller.
    #[cfg(feature = "realm")]
    pub(crate) fn committed(
        status: Status,
        error: Option<GuestError>,
        logs: Logs,
        usage: Usage,
    ) -> Self {
        Self {
            status,
            value: serde_json::Value::Null,
            value_truncated: false,
            logs,
            error,
            usage,
            committed: true,
        }
    }

    /// A cell refused before it ran, by a limit of the session rather than of the cell.
    pub fn refused(limit: &str, message: String) -> Self {
        Self::stopped(
            GuestError::limit(limit, message),
            Logs::default(),
            Usage::default(),
        )
    }

    /// A cell stopped by a limit or an engine failure: nothing it did stands.
    pub fn stopped(error: GuestError, logs: Logs, usage: Usage) -> Self {
        let status = if error.limit.is_some() {
            Status::Limit
        } else {
            Status::Error
        };
        Self {
            status,
            value: serde_json::Value::Null,
            value_truncated: false,
            logs,
            error: Some(error),
            usage,
            committed: false,
        }
    }
}

pub fn internal_error(detail: &str) -> GuestError {
    GuestError {
        name: "InternalError".into(),
        message: format!(
            "the JavaScript engine failed internally ({detail}); the cell was rolled back and the \
             session is as it was before it"
        ),
        stack: None,
        limit: None,
    }
}
