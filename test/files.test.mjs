// Session files over HTTP (R2-backed): PUT/GET/HEAD/DELETE, ranges, listing, quotas, path rules,
// tenancy, counters, lifetime across restarts and session deletion.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { api, blobCount, FETCH_TIMEOUT_MS, sleep, startSandbox } from './harness.mjs';

let sandbox;

before(async () => {
  sandbox = await startSandbox();
});

after(async () => {
  await sandbox?.stop();
});

const client = (who = 'alice') => api(sandbox.url, sandbox.keys[who]);
const filesUrl = (id, path = '') => `/v1/sessions/${id}/files/${path}`;

async function newSession(body = {}) {
  const res = await (await client()).req('POST', '/v1/sessions', { body });
  assert.equal(res.status, 201, `create answered ${res.status}: ${res.text}`);
  return res.json.id;
}

/** A request whose body and answer are bytes. Answers { status, headers, bytes, json }. */
async function bin(method, urlPath, { body, headers = {}, who = 'alice' } = {}) {
  const h = new Headers(headers);
  h.set('authorization', `Bearer ${sandbox.keys[who]}`);
  const res = await fetch(new URL(urlPath, sandbox.url), {
    method,
    headers: h,
    body,
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, bytes, json, text: bytes.toString('utf8') };
}

/**
 * A request through node:http with the request-target sent exactly as given (no URL
 * normalisation of `..`, `.`, `%2e`). `chunked` sends the body without content-length.
 */
function raw(method, rawPath, { body, headers = {}, chunked = false, who = 'alice' } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: sandbox.port,
        method,
        path: rawPath,
        agent: false, // a connection of its own
        headers: { authorization: `Bearer ${sandbox.keys[who]}`, ...headers },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          let json;
          try {
            json = JSON.parse(bytes.toString('utf8'));
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, bytes, json, text: bytes.toString('utf8') });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(FETCH_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    if (chunked) {
      req.write(body);
      req.end();
    } else {
      req.end(body);
    }
  });
}

async function put(id, path, body, headers = {}) {
  const res = await bin('PUT', filesUrl(id, path), { body, headers });
  assert.ok(res.status === 201 || res.status === 200, `PUT ${path} answered ${res.status}: ${res.text}`);
  return res;
}

