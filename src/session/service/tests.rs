use std::{
    future::Future,
    pin::pin,
    sync::Arc,
    task::{Context, Poll, Wake, Waker},
};

use super::{
    memory::{MemoryStore, NativeEngines, NoIo},
    CheckpointPolicy, JournalSize, Remember, Service, ServiceError, Store, Warm, REPLAY_BOUND,
};
use crate::{
    engine::{abi::StartMessage, Limits, Outcome, Status},
    session::{idempotency, record::SessionRecord},
};

/// The fakes never wait: poll once.
fn now<F: Future>(future: F) -> F::Output {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(Noop));
    match pin!(future).poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("an in-memory future waited"),
    }
}

fn record(limits: Limits) -> SessionRecord {
    SessionRecord {
        id: "ses_test".into(),
        tenant: "t".into(),
        created_at: 0,
        last_used_at: 0,
        ttl_seconds: 60,
        metadata: "{}".into(),
        seed: 42,
        execution_count: 0,
        limits: serde_json::to_string(&limits).expect("json"),
        network: "[]".into(),
        env: "{}".into(),
        files_count: 0,
        files_bytes: 0,
    }
}

/// Checkpoint every `cells` cells.
fn every(cells: i64) -> CheckpointPolicy {
    CheckpointPolicy {
        tail: JournalSize {
            cells: cells - 1,
            fuel: i64::MAX,
            io_bytes: i64::MAX,
        },
    }
}

struct Fixture {
    store: MemoryStore,
    engines: NativeEngines,
    record: SessionRecord,
    policy: CheckpointPolicy,
    clock: std::cell::Cell<i64>,
    /// Key and fingerprint the next cells run under.
    remember: Option<(String, String)>,
}

impl Fixture {
    fn new(policy: CheckpointPolicy) -> Self {
        Self {
            store: MemoryStore::default(),
            engines: NativeEngines::new("build-a"),
            record: record(Limits::default()),
            policy,
            clock: std::cell::Cell::new(1000),
            remember: None,
        }
    }

    fn service(&self) -> Service<'_, MemoryStore, NativeEngines> {
        Service {
            store: &self.store,
            engines: &self.engines,
            policy: self.policy,
            base_bytes: 0,
        }
    }

    fn exec(&mut self, warm: &mut Warm<NativeEngines>, code: &str) -> serde_json::Value {
        let outcome = self.try_exec(warm, code).expect("exec");
        assert_eq!(outcome.status, Status::Ok, "{code}: {:?}", outcome.error);
        outcome.value
    }

    fn try_exec(
        &mut self,
        warm: &mut Warm<NativeEngines>,
        code: &str,
    ) -> Result<crate::engine::Outcome, ServiceError> {
        self.run(warm, code).map(|done| done.outcome)
    }

    fn run(
        &mut self,
        warm: &mut Warm<NativeEngines>,
        code: &str,
    ) -> Result<super::Executed, ServiceError> {
        let t = self.clock.get() + 10;
        self.clock.set(t);
        let cell = StartMessage {
            code: code.into(),
            now_ms: t as f64,
            input: None,
            yield_fuel: 0,
        };
        let service = Service {
            store: &self.store,
            engines: &self.engines,
            policy: self.policy,
            base_bytes: 0,
        };
        let clock = &self.clock;
        let answer = |outcome: &Outcome, record: &SessionRecord| {
            format!("{:?}#{}", outcome.status, record.execution_count)
        };
        let remember = self.remember.as_ref().map(|(key, fingerprint)| Remember {
            key,
            fingerprint,
            answer: &answer,
        });
        now(service.exec(
            &mut self.record,
            warm,
            &cell,
            &mut NoIo::default(),
            || clock.get() + 5,
            remember.as_ref(),
        ))
    }
}

const STATE: &str = "let n = 0; class P { constructor(x) { this.x = x } } \
    const mk = () => { let c = 0; return () => ++c }; const tick = mk(); \
    function* g() { let i = 0; while (true) yield i++ } const it = g();";
const PROBE: &str = "[n, new P(n).x, tick(), it.next().value, Math.random()]";

