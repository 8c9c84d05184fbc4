//! Guest I/O through the engine: `fs` and `fetch` calls become requests, replies settle them,
//! and replaying a cell with its recorded replies rebuilds the same state.

use super::*;
use crate::files::staging::{Action, MemoryFiles, Quotas, Staged};
use io::{ErrorKind, Failure, FetchResponse};
use serde_json::json;

const QUOTAS: Quotas = Quotas {
    file_bytes: 1 << 20,
    files_bytes: 1 << 20,
    files_count: 10,
};

/// Serves fs requests from `staged` over `base` like the session host does, recording replies.
struct Host {
    base: MemoryFiles,
    staged: Staged,
    replies: Vec<Reply>,
    fetched: Vec<io::FetchRequest>,
}

impl Host {
    fn new(base: MemoryFiles) -> Self {
        Self {
            base,
            staged: Staged::default(),
            replies: Vec::new(),
            fetched: Vec::new(),
        }
    }

    fn serve(&mut self, request: Request) -> Reply {
        let reply = match request {
            Request::Fetch(f) => {
                self.fetched.push(f.clone());
                Reply::Fetched(FetchResponse {
                    status: 200,
                    status_text: "OK".into(),
                    url: f.url,
                    redirected: false,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: std::rc::Rc::new(br#"{"n": 42}"#.to_vec()),
                })
            }
            other => match self.staged.handle(other, &self.base, QUOTAS, 7) {
                Action::Reply(reply) => reply,
                Action::ReadStored(path) => Reply::Bytes(std::rc::Rc::new(
                    self.base.read(&path).unwrap_or_default().to_vec(),
                )),
            },
        };
        self.replies.push(reply.clone());
        reply
    }
}

fn exec(engine: &mut Engine, host: &mut Host, code: &str) -> Outcome {
    engine.execute_with(code, 0.0, None, |r| host.serve(r))
}

#[test]
fn files_written_by_a_cell_can_be_read_back_in_it() {
    let mut e = Engine::new(1, Limits::default()).expect("engine");
    let mut host = Host::new(MemoryFiles::default());
    let out = exec(
        &mut e,
        &mut host,
        r#"await fs.writeFile("d/a.txt", "héllo");
           await fs.writeFile("d/b.bin", new Uint8Array([0, 255]));
           const text = await fs.readFile("d/a.txt", "utf8");
           const bytes = await fs.readFile("d/b.bin");
           const list = await fs.list("d/");
           [text, Array.from(bytes), bytes instanceof Uint8Array, list.map(f => [f.path, f.size, f.contentType])]"#,
    );
    assert_eq!(out.status, Status::Ok, "{:?}", out.error);
    assert_eq!(
        out.value,
        json!([
            "héllo",
            [0, 255],
            true,
            [
                ["d/a.txt", 6, "text/plain; charset=utf-8"],
                ["d/b.bin", 2, "application/octet-stream"]
            ]
        ])
    );
}

#[test]
fn fs_errors_carry_codes_and_can_be_caught() {
    let mut e = Engine::new(1, Limits::default()).expect("engine");
    let mut host = Host::new(MemoryFiles::default());
    let out = exec(
        &mut e,
        &mut host,
        r#"const codes = [];
           for (const f of [() => fs.readFile("nope"), () => fs.stat("../x"), () => fs.writeFile("big", "x".repeat(2 << 20)), () => fs.readFile(1)]) {
             try { await f(); codes.push("none"); } catch (err) { codes.push(err.code ?? err.name); }
           }
           codes"#,
    );
    assert_eq!(
        out.value,
        json!(["ENOENT", "EINVAL", "EQUOTA", "TypeError"]),
        "{:?}",
        out.error
    );
}

#[test]
fn fetch_resolves_with_a_response_shaped_object() {
    let mut e = Engine::new(1, Limits::default()).expect("engine");
    let mut host = Host::new(MemoryFiles::default());
    let out = exec(
        &mut e,
        &mut host,
        r#"const r = await fetch("https://api.example.com/x", { method: "post", headers: { "X-A": "1" }, body: "hi" });
           [r.status, r.ok, r.headers.get("Content-Type"), (await r.json()).n, r.bodyUsed]"#,
    );
    assert_eq!(
        out.value,
        json!([200, true, "application/json", 42, true]),
        "{:?}",
        out.error
    );
    let sent = &host.fetched[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.body.as_deref(), Some(&b"hi"[..]));
    assert!(
        sent.headers.contains(&("x-a".into(), "1".into())),
        "{:?}",
        sent.headers
    );
}

#[test]
fn a_rejected_fetch_is_a_catchable_type_error() {
    let mut e = Engine::new(1, Limits::default()).expect("engine");
    let out = e.execute_with(
        r#"let seen; try { await fetch("http://evil.test/"); } catch (err) { seen = [err.name, err.message]; } seen"#,
        0.0,
        None,
        |_| {
            Reply::Failed(Failure::new(
                ErrorKind::TypeError,
                None,
                "fetch denied: evil.test",
            ))
        },
    );
    assert_eq!(out.value, json!(["TypeError", "fetch denied: evil.test"]));
}

#[test]
fn replay_with_recorded_replies_rebuilds_the_state_without_io() {
    let mut base = MemoryFiles::default();
    base.files.insert(
        "in.csv".into(),
        crate::files::staging::StagedFile {
            data: b"a,b\n1,2".to_vec(),
            content_type: "text/csv".into(),
            modified_ms: 1,
        },
    );
    let code = r#"var rows = (await fs.readFile("in.csv", "utf8")).split("\n");
                  var n = (await (await fetch("https://api.example.com/")).json()).n;"#;
    let mut first = Engine::new(9, Limits::default()).expect("engine");
    let mut host = Host::new(base);
    let out = exec(&mut first, &mut host, code);
    assert_eq!(out.status, Status::Ok, "{:?}", out.error);
    // A new realm replays the cell with the recorded replies: no host at all.
    let recorded: Vec<Reply> = host
        .replies
        .iter()
        .map(|r| Reply::decode(&r.encode()).expect("journal encoding"))
        .collect();
    let mut again = Engine::new(9, Limits::default()).expect("engine");
    let replayed = again.replay(code, 0.0, None, recorded);
    assert_eq!(replayed.status, Status::Ok, "{:?}", replayed.error);
    let check = again.execute("[rows, n]", 0.0);
    assert_eq!(check.value, json!([["a,b", "1,2"], 42]));
}

#[test]
fn a_limit_during_io_stops_the_cell() {
    let limits = Limits {
        fuel: 200_000,
        ..Limits::default()
    };
    let mut e = Engine::new(1, limits).expect("engine");
    let mut host = Host::new(MemoryFiles::default());
    let out = exec(
        &mut e,
        &mut host,
        r#"for (;;) { await fs.stat("x").catch(() => 0); }"#,
    );
    assert_eq!(out.status, Status::Limit);
    assert_eq!(out.error.and_then(|e| e.limit).as_deref(), Some("fuel"));
    assert!(!out.committed);
}

#[test]
fn env_is_a_frozen_global() {
    let env = serde_json::Map::from_iter([("API_TOKEN".to_string(), json!("s3cret"))]);
    let mut e = Engine::with_env(1, Limits::default(), &env).expect("engine");
    let out = e.execute(
        r#"env.API_TOKEN = "x"; [env.API_TOKEN, Object.isFrozen(env), Object.keys(env)]"#,
        0.0,
    );
    assert_eq!(out.value, json!(["s3cret", true, ["API_TOKEN"]]));
}

#[test]
fn unawaited_writes_still_reach_the_host() {
    let mut e = Engine::new(1, Limits::default()).expect("engine");
    let mut host = Host::new(MemoryFiles::default());
    let out = exec(&mut e, &mut host, r#"fs.writeFile("later.txt", "x"); 1"#);
    assert_eq!(out.value, json!(1));
    assert_eq!(host.staged.into_changes().len(), 1);
}

#[test]
fn garbage_of_earlier_cells_does_not_use_up_the_memory_limit() {
    let mut e = Engine::new(1, Limits::default()).expect("engine");
    let mut base = MemoryFiles::default();
    base.files.insert(
        "x".into(),
        crate::files::staging::StagedFile {
            data: vec![0; 4 << 20],
            content_type: "application/octet-stream".into(),
            modified_ms: 1,
        },
    );
    let mut host = Host::new(base);
    for i in 0..24 {
        // The test host keeps every reply; the session host drops them after each cell.
        host.replies.clear();
        let out = exec(
            &mut e,
            &mut host,
            r#"const b = await fs.readFile("x"); b.length"#,
        );
        assert_eq!(out.status, Status::Ok, "cell {i}: {:?}", out.error);
    }
}
