// Forks and named checkpoints: a fork's state is exactly the source's (globals, closures,
// generators, Math.random, files, limits, network, secrets) and the two diverge independently;
// five forks run concurrently; restore gives back a checkpoint's state and files exactly;
// a fork survives SIGKILL and the source's deletion; files are shared, not copied, and deleted
// only when nothing points at them; tenancy and bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, blobCount as countBlobs, sessionHelpers, startSandbox } from './harness.mjs';

let sandbox;
const { client, newSession, exec, ok } = sessionHelpers(() => sandbox);

before(async () => {
  sandbox = await startSandbox();
});

after(async () => {
  await sandbox?.stop();
});

const STATE = `
  let counter = 41;
  const bump = (() => { let c = 0; return () => ++c })();
  function* ids() { let i = 100; while (true) yield i++ }
  const gen = ids();
  class Point { constructor(x) { this.x = x } norm() { return Math.abs(this.x) } }
  const p = new Point(-3);
  bump(); gen.next();
  'ready'`;
// Reads every kind of state, advancing closures, generators and Math.random the same way.
const PROBE = `[counter, bump(), gen.next().value, p.norm(), Math.random(), env.TOKEN,
  await fs.readFile('data/a.txt', 'utf8')]`;

async function put(id, file, body, type = 'text/plain') {
  const res = await (await client()).req('PUT', `/v1/sessions/${id}/files/${file}`, {
    raw: body,
    headers: { 'content-type': type },
  });
  assert.ok([200, 201].includes(res.status), res.text);
}

async function get(id, file) {
  const res = await (await client()).req('GET', `/v1/sessions/${id}/files/${file}`);
  return res.status === 200 ? res.text : res.status;
}

async function fork(id, body = {}) {
  const res = await (await client()).req('POST', `/v1/sessions/${id}/fork`, { body });
  assert.equal(res.status, 201, res.text);
  return res.json.sessions;
}

async function checkpoint(id, body = {}) {
  return (await client()).req('POST', `/v1/sessions/${id}/checkpoints`, { body });
}

async function restore(id, name) {
  return (await client()).req('POST', `/v1/sessions/${id}/checkpoints/${name}/restore`);
}

async function listing(id) {
  const res = await (await client()).req('GET', `/v1/sessions/${id}/files`);
  return res.json.files.map((f) => `${f.path}:${f.size}:${f.content_type}`);
}

const blobCount = () => countBlobs(sandbox);

async function sourceSession() {
  const id = await newSession({
    limits: { fuel: 50_000_000 },
    network: { allow: ['api.example.com'] },
    env: { TOKEN: 'secret-1' },
    metadata: { role: 'source' },
  });
  await put(id, 'data/a.txt', 'alpha');
  assert.equal(await ok(id, STATE), 'ready');
  return id;
}