#[test]
fn a_long_session_keeps_running_and_wakes_from_its_checkpoint_with_the_same_state() {
    let mut f = Fixture::new(every(10));
    let mut warm = Warm::default();
    f.exec(&mut warm, STATE);
    for _ in 0..95 {
        f.exec(&mut warm, "n++");
    }
    // Two sessions with the same history: one warm, one woken from storage alone.
    let mut twin = Fixture::new(every(10));
    let mut twin_warm = Warm::default();
    twin.exec(&mut twin_warm, STATE);
    for _ in 0..95 {
        twin.exec(&mut twin_warm, "n++");
    }
    let warm_probe = f.exec(&mut warm, PROBE);
    let mut cold = Warm::default();
    let woken = twin.exec(&mut cold, PROBE);
    assert_eq!(woken, warm_probe);
    assert_eq!(woken[0], 95);
    // Checkpoints were taken every 10 cells; the cold wake restored one and replayed the rest.
    assert!(twin.engines.snapshots.get() >= 9);
    assert_eq!(twin.engines.restores.get(), 1);
    let after = twin
        .store
        .checkpoint()
        .expect("read")
        .expect("one")
        .through_seq;
    assert!(
        twin.store.journal_size(after).expect("size").cells < 10,
        "the tail stays under the policy"
    );
}

#[test]
fn wake_replays_only_the_tail_however_old_the_session() {
    let mut f = Fixture::new(every(5));
    let mut warm = Warm::default();
    f.exec(&mut warm, "var total = 0");
    for i in 0..200 {
        f.exec(&mut warm, &format!("total += {i}"));
    }
    let service = f.service();
    let mut cold = Warm::default();
    let report = now(service.wake(&f.record, &mut cold)).expect("wake");
    assert!(report.restored);
    assert!(report.replayed_cells < 5, "{report:?}");
    assert_eq!(f.exec(&mut cold, "total"), 199 * 200 / 2);
}

#[test]
fn a_limit_rolls_back_to_the_checkpoint_and_the_tail() {
    let mut f = Fixture::new(every(4));
    f.record = record(Limits {
        fuel: 1_000_000,
        ..Limits::default()
    });
    let mut warm = Warm::default();
    for i in 0..6 {
        f.exec(&mut warm, &format!("var v{i} = {i}"));
    }
    let outcome = f
        .try_exec(&mut warm, "v0 = 'changed'; for (;;) {}")
        .expect("exec");
    assert_eq!(outcome.status, Status::Limit);
    assert!(warm.instance.is_none(), "the half-run instance is dropped");
    let restores = f.engines.restores.get();
    assert_eq!(f.exec(&mut warm, "[v0, v5]"), serde_json::json!([0, 5]));
    assert_eq!(
        f.engines.restores.get(),
        restores + 1,
        "rolled back from the in-memory checkpoint"
    );
    assert_eq!(f.record.execution_count, 8, "the stopped cell counts");
}

#[test]
fn ttl_counts_from_the_end_of_the_cell() {
    let mut f = Fixture::new(CheckpointPolicy::default());
    let mut warm = Warm::default();
    f.exec(&mut warm, "1");
    assert_eq!(f.record.last_used_at, f.clock.get() + 5);
}

#[test]
fn another_engine_build_replays_the_whole_journal_while_it_is_kept() {
    let mut f = Fixture::new(every(3));
    let mut warm = Warm::default();
    f.exec(&mut warm, "var xs = []");
    for i in 0..10 {
        f.exec(&mut warm, &format!("xs.push({i} * Math.random())"));
    }
    let expected = f.exec(&mut warm, "xs");
    let meta = f.store.checkpoint().expect("read").expect("one");
    assert!(!meta.journal_pruned, "a short history is kept whole");
    // A deploy of another engine build: the stored checkpoint is not its own.
    f.store.set_checkpoint_build("build-old");
    let mut cold = Warm::default();
    let report = now(f.service().wake(&f.record, &mut cold)).expect("wake");
    assert!(!report.restored, "a foreign checkpoint is never restored");
    assert_eq!(report.replayed_cells, 12);
    assert_eq!(f.exec(&mut cold, "xs"), expected);
}

#[test]
fn another_engine_build_refuses_a_pruned_session_with_a_clear_error() {
    let mut f = Fixture::new(every(2));
    let mut warm = Warm::default();
    // Past the replay bound's fuel the old cells are pruned at the next checkpoint.
    let heavy = "let s = 0; for (let i = 0; i < 1e6; i++) s += i; s";
    let mut used = 0;
    while used <= REPLAY_BOUND.fuel {
        used += f.try_exec(&mut warm, heavy).expect("exec").usage.fuel as i64;
    }
    f.exec(&mut warm, "1");
    f.exec(&mut warm, "2");
    let meta = f.store.checkpoint().expect("read").expect("one");
    assert!(meta.journal_pruned, "{meta:?}");
    assert!(f.store.journal_len() < 3);
    f.store.set_checkpoint_build("build-old");
    let mut cold = Warm::default();
    let err = now(f.service().wake(&f.record, &mut cold)).expect_err("cannot rebuild");
    assert!(matches!(err, ServiceError::Incompatible { .. }), "{err}");
    assert!(err.to_string().contains("build-old"), "{err}");
    assert!(err.to_string().contains("build-a"), "{err}");
}

