// Files in one-shot runs (POST /v1/run): input `files` readable through fs, written files
// returned inline, path and quota checks, nothing kept between runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
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
  assert.equal(res.status, 200, res.text.slice(0, 1000));
  assert.equal(res.json.status, 'ok', JSON.stringify(res.json.error));
  return res.json;
}

describe('files on /v1/run', () => {
  test('input files (text, base64, with content_type) are readable through fs', async () => {
    const out = await run({
      files: {
        'a.txt': 'hello ü',
        'dir/b.bin': { base64: Buffer.from([0, 1, 255]).toString('base64') },
        'c.json': { text: '{"x":1}', content_type: 'application/json' },
        'd.png': { base64: 'iVBO', content_type: 'image/png' },
      },
      code: `(async () => [
        await fs.readFile('a.txt', 'utf8'),
        Array.from(await fs.readFile('dir/b.bin')),
        JSON.parse(await fs.readFile('c.json', 'utf8')).x,
        (await fs.stat('c.json')).contentType,
        (await fs.stat('d.png')).contentType,
        (await fs.stat('a.txt')).size,
        (await fs.list()).map((f) => f.path),
      ])()`,
    });
    assert.deepEqual(out.value, ['hello ü', [0, 1, 255], 1, 'application/json', 'image/png', 8, ['a.txt', 'c.json', 'd.png', 'dir/b.bin']]);
    assert.deepEqual(out.files, [], 'input files the code did not write are not echoed');
  });

  test('written files come back inline, sorted, utf8 or base64', async () => {
    const out = await run({
      files: { 'keep.txt': 'untouched', 'edit.txt': 'before', 'gone.txt': 'x' },
      code: `
        await fs.writeFile('z/text.txt', 'hi ✓');
        await fs.writeFile('bytes.bin', new Uint8Array([0, 255, 128]));
        await fs.writeFile('data.json', '{"k":2}', { contentType: 'application/json' });
        await fs.writeFile('edit.txt', 'after');
        await fs.writeFile('tmp.txt', 'temporary'); await fs.remove('tmp.txt');
        await fs.remove('gone.txt');
        'done'`,
    });
    assert.equal(out.value, 'done');
    assert.deepEqual(out.files, [
      { path: 'bytes.bin', size: 3, content_type: 'application/octet-stream', encoding: 'base64', content: Buffer.from([0, 255, 128]).toString('base64') },
      { path: 'data.json', size: 7, content_type: 'application/json', encoding: 'utf8', content: '{"k":2}' },
      { path: 'edit.txt', size: 5, content_type: 'text/plain; charset=utf-8', encoding: 'utf8', content: 'after' },
      { path: 'z/text.txt', size: Buffer.byteLength('hi ✓'), content_type: 'text/plain; charset=utf-8', encoding: 'utf8', content: 'hi ✓' },
    ]);
  });

  test('inline content stops at 1 MiB in total; later files are truncated', async () => {
    const out = await run({
      code: `await fs.writeFile('a', 'a'.repeat(600000)); await fs.writeFile('b', 'b'.repeat(600000)); 1`,
    });
    assert.equal(out.files.length, 2);
    const [a, b] = out.files;
    assert.equal(a.path, 'a');
    assert.equal(a.content, 'a'.repeat(600000));
    assert.equal(b.path, 'b');
    assert.equal(b.size, 600000);
    assert.equal(b.content, null);
    assert.equal(b.truncated, true);
  });

  test('bad paths and bad file values are 400', async () => {
    for (const path of ['../x', '/abs', 'a/', 'a\\b', 'a\u0000b', 'x/../../y', '']) {
      const res = await alice.req('POST', '/v1/run', { body: { code: '1', files: { [path]: 'v' } } });
      assert.equal(res.status, 400, `${JSON.stringify(path)}: ${res.text}`);
      assert.equal(res.json.error.code, 'invalid_path', JSON.stringify(path));
    }
    for (const value of [1, null, ['x'], { base64: '***' }, { nothing: 'x' }]) {
      const res = await alice.req('POST', '/v1/run', { body: { code: '1', files: { 'a.txt': value } } });
      assert.equal(res.status, 400, `${JSON.stringify(value)}: ${res.text}`);
      assert.equal(res.json.error.code, 'invalid_request', JSON.stringify(value));
    }
  });

  test('quotas apply to input files and to writes', async () => {
    const over = await alice.req('POST', '/v1/run', { body: { code: '1', files: { a: '12345' }, limits: { file_bytes: 4 } } });
    assert.equal(over.status, 413, over.text);
    assert.equal(over.json.error.code, 'quota_exceeded');
    assert.match(over.json.error.message, /file_bytes/);
    const out = await run({
      limits: { files_count: 1 },
      files: { a: 'x' },
      code: `(async () => { try { await fs.writeFile('b', 'y'); return 'no error' } catch (e) { return [e.code, e.message] } })()`,
    });
    assert.equal(out.value[0], 'EQUOTA');
    assert.match(out.value[1], /files_count/);
    assert.deepEqual(out.files, []);
  });

  test('nothing is kept from one run to the next', async () => {
    await run({ code: `await fs.writeFile('leak.txt', 'from run 1'); 1`, files: { 'input.txt': 'in' } });
    const out = await run({
      code: `(async () => [(await fs.list()).length, await fs.readFile('leak.txt').then(() => 'found', (e) => e.code)])()`,
    });
    assert.deepEqual(out.value, [0, 'ENOENT']);
  });
});
