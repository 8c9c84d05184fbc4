//! The MCP server's tools: their schemas, how a call's arguments become a request of the REST
//! API (so tools and routes share one implementation: auth, tenancy, validation, limits), and
//! how the REST answer becomes a tool result.

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

/// Most bytes `file_read` returns inline; larger files are read over REST with `Range`.
pub const MAX_INLINE_READ_BYTES: usize = 4 << 20;

/// Every tool; the names are the OpenAPI `operationId`s of the routes they call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    RunJs,
    SessionCreate,
    SessionExec,
    SessionList,
    SessionGet,
    SessionDelete,
    FileWrite,
    FileRead,
    FileList,
    SessionFork,
    CheckpointCreate,
    CheckpointList,
    CheckpointRestore,
    CheckpointDelete,
}

const TOOLS: [Tool; 14] = [
    Tool::RunJs,
    Tool::SessionCreate,
    Tool::SessionExec,
    Tool::SessionList,
    Tool::SessionGet,
    Tool::SessionDelete,
    Tool::FileWrite,
    Tool::FileRead,
    Tool::FileList,
    Tool::SessionFork,
    Tool::CheckpointCreate,
    Tool::CheckpointList,
    Tool::CheckpointRestore,
    Tool::CheckpointDelete,
];

/// A REST request a tool call makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub tool: Tool,
    pub method: &'static str,
    /// Path and query, percent-encoded.
    pub path: String,
    pub body: Body,
    pub headers: Vec<(&'static str, String)>,
    /// The session the call is about, for error messages.
    pub session_id: Option<String>,
    /// The file path a file tool was given, for its result.
    pub file: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    None,
    Json(Value),
    Bytes { data: Vec<u8>, content_type: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionArgs {
    session_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForkArgs {
    session_id: String,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    ttl_seconds: Option<u64>,
    #[serde(default)]
    metadata: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointArgs {
    session_id: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedCheckpointArgs {
    session_id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecArgs {
    session_id: String,
    code: String,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWriteArgs {
    session_id: String,
    path: String,
    content: String,
    #[serde(default)]
    encoding: Option<Encoding>,
    #[serde(default)]
    content_type: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Encoding {
    Utf8,
    Base64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileReadArgs {
    session_id: String,
    path: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileListArgs {
    session_id: String,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    cursor: Option<String>,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::RunJs => "run_js",
            Tool::SessionCreate => "session_create",
            Tool::SessionExec => "session_exec",
            Tool::SessionList => "session_list",
            Tool::SessionGet => "session_get",
            Tool::SessionDelete => "session_delete",
            Tool::FileWrite => "file_write",
            Tool::FileRead => "file_read",
            Tool::FileList => "file_list",
            Tool::SessionFork => "session_fork",
            Tool::CheckpointCreate => "checkpoint_create",
            Tool::CheckpointList => "checkpoint_list",
            Tool::CheckpointRestore => "checkpoint_restore",
            Tool::CheckpointDelete => "checkpoint_delete",
        }
    }

    /// Whether the tool runs code, whose console output can be streamed as progress.
    pub fn runs_code(self) -> bool {
        matches!(self, Tool::RunJs | Tool::SessionExec)
    }

    pub fn from_name(name: &str) -> Option<Tool> {
        TOOLS.into_iter().find(|t| t.name() == name)
    }

    /// The REST request for a call with `arguments`, or why the arguments are wrong.
    pub fn call(self, arguments: &Value) -> Result<Call, String> {
        if !arguments.is_object() {
            return Err(format!("{}: `arguments` must be an object", self.name()));
        }
        let call = |method, path: String, body, session_id: Option<String>| Call {
            tool: self,
            method,
            path,
            body,
            headers: Vec::new(),
            session_id,
            file: None,
        };
        Ok(match self {
            Tool::RunJs => call(
                "POST",
                "/v1/run".into(),
                Body::Json(arguments.clone()),
                None,
            ),
            Tool::SessionCreate => call(
                "POST",
                "/v1/sessions".into(),
                Body::Json(arguments.clone()),
                None,
            ),
            Tool::SessionList => {
                self.args::<EmptyArgs>(arguments)?;
                call("GET", "/v1/sessions".into(), Body::None, None)
            }
            Tool::SessionGet | Tool::SessionDelete => {
                let args: SessionArgs = self.args(arguments)?;
                let method = if self == Tool::SessionGet {
                    "GET"
                } else {
                    "DELETE"
                };
                let path = format!("/v1/sessions/{}", encode(&args.session_id));
                call(method, path, Body::None, Some(args.session_id))
            }
            Tool::SessionExec => {
                let args: ExecArgs = self.args(arguments)?;
                let mut body = json!({"code": args.code});
                if let Some(input) = args.input {
                    body["input"] = input;
                }
                let path = format!("/v1/sessions/{}/exec", encode(&args.session_id));
                let mut c = call("POST", path, Body::Json(body), Some(args.session_id));
                if let Some(key) = args.idempotency_key {
                    c.headers.push(("idempotency-key", key));
                }
                c
            }
            Tool::FileWrite => {
                let args: FileWriteArgs = self.args(arguments)?;
                let data = match args.encoding.unwrap_or(Encoding::Utf8) {
                    Encoding::Utf8 => args.content.into_bytes(),
                    Encoding::Base64 => base64::engine::general_purpose::STANDARD
                        .decode(args.content.trim())
                        .map_err(|e| format!("file_write: `content` is not valid base64: {e}"))?,
                };
                let content_type = args.content_type.unwrap_or_else(|| {
                    match args.encoding.unwrap_or(Encoding::Utf8) {
                        Encoding::Utf8 => "text/plain; charset=utf-8".into(),
                        Encoding::Base64 => crate::files::DEFAULT_CONTENT_TYPE.into(),
                    }
                });
                call(
                    "PUT",
                    file_path(&args.session_id, &args.path),
                    Body::Bytes { data, content_type },
                    Some(args.session_id),
                )
            }
            Tool::FileRead => {
                let args: FileReadArgs = self.args(arguments)?;
                let mut c = call(
                    "GET",
                    file_path(&args.session_id, &args.path),
                    Body::None,
                    Some(args.session_id),
                );
                c.file = Some(args.path);
                c
            }
            Tool::SessionFork => {
                let args: ForkArgs = self.args(arguments)?;
                let mut body = json!({});
                if let Some(count) = args.count {
                    body["count"] = count.into();
                }
                if let Some(ttl) = args.ttl_seconds {
                    body["ttl_seconds"] = ttl.into();
                }
                if let Some(metadata) = args.metadata {
                    body["metadata"] = metadata;
                }
                let path = format!("/v1/sessions/{}/fork", encode(&args.session_id));
                call("POST", path, Body::Json(body), Some(args.session_id))
            }
            Tool::CheckpointCreate => {
                let args: CheckpointArgs = self.args(arguments)?;
                let body = match args.name {
                    Some(name) => json!({ "name": name }),
                    None => json!({}),
                };
                let path = format!("/v1/sessions/{}/checkpoints", encode(&args.session_id));
                call("POST", path, Body::Json(body), Some(args.session_id))
            }
            Tool::CheckpointList => {
                let args: SessionArgs = self.args(arguments)?;
                let path = format!("/v1/sessions/{}/checkpoints", encode(&args.session_id));
                call("GET", path, Body::None, Some(args.session_id))
            }
            Tool::CheckpointRestore | Tool::CheckpointDelete => {
                let args: NamedCheckpointArgs = self.args(arguments)?;
                let mut path = format!(
                    "/v1/sessions/{}/checkpoints/{}",
                    encode(&args.session_id),
                    encode(&args.name)
                );
                let method = if self == Tool::CheckpointRestore {
                    path.push_str("/restore");
                    "POST"
                } else {
                    "DELETE"
                };
                call(method, path, Body::None, Some(args.session_id))
            }
            Tool::FileList => {
                let args: FileListArgs = self.args(arguments)?;
                let mut query = Vec::new();
                if let Some(prefix) = &args.prefix {
                    query.push(format!("prefix={}", encode(prefix)));
                }
                if let Some(limit) = args.limit {
                    query.push(format!("limit={limit}"));
                }
                if let Some(cursor) = &args.cursor {
                    query.push(format!("cursor={}", encode(cursor)));
                }
                let mut path = format!("/v1/sessions/{}/files", encode(&args.session_id));
                if !query.is_empty() {
                    path = format!("{path}?{}", query.join("&"));
                }
                call("GET", path, Body::None, Some(args.session_id))
            }
        })
    }

    fn args<T: serde::de::DeserializeOwned>(self, arguments: &Value) -> Result<T, String> {
        serde_json::from_value(arguments.clone())
            .map_err(|e| format!("invalid arguments for {}: {e}", self.name()))
    }

    /// Turns the REST answer into the tool's result.
    pub fn result(self, call: &Call, status: u16, content_type: &str, body: &[u8]) -> Value {
        if status >= 400 {
            return error_result(&self.failure(call, status, body), None);
        }
        if self == Tool::FileRead {
            return file_result(call, content_type, body);
        }
        let Ok(structured) = serde_json::from_slice::<Value>(body) else {
            return error_result("the sandbox answered something that is not JSON", None);
        };
        if matches!(self, Tool::SessionExec | Tool::RunJs) && structured["status"] != "ok" {
            let message = cell_failure(&structured);
            return error_result(&message, Some(structured));
        }
        success(structured)
    }

    /// A REST error as a message a model can act on.
    fn failure(self, call: &Call, status: u16, body: &[u8]) -> String {
        let error: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let code = error["error"]["code"].as_str().unwrap_or("error");
        let message = error["error"]["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP {status}"));
        match (code, &call.session_id) {
            ("not_found", Some(id)) => format!(
                "session {id:?} was not found: it never existed, expired, was deleted, or belongs \
                 to another API key. Create a session with session_create and pass the `id` it \
                 returns as session_id."
            ),
            ("checkpoint_not_found", _) => {
                format!("{message}. checkpoint_list shows the session's checkpoints.")
            }
            ("file_not_found", _) => {
                format!("{message}. file_list shows the session's files.")
            }
            _ => format!("{} failed ({code}): {message}", self.name()),
        }
    }

    fn description(self) -> &'static str {
        match self {
            Tool::RunJs => "Run JavaScript once in a fresh sandbox and return the value of its last expression, its console output and any files it wrote. Nothing is kept afterwards: for state across calls use session_create and session_exec.",
            Tool::SessionCreate => "Create a persistent sandbox session. Returns the session, whose `id` is the session_id for session_exec and the file tools. Optional: ttl_seconds (idle expiry), metadata, limits, network.allow (hosts fetch may reach), env (secrets readable as env.NAME).",
            Tool::SessionExec => "Run JavaScript in a session, like a notebook cell: top-level variables, functions and classes persist between calls. Returns the last expression's value, console output and usage. A thrown error or a limit returns isError with the reason. Pass idempotency_key to make a retry return the first answer instead of running the code twice.",
            Tool::SessionList => "List your sessions, newest first.",
            Tool::SessionGet => "Show one session: expiry, execution count, limits, network rules, secret names and file totals.",
            Tool::SessionDelete => "Delete a session with its state and files. Cannot be undone.",
            Tool::FileWrite => "Write a file into a session (replacing any file at that path). Code reads it with await fs.readFile(path, 'utf8'). `content` is text, or base64 with encoding \"base64\".",
            Tool::FileRead => "Read a file of a session: text inline (encoding utf8), other bytes as base64 (encoding base64). Files are at most 4 MiB here.",
            Tool::SessionFork => "Fork a session: make `count` (default 1, at most 10) new sessions whose state is exactly this one's now (variables, closures, Math.random sequence, files, limits, network rules, secrets). Later calls on a fork never affect the source or other forks. Use it to try several approaches from the same state.",
            Tool::CheckpointCreate => "Record a session's state (variables and files) under a name, to return to later with checkpoint_restore. A name is generated if none is given.",
            Tool::CheckpointList => "List a session's checkpoints (name, created_at, execution_count, bytes).",
            Tool::CheckpointRestore => "Return a session to a checkpoint: variables and files are exactly as they were; everything run after it is gone.",
            Tool::CheckpointDelete => "Delete one of a session's checkpoints.",
            Tool::FileList => "List a session's files (path, size, content type), optionally under a prefix, a page at a time (pass the returned cursor for the next page).",
        }
    }

    fn input_schema(self) -> Value {
        let session_id = json!({"type": "string", "description": "a session's id, as returned by session_create (ses_...)"});
        let path = json!({"type": "string", "minLength": 1, "maxLength": 896, "description": "a relative path such as data/in.csv"});
        let settings = json!({
            "limits": {"type": "object", "description": "per-execution limits (fuel, memory_bytes, output_bytes, ...), each at most the deployment's maximum"},
            "network": {"type": "object", "properties": {"allow": {"type": "array", "items": {"type": "string"}, "maxItems": 64}}, "description": "hosts guest fetch may reach, e.g. {\"allow\": [\"api.example.com\", \"*.example.org\"]}; none by default"},
            "env": {"type": "object", "additionalProperties": {"type": "string"}, "description": "secrets, readable by code as env.NAME"},
        });
        let mut schema = match self {
            Tool::RunJs => json!({
                "properties": {
                    "code": {"type": "string", "description": "JavaScript; the value of the last expression is returned"},
                    "input": {"description": "any JSON, visible to the code as the global `input`"},
                    "files": {"type": "object", "description": "files to start with: path → text, or {\"base64\": ..., \"content_type\": ...}"},
                },
                "required": ["code"],
            }),
            Tool::SessionCreate => json!({
                "properties": {
                    "ttl_seconds": {"type": "integer", "minimum": 1, "description": "seconds without an execution after which the session expires"},
                    "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            }),
            Tool::SessionExec => json!({
                "properties": {
                    "session_id": session_id,
                    "code": {"type": "string", "description": "JavaScript; the value of the last expression is returned; await works at top level"},
                    "input": {"description": "any JSON, visible to this cell as the global `input`"},
                    "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 255, "description": "repeat the same key to get the first answer again instead of running the code twice"},
                },
                "required": ["session_id", "code"],
            }),
            Tool::SessionList => json!({"properties": {}}),
            Tool::SessionGet | Tool::SessionDelete => json!({
                "properties": {"session_id": session_id},
                "required": ["session_id"],
            }),
            Tool::FileWrite => json!({
                "properties": {
                    "session_id": session_id,
                    "path": path,
                    "content": {"type": "string"},
                    "encoding": {"type": "string", "enum": ["utf8", "base64"], "default": "utf8"},
                    "content_type": {"type": "string", "description": "default text/plain for utf8, application/octet-stream for base64"},
                },
                "required": ["session_id", "path", "content"],
            }),
            Tool::FileRead => json!({
                "properties": {"session_id": session_id, "path": path},
                "required": ["session_id", "path"],
            }),
            Tool::SessionFork => json!({
                "properties": {
                    "session_id": session_id,
                    "count": {"type": "integer", "minimum": 1, "maximum": 10},
                    "ttl_seconds": {"type": "integer", "minimum": 1},
                    "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                "required": ["session_id"],
            }),
            Tool::CheckpointCreate => json!({
                "properties": {
                    "session_id": session_id,
                    "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
                },
                "required": ["session_id"],
            }),
            Tool::CheckpointList => json!({
                "properties": {"session_id": session_id},
                "required": ["session_id"],
            }),
            Tool::CheckpointRestore | Tool::CheckpointDelete => json!({
                "properties": {
                    "session_id": session_id,
                    "name": {"type": "string"},
                },
                "required": ["session_id", "name"],
            }),
            Tool::FileList => json!({
                "properties": {
                    "session_id": session_id,
                    "prefix": {"type": "string"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "cursor": {"type": "string"},
                },
                "required": ["session_id"],
            }),
        };
        schema["type"] = "object".into();
        if matches!(self, Tool::RunJs | Tool::SessionCreate) {
            if let (Some(props), Value::Object(more)) =
                (schema["properties"].as_object_mut(), settings)
            {
                props.extend(more);
            }
        }
        schema["additionalProperties"] = false.into();
        schema
    }

    fn output_schema(self) -> Value {
        let exec = json!({
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["ok", "error", "limit"]},
                "value": {},
                "value_truncated": {"type": "boolean"},
                "logs": {"type": "object", "properties": {
                    "stdout": {"type": "array", "items": {"type": "string"}},
                    "stderr": {"type": "array", "items": {"type": "string"}},
                    "truncated": {"type": "boolean"},
                }},
                "error": {"type": ["object", "null"]},
                "usage": {"type": "object"},
                "execution_count": {"type": "integer"},
                "duration_ms": {"type": "integer"},
            },
            "required": ["status", "logs", "error", "usage"],
        });
        let session = json!({
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "created_at": {"type": "string"},
                "expires_at": {"type": "string"},
                "execution_count": {"type": "integer"},
                "limits": {"type": "object"},
            },
            "required": ["id", "expires_at"],
        });
        let file = json!({
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "size": {"type": "integer"},
                "content_type": {"type": "string"},
                "etag": {"type": "string"},
                "modified_at": {"type": "string"},
            },
            "required": ["path", "size"],
        });
        let checkpoint = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "created_at": {"type": "string"},
                "execution_count": {"type": "integer"},
                "bytes": {"type": "integer"},
            },
            "required": ["name", "created_at", "execution_count", "bytes"],
        });
        match self {
            Tool::SessionFork => json!({
                "type": "object",
                "properties": {"sessions": {"type": "array", "items": session}},
                "required": ["sessions"],
            }),
            Tool::CheckpointCreate => checkpoint,
            Tool::CheckpointList => json!({
                "type": "object",
                "properties": {"checkpoints": {"type": "array", "items": checkpoint}},
                "required": ["checkpoints"],
            }),
            Tool::CheckpointRestore => json!({
                "type": "object",
                "properties": {"session": session, "checkpoint": checkpoint},
                "required": ["session", "checkpoint"],
            }),
            Tool::CheckpointDelete => json!({
                "type": "object",
                "properties": {"name": {"type": "string"}, "deleted": {"type": "boolean"}},
                "required": ["name", "deleted"],
            }),
            Tool::RunJs => {
                let mut run = exec;
                run["properties"]["files"] = json!({"type": "array", "items": {"type": "object"}});
                run
            }
            Tool::SessionExec => exec,
            Tool::SessionCreate | Tool::SessionGet => session,
            Tool::SessionList => json!({
                "type": "object",
                "properties": {"sessions": {"type": "array", "items": session}},
                "required": ["sessions"],
            }),
            Tool::SessionDelete => json!({
                "type": "object",
                "properties": {"id": {"type": "string"}, "deleted": {"type": "boolean"}},
                "required": ["id", "deleted"],
            }),
            Tool::FileWrite => file,
            Tool::FileRead => json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "size": {"type": "integer"},
                    "content_type": {"type": "string"},
                    "encoding": {"type": "string", "enum": ["utf8", "base64"]},
                    "content": {"type": "string"},
                },
                "required": ["path", "size", "content_type", "encoding", "content"],
            }),
            Tool::FileList => json!({
                "type": "object",
                "properties": {
                    "files": {"type": "array", "items": file},
                    "cursor": {"type": ["string", "null"]},
                },
                "required": ["files"],
            }),
        }
    }

    fn annotations(self) -> Value {
        let read_only = matches!(
            self,
            Tool::SessionList
                | Tool::SessionGet
                | Tool::FileRead
                | Tool::FileList
                | Tool::CheckpointList
        );
        let mut a = json!({
            "title": self.name().replace('_', " "),
            "readOnlyHint": read_only,
            "destructiveHint": matches!(
                self,
                Tool::SessionDelete | Tool::CheckpointDelete | Tool::CheckpointRestore
            ),
            "openWorldHint": matches!(self, Tool::RunJs | Tool::SessionExec),
        });
        if matches!(self, Tool::SessionDelete | Tool::FileWrite) {
            // Repeating them leaves the same state.
            a["idempotentHint"] = true.into();
        }
        a
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyArgs {}

/// `tools/list`'s tools.
pub fn list() -> Vec<Value> {
    TOOLS
        .into_iter()
        .map(|tool| {
            json!({
                "name": tool.name(),
                "title": tool.annotations()["title"],
                "description": tool.description(),
                "inputSchema": tool.input_schema(),
                "outputSchema": tool.output_schema(),
                "annotations": tool.annotations(),
            })
        })
        .collect()
}

fn success(structured: Value) -> Value {
    json!({
        "content": [{"type": "text", "text": structured.to_string()}],
        "structuredContent": structured,
        "isError": false,
    })
}

fn error_result(message: &str, structured: Option<Value>) -> Value {
    let mut content = vec![json!({"type": "text", "text": message})];
    let mut result = json!({"isError": true});
    if let Some(structured) = structured {
        content.push(json!({"type": "text", "text": structured.to_string()}));
        result["structuredContent"] = structured;
    }
    result["content"] = Value::Array(content);
    result
}

/// Why a cell did not complete, from its answer.
fn cell_failure(answer: &Value) -> String {
    let error = &answer["error"];
    let name = error["name"].as_str().unwrap_or("Error");
    let message = error["message"].as_str().unwrap_or("");
    match (answer["status"].as_str(), error["limit"].as_str()) {
        (Some("limit"), Some(limit)) => format!(
            "the code was stopped by the {limit} limit and its effects rolled back: {message}"
        ),
        _ => {
            let stack = error["stack"].as_str().unwrap_or("");
            let mut text = format!("the code threw {name}: {message}");
            if !stack.is_empty() {
                text = format!("{text}\n{stack}");
            }
            text
        }
    }
}

fn file_result(call: &Call, content_type: &str, body: &[u8]) -> Value {
    let path = call.file.clone().unwrap_or_default();
    if body.len() > MAX_INLINE_READ_BYTES {
        return error_result(
            &format!(
                "{path} is {} bytes, more than file_read returns ({MAX_INLINE_READ_BYTES}); read \
                 it in parts over REST (GET /v1/sessions/{{id}}/files/{{path}} with a Range header) \
                 or have code summarise it",
                body.len()
            ),
            None,
        );
    }
    let (encoding, content) = match std::str::from_utf8(body) {
        Ok(text) => ("utf8", text.to_string()),
        Err(_) => (
            "base64",
            base64::engine::general_purpose::STANDARD.encode(body),
        ),
    };
    let structured = json!({
        "path": path,
        "size": body.len(),
        "content_type": content_type,
        "encoding": encoding,
        "content": content,
    });
    let mut result = success(structured);
    if encoding == "base64" {
        // The bytes also as an embedded resource, which clients can hand on as a file.
        let uri = format!(
            "sandbox://sessions/{}/files/{}",
            call.session_id.as_deref().unwrap_or(""),
            encode_path(&path)
        );
        if let Some(blocks) = result["content"].as_array_mut() {
            blocks.push(json!({"type": "resource", "resource": {
                "uri": uri,
                "mimeType": content_type,
                "blob": content,
            }}));
        }
    }
    result
}

fn file_path(session_id: &str, path: &str) -> String {
    format!(
        "/v1/sessions/{}/files/{}",
        encode(session_id),
        encode_path(path)
    )
}

/// Percent-encodes each segment of a path, keeping the `/`s.
fn encode_path(path: &str) -> String {
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// Percent-encodes all but the unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_are_short_snake_case_with_schemas_and_hints() {
        let tools = list();
        assert_eq!(tools.len(), 14);
        for tool in &tools {
            let name = tool["name"].as_str().expect("name");
            assert!(
                name.len() < 64
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}"
            );
            assert_eq!(tool["inputSchema"]["type"], "object", "{name}");
            assert_eq!(tool["outputSchema"]["type"], "object", "{name}");
        }
        let by = |n: &str| tools.iter().find(|t| t["name"] == n).expect(n).clone();
        assert_eq!(by("file_read")["annotations"]["readOnlyHint"], true);
        assert_eq!(by("file_list")["annotations"]["readOnlyHint"], true);
        assert_eq!(by("session_list")["annotations"]["readOnlyHint"], true);
        assert_eq!(by("session_delete")["annotations"]["destructiveHint"], true);
        assert_eq!(by("session_exec")["annotations"]["readOnlyHint"], false);
    }

    #[test]
    fn calls_become_rest_requests() {
        let exec = Tool::SessionExec
            .call(&json!({"session_id": "ses_a", "code": "1+1", "idempotency_key": "k"}))
            .expect("call");
        assert_eq!(
            (exec.method, exec.path.as_str()),
            ("POST", "/v1/sessions/ses_a/exec")
        );
        assert_eq!(exec.body, Body::Json(json!({"code": "1+1"})));
        assert_eq!(exec.headers, vec![("idempotency-key", "k".to_string())]);
        let write = Tool::FileWrite
            .call(&json!({"session_id": "ses_a", "path": "d/a b.bin", "content": "AAE=", "encoding": "base64"}))
            .expect("call");
        assert_eq!(write.path, "/v1/sessions/ses_a/files/d/a%20b.bin");
        assert_eq!(
            write.body,
            Body::Bytes {
                data: vec![0, 1],
                content_type: "application/octet-stream".into()
            }
        );
        let list = Tool::FileList
            .call(&json!({"session_id": "ses_a", "prefix": "out/", "limit": 5}))
            .expect("call");
        assert_eq!(list.path, "/v1/sessions/ses_a/files?prefix=out%2F&limit=5");
        // A hostile id stays one path segment.
        let get = Tool::SessionGet
            .call(&json!({"session_id": "../x"}))
            .expect("call");
        assert_eq!(get.path, "/v1/sessions/..%2Fx");
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        let missing = Tool::SessionExec.call(&json!({"code": "1"})).unwrap_err();
        assert!(missing.contains("session_id"), "{missing}");
        let unknown = Tool::SessionList.call(&json!({"x": 1})).unwrap_err();
        assert!(unknown.contains("unknown field"), "{unknown}");
        let wrong = Tool::SessionExec
            .call(&json!({"session_id": "s", "code": 5}))
            .unwrap_err();
        assert!(wrong.contains("invalid type"), "{wrong}");
        let b64 = Tool::FileWrite
            .call(&json!({"session_id": "s", "path": "a", "content": "%%", "encoding": "base64"}))
            .unwrap_err();
        assert!(b64.contains("base64"), "{b64}");
        assert!(Tool::RunJs.call(&json!([1])).is_err());
    }

    #[test]
    fn answers_become_tool_results() {
        let exec = Tool::SessionExec
            .call(&json!({"session_id": "ses_a", "code": "x"}))
            .expect("call");
        let ok = Tool::SessionExec.result(
            &exec,
            200,
            "application/json",
            br#"{"status":"ok","value":2}"#,
        );
        assert_eq!(
            (
                ok["isError"].clone(),
                ok["structuredContent"]["value"].clone()
            ),
            (json!(false), json!(2))
        );
        assert_eq!(ok["content"][0]["text"], r#"{"status":"ok","value":2}"#);
        let thrown = Tool::SessionExec.result(
            &exec,
            200,
            "application/json",
            br#"{"status":"error","error":{"name":"ReferenceError","message":"x is not defined","stack":null}}"#,
        );
        assert_eq!(thrown["isError"], true);
        assert!(thrown["content"][0]["text"]
            .as_str()
            .expect("text")
            .contains("ReferenceError: x is not defined"));
        let limit = Tool::SessionExec.result(
            &exec,
            200,
            "application/json",
            br#"{"status":"limit","error":{"name":"LimitError","message":"used all fuel","limit":"fuel"}}"#,
        );
        assert!(limit["content"][0]["text"]
            .as_str()
            .expect("text")
            .contains("fuel limit"));
        let gone = Tool::SessionExec.result(
            &exec,
            404,
            "application/json",
            br#"{"error":{"code":"not_found","message":"session not found"}}"#,
        );
        assert_eq!(gone["isError"], true);
        assert!(gone["content"][0]["text"]
            .as_str()
            .expect("text")
            .contains("session_create"));
        assert!(gone.get("structuredContent").is_none());
    }

    #[test]
    fn file_reads_are_text_or_base64() {
        let read = Tool::FileRead
            .call(&json!({"session_id": "ses_a", "path": "d/x y.txt"}))
            .expect("call");
        let text = Tool::FileRead.result(&read, 200, "text/plain", b"hi");
        assert_eq!(text["structuredContent"]["path"], "d/x y.txt");
        assert_eq!(text["structuredContent"]["encoding"], "utf8");
        assert_eq!(text["structuredContent"]["content"], "hi");
        let binary = Tool::FileRead.result(&read, 200, "application/octet-stream", &[0xff, 0]);
        assert_eq!(binary["structuredContent"]["encoding"], "base64");
        assert_eq!(binary["structuredContent"]["content"], "/wA=");
        assert_eq!(binary["content"][1]["resource"]["blob"], "/wA=");
    }
}