#[test]
fn nothing_new_means_no_checkpoint() {
    let mut f = Fixture::new(CheckpointPolicy::default());
    let mut warm = Warm::default();
    assert_eq!(
        now(f.service().checkpoint(&f.record, &mut warm, 0)).expect("ok"),
        None
    );
    f.exec(&mut warm, "var a = 1");
    let first = now(f.service().checkpoint(&f.record, &mut warm, 0)).expect("ok");
    assert_eq!(first.map(|m| m.through_seq), Some(1));
    assert_eq!(
        now(f.service().checkpoint(&f.record, &mut warm, 0)).expect("ok"),
        None,
        "an idle session is checkpointed once"
    );
}

#[test]
fn a_checkpoint_of_another_format_is_not_restored() {
    let mut f = Fixture::new(every(2));
    let mut warm = Warm::default();
    for i in 0..5 {
        f.exec(&mut warm, &format!("var v = {i}"));
    }
    f.store
        .set_checkpoint_format(super::super::checkpoint::FORMAT + 1);
    let mut cold = Warm::default();
    let report = now(f.service().wake(&f.record, &mut cold)).expect("wake");
    assert!(!report.restored);
    assert_eq!(report.replayed_cells, 5);
    assert_eq!(f.exec(&mut cold, "v"), 4);
}

#[test]
fn destroy_forgets_storage_and_warm_state_and_a_new_session_starts_clean() {
    let mut f = Fixture::new(every(2));
    f.service().create(&f.record).expect("create");
    assert!(
        f.service().create(&f.record).is_err(),
        "one session per store"
    );
    let mut warm = Warm::default();
    for _ in 0..3 {
        f.exec(
            &mut warm,
            "var kept = (typeof kept === 'number' ? kept : 0) + 1",
        );
    }
    assert!(warm.instance.is_some() && warm.checkpoint.is_some());
    f.service().destroy(&mut warm).expect("destroy");
    assert!(warm.instance.is_none() && warm.checkpoint.is_none());
    assert_eq!(f.store.journal_len(), 0);
    assert_eq!(f.store.checkpoint().expect("read"), None);
    assert!(f.store.session.borrow().is_none());
    f.service().create(&f.record).expect("create again");
    assert_eq!(f.exec(&mut warm, "typeof kept"), "undefined");
}

#[test]
fn an_exec_says_whether_cells_remain_past_the_checkpoint() {
    let mut f = Fixture::new(every(3));
    f.record = record(Limits {
        fuel: 1_000_000,
        ..Limits::default()
    });
    let mut warm = Warm::default();
    let pending = |done: super::Executed| (done.checkpointed.is_some(), done.pending);
    assert_eq!(
        pending(f.run(&mut warm, "var a = 1").expect("exec")),
        (false, true)
    );
    assert_eq!(
        pending(f.run(&mut warm, "a++").expect("exec")),
        (false, true)
    );
    assert_eq!(
        pending(f.run(&mut warm, "a++").expect("exec")),
        (true, false)
    );
    // A rolled-back cell leaves the tail as it was: empty right after a checkpoint.
    assert_eq!(
        pending(f.run(&mut warm, "for (;;) {}").expect("exec")),
        (false, false)
    );
    assert_eq!(pending(f.run(&mut warm, "a").expect("exec")), (false, true));
}

