//! The MCP server's protocol (Streamable HTTP, stateless): what a POST to `/mcp` holds and how
//! each JSON-RPC message is answered. Tool calls become requests of the REST API
//! ([`super::mcp_tools`]); the Worker glue (`mcp_http`) sends them and renders the answers.

use serde_json::{json, Value};

use super::{events, mcp_tools};

/// Protocol versions served, newest first.
pub const PROTOCOL_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];

/// The version a client without `MCP-Protocol-Version` is assumed to speak (the spec's rule).
pub const DEFAULT_HEADER_VERSION: &str = "2025-03-26";

/// JSON-RPC error codes.
pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;

/// What `initialize` tells the model about using the server.
pub const INSTRUCTIONS: &str = "edge-sandbox runs JavaScript (ES2023, no Node APIs) in isolated \
sandboxes. For a one-off computation call run_js. For multi-step work call session_create once \
and keep its `id`: every session_exec with that session_id runs in the same realm, so top-level \
variables, functions and classes persist between calls like notebook cells. The value of a \
cell's last expression is returned as `value`, console.log output as `logs`. Code can `await` \
promises; files are read and written with `await fs.readFile(path, 'utf8')` and `await \
fs.writeFile(path, data)`, and exchanged with file_write, file_read and file_list. Each call is \
bounded by fuel, memory and output limits; a thrown error or a limit comes back with isError \
and the reason. Delete sessions you no longer need with session_delete.";

/// A protocol-level failure: a JSON-RPC error answered with an HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub http_status: u16,
    pub id: Value,
    pub code: i64,
    pub message: String,
}

impl RpcError {
    fn new(http_status: u16, id: Value, code: i64, message: impl Into<String>) -> Self {
        Self {
            http_status,
            id,
            code,
            message: message.into(),
        }
    }

    /// The JSON-RPC error response.
    pub fn body(&self) -> Value {
        json!({
            "jsonrpc": "2.0",
            "id": self.id,
            "error": {"code": self.code, "message": self.message},
        })
    }
}

/// One message a client posted.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Expects an answer with the same `id`.
    Request {
        id: Value,
        method: String,
        params: Value,
    },
    /// A notification, or a response to something the server asked: accepted with 202.
    Accepted,
}

/// Parses a POST body: one JSON-RPC message (batches are refused).
pub fn parse(body: &[u8]) -> Result<Message, RpcError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| RpcError::new(400, Value::Null, PARSE_ERROR, format!("parse error: {e}")))?;
    let invalid = |message: &str| RpcError::new(400, Value::Null, INVALID_REQUEST, message);
    let Value::Object(object) = value else {
        return Err(if value.is_array() {
            invalid(
                "batches (JSON arrays) are not supported: send one JSON-RPC message per request",
            )
        } else {
            invalid("a JSON-RPC message must be an object")
        });
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return Err(invalid("`jsonrpc` must be \"2.0\""));
    }
    let id = object.get("id").cloned();
    if let Some(id) = &id {
        if !(id.is_string() || id.is_i64() || id.is_u64()) {
            return Err(invalid("`id` must be a string or an integer"));
        }
    }
    match (object.get("method"), id) {
        (Some(Value::String(method)), Some(id)) => {
            let params = object.get("params").cloned().unwrap_or(json!({}));
            if !params.is_object() {
                return Err(RpcError::new(
                    400,
                    id,
                    INVALID_REQUEST,
                    "`params` must be an object",
                ));
            }
            Ok(Message::Request {
                id,
                method: method.clone(),
                params,
            })
        }
        (Some(Value::String(_)), None) => Ok(Message::Accepted),
        (Some(_), _) => Err(invalid("`method` must be a string")),
        // A response to a server request (this server sends none): nothing to do.
        (None, Some(_)) if object.contains_key("result") || object.contains_key("error") => {
            Ok(Message::Accepted)
        }
        (None, _) => Err(invalid("a request needs `method`")),
    }
}

/// Checks `MCP-Protocol-Version`; absent means the oldest version served.
pub fn check_version_header(header: Option<&str>) -> Result<(), String> {
    match header {
        None => Ok(()),
        Some(v) if PROTOCOL_VERSIONS.contains(&v.trim()) => Ok(()),
        Some(v) => Err(format!(
            "unsupported MCP-Protocol-Version {v:?}; this server speaks {}",
            PROTOCOL_VERSIONS.join(", ")
        )),
    }
}

/// The version `initialize` answers: the client's when served, else the newest.
pub fn negotiate(requested: Option<&str>) -> &'static str {
    PROTOCOL_VERSIONS
        .iter()
        .find(|v| Some(**v) == requested)
        .copied()
        .unwrap_or(PROTOCOL_VERSIONS[0])
}

