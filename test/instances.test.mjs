// One engine instance per session, durable by memory checkpoints (issue 8): long lives past
// the old journal ceiling, wake from a checkpoint plus a short tail, traps and memory bombs
// contained to their own session, expiry and delete that wait for a running cell, and engine
// upgrades that never restore a foreign checkpoint.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { blobCount, engineEntry, sessionHelpers, sleep, startSandbox } from './harness.mjs';
import { startLoopback } from './loopback.mjs';

let sandbox;
let lb;
const { client, newSession, exec, ok } = sessionHelpers(() => sandbox);

before(async () => {
  [sandbox, lb] = await Promise.all([startSandbox(), startLoopback()]);
});
after(async () => {
  await sandbox?.stop();
  await lb?.close();
});

async function post(id, code) {
  const res = await (await client()).req('POST', `/v1/sessions/${id}/exec`, { body: { code } });
  assert.equal(res.status, 200, res.text.slice(0, 500));
  return res;
}

/** The x-sandbox-wake header of an exec that rebuilt its session: {restored, replayed}. */
function wake(res) {
  const header = res.headers.get('x-sandbox-wake');
  if (header == null) return null;
  const m = /^restored=(true|false); replayed=(\d+)$/.exec(header);
  assert.ok(m, header);
  return { restored: m[1] === 'true', replayed: Number(m[2]) };
}

// State of every kind a checkpoint must carry: globals, closures, class instances, a
// generator mid-way, a Map, the Math.random sequence, and a file.
const STATE = `
  let count = 0;
  class Point { constructor(x) { this.x = x } norm() { return Math.abs(this.x) } }
  const points = [new Point(-3), new Point(4)];
  const counter = (() => { let c = 0; return () => ++c })();
  function* naturals() { let i = 0; while (true) yield i++ }
  const gen = naturals(); gen.next(); gen.next();
  const seen = new Map([['a', 1]]);
  function burn(n) { let s = 0; for (let i = 0; i < n; i++) s += i; count++; return s }
  await fs.writeFile('notes/state.txt', 'kept');
  'ready'`;
// Reads (and advances) all of it.
const PROBE = `[count, points.map((p) => p.norm()), points[0] instanceof Point, counter(), gen.next().value,
  seen.get('a'), Math.random(), Math.random(), await fs.readFile('notes/state.txt', 'utf8')]`;
// The probe's values without keeping them: printed, then the output limit rolls the cell back.
const PEEK = `console.log(JSON.stringify(${PROBE})); console.log('x'.repeat(2 << 20)); 0`;

