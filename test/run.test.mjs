// One-shot runs (POST /v1/run) and cell inputs (`input` on exec), against the real local runtime.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, startSandbox } from './harness.mjs';

let sandbox;
let alice;

before(async () => {
  sandbox = await startSandbox();
  alice = await api(sandbox.url, sandbox.keys.alice);
});

after(async () => {
  await sandbox?.stop();
});

async function run(body) {
  const res = await alice.req('POST', '/v1/run', { body });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

describe('one-shot runs', () => {
  test('evaluate code on an input and answer like exec', async () => {
    const out = await run({ code: 'input.xs.map((x) => x * 2)', input: { xs: [1, 2, 3] } });
    assert.equal(out.status, 'ok');
    assert.deepEqual(out.value, [2, 4, 6]);
    assert.deepEqual(out.logs, { stdout: [], stderr: [], truncated: false });
    assert.equal(out.error, null);
    assert.equal(out.execution_count, 1);
    assert.equal(typeof out.duration_ms, 'number');
    assert.ok(out.usage.fuel > 0);
  });

  test('nothing leaks from one run to the next', async () => {
    await run({ code: 'globalThis.leak = 1; var v = 2; function f() {}' });
    const out = await run({ code: '[typeof leak, typeof v, typeof f]' });
    assert.deepEqual(out.value, ['undefined', 'undefined', 'undefined']);
  });

  test('each run draws its own Math.random sequence', async () => {
    // Runs under the default limits start from a copy of one fresh realm, given a seed of
    // their own; a run with other limits builds its realm.
    const draws = [];
    for (let i = 0; i < 3; i++) draws.push((await run({ code: '[Math.random(), Math.random()]' })).value);
    draws.push((await run({ code: '[Math.random(), Math.random()]', limits: { fuel: 5_000_000 } })).value);
    const all = draws.flat();
    assert.equal(all.length, 8);
    assert.ok(all.every((x) => typeof x === 'number' && x >= 0 && x < 1), JSON.stringify(all));
    assert.equal(new Set(all).size, 8, JSON.stringify(draws));
    // The copy is the fresh realm: builtins intact, nothing of earlier runs.
    await run({ code: 'Math.max = () => 0; globalThis.mark = 1' });
    const out = await run({ code: '[Math.max(1, 2), typeof mark]' });
    assert.deepEqual(out.value, [2, 'undefined']);
  });

  test('concurrent and back-to-back runs each start from their own fresh realm', async () => {
    // After a run, the isolate readies a copy of the fresh realm for the next one: whether a
    // run gets that copy, makes its own or races others for it, it sees only a fresh realm.
    const code = 'globalThis.n = (globalThis.n ?? 0) + 1; Array.prototype.x = 1; [n, [].x, Math.random()]';
    const burst = await Promise.all(Array.from({ length: 8 }, () => run({ code })));
    const after = [];
    for (let i = 0; i < 4; i++) after.push(await run({ code }));
    const values = [...burst, ...after].map((out) => out.value);
    assert.ok(values.every(([n, x]) => n === 1 && x === 1), JSON.stringify(values));
    assert.equal(new Set(values.map(([, , r]) => r)).size, values.length, JSON.stringify(values));
    const clean = await run({ code: '[typeof n, typeof [].x]' });
    assert.deepEqual(clean.value, ['undefined', 'undefined']);
  });

  test('top-level await and console work', async () => {
    const out = await run({ code: 'console.log("hi"); await Promise.resolve(input * 2)', input: 21 });
    assert.equal(out.value, 42);
    assert.deepEqual(out.logs.stdout, ['hi']);
  });

  test('errors and limits are results, not HTTP errors', async () => {
    const err = await run({ code: 'throw new RangeError("no")' });
    assert.equal(err.status, 'error');
    assert.equal(err.error.name, 'RangeError');
    const limited = await run({ code: 'for (;;) {}', limits: { fuel: 1_000_000 } });
    assert.equal(limited.status, 'limit');
    assert.equal(limited.error.limit, 'fuel');
  });

  test('bad requests answer 4xx with a JSON error', async () => {
    for (const [body, code] of [
      [{}, 'invalid_request'],
      [{ code: 1 }, 'invalid_request'],
      [{ code: '1', limits: { fuel: 0 } }, 'invalid_request'],
      [{ code: '1', extra: true }, 'invalid_request'],
    ]) {
      const res = await alice.req('POST', '/v1/run', { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json.error.code, code);
    }
    const res = await alice.req('GET', '/v1/run');
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
  });

  test('needs an API key', async () => {
    const anonymous = await api(sandbox.url);
    const res = await anonymous.req('POST', '/v1/run', { body: { code: '1' } });
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'unauthorized');
  });
});

describe('cell inputs', () => {
  test('input is a global for its cell only, and replays after a restart', async () => {
    const created = await alice.req('POST', '/v1/sessions', { body: {} });
    const id = created.json.id;
    const exec = async (body) => {
      const res = await alice.req('POST', `/v1/sessions/${id}/exec`, { body });
      assert.equal(res.status, 200, res.text);
      return res.json;
    };
    const first = await exec({ code: 'var total = input.reduce((a, b) => a + b, 0); total', input: [1, 2, 3] });
    assert.equal(first.value, 6);
    assert.equal((await exec({ code: 'typeof input' })).value, 'undefined');
    await sandbox.kill();
    await sandbox.restart();
    alice = await api(sandbox.url, sandbox.keys.alice); // workerd listens on a new port
    assert.equal((await exec({ code: 'total' })).value, 6, 'rebuilt with the recorded input');
  });
});

describe('limit ceilings from wrangler vars', () => {
  test('MAX_LIMITS caps what a session may ask for and lowers the defaults', async () => {
    const capped = await startSandbox({ vars: { MAX_LIMITS: '{"fuel": 1000000, "memory_bytes": 8388608}' } });
    try {
      const client = await api(capped.url, capped.keys.alice);
      const over = await client.req('POST', '/v1/sessions', { body: { limits: { fuel: 1_000_001 } } });
      assert.equal(over.status, 400, over.text);
      assert.equal(over.json.error.code, 'invalid_request');
      assert.match(over.json.error.message, /limits\.fuel/);
      const created = await client.req('POST', '/v1/sessions', { body: {} });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.json.limits.fuel, 1_000_000);
      assert.equal(created.json.limits.memory_bytes, 8_388_608);
      const shown = await client.req('GET', `/v1/sessions/${created.json.id}`);
      assert.deepEqual(shown.json.limits, created.json.limits);
      const out = await client.req('POST', `/v1/sessions/${created.json.id}/exec`, { body: { code: 'for (;;) {}' } });
      assert.equal(out.json.status, 'limit');
      assert.ok(out.json.usage.fuel <= 1_000_000);
    } finally {
      await capped.stop();
    }
  });
});