/// How a request is answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A result to send now.
    Result(Value),
    /// A tool call to carry out through the REST API.
    Call(mcp_tools::Call),
    /// A tool call refused before it ran (bad arguments): an `isError` result.
    ToolError(String),
}

/// Answers a request, except tool calls, which it turns into [`mcp_tools::Call`]s.
pub fn answer(method: &str, params: &Value, id: &Value) -> Result<Answer, RpcError> {
    let params_error = |message: String| RpcError::new(200, id.clone(), INVALID_PARAMS, message);
    match method {
        "initialize" => {
            let requested = params.get("protocolVersion").and_then(Value::as_str);
            Ok(Answer::Result(json!({
                "protocolVersion": negotiate(requested),
                "capabilities": {"tools": {"listChanged": false}},
                "serverInfo": {
                    "name": "edge-sandbox",
                    "title": "edge-sandbox: JavaScript sandboxes on the edge",
                    "version": env!("CARGO_PKG_VERSION"),
                },
                "instructions": INSTRUCTIONS,
            })))
        }
        "ping" => Ok(Answer::Result(json!({}))),
        "tools/list" => Ok(Answer::Result(json!({"tools": mcp_tools::list()}))),
        "tools/call" => {
            let Some(name) = params.get("name").and_then(Value::as_str) else {
                return Err(params_error("tools/call needs `name`, a string".into()));
            };
            let arguments = params.get("arguments").cloned().unwrap_or(json!({}));
            match mcp_tools::Tool::from_name(name) {
                None => Err(params_error(format!(
                    "unknown tool {name:?}; tools/list names the tools"
                ))),
                Some(tool) => Ok(match tool.call(&arguments) {
                    Ok(call) => Answer::Call(call),
                    Err(message) => Answer::ToolError(message),
                }),
            }
        }
        other => Err(RpcError::new(
            200,
            id.clone(),
            METHOD_NOT_FOUND,
            format!("method {other:?} is not supported; this server answers initialize, ping, tools/list and tools/call"),
        )),
    }
}