describe('sessions that never die', () => {
  test('a session past 2e9 fuel in hundreds of cells still runs and wakes from kill -9 with identical state', async () => {
    const id = await newSession();
    assert.equal(await ok(id, STATE), 'ready');
    let fuel = 0;
    let cells = 0;
    let perCell = 0;
    while (cells < 210 || fuel <= 2_000_000_000) {
      const out = await exec(id, 'burn(3e5)');
      assert.equal(out.status, 'ok', JSON.stringify(out.error));
      perCell = out.usage.fuel;
      fuel += perCell;
      cells++;
    }
    assert.ok(fuel > 2e9, `lifetime fuel ${fuel}`);
    // The old design answered every cell past 300M journaled fuel with limit "journal".
    assert.equal(await ok(id, 'count'), cells);

    const peek = await exec(id, PEEK);
    assert.equal(peek.status, 'limit');
    assert.equal(peek.error.limit, 'output');
    const expected = JSON.parse(peek.logs.stdout[0]);
    assert.equal(expected[0], cells);

    await sandbox.kill();
    await sandbox.restart();
    const res = await post(id, PROBE);
    assert.equal(res.json.status, 'ok', JSON.stringify(res.json.error));
    assert.deepEqual(res.json.value, expected, 'the same state and the same random sequence');
    const woke = wake(res);
    assert.ok(woke?.restored, `woke from a checkpoint: ${res.headers.get('x-sandbox-wake')}`);
    // Checkpoints are taken once the tail passes 20M fuel: the wake replays at most the cells
    // that fit in 20M (five of about 3.9M each) and the one that passed it, however long the
    // session has lived.
    const bound = Math.ceil(20_000_000 / perCell) + 1;
    assert.ok(bound <= 8, `a cell of ${perCell} fuel`);
    assert.ok(woke.replayed <= bound, `replayed ${woke.replayed} of ${cells + 2} cells (bound ${bound})`);
    assert.equal((await exec(id, 'burn(10)')).status, 'ok');
  });

  test('a rollback restores the checkpoint and replays only the tail', async () => {
    const id = await newSession({ limits: { fuel: 60_000_000 } });
    // About 32M fuel (13 per iteration of a loop over a top-level variable, held in a register
    // while the loop runs, as inside a function): past the 20M after which a checkpoint is taken.
    await ok(id, 'var log = []; let s = 0; for (let i = 0; i < 2.5e6; i++) s += i; s');
    for (let i = 0; i < 10; i++) await ok(id, `log.push(${i}); ${i}`);
    const stopped = await exec(id, 'log.push("lost"); for (;;) {}');
    assert.equal(stopped.status, 'limit');
    assert.equal(stopped.error.limit, 'fuel');
    const res = await post(id, 'log.length + ":" + log.at(-1)');
    assert.equal(res.json.value, '10:9');
    assert.deepEqual(wake(res), { restored: true, replayed: 10 }, 'the checkpoint, then the 10 cells after it');
  });

  test('a trap in one session ends only its instance; a busy neighbour and its own state are exact', async () => {
    const allow = { network: { allow: [`127.0.0.1:${lb.port}`] } };
    const busy = await newSession(allow);
    const victim = await newSession({ limits: { nesting_depth: 256 } });
    await ok(busy, 'var acc = []; for (let i = 0; i < 1000; i++) acc.push(i * i); acc.length');
    await ok(victim, 'var mine = {kept: [1, 2, 3]}; 1');
    // The busy session waits on I/O, then computes, while the other traps its instance.
    const busyCell = exec(
      busy,
      `const r = await (await fetch('${lb.url}/slow?ms=1500')).text();
       acc.push(r); let s = 0; for (let i = 0; i < 2e4; i++) s += acc[i % 1000]; [acc.length, s, r]`,
    );
    await sleep(300);
    // Native recursion in Boa's parser past the engine's stack: a trap, not a JavaScript error.
    const trapped = await exec(victim, "eval('('.repeat(250) + '1' + ')'.repeat(250))");
    assert.equal(trapped.status, 'limit', JSON.stringify(trapped));
    assert.equal(trapped.error.limit, 'stack');
    const done = await busyCell;
    assert.equal(done.status, 'ok', JSON.stringify(done.error));
    let s = 0;
    for (let i = 0; i < 2e4; i++) s += (i % 1000) ** 2;
    assert.deepEqual(done.value, [1001, s, 'slow']);
    assert.deepEqual(await ok(victim, 'mine.kept'), [1, 2, 3]);
    assert.equal(await ok(busy, 'acc.length'), 1001);
    // A trapped instance is not reused: the next cell restored a fresh one.
    assert.equal(await ok(victim, 'typeof eval'), 'function');
  });

  test('a memory bomb stops at its own limit; a neighbour with a large live heap keeps its budget', async () => {
    const big = await newSession({ limits: { memory_bytes: 64 << 20 } });
    const bomb = await newSession({ limits: { memory_bytes: 16 << 20 } });
    // About 20 MB of live objects in one session.
    await ok(big, "var rows = Array.from({length: 1e5}, (_, i) => ({id: i, v: 'row ' + i})); rows.length");
    const bombed = await exec(bomb, 'const a = []; while (true) a.push(new Array(1e5).fill(a.length))');
    assert.equal(bombed.status, 'limit');
    assert.equal(bombed.error.limit, 'memory');
    assert.ok(bombed.usage.memory_bytes <= 24 << 20, `stopped at ${bombed.usage.memory_bytes}`);
    // The neighbour can still grow by its own limit less what it holds, not less anyone else's.
    const grown = await exec(big, 'const more = Array.from({length: 5e5}, (_, i) => i * 2); more.length + rows.length');
    assert.equal(grown.status, 'ok', JSON.stringify(grown.error));
    assert.equal(grown.value, 6e5);
    assert.equal(await ok(bomb, '1 + 1'), 2);
  });

  test('expiry while a cell waits on I/O: the cell answers, the TTL counts from its end, then nothing remains', async () => {
    const res = await (await client()).req('POST', '/v1/sessions', {
      body: { ttl_seconds: 2, network: { allow: [`127.0.0.1:${lb.port}`] } },
    });
    const id = res.json.id;
    const blobs = blobCount(sandbox);
    await ok(id, "await fs.writeFile('a.txt', 'x'); 1");
    assert.equal(blobCount(sandbox), blobs + 1);
    const started = Date.now();
    const out = await exec(id, `await (await fetch('${lb.url}/slow?ms=4000')).text()`);
    assert.equal(out.status, 'ok', JSON.stringify(out.error));
    assert.equal(out.value, 'slow');
    const info = await (await client()).get(`/v1/sessions/${id}`);
    assert.equal(info.status, 200, 'not expired under the cell');
    const expires = Date.parse(info.json.expires_at);
    assert.ok(expires >= started + 4000 + 2000 - 50, `expires ${expires - started} ms after start`);
    await sleep(Math.max(0, expires - Date.now()) + 2500);
    assert.equal((await (await client()).get(`/v1/sessions/${id}`)).status, 404);
    const list = await (await client()).get('/v1/sessions');
    assert.ok(!list.json.sessions.some((s) => s.id === id), 'gone from the KV listing');
    assert.ok(blobCount(sandbox) <= blobs, 'its file object is deleted');
  });

  test('DELETE while a cell waits on I/O waits for the cell; afterwards nothing remains', async () => {
    const id = await newSession({ network: { allow: [`127.0.0.1:${lb.port}`] } });
    const blobs = blobCount(sandbox);
    await ok(id, "await fs.writeFile('b.txt', 'y'); 1");
    assert.equal(blobCount(sandbox), blobs + 1, 'the file is stored');
    const cell = exec(id, `await (await fetch('${lb.url}/slow?ms=2000')).text()`);
    await sleep(300);
    const deleted = await (await client()).delete(`/v1/sessions/${id}`);
    assert.equal(deleted.status, 200, deleted.text);
    const out = await cell;
    assert.equal(out.status, 'ok');
    assert.equal(out.value, 'slow');
    assert.equal((await (await client()).get(`/v1/sessions/${id}`)).status, 404);
    const again = await (await client()).req('POST', `/v1/sessions/${id}/exec`, { body: { code: '1' } });
    assert.equal(again.status, 404);
    assert.ok(blobCount(sandbox) <= blobs, 'its file object is deleted');
  });
});

