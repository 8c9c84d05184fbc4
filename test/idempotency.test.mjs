// Idempotency-Key on exec: a retry gets the recorded answer and never runs the cell again
// (also concurrently, after a limit, and after SIGKILL and restart of the runtime); the same
// key with other code is 409; bad keys are 400; keys belong to one session.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionHelpers, startSandbox } from './harness.mjs';
import { streamPost } from './sse.mjs';

let sandbox;
const { client, newSession, ok } = sessionHelpers(() => sandbox);

before(async () => {
  sandbox = await startSandbox();
});

after(async () => {
  await sandbox?.stop();
});

async function execWithKey(id, key, code, input) {
  const body = input === undefined ? { code } : { code, input };
  return (await client()).req('POST', `/v1/sessions/${id}/exec`, {
    body,
    headers: { 'idempotency-key': key },
  });
}

const COUNT = 'globalThis.runs = (globalThis.runs ?? 0) + 1; console.log("ran", runs); runs';

describe('Idempotency-Key', () => {
  test('a repeat returns the recorded answer, byte for byte, without running the cell', async () => {
    const id = await newSession();
    const first = await execWithKey(id, 'k-1', COUNT);
    assert.equal(first.status, 200);
    assert.equal(first.json.value, 1);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const again = await execWithKey(id, 'k-1', COUNT);
    assert.equal(again.status, 200);
    assert.equal(again.text, first.text, 'the same answer');
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(await ok(id, 'runs'), 1, 'the cell ran once');
    // A new key runs the cell; so does a request without a key.
    assert.equal((await execWithKey(id, 'k-2', COUNT)).json.value, 2);
    assert.equal(await ok(id, COUNT), 3);
  });

  test('the same key with other code or other input is 409 and runs nothing', async () => {
    const id = await newSession();
    await execWithKey(id, 'k', COUNT, { a: 1 });
    for (const [code, input] of [['runs', { a: 1 }], [COUNT, { a: 2 }], [COUNT, undefined]]) {
      const res = await execWithKey(id, 'k', code, input);
      assert.equal(res.status, 409, res.text);
      assert.equal(res.json.error.code, 'idempotency_key_reused');
      assert.match(res.json.error.message, /new key/);
    }
    assert.equal(await ok(id, 'runs'), 1);
  });

  test('concurrent retries of one key run the cell once and get one answer', async () => {
    const id = await newSession({ limits: { fuel: 500000000 } });
    const slow = 'let s = 0; for (let i = 0; i < 3e6; i++) s += i; ' + COUNT;
    const answers = await Promise.all([1, 2, 3].map(() => execWithKey(id, 'burst', slow)));
    for (const res of answers) assert.equal(res.status, 200, res.text);
    assert.deepEqual(new Set(answers.map((r) => r.text)).size, 1);
    assert.equal(answers.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 2);
    assert.equal(await ok(id, 'runs'), 1);
  });

  test('a cell stopped by a limit is answered the same way again, not re-run', async () => {
    const id = await newSession({ limits: { fuel: 1000000 } });
    const first = await execWithKey(id, 'spin', 'for(;;){}');
    assert.equal(first.json.status, 'limit');
    const again = await execWithKey(id, 'spin', 'for(;;){}');
    assert.equal(again.text, first.text);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const info = await (await client()).req('GET', `/v1/sessions/${id}`);
    assert.equal(info.json.execution_count, 1, 'the retry did not execute');
  });

  test('keys survive SIGKILL and a restart of the runtime', async () => {
    const id = await newSession();
    const first = await execWithKey(id, 'durable', COUNT);
    assert.equal(first.json.value, 1);
    await sandbox.kill();
    await sandbox.restart();
    const again = await execWithKey(id, 'durable', COUNT);
    assert.equal(again.status, 200);
    assert.equal(again.text, first.text);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(await ok(id, 'runs'), 1);
  });

  test('keys are per session', async () => {
    const a = await newSession();
    const b = await newSession();
    assert.equal((await execWithKey(a, 'shared', COUNT)).json.value, 1);
    const other = await execWithKey(b, 'shared', 'runs = 100');
    assert.equal(other.status, 200);
    assert.equal(other.json.value, 100);
    assert.equal(other.headers.get('idempotent-replayed'), null);
  });

  test('a streamed exec records its answer; a streamed or plain retry gets it without running', async () => {
    const id = await newSession();
    const headers = { 'idempotency-key': 'streamed' };
    const first = await streamPost(sandbox.url, sandbox.keys.alice, `/v1/sessions/${id}/exec`, { code: COUNT }, { headers });
    assert.equal(first.status, 200);
    const result = first.events.find((e) => e.event === 'result').data;
    assert.equal(result.value, 1);
    const again = await streamPost(sandbox.url, sandbox.keys.alice, `/v1/sessions/${id}/exec`, { code: COUNT }, { headers });
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.events.map((e) => e.event), ['stdout', 'result']);
    assert.deepEqual(again.events[0].data, { text: 'ran 1' });
    assert.deepEqual(again.events[1].data, result);
    const plain = await execWithKey(id, 'streamed', COUNT);
    assert.deepEqual(plain.json, result);
    assert.equal(await ok(id, 'runs'), 1);
  });

  test('a malformed key is 400 naming the rule', async () => {
    const id = await newSession();
    for (const key of ['x'.repeat(256), 'has space', 'tab\there']) {
      const res = await execWithKey(id, key, '1');
      assert.equal(res.status, 400, key);
      assert.equal(res.json.error.code, 'invalid_request');
      assert.match(res.json.error.message, /Idempotency-Key/);
    }
    assert.equal(await ok(id, 'typeof runs'), 'undefined', 'nothing ran');
  });
});