async function session(id, who = 'alice') {
  const res = await (await client(who)).req('GET', `/v1/sessions/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.equal(res.json?.error?.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
}

/** Bytes 0, 1, ..., n-1 (mod 256). */
const seq = (n) => Buffer.from(Array.from({ length: n }, (_, i) => i % 256));

describe('put and get', () => {
  test('round-trips every byte value and random binary exactly', async () => {
    const id = await newSession();
    const all = seq(256);
    const rnd = randomBytes(5000);
    await put(id, 'bin/all.bin', all);
    await put(id, 'bin/random.bin', rnd);
    const a = await bin('GET', filesUrl(id, 'bin/all.bin'));
    assert.equal(a.status, 200);
    assert.ok(a.bytes.equals(all), 'all 256 byte values come back unchanged');
    const r = await bin('GET', filesUrl(id, 'bin/random.bin'));
    assert.equal(r.status, 200);
    assert.ok(r.bytes.equals(rnd), '5000 random bytes come back unchanged');
    const empty = await put(id, 'empty', Buffer.alloc(0));
    assert.equal(empty.json.size, 0);
    const e = await bin('GET', filesUrl(id, 'empty'));
    assert.equal(e.status, 200);
    assert.equal(e.bytes.length, 0);
  });

  test('answers 201 then 200 on replace, with path, size, content_type, etag and modified_at', async () => {
    const id = await newSession();
    const first = await bin('PUT', filesUrl(id, 'doc.txt'), { body: 'hello', headers: { 'content-type': 'text/plain' } });
    assert.equal(first.status, 201, first.text);
    assert.deepEqual(Object.keys(first.json).sort(), ['content_type', 'etag', 'modified_at', 'path', 'size']);
    assert.equal(first.json.path, 'doc.txt');
    assert.equal(first.json.size, 5);
    assert.equal(first.json.content_type, 'text/plain');
    assert.equal(typeof first.json.etag, 'string');
    assert.ok(first.json.etag.length > 0 && !first.json.etag.includes('"'), 'etag without quotes');
    assert.ok(!Number.isNaN(Date.parse(first.json.modified_at)), 'modified_at parses');
    assert.match(first.json.modified_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
    const second = await bin('PUT', filesUrl(id, 'doc.txt'), { body: 'hello again', headers: { 'content-type': 'text/plain' } });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.json.size, 11);
    assert.notEqual(second.json.etag, first.json.etag, 'new content, new etag');
    const got = await bin('GET', filesUrl(id, 'doc.txt'));
    assert.equal(got.text, 'hello again');
  });

  test('keeps the content type, defaulting to application/octet-stream', async () => {
    const id = await newSession();
    await put(id, 'pic.png', seq(10), { 'content-type': 'image/png' });
    await put(id, 'blob', seq(10));
    assert.equal((await bin('GET', filesUrl(id, 'pic.png'))).headers.get('content-type'), 'image/png');
    const blob = await bin('GET', filesUrl(id, 'blob'));
    assert.equal(blob.headers.get('content-type'), 'application/octet-stream');
  });

  test('GET has etag, last-modified, content-length and accept-ranges; HEAD the same without a body', async () => {
    const id = await newSession();
    const { json: meta } = await put(id, 'h.bin', seq(300));
    const got = await bin('GET', filesUrl(id, 'h.bin'));
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('etag'), `"${meta.etag}"`);
    assert.equal(got.headers.get('content-length'), '300');
    assert.equal(got.headers.get('accept-ranges'), 'bytes');
    const lm = got.headers.get('last-modified');
    assert.ok(lm && !Number.isNaN(Date.parse(lm)), `last-modified is an HTTP date: ${lm}`);
    assert.ok(Math.abs(Date.parse(lm) - Date.parse(meta.modified_at)) < 2000, 'last-modified matches modified_at');

    const head = await bin('HEAD', filesUrl(id, 'h.bin'));
    assert.equal(head.status, 200);
    assert.equal(head.bytes.length, 0);
    assert.equal(head.headers.get('content-length'), '300');
    assert.equal(head.headers.get('etag'), `"${meta.etag}"`);
    assert.equal(head.headers.get('content-type'), 'application/octet-stream');
    const missing = await bin('HEAD', filesUrl(id, 'nope'));
    assert.equal(missing.status, 404);
    assert.equal(missing.bytes.length, 0);
  });

  test('a missing file is 404 file_not_found', async () => {
    const id = await newSession();
    assertError(await bin('GET', filesUrl(id, 'missing.txt')), 404, 'file_not_found');
  });

  test('If-None-Match with the etag answers 304, another etag 200', async () => {
    const id = await newSession();
    const { json: meta } = await put(id, 'c.txt', 'cached');
    const hit = await bin('GET', filesUrl(id, 'c.txt'), { headers: { 'if-none-match': `"${meta.etag}"` } });
    assert.equal(hit.status, 304);
    assert.equal(hit.bytes.length, 0);
    const miss = await bin('GET', filesUrl(id, 'c.txt'), { headers: { 'if-none-match': '"something-else"' } });
    assert.equal(miss.status, 200);
    assert.equal(miss.text, 'cached');
  });

  test('missing content-length answers 411 length_required and stores nothing', async () => {
    const id = await newSession();
    const res = await raw('PUT', filesUrl(id, 'chunked.txt'), { body: 'streamed body', chunked: true });
    assert.equal(res.status, 411, res.text);
    assert.equal(res.json?.error?.code, 'length_required');
    assertError(await bin('GET', filesUrl(id, 'chunked.txt')), 404, 'file_not_found');
  });

  test('a PUT refused before its body is read does not stall the next request on the connection', async () => {
    // fetch() reuses keep-alive connections; a refusal must leave the connection usable
    const id = await newSession({ limits: { file_bytes: 100 } });
    for (let i = 0; i < 12; i++) {
      const refused = await bin('PUT', filesUrl(id, 'big.bin'), { body: i % 2 ? 'x'.repeat(101) : seq(101) });
      assert.equal(refused.status, 413);
      const next = await bin('GET', '/healthz').catch((e) => ({ status: e.name }));
      assert.equal(next.status, 200, `request ${i + 1} after a refused PUT`);
    }
  });
});

describe('ranges', () => {
  let id;
  const body = seq(100);
  before(async () => {
    id = await newSession();
    await put(id, 'r.bin', body);
  });
  const range = (value) => bin('GET', filesUrl(id, 'r.bin'), { headers: { range: value } });

  test('bytes=a-b, a- and -n answer 206 with content-range', async () => {
    for (const [value, start, end] of [
      ['bytes=10-19', 10, 19],
      ['bytes=0-0', 0, 0],
      ['bytes=90-', 90, 99],
      ['bytes=-5', 95, 99],
    ]) {
      const res = await range(value);
      assert.equal(res.status, 206, `${value}: ${res.text}`);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/100`, value);
      assert.ok(res.bytes.equals(body.subarray(start, end + 1)), `${value} body`);
      assert.equal(res.headers.get('content-length'), String(end - start + 1), value);
    }
  });

  test('an unsatisfiable range answers 416 with bytes */size', async () => {
    for (const value of ['bytes=100-', 'bytes=200-300']) {
      const res = await range(value);
      assert.equal(res.status, 416, `${value}: ${res.text}`);
      assert.equal(res.headers.get('content-range'), 'bytes */100');
      assert.equal(res.json?.error?.code, 'range_not_satisfiable');
    }
  });

  test('multi-range and malformed headers are ignored (200, full body)', async () => {
    for (const value of ['bytes=0-1,5-6', 'bytes=abc', 'pages=1-2']) {
      const res = await range(value);
      assert.equal(res.status, 200, `${value}: ${res.text}`);
      assert.ok(res.bytes.equals(body), `${value}: full body`);
    }
  });
});