describe('engine upgrades', () => {
  test('another engine build replays a session whose whole history is journaled', async () => {
    const id = await newSession();
    await ok(id, STATE);
    for (let i = 0; i < 5; i++) await ok(id, 'burn(3e5)'); // past 20M fuel: a checkpoint
    const expected = JSON.parse((await exec(id, PEEK)).logs.stdout[0]);
    const persistDir = sandbox.persistDir;
    await sandbox.stop();
    const upgraded = await startSandbox({ persistDir, entry: engineEntry('next-build-1') });
    try {
      const { client: c2 } = sessionHelpers(() => upgraded);
      const res = await (await c2()).req('POST', `/v1/sessions/${id}/exec`, { body: { code: PROBE } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json.value, expected);
      assert.deepEqual(wake(res), { restored: false, replayed: 6 }, 'the foreign checkpoint was not restored');
    } finally {
      await upgraded.stop();
      await sandbox.restart();
    }
  });

  test('another engine build answers 409 for a session whose old cells were pruned', async () => {
    const id = await newSession();
    await ok(id, 'var n = 0; function burn(k) { let s = 0; for (let i = 0; i < k; i++) s += i; n++; return s }');
    // Past the 300M fuel a whole-history replay may cost, old cells are pruned.
    let fuel = 0;
    while (fuel <= 330_000_000) fuel += (await exec(id, 'burn(2e6)')).usage.fuel;
    await ok(id, 'n');
    const persistDir = sandbox.persistDir;
    await sandbox.stop();
    const upgraded = await startSandbox({ persistDir, entry: engineEntry('next-build-2') });
    try {
      const { client: c2 } = sessionHelpers(() => upgraded);
      const res = await (await c2()).req('POST', `/v1/sessions/${id}/exec`, { body: { code: 'n' } });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.json.error.code, 'engine_changed');
      assert.match(res.json.error.message, /next-build-2/);
      assert.match(res.json.error.message, /start a new session/);
      // The session itself is still there to read and delete.
      assert.equal((await (await c2()).get(`/v1/sessions/${id}`)).status, 200);
      assert.equal((await (await c2()).delete(`/v1/sessions/${id}`)).status, 200);
    } finally {
      await upgraded.stop();
      await sandbox.restart();
    }
  });
});
