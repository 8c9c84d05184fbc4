//! Server-sent events for a streaming `exec` or run (`Accept: text/event-stream`).
//!
//! The stream is: one `stdout` or `stderr` event per console line as the cell writes it
//! (`data: {"text": …}`), a `: keepalive` comment about every few seconds while the cell runs,
//! then exactly one `result` event whose data is the JSON body a plain request would get, and
//! the end of the stream. JSON never holds a raw newline, so every event has one `data:` line.

use crate::engine::abi::OutputLine;

/// The comment sent while a cell runs, so proxies do not cut an idle-looking connection.
pub const KEEPALIVE: &str = ": keepalive\n\n";

/// The media type of the stream.
pub const EVENT_STREAM: &str = "text/event-stream";

/// Default interval between keepalive comments (`STREAM_HEARTBEAT_MS` changes it).
pub const DEFAULT_HEARTBEAT_MS: u64 = 5_000;

/// Fuel between the engine's yields while a streaming cell computes (output is sent and the
/// event loop runs at each): about 0.05-0.3 s of work in a Worker.
pub const YIELD_FUEL: u64 = 2_000_000;

/// Whether the client asked for a stream: `Accept` names `text/event-stream`.
pub fn wants_stream(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| {
        accept.split(',').any(|part| {
            part.split(';')
                .next()
                .is_some_and(|media| media.trim().eq_ignore_ascii_case(EVENT_STREAM))
        })
    })
}

/// One event with JSON `data`.
pub fn event(name: &str, data: &serde_json::Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// The event of one console line.
pub fn output_event(line: &OutputLine) -> String {
    let name = if line.stderr { "stderr" } else { "stdout" };
    event(name, &serde_json::json!({ "text": line.text }))
}

/// The final event: the plain answer's body.
pub fn result_event(body: &serde_json::Value) -> String {
    event("result", body)
}

// Reading a stream (the MCP server relays a streamed exec as progress notifications).

/// One thing a stream carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Event {
        name: String,
        data: String,
    },
    /// A comment line (`: ...`), such as a heartbeat.
    Comment(String),
}

/// Splits a byte stream into [`Item`]s.
#[derive(Debug, Default)]
pub struct Parser {
    pending: Vec<u8>,
}

impl Parser {
    /// Feeds bytes; answers the items completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Item> {
        self.pending.extend_from_slice(bytes);
        let mut items = Vec::new();
        while let Some(end) = find_blank_line(&self.pending) {
            let block: Vec<u8> = self.pending.drain(..end.0).collect();
            self.pending.drain(..end.1 - end.0);
            items.extend(parse_block(&String::from_utf8_lossy(&block)));
        }
        items
    }
}

/// `(end of block, start of the next)` of the first blank line.
fn find_blank_line(bytes: &[u8]) -> Option<(usize, usize)> {
    let lf = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i, i + 2));
    let crlf = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn parse_block(block: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut name = None;
    let mut data: Option<String> = None;
    for line in block.lines() {
        if let Some(comment) = line.strip_prefix(':') {
            items.push(Item::Comment(comment.trim_start().to_string()));
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => name = Some(value.to_string()),
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_string()),
            },
            _ => {}
        }
    }
    if let Some(data) = data {
        items.push(Item::Event {
            name: name.unwrap_or_else(|| "message".into()),
            data,
        });
    }
    items
}

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub use stream::EventStream;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
mod stream {
    use std::{cell::RefCell, collections::VecDeque, rc::Rc, task::Poll, time::Duration};

    use wasm_bindgen::{closure::Closure, JsCast};
    use worker::{js_sys::Uint8Array, Headers, Response};

    use super::{output_event, EVENT_STREAM, KEEPALIVE};
    use crate::{engine::abi, instance::OutputSink};

    #[derive(Default)]
    struct Queue {
        chunks: VecDeque<Vec<u8>>,
        closed: bool,
        /// The response body waiting for a chunk.
        reader: Option<std::task::Waker>,
        /// The heartbeat waiting for the end.
        heartbeat: Option<std::task::Waker>,
        /// The engine's output callback, dropped when the stream ends.
        sink: Option<Closure<dyn FnMut(Uint8Array)>>,
    }

    /// The writing end of a streaming response's body. Sends never block: a client that reads
    /// slowly (or is gone) leaves chunks queued, at most the cell's output limit of them.
    #[derive(Clone, Default)]
    pub struct EventStream(Rc<RefCell<Queue>>);

    impl EventStream {
        /// A stream and the `200 text/event-stream` response that carries it.
        pub fn new() -> worker::Result<(Self, Response)> {
            let stream = Self::default();
            let queue = stream.0.clone();
            let body = futures_util::stream::poll_fn(move |cx| {
                let mut q = queue.borrow_mut();
                if let Some(chunk) = q.chunks.pop_front() {
                    return Poll::Ready(Some(Ok::<_, worker::Error>(chunk)));
                }
                if q.closed {
                    return Poll::Ready(None);
                }
                q.reader = Some(cx.waker().clone());
                Poll::Pending
            });
            let headers = Headers::new();
            headers.set("content-type", EVENT_STREAM)?;
            headers.set("cache-control", "no-cache")?;
            let response = Response::from_stream(body)?.with_headers(headers);
            Ok((stream, response))
        }