describe('delete', () => {
  test('answers {path, deleted: true}, then 404 for GET and DELETE', async () => {
    const id = await newSession();
    await put(id, 'd/x.txt', 'bye');
    const del = await bin('DELETE', filesUrl(id, 'd/x.txt'));
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.json, { path: 'd/x.txt', deleted: true });
    assertError(await bin('GET', filesUrl(id, 'd/x.txt')), 404, 'file_not_found');
    assertError(await bin('DELETE', filesUrl(id, 'd/x.txt')), 404, 'file_not_found');
  });
});

describe('listing', () => {
  test('pages through a prefix in byte order, each path once, cursor null at the end', async () => {
    const id = await newSession();
    const names = ['list/b', 'list/B', 'list/_', 'list/a/1', 'list/a/2', 'list/z', 'list/Zz'];
    for (const [i, name] of names.entries()) await put(id, name, seq(i + 1));
    await put(id, 'other/x', 'x');
    await put(id, 'lis', 'not under list/');
    const expected = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

    const c = await client();
    const seen = [];
    const sizes = [];
    let cursor = null;
    for (let page = 0; page < 10; page++) {
      const q = new URLSearchParams({ prefix: 'list/', limit: '3' });
      if (cursor) q.set('cursor', cursor);
      const res = await c.req('GET', `/v1/sessions/${id}/files?${q}`);
      assert.equal(res.status, 200, res.text);
      assert.ok(Array.isArray(res.json.files));
      assert.ok(res.json.files.length <= 3, 'at most limit entries');
      sizes.push(res.json.files.length);
      for (const f of res.json.files) {
        assert.deepEqual(Object.keys(f).sort(), ['content_type', 'etag', 'modified_at', 'path', 'size']);
        assert.equal(f.size, names.indexOf(f.path) + 1, `size of ${f.path}`);
        assert.equal(f.content_type, 'application/octet-stream');
        seen.push(f.path);
      }
      cursor = res.json.cursor;
      assert.ok(cursor === null || typeof cursor === 'string');
      if (cursor === null) break;
    }
    assert.equal(cursor, null, 'the last page has cursor null');
    assert.deepEqual(seen, expected, 'every path once, in byte order');
    assert.deepEqual(sizes, [3, 3, 1]);
  });

  test('without a prefix lists everything; default limit; bad limits are 400', async () => {
    const id = await newSession();
    await put(id, 'b', 'b');
    await put(id, 'a/c', 'ac');
    const c = await client();
    const all = await c.req('GET', `/v1/sessions/${id}/files`);
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.json.files.map((f) => f.path), ['a/c', 'b']);
    assert.equal(all.json.cursor, null);
    const none = await c.req('GET', `/v1/sessions/${id}/files?prefix=zzz`);
    assert.deepEqual(none.json, { files: [], cursor: null });
    for (const limit of ['0', '1001', 'abc', '-1', '2.5']) {
      assertError(await c.req('GET', `/v1/sessions/${id}/files?limit=${limit}`), 400, 'invalid_request');
    }
    assert.equal((await c.req('GET', `/v1/sessions/${id}/files?limit=1000`)).status, 200);
    const longPrefix = await c.req('GET', `/v1/sessions/${id}/files?prefix=${'p'.repeat(897)}`);
    assertError(longPrefix, 400, 'invalid_request');
    assert.equal((await c.req('GET', `/v1/sessions/${id}/files?prefix=${'p'.repeat(896)}`)).status, 200);
  });

  test('the default page is 100 files', async () => {
    const id = await newSession();
    const names = Array.from({ length: 101 }, (_, i) => `f${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 10) await Promise.all(names.slice(i, i + 10).map((n) => put(id, n, 'x')));
    const c = await client();
    const first = await c.req('GET', `/v1/sessions/${id}/files`);
    assert.equal(first.json.files.length, 100);
    assert.equal(typeof first.json.cursor, 'string');
    const second = await c.req('GET', `/v1/sessions/${id}/files?cursor=${encodeURIComponent(first.json.cursor)}`);
    assert.deepEqual(second.json, { files: [second.json.files[0]], cursor: null });
    assert.equal(second.json.files[0].path, 'f100');
  });

  test('the session listing (KV) shows the files counters too', async () => {
    const id = await newSession();
    await put(id, 'k1', seq(7));
    await put(id, 'k2', seq(8));
    let shown;
    for (let i = 0; i < 20; i++) {
      const list = await (await client()).req('GET', '/v1/sessions');
      shown = list.json.sessions.find((s) => s.id === id)?.files;
      if (shown?.count === 2) break;
      await sleep(500);
    }
    assert.deepEqual(shown, { count: 2, bytes: 15 });
  });
});

describe('quotas', () => {
  test('file_bytes: 413 quota_exceeded naming the quota, nothing stored', async () => {
    const id = await newSession({ limits: { file_bytes: 100 } });
    await put(id, 'ok.bin', seq(100));
    const res = await raw('PUT', filesUrl(id, 'big.bin'), { body: seq(101) });
    assertError(res, 413, 'quota_exceeded');
    assert.match(res.json.error.message, /file_bytes/);
    assert.match(res.json.error.message, /\b100\b/, 'names the quota value');
    assert.match(res.json.error.message, /\b101\b/, 'names the size asked for');
    assertError(await bin('GET', filesUrl(id, 'big.bin')), 404, 'file_not_found');
    assert.deepEqual((await session(id)).files, { count: 1, bytes: 100 });
    // replacing with a too-big file keeps the old one
    assertError(await raw('PUT', filesUrl(id, 'ok.bin'), { body: seq(150) }), 413, 'quota_exceeded');
    assert.equal((await bin('GET', filesUrl(id, 'ok.bin'))).bytes.length, 100);
  });

  test('files_bytes: the total is capped; a replacement counts only its new size', async () => {
    const id = await newSession({ limits: { files_bytes: 150 } });
    await put(id, 'one', seq(100));
    const res = await raw('PUT', filesUrl(id, 'two'), { body: seq(51) });
    assertError(res, 413, 'quota_exceeded');
    assert.match(res.json.error.message, /files_bytes/);
    assertError(await bin('GET', filesUrl(id, 'two')), 404, 'file_not_found');
    assert.deepEqual((await session(id)).files, { count: 1, bytes: 100 });
    await put(id, 'two', seq(50));
    await put(id, 'one', seq(90)); // 90 + 50 <= 150
    assert.deepEqual((await session(id)).files, { count: 2, bytes: 140 });
    await bin('DELETE', filesUrl(id, 'two'));
    await put(id, 'three', seq(60)); // space freed by the delete
    assert.deepEqual((await session(id)).files, { count: 2, bytes: 150 });
  });

  test('files_count: a new file over the count is refused, a replacement is not', async () => {
    const id = await newSession({ limits: { files_count: 2 } });
    await put(id, 'a', 'a');
    await put(id, 'b', 'b');
    const res = await raw('PUT', filesUrl(id, 'c'), { body: 'c' });
    assertError(res, 413, 'quota_exceeded');
    assert.match(res.json.error.message, /files_count/);
    assertError(await bin('GET', filesUrl(id, 'c')), 404, 'file_not_found');
    assert.equal((await put(id, 'a', 'aa')).status, 200);
    assert.deepEqual((await session(id)).files, { count: 2, bytes: 3 });
  });
});

describe('paths', () => {
  test('every bad path class answers 400 invalid_path', async () => {
    const id = await newSession();
    const base = `/v1/sessions/${id}/files/`;
    // workerd's URL parser resolves literal `..` and `%2E%2E` segments before the Worker sees
    // the request, so dot segments are sent with an encoded slash (`%2F`) to reach the server.
    const bad = [
      '..%2Fx', // ../x
      '%2E%2E%2Fx',
      'a%2F..%2F..%2Fx', // a/../../x
      '%2Fabs',
      '/abs',
      'a%00b',
      'a%0Ab',
      'a%1Fb',
      'a%7Fb',
      'a%5Cb',
      'a/',
      'a%2F',
      '%FF',
      'ok/%C3%28',
      'x'.repeat(897),
      Array.from({ length: 33 }, (_, i) => `s${i}`).join('/'),
    ];
    for (const p of bad) {
      const res = await raw('PUT', base + p, { body: 'x' });
      assert.equal(res.status, 400, `${p.slice(0, 60)}: ${res.status} ${res.text}`);
      assert.equal(res.json?.error?.code, 'invalid_path', `${p.slice(0, 60)}: ${res.text}`);
      assert.ok(res.json.error.message.length > 0);
    }
    const empty = await raw('PUT', base, { body: 'x' });
    assert.equal(empty.status, 400, `empty path: ${empty.text}`);
    assert.equal(empty.json?.error?.code, 'invalid_path');
    // GET and DELETE validate too
    assertError(await raw('GET', `${base}a%00b`), 400, 'invalid_path');
    assertError(await raw('DELETE', `${base}..%2Fx`), 400, 'invalid_path');
    const listed = await (await client()).req('GET', `/v1/sessions/${id}/files`);
    assert.deepEqual(listed.json.files, [], 'nothing was stored');
  });

  test('the limits themselves are accepted: 896 bytes, 32 segments, unicode', async () => {
    const id = await newSession();
    const long = 'y'.repeat(896);
    const deep = Array.from({ length: 32 }, (_, i) => `s${i}`).join('/');
    for (const p of ['ünï/cödé ✓.txt', deep, long]) {
      const res = await put(id, p.split('/').map(encodeURIComponent).join('/'), 'v');
      assert.equal(res.json.path, p, `${p.length}-byte path`);
      assert.equal((await bin('GET', filesUrl(id, p.split('/').map(encodeURIComponent).join('/')))).text, 'v');
    }
  });

  test('normalises . and empty segments and .. before storing', async () => {
    const id = await newSession();
    const put1 = await raw('PUT', filesUrl(id, 'n/./b//c'), { body: 'dots' });
    assert.equal(put1.status, 201, put1.text);
    assert.equal(put1.json.path, 'n/b/c');
    assert.equal((await bin('GET', filesUrl(id, 'n/b/c'))).text, 'dots');
    const put2 = await raw('PUT', filesUrl(id, 'm%2F..%2Fq'), { body: 'up' });
    assert.equal(put2.status, 201, put2.text);
    assert.equal(put2.json.path, 'q');
    assert.equal((await bin('GET', filesUrl(id, 'q'))).text, 'up');
    // a percent-encoded path reaches the same file
    assert.equal((await bin('GET', filesUrl(id, 'n%2Fb%2Fc'))).text, 'dots');
    const listed = await (await client()).req('GET', `/v1/sessions/${id}/files`);
    assert.deepEqual(listed.json.files.map((f) => f.path), ['n/b/c', 'q']);
  });
});

describe('tenancy and lifetime', () => {
  test("another tenant gets 404 not_found on alice's files and listing, and changes nothing", async () => {
    const id = await newSession();
    await put(id, 'secret.txt', 'alice only');
    const missing = await (await client('bob')).req('GET', '/v1/sessions/ses_aaaaaaaaaaaaaaaaaaaaaaaaaa');
    for (const [method, path] of [
      ['GET', filesUrl(id, 'secret.txt')],
      ['HEAD', filesUrl(id, 'secret.txt')],
      ['DELETE', filesUrl(id, 'secret.txt')],
      ['GET', `/v1/sessions/${id}/files`],
    ]) {
      const res = await bin(method, path, { who: 'bob' });
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
      if (method !== 'HEAD') {
        assert.equal(res.json?.error?.code, 'not_found');
        assert.deepEqual(res.json, missing.json, 'same body as a missing session');
      }
    }
    const bobPut = await raw('PUT', filesUrl(id, 'secret.txt'), { body: 'bob was here', who: 'bob' });
    assertError(bobPut, 404, 'not_found');
    assert.equal((await bin('GET', filesUrl(id, 'secret.txt'))).text, 'alice only');
  });

  test('the session shows files {count, bytes}', async () => {
    const id = await newSession();
    assert.deepEqual((await session(id)).files, { count: 0, bytes: 0 });
    await put(id, 'a', seq(10));
    await put(id, 'b', seq(20));
    assert.deepEqual((await session(id)).files, { count: 2, bytes: 30 });
    await put(id, 'a', seq(5));
    assert.deepEqual((await session(id)).files, { count: 2, bytes: 25 });
    await bin('DELETE', filesUrl(id, 'b'));
    assert.deepEqual((await session(id)).files, { count: 1, bytes: 5 });
  });

  test('deleting the session deletes its files, from R2 too', async () => {
    const id = await newSession();
    const before = blobCount(sandbox);
    await put(id, 'gone.txt', 'soon gone');
    await put(id, 'd/also.bin', seq(64));
    assert.equal(blobCount(sandbox), before + 2, 'each file is one stored R2 object');
    assert.equal((await (await client()).req('DELETE', `/v1/sessions/${id}`)).status, 200);
    assertError(await bin('GET', filesUrl(id, 'gone.txt')), 404, 'not_found');
    assertError(await bin('GET', `/v1/sessions/${id}/files`), 404, 'not_found');
    assert.ok(blobCount(sandbox) <= before, 'the R2 objects are gone');
  });

  test("a session's expiry deletes its files from R2", async () => {
    const id = await newSession({ ttl_seconds: 5 });
    const before = blobCount(sandbox);
    await put(id, 'a.txt', 'expires');
    await put(id, 'd/b.bin', seq(100));
    assert.equal(blobCount(sandbox), before + 2);
    // The expiry alarm fires 5 s after the last use.
    const deadline = Date.now() + 30_000;
    while (blobCount(sandbox) > before && Date.now() < deadline) await sleep(250);
    assert.ok(blobCount(sandbox) <= before, 'R2 objects left 30 s after the last use (ttl 5 s)');
    assertError(await bin('GET', filesUrl(id, 'a.txt')), 404, 'not_found');
  });

  test('files survive a graceful restart and a crash', async () => {
    const id = await newSession();
    const data = randomBytes(2048);
    await put(id, 'keep.bin', data, { 'content-type': 'application/x-keep' });
    await sandbox.restart();
    let got = await bin('GET', filesUrl(id, 'keep.bin'));
    assert.equal(got.status, 200, got.text);
    assert.ok(got.bytes.equals(data));
    assert.equal(got.headers.get('content-type'), 'application/x-keep');
    await sandbox.kill();
    await sandbox.restart();
    got = await bin('GET', filesUrl(id, 'keep.bin'));
    assert.ok(got.bytes.equals(data), 'after kill -9');
    assert.deepEqual((await session(id)).files, { count: 1, bytes: 2048 });
  });
});

describe('limits', () => {
  test('the new limits have their defaults and ceilings', async () => {
    const id = await newSession();
    const { limits } = await session(id);
    assert.equal(limits.file_bytes, 33554432);
    assert.equal(limits.files_bytes, 268435456);
    assert.equal(limits.files_count, 1000);
    assert.equal(limits.fetch_requests, 20);
    assert.equal(limits.fetch_bytes, 5242880);
    const c = await client();
    const set = await c.req('POST', '/v1/sessions', {
      body: { limits: { file_bytes: 104857600, files_bytes: 1073741824, files_count: 10000, fetch_requests: 100, fetch_bytes: 33554432 } },
    });
    assert.equal(set.status, 201, set.text);
    assert.equal(set.json.limits.files_count, 10000);
    for (const [name, value] of [
      ['file_bytes', 104857601],
      ['files_bytes', 1073741825],
      ['files_count', 10001],
      ['fetch_requests', 101],
      ['fetch_bytes', 33554433],
      ['files_count', 0],
    ]) {
      const res = await c.req('POST', '/v1/sessions', { body: { limits: { [name]: value } } });
      assertError(res, 400, 'invalid_request');
      assert.match(res.json.error.message, new RegExp(`limits\\.${name}`));
    }
  });
});
