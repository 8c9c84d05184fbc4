//! The engine module's ABI: how a host drives one engine instance, as bytes.
//!
//! The engine module (`build/engine/engine.wasm`, this crate built with `engine-abi`) imports
//! its memory (`env.memory`, so the host sets its maximum: the session's memory limit) and
//! two functions it calls just before it traps, so the host can tell why:
//! `env.engine_panic(ptr, len)` (a panic's message, UTF-8) and `env.engine_oom(bytes)` (an
//! allocation the memory could not grow for). It exports:
//!
//! | export | does |
//! |---|---|
//! | `engine_input(len) -> ptr` | makes room for an `len`-byte message; the host writes it at `ptr` |
//! | `engine_call(op) -> len` | runs `op` on that message; the answer is `len` bytes at `engine_output()` |
//! | `engine_output() -> ptr` | where the last answer is |
//! | `engine_abi() -> u32` | [`ABI_VERSION`] |
//!
//! Ops and their messages ([`Op`]): `Init` takes [`InitMessage`] (JSON) and answers
//! [`Answer::Ready`]; `Start` takes [`StartMessage`] (JSON) and `Resume` takes replies
//! ([`encode_replies`]), both answer a step; `Replay` takes a [`StartMessage`] and the cell's
//! journaled replies ([`encode_replay`]) and answers the step that ends it. Every answer is
//! [`encode_answer`]'s bytes. Between calls nothing of the engine is on the stack, so the
//! instance's memory alone is its whole state: a copy of it is a checkpoint.

use serde::{Deserialize, Serialize};

use super::{
    io::{FetchRequest, Reply, Request},
    Limits, Outcome, Step,
};

/// Changes whenever a message's shape changes; host and module must agree.
pub const ABI_VERSION: u32 = 2;

/// What the host asks of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Op {
    Init = 1,
    Start = 2,
    Resume = 3,
    Replay = 4,
    /// Gives the realm's `Math.random` a new seed (an instance restored from a snapshot of a
    /// fresh realm, for a one-shot run): [`ReseedMessage`], answered `Ready`.
    Reseed = 5,
}

impl Op {
    pub fn from_u32(op: u32) -> Option<Self> {
        Some(match op {
            1 => Op::Init,
            2 => Op::Start,
            3 => Op::Resume,
            4 => Op::Replay,
            5 => Op::Reseed,
            _ => return None,
        })
    }
}

/// Creates the realm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitMessage {
    pub seed: u64,
    pub limits: Limits,
    pub env: serde_json::Map<String, serde_json::Value>,
}

/// A new seed for `Math.random` ([`Op::Reseed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReseedMessage {
    pub seed: u64,
}

/// Starts (or replays) one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartMessage {
    pub code: String,
    pub now_ms: f64,
    pub input: Option<serde_json::Value>,
    /// Stream the cell's console output: every this many units of fuel, and before each I/O
    /// step and the end, the engine calls `env.engine_yield(ptr, len)` with the lines written
    /// since the last call ([`encode_output`]). 0 (the default): no calls.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub yield_fuel: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One console line as a cell wrote it (one entry of `stdout` or `stderr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    pub stderr: bool,
    pub text: String,
}

/// Console lines for `engine_yield`: a list ([u32 count], then each [u32 len][bytes]) of
/// items `[0 stdout | 1 stderr][UTF-8 text]`.
pub fn encode_output(lines: &[OutputLine]) -> Vec<u8> {
    list(
        lines
            .iter()
            .map(|line| {
                let mut item = Vec::with_capacity(1 + line.text.len());
                item.push(u8::from(line.stderr));
                item.extend_from_slice(line.text.as_bytes());
                item
            })
            .collect::<Vec<_>>()
            .into_iter(),
    )
}

pub fn decode_output(bytes: &[u8]) -> Result<Vec<OutputLine>, String> {
    unlist(bytes)?
        .into_iter()
        .map(|item| {
            let (&kind, text) = item.split_first().ok_or("empty output line")?;
            Ok(OutputLine {
                stderr: kind == 1,
                text: String::from_utf8(text.to_vec()).map_err(|e| e.to_string())?,
            })
        })
        .collect()
}

/// The engine's answer to one call.
#[derive(Debug)]
pub enum Answer {
    /// `Init` succeeded.
    Ready,
    /// A cell's step.
    Step(Step),
    /// The call could not be carried out (a malformed message, no realm yet).
    Refused(String),
}

/// Length-prefixed head, then the payload: `[u32 le head length][head][payload]`.
fn frame(head: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + head.len() + payload.len());
    out.extend_from_slice(&(head.len() as u32).to_le_bytes());
    out.extend_from_slice(head);
    out.extend_from_slice(payload);
    out
}

fn unframe(bytes: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let len = bytes
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or("message truncated")?;
    let head = bytes.get(4..4 + len).ok_or("message truncated")?;
    Ok((head, &bytes[4 + len..]))
}