        pub fn send(&self, text: &str) {
            let mut q = self.0.borrow_mut();
            if q.closed {
                return;
            }
            q.chunks.push_back(text.as_bytes().to_vec());
            if let Some(reader) = q.reader.take() {
                reader.wake();
            }
        }

        /// Ends the stream (after what was sent) and the heartbeat.
        pub fn close(&self) {
            let mut q = self.0.borrow_mut();
            q.closed = true;
            q.sink = None;
            if let Some(reader) = q.reader.take() {
                reader.wake();
            }
            if let Some(heartbeat) = q.heartbeat.take() {
                heartbeat.wake();
            }
        }

        fn closed(&self) -> impl std::future::Future<Output = ()> + '_ {
            std::future::poll_fn(|cx| {
                let mut q = self.0.borrow_mut();
                if q.closed {
                    Poll::Ready(())
                } else {
                    q.heartbeat = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
        }

        /// Sends a keepalive comment every `every_ms` until the stream ends.
        pub fn start_heartbeat(&self, every_ms: u64) {
            let stream = self.clone();
            worker::wasm_bindgen_futures::spawn_local(async move {
                loop {
                    let tick = worker::Delay::from(Duration::from_millis(every_ms.max(1)));
                    let closed = std::pin::pin!(stream.closed());
                    match futures_util::future::select(tick, closed).await {
                        futures_util::future::Either::Left(_) => stream.send(KEEPALIVE),
                        futures_util::future::Either::Right(_) => break,
                    }
                }
            });
        }

        /// The engine's output callback for this stream: each console line becomes an event.
        pub fn output_sink(&self, yield_fuel: u64) -> OutputSink {
            // Unwind-safe enough: a panic here loses at most this call's lines.
            let stream = std::panic::AssertUnwindSafe(self.clone());
            let closure = Closure::<dyn FnMut(Uint8Array)>::new(move |bytes: Uint8Array| {
                let stream = &stream;
                match abi::decode_output(&bytes.to_vec()) {
                    Ok(lines) => {
                        for line in &lines {
                            stream.0.send(&output_event(line));
                        }
                    }
                    Err(e) => worker::console_error!("stream output: {e}"),
                }
            });
            let function = closure
                .as_ref()
                .unchecked_ref::<worker::js_sys::Function>()
                .clone();
            self.0.borrow_mut().sink = Some(closure);
            OutputSink {
                function,
                yield_fuel,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_accept_header_asks_for_a_stream() {
        assert!(wants_stream(Some("text/event-stream")));
        assert!(wants_stream(Some(
            "application/json, Text/Event-Stream;q=0.9"
        )));
        assert!(!wants_stream(Some("application/json")));
        assert!(!wants_stream(Some("*/*")));
        assert!(!wants_stream(None));
    }

    #[test]
    fn events_have_one_data_line_of_json() {
        let line = OutputLine {
            stderr: false,
            text: "a\nb \"c\"".into(),
        };
        assert_eq!(
            output_event(&line),
            "event: stdout\ndata: {\"text\":\"a\\nb \\\"c\\\"\"}\n\n"
        );
        let line = OutputLine {
            stderr: true,
            text: "x".into(),
        };
        assert_eq!(
            output_event(&line),
            "event: stderr\ndata: {\"text\":\"x\"}\n\n"
        );
        assert_eq!(
            result_event(&json!({"status": "ok", "value": 2})),
            "event: result\ndata: {\"status\":\"ok\",\"value\":2}\n\n"
        );
    }
}

#[cfg(test)]
mod parser_tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_are_reassembled() {
        let stream = format!(
            "{}{KEEPALIVE}event: result\ndata: {{\"a\":\ndata: 1}}\n\n",
            event("stdout", &serde_json::json!({"text": "héllo"})),
        );
        let bytes = stream.as_bytes();
        for cut in 0..bytes.len() {
            let mut parser = Parser::default();
            let mut items = parser.push(&bytes[..cut]);
            items.extend(parser.push(&bytes[cut..]));
            assert_eq!(
                items,
                vec![
                    Item::Event {
                        name: "stdout".into(),
                        data: r#"{"text":"héllo"}"#.into()
                    },
                    Item::Comment("keepalive".into()),
                    Item::Event {
                        name: "result".into(),
                        data: "{\"a\":\n1}".into()
                    },
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn crlf_and_unnamed_events() {
        let mut parser = Parser::default();
        assert_eq!(
            parser.push(b"data: x\r\n\r\n"),
            vec![Item::Event {
                name: "message".into(),
                data: "x".into()
            }]
        );
    }
}