describe('fork', () => {
  test('a fork is exactly the source, then each side diverges alone', async () => {
    const source = await sourceSession();
    const [child] = await fork(source);
    assert.match(child.id, /^ses_[a-z2-7]{26}$/);
    assert.notEqual(child.id, source);
    assert.deepEqual(child.metadata, { role: 'source' });
    assert.equal(child.limits.fuel, 50_000_000);
    assert.deepEqual(child.network.allow, ['api.example.com']);
    assert.deepEqual(child.env, ['TOKEN']);
    assert.deepEqual(child.files, { count: 1, bytes: 5 });

    // The same state, advanced the same way: equal answers, Math.random included.
    const [fromSource, fromFork] = [await ok(source, PROBE), await ok(child.id, PROBE)];
    assert.deepEqual(fromFork, fromSource);
    assert.equal(fromFork[0], 41);
    assert.equal(fromFork[5], 'secret-1');
    assert.equal(fromFork[6], 'alpha');

    // Diverge: globals and files on each side.
    await ok(child.id, "counter = 1000; await fs.writeFile('data/a.txt', 'fork'); await fs.writeFile('mine.txt', 'f')");
    await ok(source, 'counter += 1');
    await put(source, 'data/b.txt', 'source only');
    assert.deepEqual(await ok(source, "[counter, await fs.readFile('data/a.txt', 'utf8')]"), [42, 'alpha']);
    assert.deepEqual(await ok(child.id, "[counter, await fs.readFile('data/a.txt', 'utf8')]"), [1000, 'fork']);
    assert.equal(await get(source, 'mine.txt'), 404);
    assert.equal(await get(child.id, 'data/b.txt'), 404);
    assert.equal(await get(child.id, 'data/a.txt'), 'fork');
    assert.equal(await get(source, 'data/a.txt'), 'alpha');
    // The fork keeps the source's limits: a loop runs out of the same fuel.
    const spin = await exec(child.id, 'for(;;){}');
    assert.equal(spin.status, 'limit');
    assert.ok(spin.usage.fuel <= 50_000_000);
  });

  test('ttl_seconds and metadata may be set; count is 1 to 10', async () => {
    const source = await newSession({ metadata: { a: 'b' } });
    const [child] = await fork(source, { ttl_seconds: 120, metadata: { branch: 'x' } });
    assert.equal(child.ttl_seconds, 120);
    assert.deepEqual(child.metadata, { branch: 'x' });
    for (const body of [{ count: 0 }, { count: 11 }, { count: 'two' }, { ttl_seconds: 0 }, { bogus: 1 }, { count: null }]) {
      const res = await (await client()).req('POST', `/v1/sessions/${source}/fork`, { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json.error.code, 'invalid_request');
    }
    // A session that never ran a cell forks too: the same seed, so the same Math.random.
    const [fresh] = await fork(source);
    assert.equal(await ok(fresh.id, 'Math.random()'), await ok(source, 'Math.random()'));
  });

  test('five forks run concurrently and each sees only its own writes', async () => {
    const source = await sourceSession();
    const forks = await fork(source, { count: 5 });
    assert.equal(forks.length, 5);
    assert.equal(new Set(forks.map((f) => f.id)).size, 5);
    const results = await Promise.all(
      forks.map((f, i) =>
        exec(f.id, `let s = 0; for (let k = 0; k < 2e4; k++) s += k; counter = ${i};
          await fs.writeFile('own.txt', 'fork ${i}'); [counter, s]`),
      ),
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 'ok', JSON.stringify(r.error));
      assert.deepEqual(r.value, [i, 199990000]);
    }
    for (const [i, f] of forks.entries()) {
      assert.deepEqual(await ok(f.id, "[counter, await fs.readFile('own.txt', 'utf8'), (await fs.list('')).map((f) => f.path).sort()]"), [
        i,
        `fork ${i}`,
        ['data/a.txt', 'own.txt'],
      ]);
    }
    assert.equal(await ok(source, 'counter'), 41);
    assert.equal(await get(source, 'own.txt'), 404);
  });

  test('a fork waits for a running cell and sees the state after it', async () => {
    const source = await newSession({ limits: { fuel: 1_000_000_000 } });
    await ok(source, 'var step = 0');
    const slow = exec(source, 'let t = 0; for (let i = 0; i < 3e6; i++) t += i; step = 1; t');
    await new Promise((r) => setTimeout(r, 50));
    const forked = fork(source);
    const [cell, [child]] = await Promise.all([slow, forked]);
    assert.equal(cell.status, 'ok');
    assert.equal(await ok(child.id, 'step'), 1);
  });

  test('files are shared, not copied; deleting the source keeps what the fork needs, and survives SIGKILL', async () => {
    const source = await newSession();
    const big = 'x'.repeat(256 * 1024);
    await put(source, 'big.txt', big);
    await ok(source, "var kept = 'state'; await fs.writeFile('made.txt', 'by a cell')");
    const before = blobCount();
    const forks = await fork(source, { count: 3 });
    assert.equal(blobCount(), before, 'forking stores no new file objects');

    const del = await (await client()).req('DELETE', `/v1/sessions/${source}`);
    assert.equal(del.status, 200);
    assert.equal(blobCount(), before, 'the forks still hold every object');
    await sandbox.kill();
    await sandbox.restart();
    for (const f of forks) {
      assert.equal(await get(f.id, 'big.txt'), big);
      assert.deepEqual(await ok(f.id, "[kept, await fs.readFile('made.txt', 'utf8')]"), ['state', 'by a cell']);
    }
    // A write in one fork replaces only its own view.
    await put(forks[0].id, 'big.txt', 'small');
    assert.equal(await get(forks[1].id, 'big.txt'), big);
    // Once nothing points at the objects they are deleted.
    for (const f of forks) {
      assert.equal((await (await client()).req('DELETE', `/v1/sessions/${f.id}`)).status, 200);
    }
    assert.ok(blobCount() < before, `objects deleted (${blobCount()} of ${before} left)`);
  });
});