/// A list of byte strings: `[u32 count]` then each as `[u32 length][bytes]`.
fn list(items: impl ExactSizeIterator<Item = Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(items.len() as u32).to_le_bytes());
    for item in items {
        out.extend_from_slice(&(item.len() as u32).to_le_bytes());
        out.extend_from_slice(&item);
    }
    out
}

fn unlist(bytes: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut rest = bytes;
    let mut take = |n: usize| -> Result<&[u8], String> {
        if rest.len() < n {
            return Err("list truncated".into());
        }
        let (a, b) = rest.split_at(n);
        rest = b;
        Ok(a)
    };
    let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let count = word(take(4)?);
    let mut items = Vec::with_capacity(count.min(bytes.len() / 4));
    for _ in 0..count {
        let len = word(take(4)?);
        items.push(take(len)?);
    }
    Ok(items)
}

/// Replies to the requests of the last `Step::Io`, in order.
pub fn encode_replies(replies: &[Reply]) -> Vec<u8> {
    list(
        replies
            .iter()
            .map(Reply::encode)
            .collect::<Vec<_>>()
            .into_iter(),
    )
}

pub fn decode_replies(bytes: &[u8]) -> Result<Vec<Reply>, String> {
    unlist(bytes)?.into_iter().map(Reply::decode).collect()
}

/// A journaled cell to replay with its recorded replies.
pub fn encode_replay(cell: &StartMessage, replies: &[Reply]) -> Vec<u8> {
    let head = serde_json::to_vec(cell).unwrap_or_default();
    frame(&head, &encode_replies(replies))
}

pub fn decode_replay(bytes: &[u8]) -> Result<(StartMessage, Vec<Reply>), String> {
    let (head, replies) = unframe(bytes)?;
    let cell = serde_json::from_slice(head).map_err(|e| e.to_string())?;
    Ok((cell, decode_replies(replies)?))
}

/// A request without its bytes, which travel raw beside it.
#[derive(Serialize, Deserialize)]
enum RequestHead {
    Read {
        path: String,
    },
    Write {
        path: String,
        content_type: String,
    },
    Stat {
        path: String,
    },
    List {
        prefix: String,
    },
    Remove {
        path: String,
    },
    Fetch {
        url: String,
        method: String,
        headers: Vec<(String, String)>,
        has_body: bool,
        redirect: String,
    },
}

pub fn encode_request(request: &Request) -> Vec<u8> {
    let (head, payload): (RequestHead, &[u8]) = match request {
        Request::Read { path } => (RequestHead::Read { path: path.clone() }, &[]),
        Request::Write {
            path,
            data,
            content_type,
        } => (
            RequestHead::Write {
                path: path.clone(),
                content_type: content_type.clone(),
            },
            data,
        ),
        Request::Stat { path } => (RequestHead::Stat { path: path.clone() }, &[]),
        Request::List { prefix } => (
            RequestHead::List {
                prefix: prefix.clone(),
            },
            &[],
        ),
        Request::Remove { path } => (RequestHead::Remove { path: path.clone() }, &[]),
        Request::Fetch(f) => (
            RequestHead::Fetch {
                url: f.url.clone(),
                method: f.method.clone(),
                headers: f.headers.clone(),
                has_body: f.body.is_some(),
                redirect: f.redirect.clone(),
            },
            f.body.as_deref().unwrap_or_default(),
        ),
    };
    frame(&serde_json::to_vec(&head).unwrap_or_default(), payload)
}

pub fn decode_request(bytes: &[u8]) -> Result<Request, String> {
    let (head, payload) = unframe(bytes)?;
    let head: RequestHead = serde_json::from_slice(head).map_err(|e| e.to_string())?;
    Ok(match head {
        RequestHead::Read { path } => Request::Read { path },
        RequestHead::Write { path, content_type } => Request::Write {
            path,
            data: payload.to_vec(),
            content_type,
        },
        RequestHead::Stat { path } => Request::Stat { path },
        RequestHead::List { prefix } => Request::List { prefix },
        RequestHead::Remove { path } => Request::Remove { path },
        RequestHead::Fetch {
            url,
            method,
            headers,
            has_body,
            redirect,
        } => Request::Fetch(FetchRequest {
            url,
            method,
            headers,
            body: has_body.then(|| payload.to_vec()),
            redirect,
        }),
    })
}

const ANSWER_READY: u8 = 0;
const ANSWER_DONE: u8 = 1;
const ANSWER_IO: u8 = 2;
const ANSWER_REFUSED: u8 = 3;

