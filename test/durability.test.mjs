// Durability: a session's state survives every way its realm can be lost — a cell stopped by a
// limit (the realm is dropped and rebuilt from the journal), a crash of the whole runtime
// (SIGKILL of wrangler and workerd) and a graceful restart — and concurrent executions on one
// session are serialized without losing an update.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionHelpers, startSandbox } from './harness.mjs';

let sandbox;

before(async () => {
  sandbox = await startSandbox();
});

after(async () => {
  await sandbox?.stop();
});

/** Helpers for the current runtime (its URL may change across restarts). */
const { client, newSession, exec } = sessionHelpers(() => sandbox);

async function ok(id, code) {
  const out = await exec(id, code);
  assert.equal(out.status, 'ok', `${code} failed: ${JSON.stringify(out.error)}`);
  return out;
}

/** The state that every reset must preserve, and a check of it. */
const SETUP = `
  let counter = 5;
  function inc() { return ++counter }
  const rnd = Math.random();
  const t = Date.now();
  class Point { constructor(x, y) { this.x = x; this.y = y } norm1() { return Math.abs(this.x) + Math.abs(this.y) } }
  const adder = (k) => (n) => n + k;
  const add10 = adder(10);
  const memo = new Map([["a", 1]]);
`;

async function assertStateKept(id, snapshot, expectedInc, when) {
  const out = await ok(id, '[inc(), rnd, t, new Point(3, -4).norm1(), add10(5), adder(2)(2), memo.get("a"), typeof Point]');
  assert.deepEqual(
    out.value,
    [expectedInc, snapshot.rnd, snapshot.t, 7, 15, 4, 1, 'function'],
    `state after ${when}: inc() continues, rnd and t unchanged, classes and closures work`,
  );
}

describe('state survives a reset of the engine', () => {
  test('after a limit, a crash (SIGKILL) and a graceful restart, counters, random values, times, closures and classes are as they were', async () => {
    const id = await newSession({ limits: { fuel: 20_000_000 } });
    await ok(id, SETUP);
    const [rnd, t] = (await ok(id, '[rnd, t]')).value;
    assert.equal(typeof rnd, 'number');
    assert.equal(typeof t, 'number');
    const snapshot = { rnd, t };
    assert.equal((await ok(id, 'inc()')).value, 6);

    // (a) a cell stopped by a limit drops the realm; the next cell rebuilds it from the journal
    const stopped = await exec(id, 'inc(); inc(); for (;;) {}');
    assert.equal(stopped.status, 'limit');
    assert.equal(stopped.error.limit, 'fuel');
    await assertStateKept(id, snapshot, 7, 'a limit');

    // (b) SIGKILL of the whole runtime, then a start on the same state directory
    await sandbox.kill();
    await sandbox.restart();
    await assertStateKept(id, snapshot, 8, 'a crash and restart');

    // Eviction of a Durable Object cannot be forced in local workerd; a graceful stop
    // (SIGTERM) and restart loses every realm in memory the same way.
    await sandbox.stop();
    await sandbox.restart();
    await assertStateKept(id, snapshot, 9, 'a graceful restart');

    const session = await (await client()).req('GET', `/v1/sessions/${id}`);
    assert.equal(session.status, 200);
    assert.equal(session.json.execution_count, 7, 'every execution counts, the stopped one included');
  });
});

describe('a cell stopped by a limit leaves no trace', () => {
  test('globals it set are rolled back', async () => {
    const id = await newSession({ limits: { fuel: 20_000_000 } });
    await ok(id, 'x = 1');
    const out = await exec(id, 'x = 2; y = 3; for (;;) {}');
    assert.equal(out.status, 'limit');
    assert.deepEqual((await ok(id, '[x, typeof y]')).value, [1, 'undefined']);
  });

  test('Math.random() continues as if the stopped cell had never drawn from it', async () => {
    const id = await newSession({ limits: { fuel: 20_000_000 } });
    await ok(id, 'const r1 = Math.random()');
    // The stopped cell prints the two values it draws (output up to a limit is kept).
    const stopped = await exec(id, 'console.log(JSON.stringify([Math.random(), Math.random()])); for (;;) {}');
    assert.equal(stopped.status, 'limit');
    const drawn = JSON.parse(stopped.logs.stdout[0]);
    // Rolled back, the generator is where it was: the next cell draws the same two values.
    const next = (await ok(id, '[Math.random(), Math.random(), r1]')).value;
    assert.deepEqual(next.slice(0, 2), drawn);
    assert.notEqual(next[2], drawn[0]);
  });
});

describe('concurrent executions on one session', () => {
  test('50 concurrent n++ cells all answer, each sees a distinct value, and n ends at 50', async () => {
    const id = await newSession();
    await ok(id, 'let n = 0');
    const N = 50;
    const outs = await Promise.all(Array.from({ length: N }, () => exec(id, 'n++')));
    for (const out of outs) assert.equal(out.status, 'ok', JSON.stringify(out.error));
    assert.deepEqual(
      outs.map((o) => o.value).sort((a, b) => a - b),
      Array.from({ length: N }, (_, i) => i),
      'the values are a permutation of 0..49',
    );
    const counts = outs.map((o) => o.execution_count).sort((a, b) => a - b);
    assert.deepEqual(counts, Array.from({ length: N }, (_, i) => i + 2), 'execution_count values are distinct');
    // Cells run in order: the cell that saw n == k ran as execution k + 2.
    for (const out of outs) assert.equal(out.execution_count, out.value + 2);
    assert.equal((await ok(id, 'n')).value, N);
  });
});

describe('acknowledged cells survive a crash', () => {
  test('20 acknowledged cells are all there after SIGKILL and restart', async () => {
    const id = await newSession();
    await ok(id, 'const log = []');
    for (let i = 0; i < 20; i++) await ok(id, `log.push(${i})`);
    // One more cell in flight when the runtime dies: it may or may not have been journaled.
    const inFlight = (await client()).req('POST', `/v1/sessions/${id}/exec`, { body: { code: 'log.push(20)' } }).catch((e) => e);
    await sandbox.kill();
    await inFlight;
    await sandbox.restart();
    const log = (await ok(id, 'log')).value;
    assert.deepEqual(log.slice(0, 20), Array.from({ length: 20 }, (_, i) => i));
    assert.ok(log.length === 20 || (log.length === 21 && log[20] === 20), `log is ${JSON.stringify(log)}`);
  });
});

describe('replay', () => {
  test('a session of 200 cells answers after a crash (replay time is printed, not asserted)', async () => {
    const id = await newSession();
    const small = await newSession();
    await ok(id, 'const acc = []');
    for (let i = 0; i < 200; i++) await ok(id, `acc.push(${i} * 2); let v${i} = acc.length`);
    await ok(small, 'let one = 1');
    await sandbox.kill();
    await sandbox.restart();

    let started = performance.now();
    const first = await ok(id, 'acc.length + v199');
    const replayMs = performance.now() - started;
    assert.equal(first.value, 400);
    started = performance.now();
    await ok(id, '1 + 1');
    const warmMs = performance.now() - started;
    started = performance.now();
    assert.equal((await ok(small, 'one')).value, 1);
    const smallMs = performance.now() - started;
    console.log(
      `replay: first exec after restart of a 201-cell session ${replayMs.toFixed(0)} ms ` +
        `(duration_ms ${first.duration_ms}); next exec ${warmMs.toFixed(0)} ms; ` +
        `first exec of a 1-cell session ${smallMs.toFixed(0)} ms`,
    );
  });
});