/// A JSON-RPC result response.
pub fn result_body(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// The `progressToken` of a request that asked for progress notifications.
pub fn progress_token(params: &Value) -> Option<Value> {
    params
        .get("_meta")
        .and_then(|meta| meta.get("progressToken"))
        .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
        .cloned()
}

/// Turns a streamed `exec`/`run` (server-sent events `stdout`, `stderr`, `result` and
/// heartbeat comments) into the MCP answer's event stream: a `notifications/progress` per
/// console line, heartbeats as they come, then the tool call's JSON-RPC response.
pub struct ProgressRelay {
    call: mcp_tools::Call,
    id: Value,
    token: Value,
    parser: events::Parser,
    progress: u64,
    answered: bool,
}

impl ProgressRelay {
    pub fn new(call: mcp_tools::Call, id: Value, token: Value) -> Self {
        Self {
            call,
            id,
            token,
            parser: events::Parser::default(),
            progress: 0,
            answered: false,
        }
    }

    /// The MCP events for the next bytes of the streamed answer.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        let mut out = String::new();
        for item in self.parser.push(bytes) {
            match item {
                // The inner stream's only comments are its heartbeats.
                events::Item::Comment(_) => out.push_str(events::KEEPALIVE),
                events::Item::Event { name, data } if name == "stdout" || name == "stderr" => {
                    self.progress += 1;
                    let text = serde_json::from_str::<Value>(&data)
                        .ok()
                        .and_then(|v| v["text"].as_str().map(str::to_string))
                        .unwrap_or(data);
                    let note = json!({
                        "jsonrpc": "2.0",
                        "method": "notifications/progress",
                        "params": {
                            "progressToken": self.token,
                            "progress": self.progress,
                            "message": format!("{name}: {text}"),
                        },
                    });
                    out.push_str(&events::event("message", &note));
                }
                events::Item::Event { name, data } if name == "result" && !self.answered => {
                    self.answered = true;
                    let result =
                        self.call
                            .tool
                            .result(&self.call, 200, "application/json", data.as_bytes());
                    out.push_str(&events::event("message", &result_body(&self.id, result)));
                }
                events::Item::Event { .. } => {}
            }
        }
        out
    }

    /// Whether the tool call's response was sent.
    pub fn answered(&self) -> bool {
        self.answered
    }

    /// The response for a stream that ended without a result (the runtime cut it).
    pub fn cut_short(&mut self) -> String {
        self.answered = true;
        let err = RpcError::new(
            200,
            self.id.clone(),
            -32603,
            "the execution's stream ended without a result; retry with the same idempotency_key \
             to get its answer without running it twice",
        );
        events::event("message", &err.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, params: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .expect("json")
    }

    #[test]
    fn parses_requests_notifications_and_refuses_batches() {
        assert_eq!(
            parse(&request("ping", json!({}))),
            Ok(Message::Request {
                id: json!(1),
                method: "ping".into(),
                params: json!({})
            })
        );
        assert_eq!(
            parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Ok(Message::Accepted)
        );
        let batch = parse(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#).unwrap_err();
        assert_eq!((batch.http_status, batch.code), (400, INVALID_REQUEST));
        assert!(batch.message.contains("batch"));
        let garbage = parse(b"{not json").unwrap_err();
        assert_eq!((garbage.http_status, garbage.code), (400, PARSE_ERROR));
        assert_eq!(garbage.body()["id"], Value::Null);
        for bad in [
            r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
            r#""ping""#,
        ] {
            assert_eq!(
                parse(bad.as_bytes()).map_err(|e| e.code),
                Err(INVALID_REQUEST),
                "{bad}"
            );
        }
    }

    #[test]
    fn progress_relay_turns_console_lines_into_notifications_then_answers() {
        let call = mcp_tools::Tool::SessionExec
            .call(&json!({"session_id": "ses_a", "code": "1"}))
            .expect("call");
        let mut relay = ProgressRelay::new(call, json!(7), json!("tok"));
        let mut out = relay.push(events::event("stdout", &json!({"text": "one"})).as_bytes());
        out += &relay.push(events::KEEPALIVE.as_bytes());
        out += &relay.push(events::result_event(&json!({"status": "ok", "value": 1})).as_bytes());
        let items = events::Parser::default().push(out.as_bytes());
        assert_eq!(items.len(), 3);
        let events::Item::Event { data, .. } = &items[0] else {
            panic!("event")
        };
        let note: Value = serde_json::from_str(data).expect("json");
        assert_eq!(note["method"], "notifications/progress");
        assert_eq!(note["params"]["progressToken"], "tok");
        assert_eq!(note["params"]["message"], "stdout: one");
        assert_eq!(items[1], events::Item::Comment("keepalive".into()));
        let events::Item::Event { data, .. } = &items[2] else {
            panic!("event")
        };
        let answer: Value = serde_json::from_str(data).expect("json");
        assert_eq!(answer["id"], 7);
        assert_eq!(answer["result"]["structuredContent"]["value"], 1);
        assert!(relay.answered());
        assert_eq!(
            progress_token(&json!({"_meta": {"progressToken": 3}})),
            Some(json!(3))
        );
        assert_eq!(progress_token(&json!({})), None);
    }

    #[test]
    fn negotiates_the_clients_version_when_served() {
        assert_eq!(negotiate(Some("2025-06-18")), "2025-06-18");
        assert_eq!(negotiate(Some("2025-03-26")), "2025-03-26");
        assert_eq!(negotiate(Some("2024-11-05")), "2025-11-25");
        assert_eq!(negotiate(None), "2025-11-25");
        assert!(check_version_header(Some("2025-11-25")).is_ok());
        assert!(check_version_header(None).is_ok());
        assert!(check_version_header(Some("1999-01-01"))
            .unwrap_err()
            .contains("2025-06-18"));
    }

    #[test]
    fn initialize_lists_tools_capability_and_instructions() {
        let Ok(Answer::Result(result)) = answer(
            "initialize",
            &json!({"protocolVersion": "2025-06-18", "capabilities": {}}),
            &json!(1),
        ) else {
            panic!("initialize answers");
        };
        assert_eq!(result["protocolVersion"], "2025-06-18");
        assert!(result["capabilities"]["tools"].is_object());
        assert!(result["instructions"]
            .as_str()
            .expect("instructions")
            .contains("session_exec"));
    }

    #[test]
    fn unknown_methods_and_tools_are_json_rpc_errors() {
        let err = answer("resources/list", &json!({}), &json!("a")).unwrap_err();
        assert_eq!((err.code, err.id.clone()), (METHOD_NOT_FOUND, json!("a")));
        let err = answer("tools/call", &json!({"name": "nope"}), &json!(2)).unwrap_err();
        assert_eq!(err.code, INVALID_PARAMS);
        let err = answer("tools/call", &json!({}), &json!(2)).unwrap_err();
        assert_eq!(err.code, INVALID_PARAMS);
        // Bad arguments of a known tool are a tool result the model can act on.
        assert!(matches!(
            answer("tools/call", &json!({"name": "session_exec", "arguments": {}}), &json!(3)),
            Ok(Answer::ToolError(m)) if m.contains("session_id")
        ));
    }
}