/// `[tag][body]`: `Done` carries the outcome as JSON, `Io` the requests, `Refused` a message.
pub fn encode_answer(answer: &Answer) -> Vec<u8> {
    let (tag, body) = match answer {
        Answer::Ready => (ANSWER_READY, Vec::new()),
        Answer::Step(Step::Done(outcome)) => {
            (ANSWER_DONE, serde_json::to_vec(outcome).unwrap_or_default())
        }
        Answer::Step(Step::Io(requests)) => (
            ANSWER_IO,
            list(
                requests
                    .iter()
                    .map(encode_request)
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
        ),
        Answer::Refused(message) => (ANSWER_REFUSED, message.as_bytes().to_vec()),
    };
    let mut out = Vec::with_capacity(1 + body.len());
    out.push(tag);
    out.extend_from_slice(&body);
    out
}

pub fn decode_answer(bytes: &[u8]) -> Result<Answer, String> {
    let (&tag, body) = bytes.split_first().ok_or("empty answer")?;
    Ok(match tag {
        ANSWER_READY => Answer::Ready,
        ANSWER_DONE => {
            let outcome: Outcome = serde_json::from_slice(body).map_err(|e| e.to_string())?;
            Answer::Step(Step::done(outcome))
        }
        ANSWER_IO => Answer::Step(Step::Io(
            unlist(body)?
                .into_iter()
                .map(decode_request)
                .collect::<Result<_, _>>()?,
        )),
        ANSWER_REFUSED => Answer::Refused(String::from_utf8_lossy(body).into_owned()),
        other => return Err(format!("unknown answer tag {other}")),
    })
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::engine::{io::Failure, Status};

    #[test]
    fn requests_round_trip_with_their_bytes_raw() {
        let requests = [
            Request::Read { path: "a".into() },
            Request::Write {
                path: "b/c".into(),
                data: (0..=255).collect(),
                content_type: "application/octet-stream".into(),
            },
            Request::Stat { path: "s".into() },
            Request::List { prefix: "".into() },
            Request::Remove { path: "r".into() },
            Request::Fetch(FetchRequest {
                url: "https://x.test/".into(),
                method: "POST".into(),
                headers: vec![("a".into(), "b".into())],
                body: Some(vec![0, 1, 2]),
                redirect: "follow".into(),
            }),
            Request::Fetch(FetchRequest {
                url: "https://x.test/".into(),
                method: "GET".into(),
                headers: vec![],
                body: None,
                redirect: "manual".into(),
            }),
        ];
        let encoded = encode_answer(&Answer::Step(Step::Io(requests.to_vec())));
        let Answer::Step(Step::Io(back)) = decode_answer(&encoded).expect("decodes") else {
            panic!("an Io step");
        };
        assert_eq!(back, requests);
        // The write's 256 bytes travel as themselves, not as JSON numbers.
        assert!(encoded.len() < 1000, "{}", encoded.len());
    }

    #[test]
    fn outcomes_and_replays_round_trip() {
        let outcome = Outcome::refused("journal", "full".into());
        let Answer::Step(Step::Done(back)) =
            decode_answer(&encode_answer(&Answer::Step(Step::done(outcome.clone()))))
                .expect("decodes")
        else {
            panic!("a Done step");
        };
        assert_eq!(*back, outcome);
        assert_eq!(back.status, Status::Limit);

        let cell = StartMessage {
            code: "await fs.readFile('x')".into(),
            now_ms: 1.5,
            input: Some(serde_json::json!({"a": [1, 2]})),
            yield_fuel: 0,
        };
        let replies = vec![
            Reply::Bytes(Rc::new(vec![9; 10])),
            Reply::Failed(Failure::not_found("x")),
        ];
        assert_eq!(
            decode_replay(&encode_replay(&cell, &replies)).expect("decodes"),
            (cell, replies)
        );
    }

    #[test]
    fn numbers_cross_the_abi_exactly() {
        // 0.19616818566750782 is 1766925935748269 / 2^53; without serde_json's
        // float_roundtrip it parsed back one ULP off.
        let exact = 1_766_925_935_748_269_f64 / (1u64 << 53) as f64;
        let mut outcome = Outcome::refused("x", String::new());
        for value in [exact, 0.1 + 0.2, 1e-300, f64::MAX, 5e-324] {
            outcome.value = serde_json::json!([value]);
            let Answer::Step(Step::Done(back)) =
                decode_answer(&encode_answer(&Answer::Step(Step::done(outcome.clone()))))
                    .expect("decodes")
            else {
                panic!("a Done step");
            };
            assert_eq!(back.value[0].as_f64(), Some(value));
        }
    }

    #[test]
    fn truncated_or_unknown_messages_are_errors_not_panics() {
        let full = encode_answer(&Answer::Step(Step::Io(vec![Request::Read {
            path: "abc".into(),
        }])));
        for len in 0..full.len() {
            assert!(decode_answer(&full[..len]).is_err(), "prefix of {len}");
        }
        assert!(decode_answer(&[9]).is_err());
        assert!(decode_replies(&[5, 0, 0, 0]).is_err());
        assert!(Op::from_u32(0).is_none());
        assert_eq!(Op::from_u32(4), Some(Op::Replay));
        assert_eq!(Op::from_u32(5), Some(Op::Reseed));
    }
}
