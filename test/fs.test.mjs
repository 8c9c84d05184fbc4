// The guest `fs` global in sessions: writes visible over HTTP, HTTP uploads readable by cells,
// result shapes, error codes, rollback of limit-stopped cells, replay without the files, quotas.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FETCH_TIMEOUT_MS, sessionHelpers, startSandbox } from './harness.mjs';

let sandbox;

before(async () => {
  sandbox = await startSandbox();
});

after(async () => {
  await sandbox?.stop();
});

const filesUrl = (id, path) => `/v1/sessions/${id}/files/${path}`;

const { client, newSession, exec, ok } = sessionHelpers(() => sandbox);

/** GET or PUT a file over HTTP with bytes. */
async function http(method, id, path, { body, headers = {} } = {}) {
  const h = new Headers(headers);
  h.set('authorization', `Bearer ${sandbox.keys.alice}`);
  const res = await fetch(new URL(filesUrl(id, path), sandbox.url), {
    method,
    headers: h,
    body,
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** Guest code that evaluates `expr` (may await) and answers [e.name, e.code, e.message] if it throws. */
const caught = (expr) =>
  `(async () => { try { await (${expr}); return 'no error' } catch (e) { return [e instanceof Error, e.name, e.code, e.message] } })()`;

describe('writes from a cell', () => {
  test('a string, a Uint8Array and an ArrayBuffer are on HTTP when the exec answers', async () => {
    const id = await newSession();
    await ok(
      id,
      `await fs.writeFile('w/s.txt', 'héllo ✓');
       await fs.writeFile('w/u8.bin', new Uint8Array([0, 1, 127, 128, 255]));
       const ab = new ArrayBuffer(4); new Uint8Array(ab).set([9, 8, 7, 6]);
       await fs.writeFile('w/ab.bin', ab);`,
    );
    const s = await http('GET', id, 'w/s.txt');
    assert.equal(s.status, 200);
    assert.ok(s.bytes.equals(Buffer.from('héllo ✓', 'utf8')), 'string stored as UTF-8');
    assert.equal(s.headers.get('content-type'), 'text/plain; charset=utf-8');
    const u8 = await http('GET', id, 'w/u8.bin');
    assert.deepEqual([...u8.bytes], [0, 1, 127, 128, 255]);
    assert.equal(u8.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual([...(await http('GET', id, 'w/ab.bin')).bytes], [9, 8, 7, 6]);
  });

  test('other typed arrays, DataViews and views with an offset write exactly their bytes', async () => {
    const id = await newSession();
    await ok(
      id,
      `await fs.writeFile('t/u16', new Uint16Array([1, 258]));
       const buf = new Uint8Array([10, 11, 12, 13, 14, 15]).buffer;
       await fs.writeFile('t/view', new Uint8Array(buf, 2, 3));
       await fs.writeFile('t/dv', new DataView(buf, 4, 2));`,
    );
    assert.deepEqual([...(await http('GET', id, 't/u16')).bytes], [1, 0, 2, 1]);
    assert.deepEqual([...(await http('GET', id, 't/view')).bytes], [12, 13, 14]);
    assert.deepEqual([...(await http('GET', id, 't/dv')).bytes], [14, 15]);
  });

  test('contentType option is stored; bad argument types are TypeErrors', async () => {
    const id = await newSession();
    await ok(id, `await fs.writeFile('c.json', '{"a":1}', { contentType: 'application/json' })`);
    const got = await http('GET', id, 'c.json');
    assert.equal(got.headers.get('content-type'), 'application/json');
    assert.equal(got.bytes.toString(), '{"a":1}');
    for (const expr of ['fs.writeFile("x", 42)', 'fs.writeFile("x", {})', 'fs.readFile(7)', 'fs.writeFile()']) {
      const [isError, name] = await ok(id, caught(expr));
      assert.equal(isError, true, expr);
      assert.equal(name, 'TypeError', expr);
    }
    assert.equal((await http('GET', id, 'x')).status, 404, 'nothing written by the bad calls');
  });
});

describe('reads in a cell', () => {
  test('a file uploaded over HTTP reads as a Uint8Array and as text', async () => {
    const id = await newSession();
    const bytes = Buffer.from([0, 255, 1, 254, 0x41]);
    assert.equal((await http('PUT', id, 'in/b.bin', { body: bytes })).status, 201);
    assert.equal((await http('PUT', id, 'in/t.txt', { body: Buffer.from('ünïcödé') })).status, 201);
    const value = await ok(
      id,
      `(async () => {
         const b = await fs.readFile('in/b.bin');
         return [b instanceof Uint8Array, Array.from(b),
                 await fs.readFile('in/t.txt', 'utf8'),
                 await fs.readFile('in/t.txt', 'utf-8'),
                 await fs.readFile('in/t.txt', { encoding: 'utf8' })];
       })()`,
    );
    assert.deepEqual(value, [true, [0, 255, 1, 254, 0x41], 'ünïcödé', 'ünïcödé', 'ünïcödé']);
  });

  test('a cell reads, lists and stats its own writes', async () => {
    const id = await newSession();
    const value = await ok(
      id,
      `(async () => {
         await Promise.all([fs.writeFile('o/a', 'AAA'), fs.writeFile('o/b', new Uint8Array([1, 2]))]);
         const text = await fs.readFile('o/a', 'utf8');
         const names = (await fs.list('o/')).map((f) => f.path);
         await fs.writeFile('o/a', 'replaced');
         const again = await fs.readFile('o/a', 'utf8');
         const removed = await fs.remove('o/b');
         const after = (await fs.list('o/')).map((f) => f.path);
         return [text, names, again, removed, after];
       })()`,
    );
    assert.deepEqual(value, ['AAA', ['o/a', 'o/b'], 'replaced', true, ['o/a']]);
    assert.equal((await http('GET', id, 'o/a')).bytes.toString(), 'replaced');
    assert.equal((await http('GET', id, 'o/b')).status, 404);
  });
});

describe('list, stat and remove', () => {
  test('have the documented shapes', async () => {
    const id = await newSession();
    const put = await http('PUT', id, 'l/x.bin', { body: Buffer.alloc(7), headers: { 'content-type': 'image/gif' } });
    assert.equal(put.status, 201);
    const etag = (await http('GET', id, 'l/x.bin')).headers.get('etag');
    await ok(id, `await fs.writeFile('l/a.txt', 'abc'); await fs.writeFile('m.txt', 'm')`);
    const [list, all, stat, removed, removedAgain] = await ok(
      id,
      `(async () => [await fs.list('l/'), (await fs.list()).map((f) => f.path), await fs.stat('l/x.bin'),
                     await fs.remove('m.txt'), await fs.remove('m.txt')])()`,
    );
    assert.deepEqual(list.map((f) => f.path), ['l/a.txt', 'l/x.bin']);
    assert.deepEqual(all, ['l/a.txt', 'l/x.bin', 'm.txt']);
    for (const f of list) {
      assert.deepEqual(Object.keys(f).sort(), ['contentType', 'etag', 'modified', 'path', 'size']);
      assert.equal(typeof f.modified, 'number');
      assert.ok(Math.abs(f.modified - Date.now()) < 5 * 60_000, 'modified is ms since epoch, recent');
    }
    assert.equal(list[0].size, 3);
    assert.equal(list[0].contentType, 'text/plain; charset=utf-8');
    assert.deepEqual(Object.keys(stat).sort(), ['contentType', 'etag', 'modified', 'path', 'size']);
    assert.equal(stat.path, 'l/x.bin');
    assert.equal(stat.size, 7);
    assert.equal(stat.contentType, 'image/gif');
    assert.equal(`"${stat.etag}"`, etag, 'stat etag is the HTTP etag without quotes');
    assert.equal(removed, true);
    assert.equal(removedAgain, false);
    assert.equal((await http('GET', id, 'm.txt')).status, 404);
  });
});

describe('errors', () => {
  test('ENOENT, EINVAL and EQUOTA are catchable Errors with a code', async () => {
    const id = await newSession({ limits: { file_bytes: 10 } });
    const [isError, , code, message] = await ok(id, caught(`fs.readFile('nope/missing.txt')`));
    assert.equal(isError, true);
    assert.equal(code, 'ENOENT');
    assert.equal(message, 'ENOENT: no such file: nope/missing.txt');
    assert.equal((await ok(id, caught(`fs.stat('nope')`)))[2], 'ENOENT');
    for (const bad of ['../x', '/abs', 'a/', '', 'a\\\\b', 'a\\u0000b', 'x/../../y']) {
      const out = await ok(id, caught(`fs.writeFile('${bad}', 'v')`));
      assert.equal(out[0], true, bad);
      assert.equal(out[2], 'EINVAL', `${bad}: ${JSON.stringify(out)}`);
      assert.equal((await ok(id, caught(`fs.readFile('${bad}')`)))[2], 'EINVAL', bad);
    }
    const quota = await ok(id, caught(`fs.writeFile('big', 'x'.repeat(11))`));
    assert.equal(quota[0], true);
    assert.equal(quota[2], 'EQUOTA');
    assert.match(quota[3], /file_bytes/);
    assert.equal((await http('GET', id, 'big')).status, 404);
  });

  test('path limits: 896 bytes and 32 segments work, one more is EINVAL', async () => {
    const id = await newSession();
    const deep = Array.from({ length: 32 }, (_, i) => `d${i}`).join('/');
    for (const p of [deep, 'p'.repeat(896)]) {
      const out = await ok(id, caught(`fs.writeFile('${p}', 'v').then(() => fs.readFile('${p}', 'utf8')).then((t) => { if (t !== 'v') throw new Error(t) })`));
      assert.equal(out, 'no error', `${p.length}-byte path: ${JSON.stringify(out)}`);
    }
    for (const p of [`${deep}/x`, 'p'.repeat(897)]) {
      assert.equal((await ok(id, caught(`fs.writeFile('${p}', 'v')`)))[2], 'EINVAL', `${p.length}-byte path`);
    }
  });

  test('an uncaught fs rejection fails the cell with the message', async () => {
    const id = await newSession();
    const out = await exec(id, `await fs.readFile('absent.txt')`);
    assert.equal(out.status, 'error');
    assert.match(out.error.message, /ENOENT: no such file: absent\.txt/);
  });
});

describe('effects and rollback', () => {
  test('a cell stopped by a limit leaves no file; a cell that throws keeps its writes', async () => {
    const id = await newSession({ limits: { fuel: 1_000_000 } });
    const stopped = await exec(id, `await fs.writeFile('lost.txt', 'never'); for (;;) {}`);
    assert.equal(stopped.status, 'limit');
    assert.equal((await http('GET', id, 'lost.txt')).status, 404);
    assert.equal((await ok(id, caught(`fs.stat('lost.txt')`)))[2], 'ENOENT');

    const thrown = await exec(id, `await fs.writeFile('kept.txt', 'kept'); throw new Error('after the write')`);
    assert.equal(thrown.status, 'error');
    assert.equal((await http('GET', id, 'kept.txt')).bytes.toString(), 'kept');
    const s = await (await client()).req('GET', `/v1/sessions/${id}`);
    assert.deepEqual(s.json.files, { count: 1, bytes: 4 });
  });

  test('state read from files survives a crash even after the files changed or were deleted', async () => {
    const id = await newSession();
    await http('PUT', id, 'src/a.txt', { body: Buffer.from('original a') });
    await ok(id, `await fs.writeFile('src/b.txt', 'written b')`);
    await ok(id, `var a = await fs.readFile('src/a.txt', 'utf8'); var b = await fs.readFile('src/b.txt', 'utf8')`);
    await http('PUT', id, 'src/a.txt', { body: Buffer.from('changed a') });
    const del = await http('DELETE', id, 'src/b.txt');
    assert.equal(del.status, 200);
    await sandbox.kill();
    await sandbox.restart();
    assert.deepEqual(await ok(id, '[a, b]'), ['original a', 'written b']);
    // replay did not write b.txt again nor overwrite a.txt
    assert.equal((await http('GET', id, 'src/b.txt')).status, 404);
    assert.equal((await http('GET', id, 'src/a.txt')).bytes.toString(), 'changed a');
  });

  test('a file read in many cells is journaled once, so the session does not fill up', async () => {
    // 24 reads of 4 MiB would be 96 MiB of replies, past the journal's 64 MiB of I/O; the
    // contents are kept once, so every cell runs and a rebuild still sees each read.
    const id = await newSession();
    const size = 4 << 20;
    const big = Buffer.alloc(size, 7);
    big[size - 1] = 9;
    assert.equal((await http('PUT', id, 'big.bin', { body: big })).status, 201);
    await ok(id, 'var sums = []');
    for (let i = 0; i < 24; i++) {
      const out = await exec(id, `const b = await fs.readFile('big.bin'); sums.push(b.length + b[b.length - 1]); sums.length`);
      assert.equal(out.status, 'ok', `read ${i + 1}: ${JSON.stringify(out.error)}`);
    }
    await sandbox.kill();
    await sandbox.restart();
    const sums = await ok(id, 'sums');
    assert.equal(sums.length, 24);
    assert.ok(sums.every((s) => s === size + 9), JSON.stringify(sums.slice(0, 3)));
  });
});

describe('quotas on guest writes', () => {
  test('files_count and files_bytes reject with EQUOTA; earlier writes stay', async () => {
    const id = await newSession({ limits: { files_count: 2, files_bytes: 10 } });
    await ok(id, `await fs.writeFile('q1', '12345'); await fs.writeFile('q2', '123')`);
    const count = await ok(id, caught(`fs.writeFile('q3', '1')`));
    assert.equal(count[2], 'EQUOTA');
    assert.match(count[3], /files_count/);
    const bytes = await ok(id, caught(`fs.writeFile('q2', '123456')`));
    assert.equal(bytes[2], 'EQUOTA');
    assert.match(bytes[3], /files_bytes/);
    assert.equal((await http('GET', id, 'q3')).status, 404);
    assert.equal((await http('GET', id, 'q2')).bytes.toString(), '123');
    await ok(id, `await fs.writeFile('q2', '12345')`); // exactly 10 bytes in all
    const s = await (await client()).req('GET', `/v1/sessions/${id}`);
    assert.deepEqual(s.json.files, { count: 2, bytes: 10 });
  });
});
