// Expiry: a session disappears ttl_seconds after its last request, and activity pushes that back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, sleep, startSandbox } from './harness.mjs';

let sandbox;
let alice;

before(async () => {
  sandbox = await startSandbox();
  alice = await api(sandbox.url, sandbox.keys.alice);
});

after(async () => {
  await sandbox?.stop();
});


async function create(ttl_seconds) {
  const res = await alice.req('POST', '/v1/sessions', { body: { ttl_seconds } });
  assert.equal(res.status, 201, `create answered ${res.status}: ${res.text}`);
  return res.json;
}

async function exec(id, code) {
  return alice.req('POST', `/v1/sessions/${id}/exec`, { body: { code } });
}

function assertNotFound(res) {
  assert.equal(res.status, 404, res.text);
  assert.equal(res.json?.error?.code, 'not_found');
}

/** Polls `probe` until it answers 404, for at most `ms`; returns the final answer. */
async function until404(probe, ms) {
  const deadline = Date.now() + ms;
  let res = await probe();
  while (res.status !== 404 && Date.now() < deadline) {
    await sleep(250);
    res = await probe();
  }
  return res;
}

async function listed(id) {
  const res = await alice.req('GET', '/v1/sessions');
  assert.equal(res.status, 200, res.text);
  return res.json.sessions.some((s) => s.id === id);
}

describe('a session with ttl_seconds 2', () => {
  test('works at first, then answers 404 on GET, exec and DELETE and leaves the list once idle', async () => {
    const forGet = await create(2);
    const forExec = await create(2);
    const forDelete = await create(2);
    assert.equal(forGet.ttl_seconds, 2);
    const createdAt = Date.parse(forGet.created_at);
    assert.ok(Math.abs(Date.parse(forGet.expires_at) - (createdAt + 2000)) <= 1000, 'expires_at = created_at + 2 s');

    const first = await exec(forExec.id, 'let remembered = 1; remembered');
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.value, 1);
    assert.ok(await listed(forGet.id), 'listed while alive');

    await sleep(3000);

    const got = await until404(() => alice.req('GET', `/v1/sessions/${forGet.id}`), 5000);
    assertNotFound(got);
    assertNotFound(await until404(() => exec(forExec.id, 'remembered'), 5000));
    assertNotFound(await until404(() => alice.req('DELETE', `/v1/sessions/${forDelete.id}`), 5000));

    const deadline = Date.now() + 5000;
    while ((await listed(forGet.id)) && Date.now() < deadline) await sleep(250);
    assert.ok(!(await listed(forGet.id)), 'expired session left the list');
    assert.ok(!(await listed(forExec.id)), 'expired session left the list');
    assert.ok(!(await listed(forDelete.id)), 'expired session left the list');
  });

  test('an expired session stays gone and its state does not come back', async () => {
    const session = await create(1);
    const first = await exec(session.id, 'globalThis.marker = "old"; 1');
    assert.equal(first.status, 200, first.text);
    await sleep(2500);
    assertNotFound(await until404(() => exec(session.id, 'typeof marker'), 5000));
    assertNotFound(await alice.req('GET', `/v1/sessions/${session.id}`));
  });

  test('is still alive before its ttl has passed', async () => {
    const session = await create(2);
    await sleep(500);
    const res = await alice.req('GET', `/v1/sessions/${session.id}`);
    assert.equal(res.status, 200, res.text);
  });
});

describe('activity extends expiry', () => {
  test('an exec at about 1 s pushes expires_at forward', async () => {
    const session = await create(3);
    const firstExpiry = Date.parse(session.expires_at);
    await sleep(1000);
    const out = await exec(session.id, '1');
    assert.equal(out.status, 200, out.text);

    const res = await alice.req('GET', `/v1/sessions/${session.id}`);
    assert.equal(res.status, 200, res.text);
    const expires = Date.parse(res.json.expires_at);
    assert.ok(expires >= firstExpiry + 800, `expires_at moved from ${session.expires_at} to ${res.json.expires_at}`);
    assert.ok(Date.parse(res.json.last_used_at) >= Date.parse(session.last_used_at) + 800, 'last_used_at moved forward');
    assert.ok(Math.abs(expires - (Date.parse(res.json.last_used_at) + 3000)) <= 1000, 'expires_at = last_used_at + ttl');
  });

  test('a session kept busy outlives its ttl, then expires once idle', async () => {
    const session = await create(2);
    const started = Date.now();
    await exec(session.id, 'let ticks = 0');
    // Execute every second for 4 s: twice the ttl in total, never more than 1 s idle.
    while (Date.now() - started < 4000) {
      await sleep(1000);
      const out = await exec(session.id, '++ticks');
      assert.equal(out.status, 200, `exec at ${Date.now() - started} ms answered ${out.status}: ${out.text}`);
    }
    const alive = await exec(session.id, 'ticks');
    assert.equal(alive.status, 200, alive.text);
    assert.ok(alive.json.value >= 3, 'the state survived the whole time');

    await sleep(3000);
    assertNotFound(await until404(() => alice.req('GET', `/v1/sessions/${session.id}`), 5000));
  });

  test('reading a session does not keep it alive (only executions do, as documented)', async () => {
    const session = await create(2);
    const started = Date.now();
    let last = null;
    while (Date.now() - started < 6000) {
      await sleep(500);
      last = await alice.req('GET', `/v1/sessions/${session.id}`);
      if (last.status === 404) break;
      assert.equal(last.status, 200, last.text);
      assert.equal(last.json.expires_at, session.expires_at, 'a read does not move the expiry');
    }
    assertNotFound(last);
  });

  test('a failed exec also counts as activity', async () => {
    const session = await create(3);
    await sleep(1800);
    const out = await exec(session.id, 'throw new Error("still activity")');
    assert.equal(out.status, 200, out.text);
    assert.equal(out.json.status, 'error');
    await sleep(1800);
    const res = await alice.req('GET', `/v1/sessions/${session.id}`);
    assert.equal(res.status, 200, `3.6 s after creation but 1.8 s after the exec: ${res.text}`);
  });
});
