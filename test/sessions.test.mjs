// Session lifecycle: create, list, read and delete, as a client sees them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, sleep, startSandbox } from './harness.mjs';

const SESSION_ID = /^ses_[a-z2-7]{26}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MISSING_ID = 'ses_aaaaaaaaaaaaaaaaaaaaaaaaaa';

let sandbox;
let alice;
let bob;

before(async () => {
  sandbox = await startSandbox();
  alice = await api(sandbox.url, sandbox.keys.alice);
  bob = await api(sandbox.url, sandbox.keys.bob);
});

after(async () => {
  await sandbox?.stop();
});

async function create(client, body) {
  const res = await client.req('POST', '/v1/sessions', body === undefined ? {} : { body });
  assert.equal(res.status, 201, `create answered ${res.status}: ${res.text}`);
  return res.json;
}

async function exec(client, id, code) {
  const res = await client.req('POST', `/v1/sessions/${id}/exec`, { body: { code } });
  assert.equal(res.status, 200, `exec answered ${res.status}: ${res.text}`);
  return res.json;
}

function assertNotFound(res) {
  assert.equal(res.status, 404, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(res.json?.error?.code, 'not_found');
  assert.equal(typeof res.json.error.message, 'string');
}

/** Checks every field of a session body and returns the parsed timestamps in ms. */
function assertSessionShape(session) {
  assert.deepEqual(
    Object.keys(session).sort(),
    [
      'created_at', 'env', 'execution_count', 'expires_at', 'files', 'id', 'last_used_at', 'limits',
      'metadata', 'network', 'ttl_seconds',
    ],
  );
  assert.ok(Array.isArray(session.env) && session.env.every((name) => typeof name === 'string'));
  assert.ok(Array.isArray(session.network.allow));
  assert.ok(Number.isInteger(session.files.count) && Number.isInteger(session.files.bytes));
  assert.match(session.id, SESSION_ID);
  for (const field of ['created_at', 'expires_at', 'last_used_at']) {
    assert.match(session[field], TIMESTAMP, `${field} is RFC 3339 UTC with milliseconds`);
    assert.ok(!Number.isNaN(Date.parse(session[field])), `${field} parses`);
  }
  assert.ok(Number.isInteger(session.ttl_seconds));
  assert.ok(Number.isInteger(session.execution_count));
  assert.equal(typeof session.metadata, 'object');
  assert.ok(session.metadata !== null && !Array.isArray(session.metadata));
  return {
    created: Date.parse(session.created_at),
    expires: Date.parse(session.expires_at),
    lastUsed: Date.parse(session.last_used_at),
  };
}

describe('creating a session', () => {
  test('with no body answers 201 with a fresh session and the defaults', async () => {
    const before = Date.now();
    const res = await alice.req('POST', '/v1/sessions');
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const session = res.json;
    const t = assertSessionShape(session);
    assert.equal(session.ttl_seconds, 3600);
    assert.deepEqual(session.metadata, {});
    assert.equal(session.execution_count, 0);
    assert.ok(Math.abs(t.created - before) < 60_000, 'created_at is now');
    assert.equal(t.lastUsed, t.created, 'a new session was last used when it was created');
    assert.ok(Math.abs(t.expires - (t.created + 3600 * 1000)) <= 1000, 'expires_at = created_at + ttl');
  });

  test('with an empty object body answers 201 with the defaults', async () => {
    const session = await create(alice, {});
    assertSessionShape(session);
    assert.equal(session.ttl_seconds, 3600);
    assert.deepEqual(session.metadata, {});
    assert.equal(session.execution_count, 0);
  });

  test('with ttl_seconds and metadata answers 201 and echoes them', async () => {
    const metadata = { owner: 'agent-7', purpose: 'data cleanup', 'emoji 🦀': 'ünïcödé ✓' };
    const session = await create(alice, { ttl_seconds: 120, metadata });
    const t = assertSessionShape(session);
    assert.equal(session.ttl_seconds, 120);
    assert.deepEqual(session.metadata, metadata);
    assert.equal(session.execution_count, 0);
    assert.ok(Math.abs(t.expires - (t.created + 120_000)) <= 1000, 'expires_at = created_at + ttl_seconds');
  });

  test('accepts ttl_seconds 1 and the maximum of 86400', async () => {
    assert.equal((await create(alice, { ttl_seconds: 1 })).ttl_seconds, 1);
    const longest = await create(alice, { ttl_seconds: 86400 });
    assert.equal(longest.ttl_seconds, 86400);
    const t = assertSessionShape(longest);
    assert.ok(Math.abs(t.expires - (t.created + 86_400_000)) <= 1000);
  });

  test('accepts metadata at its limits: 32 entries, 128-byte keys, 1024-byte values', async () => {
    const metadata = {};
    for (let i = 0; i < 31; i++) metadata[`k${i}`] = `v${i}`;
    metadata['k'.repeat(128)] = 'v'.repeat(1024);
    const session = await create(alice, { metadata });
    assert.deepEqual(session.metadata, metadata);
  });

  test('gives every session a different id', async () => {
    const ids = new Set();
    for (let i = 0; i < 5; i++) ids.add((await create(alice)).id);
    assert.equal(ids.size, 5);
    for (const id of ids) assert.match(id, SESSION_ID);
  });
});

describe('listing sessions', () => {
  test("shows the caller's own sessions, newest first, and none of another tenant's", async () => {
    const mine = [];
    for (let i = 0; i < 3; i++) {
      mine.push((await create(alice, { metadata: { n: String(i) } })).id);
      await sleep(20);
    }
    const bobs = (await create(bob)).id;

    const res = await alice.req('GET', '/v1/sessions');
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.ok(Array.isArray(res.json.sessions));
    for (const s of res.json.sessions) assertSessionShape(s);
    const listed = res.json.sessions.map((s) => s.id);
    for (const id of mine) assert.ok(listed.includes(id), `alice sees her session ${id}`);
    assert.ok(!listed.includes(bobs), "alice does not see bob's session");

    const positions = mine.map((id) => listed.indexOf(id));
    assert.deepEqual(positions, [...positions].sort((a, b) => b - a), 'newest first');
    const created = res.json.sessions.map((s) => Date.parse(s.created_at));
    for (let i = 1; i < created.length; i++) assert.ok(created[i - 1] >= created[i], 'sorted by created_at, newest first');

    const ofThird = res.json.sessions.find((s) => s.id === mine[2]);
    assert.deepEqual(ofThird.metadata, { n: '2' });

    const bobList = await bob.req('GET', '/v1/sessions');
    assert.equal(bobList.status, 200, bobList.text);
    const bobIds = bobList.json.sessions.map((s) => s.id);
    assert.ok(bobIds.includes(bobs), 'bob sees his session');
    for (const id of mine) assert.ok(!bobIds.includes(id), "bob does not see alice's sessions");
  });

  test('no longer shows a deleted session', async () => {
    const { id } = await create(alice);
    assert.equal((await alice.req('DELETE', `/v1/sessions/${id}`)).status, 200);
    const res = await alice.req('GET', '/v1/sessions');
    assert.equal(res.status, 200, res.text);
    assert.ok(!res.json.sessions.some((s) => s.id === id));
  });
});

describe('reading a session', () => {
  test('returns the session as it was created', async () => {
    const created = await create(alice, { ttl_seconds: 600, metadata: { team: 'red' } });
    const res = await alice.req('GET', `/v1/sessions/${created.id}`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assertSessionShape(res.json);
    assert.equal(res.json.id, created.id);
    assert.equal(res.json.created_at, created.created_at);
    assert.equal(res.json.ttl_seconds, 600);
    assert.deepEqual(res.json.metadata, { team: 'red' });
    assert.equal(res.json.execution_count, 0);
  });

  test('shows the execution count and a later last_used_at after executions', async () => {
    const created = await create(alice);
    await sleep(30);
    await exec(alice, created.id, '1');
    await exec(alice, created.id, '2');
    await exec(alice, created.id, 'throw new Error("still counts")');
    const res = await alice.req('GET', `/v1/sessions/${created.id}`);
    assert.equal(res.status, 200, res.text);
    const t = assertSessionShape(res.json);
    assert.equal(res.json.execution_count, 3);
    assert.ok(t.lastUsed > Date.parse(created.last_used_at), 'last_used_at moved forward');
    assert.ok(t.expires > Date.parse(created.expires_at), 'expires_at moved forward');
    assert.ok(Math.abs(t.expires - (t.lastUsed + created.ttl_seconds * 1000)) <= 1000, 'expires_at = last_used_at + ttl');
  });

  test('returns 404 not_found for an id that does not exist', async () => {
    assertNotFound(await alice.req('GET', `/v1/sessions/${MISSING_ID}`));
  });

  test('returns 404 not_found for a malformed id', async () => {
    assertNotFound(await alice.req('GET', '/v1/sessions/not-a-session'));
    assertNotFound(await alice.req('GET', '/v1/sessions/ses_'));
    assertNotFound(await alice.req('GET', `/v1/sessions/${MISSING_ID.toUpperCase()}`));
  });
});

describe('deleting a session', () => {
  test('answers 200 with the id and deleted: true', async () => {
    const { id } = await create(alice);
    const res = await alice.req('DELETE', `/v1/sessions/${id}`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(res.json, { id, deleted: true });
  });

  test('makes every route on that id answer 404', async () => {
    const { id } = await create(alice);
    await exec(alice, id, 'globalThis.kept = 1');
    assert.equal((await alice.req('DELETE', `/v1/sessions/${id}`)).status, 200);
    assertNotFound(await alice.req('GET', `/v1/sessions/${id}`));
    assertNotFound(await alice.req('POST', `/v1/sessions/${id}/exec`, { body: { code: 'kept' } }));
    assertNotFound(await alice.req('DELETE', `/v1/sessions/${id}`));
    // And it stays gone: the exec above must not have brought it back.
    assertNotFound(await alice.req('GET', `/v1/sessions/${id}`));
  });

  test('returns 404 not_found for an id that does not exist', async () => {
    assertNotFound(await alice.req('DELETE', `/v1/sessions/${MISSING_ID}`));
  });

  test('leaves the tenant\'s other sessions working', async () => {
    const keep = await create(alice);
    const drop = await create(alice);
    await exec(alice, keep.id, 'let survivor = "yes"');
    assert.equal((await alice.req('DELETE', `/v1/sessions/${drop.id}`)).status, 200);
    const out = await exec(alice, keep.id, 'survivor');
    assert.equal(out.status, 'ok');
    assert.equal(out.value, 'yes');
  });
});

describe('session isolation', () => {
  test('sessions of one tenant do not share state', async () => {
    const one = await create(alice);
    const two = await create(alice);
    await exec(alice, one.id, 'let shared = 1; globalThis.g = 2');
    const out = await exec(alice, two.id, '[typeof shared, typeof g]');
    assert.equal(out.status, 'ok', JSON.stringify(out.error));
    assert.deepEqual(out.value, ['undefined', 'undefined']);
  });

  test('each session counts its own executions', async () => {
    const one = await create(alice);
    const two = await create(alice);
    assert.equal((await exec(alice, one.id, '1')).execution_count, 1);
    assert.equal((await exec(alice, one.id, '1')).execution_count, 2);
    assert.equal((await exec(alice, two.id, '1')).execution_count, 1);
  });
});
