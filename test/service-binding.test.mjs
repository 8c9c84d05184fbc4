// Another Worker can use the sandbox through a service binding: test/consumer forwards every
// request it gets to `env.SANDBOX.fetch(request)`, and both run in one local runtime.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startSandbox } from './harness.mjs';
import { streamPost } from './sse.mjs';

let sandbox;
let alice;
let anonymous;

before(async () => {
  sandbox = await startSandbox({ consumer: true });
  alice = await api(sandbox.url, sandbox.keys.alice);
  anonymous = await api(sandbox.url);
});

after(async () => {
  await sandbox?.stop();
});

describe('through a service binding', () => {
  test('GET /healthz answers 200 without a key', async () => {
    const res = await anonymous.req('GET', '/healthz');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { status: 'ok' });
  });

  test('a request without a key answers 401 unauthorized', async () => {
    const res = await anonymous.req('GET', '/v1/sessions');
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json?.error?.code, 'unauthorized');
  });

  test('create a session, run 1+1 in it, list it and delete it', async () => {
    const created = await alice.req('POST', '/v1/sessions', { body: {} });
    assert.equal(created.status, 201, created.text);
    const { id } = created.json;
    assert.match(id, /^ses_[a-z2-7]{26}$/);

    const exec = await alice.req('POST', `/v1/sessions/${id}/exec`, { body: { code: '1+1' } });
    assert.equal(exec.status, 200, exec.text);
    assert.equal(exec.json.status, 'ok', exec.text);
    assert.equal(exec.json.value, 2);
    assert.equal(exec.json.execution_count, 1);

    const list = await alice.req('GET', '/v1/sessions');
    assert.equal(list.status, 200, list.text);
    assert.ok(
      list.json.sessions.some((s) => s.id === id),
      `the list should contain ${id}: ${list.text}`,
    );

    const deleted = await alice.req('DELETE', `/v1/sessions/${id}`);
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.json, { id, deleted: true });

    const gone = await alice.req('GET', `/v1/sessions/${id}`);
    assert.equal(gone.status, 404, gone.text);
    assert.equal(gone.json?.error?.code, 'not_found');
  });

  test('a streaming exec arrives event by event through the binding', async () => {
    const created = await alice.req('POST', '/v1/sessions', { body: { limits: { fuel: 1_500_000_000 } } });
    assert.equal(created.status, 201, created.text);
    const { id } = created.json;
    const code = `console.log('started'); let s = 0; for (let i = 0; i < 4e6; i++) { s += i % 7 } console.log('done'); s`;
    const res = await streamPost(sandbox.url, sandbox.keys.alice, `/v1/sessions/${id}/exec`, { code });
    assert.equal(res.status, 200, res.text.slice(0, 500));
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    assert.deepEqual(
      res.events.map((e) => [e.event, e.data.text ?? e.data.status]),
      [['stdout', 'started'], ['stdout', 'done'], ['result', 'ok']],
    );
    const [first, , result] = res.events;
    assert.equal(result.data.execution_count, 1);
    assert.deepEqual(result.data.logs.stdout, ['started', 'done']);
    // Incremental: the first line came long before the result, in the same run.
    assert.ok(first.at < result.at * 0.2, `first event at ${first.at} ms, result at ${result.at} ms`);
  });
});
