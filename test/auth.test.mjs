// Authentication with bearer keys, and tenant isolation: another tenant's session must look
// exactly like one that does not exist.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startSandbox } from './harness.mjs';

const MISSING_ID = 'ses_aaaaaaaaaaaaaaaaaaaaaaaaaa';

let sandbox;
let alice;
let bob;
let anonymous;

before(async () => {
  sandbox = await startSandbox();
  alice = await api(sandbox.url, sandbox.keys.alice);
  bob = await api(sandbox.url, sandbox.keys.bob);
  anonymous = await api(sandbox.url);
});

after(async () => {
  await sandbox?.stop();
});

async function newSession(client = alice) {
  const res = await client.req('POST', '/v1/sessions', { body: {} });
  assert.equal(res.status, 201, `create answered ${res.status}: ${res.text}`);
  return res.json.id;
}

function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(res.json?.error?.code, code);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0);
}

/** Every authenticated route, for a session id. */
function routes(id) {
  return [
    ['POST', '/v1/sessions', { body: {} }],
    ['GET', '/v1/sessions', {}],
    ['GET', `/v1/sessions/${id}`, {}],
    ['DELETE', `/v1/sessions/${id}`, {}],
    ['POST', `/v1/sessions/${id}/exec`, { body: { code: '1' } }],
  ];
}

describe('authentication', () => {
  let id;
  before(async () => {
    id = await newSession();
  });

  test('GET /healthz needs no key', async () => {
    const res = await anonymous.req('GET', '/healthz');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { status: 'ok' });
  });

  test('a request without an Authorization header answers 401 unauthorized on every route', async () => {
    for (const [method, path, opts] of routes(id)) {
      const res = await anonymous.req(method, path, opts);
      assertError(res, 401, 'unauthorized');
    }
  });

  test('a wrong key answers 401 unauthorized on every route', async () => {
    for (const [method, path, opts] of routes(id)) {
      const res = await anonymous.req(method, path, {
        ...opts,
        headers: { authorization: 'Bearer sk_this_key_does_not_exist_0000' },
      });
      assertError(res, 401, 'unauthorized');
    }
  });

  test('a key that extends a valid key by one character answers 401', async () => {
    const res = await anonymous.req('GET', '/v1/sessions', {
      headers: { authorization: `Bearer ${sandbox.keys.alice}x` },
    });
    assertError(res, 401, 'unauthorized');
  });

  test('a prefix of a valid key answers 401', async () => {
    const res = await anonymous.req('GET', '/v1/sessions', {
      headers: { authorization: `Bearer ${sandbox.keys.alice.slice(0, -1)}` },
    });
    assertError(res, 401, 'unauthorized');
  });

  test('the Basic scheme answers 401 even with a valid key inside', async () => {
    for (const value of [
      `Basic ${Buffer.from(`alice:${sandbox.keys.alice}`).toString('base64')}`,
      `Basic ${sandbox.keys.alice}`,
    ]) {
      const res = await anonymous.req('GET', '/v1/sessions', { headers: { authorization: value } });
      assertError(res, 401, 'unauthorized');
    }
  });

  test('a malformed Authorization header answers 401', async () => {
    for (const value of ['Bearer', 'Bearer ', sandbox.keys.alice, `Token ${sandbox.keys.alice}`, 'alice=' + sandbox.keys.alice]) {
      const res = await anonymous.req('GET', '/v1/sessions', { headers: { authorization: value } });
      assertError(res, 401, 'unauthorized');
    }
  });

  test('the tenant=key pair itself is not a key', async () => {
    const res = await anonymous.req('GET', '/v1/sessions', {
      headers: { authorization: `Bearer alice=${sandbox.keys.alice}` },
    });
    assertError(res, 401, 'unauthorized');
  });

  test('a valid key answers 200', async () => {
    const res = await anonymous.req('GET', '/v1/sessions', {
      headers: { authorization: `Bearer ${sandbox.keys.alice}` },
    });
    assert.equal(res.status, 200, res.text);
  });

  test('an unauthenticated exec does not run the code', async () => {
    const res = await anonymous.req('POST', `/v1/sessions/${id}/exec`, { body: { code: 'globalThis.anonRan = true' } });
    assertError(res, 401, 'unauthorized');
    const check = await alice.req('POST', `/v1/sessions/${id}/exec`, { body: { code: 'typeof anonRan' } });
    assert.equal(check.status, 200, check.text);
    assert.equal(check.json.value, 'undefined');
  });

  test('an unauthenticated DELETE does not delete the session', async () => {
    const res = await anonymous.req('DELETE', `/v1/sessions/${id}`);
    assertError(res, 401, 'unauthorized');
    assert.equal((await alice.req('GET', `/v1/sessions/${id}`)).status, 200);
  });
});

describe("another tenant's session", () => {
  let id;
  before(async () => {
    id = await newSession(alice);
    const setup = await alice.req('POST', `/v1/sessions/${id}/exec`, { body: { code: 'let secret = "alice-only"; 1' } });
    assert.equal(setup.status, 200, setup.text);
  });

  /** The answer with the session id blanked, so the body for two ids can be compared. */
  function normalized(res, sessionId) {
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      body: JSON.parse(res.text.split(sessionId).join('<id>')),
    };
  }

  async function assertLooksMissing(method, suffix, opts = {}) {
    const theirs = await bob.req(method, `/v1/sessions/${id}${suffix}`, opts);
    const missing = await bob.req(method, `/v1/sessions/${MISSING_ID}${suffix}`, opts);
    assertError(theirs, 404, 'not_found');
    assertError(missing, 404, 'not_found');
    assert.deepEqual(normalized(theirs, id), normalized(missing, MISSING_ID), 'same answer as for a session that does not exist');
  }

  test("GET returns 404 for another tenant's session, the same as for a nonexistent id", async () => {
    await assertLooksMissing('GET', '');
  });

  test("exec returns 404 for another tenant's session, the same as for a nonexistent id", async () => {
    await assertLooksMissing('POST', '/exec', { body: { code: 'globalThis.bobWasHere = true; secret' } });
  });

  test("DELETE returns 404 for another tenant's session, the same as for a nonexistent id", async () => {
    await assertLooksMissing('DELETE', '');
  });

  test("another tenant's session does not show in the list", async () => {
    const res = await bob.req('GET', '/v1/sessions');
    assert.equal(res.status, 200, res.text);
    assert.ok(!res.json.sessions.some((s) => s.id === id));
  });

  test("the owner's session is unaffected after another tenant's attempts", async () => {
    await bob.req('POST', `/v1/sessions/${id}/exec`, { body: { code: 'globalThis.bobWasHere = true' } });
    await bob.req('DELETE', `/v1/sessions/${id}`);

    const got = await alice.req('GET', `/v1/sessions/${id}`);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.json.execution_count, 1, "bob's attempts did not count as executions");

    const out = await alice.req('POST', `/v1/sessions/${id}/exec`, { body: { code: '[secret, typeof bobWasHere]' } });
    assert.equal(out.status, 200, out.text);
    assert.equal(out.json.status, 'ok', JSON.stringify(out.json.error));
    assert.deepEqual(out.json.value, ['alice-only', 'undefined']);
    assert.equal(out.json.execution_count, 2);

    const list = await alice.req('GET', '/v1/sessions');
    assert.ok(list.json.sessions.some((s) => s.id === id), 'still in the owner\'s list');
  });

  test('the owner can still delete it afterwards', async () => {
    const res = await alice.req('DELETE', `/v1/sessions/${id}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { id, deleted: true });
  });
});
