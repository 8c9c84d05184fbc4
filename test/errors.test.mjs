// Error answers: every bad request gets a 4xx with {"error": {"code", "message"}}, never a 5xx.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startSandbox } from './harness.mjs';

const MiB = 1024 * 1024;

let sandbox;
let alice;
let id;

before(async () => {
  sandbox = await startSandbox();
  alice = await api(sandbox.url, sandbox.keys.alice);
  const res = await alice.req('POST', '/v1/sessions', { body: {} });
  assert.equal(res.status, 201, res.text);
  id = res.json.id;
});

after(async () => {
  await sandbox?.stop();
});

function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text.slice(0, 500)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(res.json), ['error']);
  assert.deepEqual(Object.keys(res.json.error).sort(), ['code', 'message']);
  assert.equal(res.json.error.code, code);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0, 'the message is not empty');
}

const JSON_TYPE = { 'content-type': 'application/json' };
const createSession = (opts) => alice.req('POST', '/v1/sessions', opts);
const execIn = (opts) => alice.req('POST', `/v1/sessions/${id}/exec`, opts);
/** Options sending `value` encoded as JSON, exactly, even when it is null or not an object. */
const asJson = (value) => ({ raw: JSON.stringify(value), headers: JSON_TYPE });

describe('malformed JSON', () => {
  for (const raw of ['{', '{"ttl_seconds": }', "{'ttl_seconds': 5}", 'not json', '{"a":1}}', '\u0000']) {
    test(`creating a session with body ${JSON.stringify(raw)} answers 400 invalid_json`, async () => {
      assertError(await createSession({ raw, headers: JSON_TYPE }), 400, 'invalid_json');
    });
  }

  test('exec with a truncated JSON body answers 400 invalid_json', async () => {
    assertError(await execIn({ raw: '{"code": "1+', headers: JSON_TYPE }), 400, 'invalid_json');
  });

  test('a body that is not UTF-8 answers 400 invalid_json', async () => {
    const raw = Buffer.from([0x7b, 0x22, 0x63, 0x6f, 0x64, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    assertError(await execIn({ raw, headers: JSON_TYPE }), 400, 'invalid_json');
  });
});

describe('invalid requests when creating a session', () => {
  const cases = [
    ['ttl_seconds is a string', { ttl_seconds: 'x' }],
    ['ttl_seconds is 0', { ttl_seconds: 0 }],
    ['ttl_seconds is negative', { ttl_seconds: -5 }],
    ['ttl_seconds is a fraction', { ttl_seconds: 1.5 }],
    ['ttl_seconds is 1e12', { ttl_seconds: 1e12 }],
    ['ttl_seconds is above the maximum', { ttl_seconds: 86401 }],
    ['ttl_seconds is null', { ttl_seconds: null }],
    ['ttl_seconds is a numeric string', { ttl_seconds: '60' }],
    ['metadata has a number value', { metadata: { a: 1 } }],
    ['metadata has a nested object value', { metadata: { a: { b: 'c' } } }],
    ['metadata has a null value', { metadata: { a: null } }],
    ['metadata is an array', { metadata: ['a'] }],
    ['metadata is a string', { metadata: 'a=b' }],
    ['metadata has 33 entries', { metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }],
    ['a metadata key is empty', { metadata: { '': 'v' } }],
    ['a metadata key is 129 bytes', { metadata: { ['k'.repeat(129)]: 'v' } }],
    ['a metadata key is 129 bytes of multi-byte characters', { metadata: { ['€'.repeat(43)]: 'v' } }],
    ['a metadata value is 1025 bytes', { metadata: { k: 'v'.repeat(1025) } }],
    ['a metadata value is over 1024 bytes of multi-byte characters', { metadata: { k: 'é'.repeat(513) } }],
    ['there is an unknown field', { ttl_seconds: 60, color: 'blue' }],
    ['a field name has the wrong case', { TTL_SECONDS: 60 }],
    ['the body is an array', []],
    ['the body is a string', 'ttl'],
    ['the body is a number', 42],
    ['the body is null', null],
  ];
  for (const [what, body] of cases) {
    test(`answers 400 invalid_request when ${what}`, async () => {
      assertError(await createSession(asJson(body)), 400, 'invalid_request');
    });
  }

  test('the message names the offending field', async () => {
    const res = await createSession({ body: { ttl_seconds: 'x' } });
    assertError(res, 400, 'invalid_request');
    assert.match(res.json.error.message, /ttl_seconds/);
  });

  test('a rejected create makes no session', async () => {
    const before = (await alice.req('GET', '/v1/sessions')).json.sessions.length;
    await createSession({ body: { ttl_seconds: 0 } });
    await createSession({ body: { bogus: true } });
    const after = (await alice.req('GET', '/v1/sessions')).json.sessions.length;
    assert.equal(after, before);
  });
});

describe('invalid requests to exec', () => {
  const cases = [
    ['code is missing', {}],
    ['code is a number', { code: 5 }],
    ['code is null', { code: null }],
    ['code is an array', { code: ['1'] }],
    ['code is an object', { code: { src: '1' } }],
    ['there is an unknown field', { code: '1', timeout: 5 }],
    ['the body is an array', [{ code: '1' }]],
    ['the body is a string', '1+1'],
    ['the body is null', null],
  ];
  for (const [what, body] of cases) {
    test(`answers 400 invalid_request when ${what}`, async () => {
      assertError(await execIn(asJson(body)), 400, 'invalid_request');
    });
  }

  test('answers 400 invalid_request for an empty body', async () => {
    assertError(await execIn({ raw: '', headers: JSON_TYPE }), 400, 'invalid_request');
  });

  test('the message names the offending field', async () => {
    const res = await execIn({ body: { code: 5 } });
    assertError(res, 400, 'invalid_request');
    assert.match(res.json.error.message, /code/);
  });

  test('a rejected exec does not count as an execution', async () => {
    const before = (await alice.req('GET', `/v1/sessions/${id}`)).json.execution_count;
    await execIn({ body: { code: 5 } });
    await execIn({ raw: '{', headers: JSON_TYPE });
    const after = (await alice.req('GET', `/v1/sessions/${id}`)).json.execution_count;
    assert.equal(after, before);
  });
});

describe('body size', () => {
  test('a create body over 1 MiB answers 413 payload_too_large', async () => {
    const body = { metadata: { k: 'v' }, padding: 'x'.repeat(MiB) };
    assertError(await createSession({ body }), 413, 'payload_too_large');
  });

  test('an exec body over 1 MiB answers 413 payload_too_large', async () => {
    const code = `"${'x'.repeat(MiB)}".length`;
    assertError(await execIn({ body: { code } }), 413, 'payload_too_large');
  });

  test('an exec body of 1 MiB + 1 byte answers 413', async () => {
    const prefix = '{"code":"1//';
    const suffix = '"}';
    const raw = prefix + 'x'.repeat(MiB + 1 - prefix.length - suffix.length) + suffix;
    assert.equal(Buffer.byteLength(raw), MiB + 1);
    assertError(await execIn({ raw, headers: JSON_TYPE }), 413, 'payload_too_large');
  });

  test('an exec body just under 1 MiB is accepted', async () => {
    const prefix = '{"code":"1//';
    const suffix = '"}';
    const raw = prefix + 'x'.repeat(MiB - 1024 - prefix.length - suffix.length) + suffix;
    const res = await execIn({ raw, headers: JSON_TYPE });
    assert.equal(res.status, 200, res.text.slice(0, 500));
    assert.equal(res.json.status, 'ok', JSON.stringify(res.json.error));
    assert.equal(res.json.value, 1);
  });

  test('a body over 1 MiB sent in chunks without a content-length answers 413', async () => {
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"code":"1//'));
        for (let i = 0; i < 5; i++) controller.enqueue(chunk);
        controller.enqueue(new TextEncoder().encode('"}'));
        controller.close();
      },
    });
    const res = await fetch(`${sandbox.url}/v1/sessions/${id}/exec`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.keys.alice}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    });
    const text = await res.text();
    assert.equal(res.status, 413, text.slice(0, 500));
    assert.equal(JSON.parse(text).error.code, 'payload_too_large');
  });
});