#[test]
fn an_answer_under_an_idempotency_key_is_recorded_with_the_cell_and_its_rollback() {
    let mut f = Fixture::new(every(100));
    f.record = record(Limits {
        fuel: 1_000_000,
        ..Limits::default()
    });
    let mut warm = Warm::default();
    f.remember = Some(("k1".into(), idempotency::fingerprint("var a = 1", None)));
    f.exec(&mut warm, "var a = 1");
    let recorded = f.store.recall("k1", f.clock.get()).expect("recall");
    assert_eq!(
        recorded.map(|r| r.recall(&idempotency::fingerprint("var a = 1", None))),
        Some(idempotency::Recall::Replay("Ok#1".into())),
        "the answer rendered after the cell, with the session's new count"
    );
    // A cell stopped by a limit is rolled back, and its answer recorded all the same.
    f.remember = Some(("k2".into(), "fp".into()));
    let stopped = f.try_exec(&mut warm, "for(;;){}").expect("exec");
    assert_eq!(stopped.status, Status::Limit);
    let recorded = f.store.recall("k2", f.clock.get()).expect("recall");
    assert_eq!(recorded.map(|r| r.answer), Some("Limit#2".into()));
    // Without a key nothing is recorded; keys expire after the retention.
    f.remember = None;
    f.exec(&mut warm, "2");
    let later = f.clock.get() + idempotency::RETENTION_MS;
    assert_eq!(f.store.recall("k1", later), Ok(None));
}

#[test]
fn a_checkpoint_follows_the_cell_that_takes_the_tail_past_the_policy() {
    // The tail after a cell without I/O is the tail before it plus that cell (not measured
    // again): the checkpoint comes right after the cell that passes the bound, by cells ...
    let mut f = Fixture::new(every(4));
    let mut warm = Warm::default();
    let taken: Vec<bool> = (0..9)
        .map(|i| {
            let done = f.run(&mut warm, &format!("{i}")).expect("exec");
            done.checkpointed.is_some()
        })
        .collect();
    assert_eq!(
        taken,
        [false, false, false, true, false, false, false, true, false]
    );
    // ... and by fuel.
    let bound = 20_000;
    let mut f = Fixture::new(CheckpointPolicy {
        tail: JournalSize {
            cells: i64::MAX,
            fuel: bound,
            io_bytes: i64::MAX,
        },
    });
    let mut warm = Warm::default();
    let (mut tail, mut checkpoints) = (0, 0);
    for i in 0..12 {
        let done = f
            .run(
                &mut warm,
                &format!("for (let i = 0; i < {}; i++) {{}}", 300 * (i % 3 + 1)),
            )
            .expect("exec");
        tail += done.outcome.usage.fuel as i64;
        assert_eq!(
            done.checkpointed.is_some(),
            tail > bound,
            "cell {i}, tail {tail}"
        );
        if tail > bound {
            tail = 0;
            checkpoints += 1;
        }
    }
    assert!(checkpoints >= 2, "{checkpoints} checkpoints");
}

#[test]
fn a_warm_session_runs_cells_without_measuring_its_journal_again() {
    let mut f = Fixture::new(every(4));
    let mut warm = Warm::default();
    f.exec(&mut warm, "let n = 1");
    let first = f.store.size_reads.get();
    assert!(first > 0, "the first cell measures the tail");
    // Committed cells, a thrown error (committed too) and a rollback: none measures again.
    f.exec(&mut warm, "n++");
    let _ = f.try_exec(&mut warm, "throw new Error('x')");
    f.record.limits = serde_json::to_string(&Limits {
        fuel: 50_000,
        ..Limits::default()
    })
    .expect("json");
    let stopped = f.try_exec(&mut warm, "for (;;) {}").expect("exec");
    assert_eq!(stopped.status, Status::Limit);
    assert_eq!(f.store.size_reads.get(), first);
    // The tail counted in memory still takes the checkpoint after the policy's 4th cell.
    f.record.limits = serde_json::to_string(&Limits::default()).expect("json");
    let done = f.run(&mut warm, "n++").expect("exec");
    assert!(done.checkpointed.is_some(), "4 cells journaled since none");
    // A checkpoint taken between cells (the idle alarm's) starts the count again.
    f.exec(&mut warm, "n++");
    let taken = now(f.service().checkpoint(&f.record, &mut warm, 5_000)).expect("checkpoint");
    assert!(taken.is_some());
    let reads = f.store.size_reads.get();
    let taken: Vec<bool> = (0..5)
        .map(|_| {
            f.run(&mut warm, "n++")
                .expect("exec")
                .checkpointed
                .is_some()
        })
        .collect();
    assert_eq!(taken, [false, false, false, true, false]);
    // Only the checkpoint's own two: the stored checkpoint and the whole journal's size.
    assert_eq!(f.store.size_reads.get() - reads, 2);
    // A warm state the pool has lost measures again, and agrees.
    let mut cold = Warm::default();
    assert_eq!(f.exec(&mut cold, "n"), serde_json::json!(9));
}
