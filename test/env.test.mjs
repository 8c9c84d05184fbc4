// Session env (secrets): visible to guest code as the frozen `env` global, never in a response,
// the KV listing or the logs; validated at creation; kept across restarts; also on /v1/run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { api, sleep, startSandbox } from './harness.mjs';

let sandbox;

before(async () => {
  sandbox = await startSandbox();
});

after(async () => {
  await sandbox?.stop();
});

const client = () => api(sandbox.url, sandbox.keys.alice);
const secret = () => `sv_${randomBytes(12).toString('hex')}`;

async function create(body) {
  const res = await (await client()).req('POST', '/v1/sessions', { body });
  assert.equal(res.status, 201, `create answered ${res.status}: ${res.text}`);
  return res;
}

async function ok(id, code) {
  const res = await (await client()).req('POST', `/v1/sessions/${id}/exec`, { body: { code } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.status, 'ok', `${code} failed: ${JSON.stringify(res.json.error)}`);
  return res;
}

describe('session env', () => {
  test('values are globals in every cell, and the env object is frozen', async () => {
    const token = secret();
    const { json } = await create({ env: { API_TOKEN: token, OTHER: 'plain' } });
    const check = `env.API_TOKEN === ${JSON.stringify(token)}`;
    assert.equal((await ok(json.id, check)).json.value, true);
    assert.equal((await ok(json.id, 'env.OTHER')).json.value, 'plain');
    const frozen = await ok(
      json.id,
      `try { env.API_TOKEN = 'changed' } catch {} try { env.ADDED = 1 } catch {} [Object.isFrozen(env), env.ADDED, Object.keys(env).sort(), env.API_TOKEN.length]`,
    );
    assert.deepEqual(frozen.json.value, [true, { $type: 'undefined' }, ['API_TOKEN', 'OTHER'], token.length]);
    assert.equal((await ok(json.id, check)).json.value, true, 'still the secret in a later cell');
  });

  test('no response, listing or log ever holds a value; GET shows the sorted names', async () => {
    const token = secret();
    const c = await client();
    const created = await create({ env: { ZED: token, API_TOKEN: token } });
    const id = created.json.id;
    const bodies = [created.text];
    const got = await c.req('GET', `/v1/sessions/${id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.json.env, ['API_TOKEN', 'ZED']);
    bodies.push(got.text);
    bodies.push((await ok(id, 'env.API_TOKEN.length')).text);
    bodies.push((await c.req('POST', `/v1/sessions/${id}/exec`, { body: { code: 'throw new Error("x" + env.ZED.length)' } })).text);
    bodies.push((await ok(id, 'console.log(Object.keys(env))')).text);
    await sleep(1500); // let the KV record sync
    const listed = await c.req('GET', '/v1/sessions');
    assert.equal(listed.status, 200);
    assert.ok(listed.json.sessions.some((s) => s.id === id));
    bodies.push(listed.text);
    bodies.push((await c.req('DELETE', `/v1/sessions/${id}`)).text);
    for (const body of bodies) assert.ok(!body.includes(token), `a response holds the secret: ${body.slice(0, 300)}`);
    assert.ok(!sandbox.output().includes(token), 'the wrangler log holds the secret');
  });

  test('bad env answers 400 invalid_request without echoing the value', async () => {
    const c = await client();
    const marker = secret();
    const names64 = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`V${i}`, 'x']));
    const okBodies = [
      { env: names64 },
      { env: { ['A'.repeat(128)]: 'x'.repeat(4096) } },
      { env: { _under: '', a1: 'ü' } },
    ];
    for (const body of okBodies) {
      const res = await c.req('POST', '/v1/sessions', { body });
      assert.equal(res.status, 201, `${JSON.stringify(body).slice(0, 100)}: ${res.text.slice(0, 300)}`);
    }
    const badBodies = [
      { env: { A: 1 } },
      { env: { A: null } },
      { env: { A: { nested: marker } } },
      { env: { '1BAD': marker } },
      { env: { 'a-b': marker } },
      { env: { '': marker } },
      { env: { ['A'.repeat(129)]: marker } },
      { env: { A: marker + 'x'.repeat(4097 - marker.length) } },
      { env: { ...names64, V64: marker } },
      { env: [marker] },
      { env: marker },
    ];
    for (const body of badBodies) {
      const res = await c.req('POST', '/v1/sessions', { body });
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 100)}: ${res.text.slice(0, 300)}`);
      assert.equal(res.json.error.code, 'invalid_request');
      assert.ok(!res.text.includes(marker), `the error echoes the value: ${res.text.slice(0, 300)}`);
    }
    const run = await c.req('POST', '/v1/run', { body: { code: '1', env: { 'bad-name': 'x' } } });
    assert.equal(run.status, 400);
  });

  test('env survives a graceful restart and a crash', async () => {
    const token = secret();
    const { json } = await create({ env: { API_TOKEN: token } });
    await ok(json.id, 'const copy = env.API_TOKEN');
    const check = `[env.API_TOKEN === ${JSON.stringify(token)}, copy === env.API_TOKEN]`;
    await sandbox.restart();
    assert.deepEqual((await ok(json.id, check)).json.value, [true, true]);
    await sandbox.kill();
    await sandbox.restart();
    assert.deepEqual((await ok(json.id, check)).json.value, [true, true]);
    const got = await (await client()).req('GET', `/v1/sessions/${json.id}`);
    assert.deepEqual(got.json.env, ['API_TOKEN']);
  });

  test('/v1/run takes env too, and a run without env has none of another run', async () => {
    const c = await client();
    const token = secret();
    const res = await c.req('POST', '/v1/run', { body: { code: 'env.KEY + "!"', env: { KEY: token } } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.value, `${token}!`, 'guest code may return a value itself');
    const bare = await c.req('POST', '/v1/run', { body: { code: 'typeof env === "undefined" ? [] : Object.keys(env)' } });
    assert.equal(bare.status, 200, bare.text);
    assert.deepEqual(bare.json.value, []);
  });
});