describe('content type', () => {
  test('text/plain with a body answers 415 unsupported_media_type', async () => {
    const res = await createSession({ raw: '{"ttl_seconds": 60}', headers: { 'content-type': 'text/plain' } });
    assertError(res, 415, 'unsupported_media_type');
  });

  test('exec with text/plain answers 415 unsupported_media_type', async () => {
    const res = await execIn({ raw: '{"code": "1"}', headers: { 'content-type': 'text/plain;charset=UTF-8' } });
    assertError(res, 415, 'unsupported_media_type');
  });

  test('form-encoded bodies answer 415', async () => {
    const res = await execIn({ raw: 'code=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assertError(res, 415, 'unsupported_media_type');
  });

  test('a body without a content-type answers 415', async () => {
    const res = await execIn({ raw: Buffer.from('{"code": "1"}') });
    assertError(res, 415, 'unsupported_media_type');
  });

  test('application/json with a charset parameter is accepted', async () => {
    const res = await execIn({ raw: '{"code": "1"}', headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.equal(res.status, 200, res.text);
  });

  test('the media type is matched case-insensitively', async () => {
    const res = await execIn({ raw: '{"code": "1"}', headers: { 'content-type': 'Application/JSON' } });
    assert.equal(res.status, 200, res.text);
  });

  test('an empty body with text/plain still creates a session with defaults', async () => {
    const res = await createSession({ raw: '', headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.ttl_seconds, 3600);
  });
});

describe('unknown routes', () => {
  for (const path of ['/', '/nope', '/v1', '/v1/nope', '/v2/sessions', `/v1/sessions/${'ses_aaaaaaaaaaaaaaaaaaaaaaaaaa'}/nope`, '/v1/sessions/x/exec/more', '/healthz/extra']) {
    test(`GET ${path} answers 404 not_found`, async () => {
      assertError(await alice.req('GET', path), 404, 'not_found');
    });
  }

  test('POST to an unknown route answers 404 not_found', async () => {
    assertError(await alice.req('POST', '/v1/execute', { body: { code: '1' } }), 404, 'not_found');
  });
});

describe('wrong methods', () => {
  function assertAllow(res, methods) {
    assertError(res, 405, 'method_not_allowed');
    const allow = res.headers.get('allow');
    assert.ok(allow, 'has an Allow header');
    const listed = allow.split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
    for (const m of methods) assert.ok(listed.includes(m), `Allow "${allow}" lists ${m}`);
    for (const m of listed) assert.ok(methods.includes(m) || m === 'HEAD' || m === 'OPTIONS', `Allow "${allow}" lists only supported methods`);
  }

  test('PUT /v1/sessions answers 405 with Allow: GET, POST', async () => {
    assertAllow(await alice.req('PUT', '/v1/sessions', { body: {} }), ['GET', 'POST']);
  });

  test('DELETE /v1/sessions answers 405 with Allow: GET, POST', async () => {
    assertAllow(await alice.req('DELETE', '/v1/sessions'), ['GET', 'POST']);
  });

  test('GET /v1/sessions/{id}/exec answers 405 with Allow: POST', async () => {
    assertAllow(await alice.req('GET', `/v1/sessions/${id}/exec`), ['POST']);
  });

  test('PUT /v1/sessions/{id}/exec answers 405 with Allow: POST', async () => {
    assertAllow(await alice.req('PUT', `/v1/sessions/${id}/exec`, { body: { code: '1' } }), ['POST']);
  });

  test('PATCH /v1/sessions/{id} answers 405 with Allow: GET, DELETE', async () => {
    assertAllow(await alice.req('PATCH', `/v1/sessions/${id}`, { body: {} }), ['GET', 'DELETE']);
  });

  test('POST /v1/sessions/{id} answers 405 with Allow: GET, DELETE', async () => {
    assertAllow(await alice.req('POST', `/v1/sessions/${id}`, { body: {} }), ['GET', 'DELETE']);
  });

  test('POST /healthz answers 405 with Allow: GET', async () => {
    assertAllow(await alice.req('POST', '/healthz', { body: {} }), ['GET']);
  });
});

describe('error answers in general', () => {
  test('odd but plausible requests never answer 5xx', async () => {
    const tries = [
      ['POST', '/v1/sessions', { raw: '{"ttl_seconds": 1e400}', headers: JSON_TYPE }],
      ['POST', '/v1/sessions', { raw: '{"ttl_seconds": 18446744073709551617}', headers: JSON_TYPE }],
      ['POST', '/v1/sessions', { raw: '{"ttl_seconds": 60, "ttl_seconds": 61}', headers: JSON_TYPE }],
      ['POST', '/v1/sessions', { raw: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[', headers: JSON_TYPE }],
      ['POST', '/v1/sessions', { raw: '['.repeat(100_000), headers: JSON_TYPE }],
      ['POST', `/v1/sessions/${id}/exec`, { raw: `{"code": ${'['.repeat(100_000)}`, headers: JSON_TYPE }],
      ['POST', `/v1/sessions/${id}/exec`, { raw: '{"code": "\\ud800"}', headers: JSON_TYPE }],
      ['POST', `/v1/sessions/${id}/exec`, { raw: '\ufeff{"code": "1"}', headers: JSON_TYPE }],
      ['GET', '/v1/sessions/%00', {}],
      ['GET', `/v1/sessions/${'a'.repeat(5000)}`, {}],
      ['GET', '/v1/sessions/ses_%2e%2e', {}],
      ['GET', '/v1/sessions?limit=abc', {}],
      ['OPTIONS', '/v1/sessions', {}],
      ['HEAD', '/v1/sessions', {}],
    ];
    for (const [method, path, opts] of tries) {
      const res = await alice.req(method, path, opts);
      assert.ok(res.status < 500, `${method} ${path} ${String(opts.raw ?? '').slice(0, 40)} answered ${res.status}: ${res.text.slice(0, 300)}`);
      if (res.status >= 400 && method !== 'HEAD') {
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${method} ${path}`);
        assert.equal(typeof res.json?.error?.code, 'string', `${method} ${path}: ${res.text.slice(0, 300)}`);
        assert.equal(typeof res.json.error.message, 'string');
      }
    }
  });

  test('the session still works after all the bad requests', async () => {
    const res = await execIn({ body: { code: '40 + 2' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.value, 42);
  });
});