describe('checkpoints', () => {
  test('restore gives back the state and files exactly; later cells are gone', async () => {
    const id = await sourceSession();
    await put(id, 'bin/raw', Buffer.from([0, 1, 2, 255]), 'application/octet-stream');
    const made = await checkpoint(id, { name: 'before-change' });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.json.name, 'before-change');
    assert.equal(made.json.execution_count, 1);
    assert.ok(made.json.bytes > 0, 'an image is stored');
    assert.match(made.json.created_at, /^\d{4}-\d\d-\d\dT/);
    const filesThen = await listing(id);
    const probeThen = await ok(id, PROBE); // advances state: restore must undo this too

    await ok(id, "counter = -1; var later = true; await fs.writeFile('data/a.txt', 'changed'); await fs.writeFile('new.txt', 'n'); await fs.remove('bin/raw')");
    await put(id, 'upload.txt', 'u');
    assert.notDeepEqual(await listing(id), filesThen);

    const back = await restore(id, 'before-change');
    assert.equal(back.status, 200, back.text);
    assert.equal(back.json.session.execution_count, 1);
    assert.deepEqual(await listing(id), filesThen);
    assert.equal(await get(id, 'data/a.txt'), 'alpha');
    assert.deepEqual(Buffer.from((await (await client()).req('GET', `/v1/sessions/${id}/files/bin/raw`)).text, 'latin1').length, 4);
    assert.equal(await ok(id, 'typeof later'), 'undefined');
    // The same probe again gives the same answer: closures, generator and Math.random rewound.
    assert.deepEqual(await ok(id, PROBE), probeThen);

    // Restoring twice from the same checkpoint works; the checkpoint is kept.
    await ok(id, 'counter = 5');
    assert.equal((await restore(id, 'before-change')).status, 200);
    assert.equal(await ok(id, 'counter'), 41);

    const list = await (await client()).req('GET', `/v1/sessions/${id}/checkpoints`);
    assert.deepEqual(list.json.checkpoints.map((c) => c.name), ['before-change']);
    assert.deepEqual(Object.keys(list.json.checkpoints[0]).sort(), ['bytes', 'created_at', 'execution_count', 'files', 'memory_bytes', 'name']);
  });

  test('restore survives SIGKILL; a generated name; delete', async () => {
    const id = await newSession();
    await ok(id, 'var v = 1');
    const made = await checkpoint(id);
    assert.equal(made.status, 201);
    assert.match(made.json.name, /^cp-[0-9a-z]+-[0-9a-z]+$/);
    await ok(id, 'v = 2');
    assert.equal((await restore(id, made.json.name)).status, 200);
    await sandbox.kill();
    await sandbox.restart();
    assert.equal(await ok(id, 'v'), 1);
    const del = await (await client()).req('DELETE', `/v1/sessions/${id}/checkpoints/${made.json.name}`);
    assert.deepEqual(del.json, { name: made.json.name, deleted: true });
    assert.equal((await restore(id, made.json.name)).status, 404);
  });

  test('bad names, unknown and duplicate checkpoints, and the bound get clear errors', async () => {
    const id = await newSession();
    for (const name of ['', 'a b', '-x', 'x'.repeat(65), 7, null]) {
      const res = await checkpoint(id, { name });
      assert.equal(res.status, 400, `name ${JSON.stringify(name)}`);
      assert.equal(res.json.error.code, 'invalid_request');
    }
    const unknown = await restore(id, 'nope');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'checkpoint_not_found');
    assert.match(unknown.json.error.message, /nope/);
    const unknownDelete = await (await client()).req('DELETE', `/v1/sessions/${id}/checkpoints/nope`);
    assert.equal(unknownDelete.json.error.code, 'checkpoint_not_found');
    assert.equal((await checkpoint(id, { name: 'same' })).status, 201);
    const dup = await checkpoint(id, { name: 'same' });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.error.code, 'checkpoint_exists');
    for (let i = 1; i < 32; i++) assert.equal((await checkpoint(id, { name: `c${i}` })).status, 201);
    const over = await checkpoint(id, { name: 'one-too-many' });
    assert.equal(over.status, 409);
    assert.equal(over.json.error.code, 'checkpoint_limit');
    assert.match(over.json.error.message, /32/);
    const wrongMethod = await (await client()).req('GET', `/v1/sessions/${id}/checkpoints/same/restore`);
    assert.equal(wrongMethod.status, 405);
  });
});

describe('tenancy', () => {
  test('another tenant cannot fork, list, checkpoint, restore or delete checkpoints (404)', async () => {
    const id = await newSession();
    assert.equal((await checkpoint(id, { name: 'mine' })).status, 201);
    const bob = await api(sandbox.url, sandbox.keys.bob);
    for (const [method, p, body] of [
      ['POST', `/v1/sessions/${id}/fork`, {}],
      ['GET', `/v1/sessions/${id}/checkpoints`],
      ['POST', `/v1/sessions/${id}/checkpoints`, { name: 'x' }],
      ['POST', `/v1/sessions/${id}/checkpoints/mine/restore`],
      ['DELETE', `/v1/sessions/${id}/checkpoints/mine`],
    ]) {
      const res = await bob.req(method, p, { body });
      assert.equal(res.status, 404, `${method} ${p}`);
      assert.equal(res.json.error.code, 'not_found');
    }
    const mine = await (await client()).req('GET', `/v1/sessions/${id}/checkpoints`);
    assert.deepEqual(mine.json.checkpoints.map((c) => c.name), ['mine']);
    const none = await bob.req('GET', '/v1/sessions');
    assert.ok(!none.json.sessions.some((s) => s.id === id));
  });
});
