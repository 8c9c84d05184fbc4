// GET /openapi.json: the document of docs/ served without an API key, with the deployment's
// ceilings filled in; and the routes it lists are exactly the server's routes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, api, startSandbox } from './harness.mjs';

const SOURCE = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', 'openapi.json'), 'utf8'));
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'QUERY'];
// Lower ceilings than wrangler.toml's, so the served document must differ from docs/ there.
const VARS = {
  MAX_LIMITS: JSON.stringify({ fuel: 5000000, files_count: 7 }),
  MAX_TTL_SECONDS: '600',
  DEFAULT_TTL_SECONDS: '60',
};

let sandbox;
let alice;
let anonymous;
let id;

before(async () => {
  sandbox = await startSandbox({ vars: VARS });
  alice = await api(sandbox.url, sandbox.keys.alice);
  anonymous = await api(sandbox.url, null);
  const res = await alice.req('POST', '/v1/sessions', { body: {} });
  assert.equal(res.status, 201, res.text);
  id = res.json.id;
  const put = await alice.req('PUT', `/v1/sessions/${id}/files/d/x.csv`, { raw: 'a,b\n' });
  assert.equal(put.status, 201, put.text);
});

after(async () => {
  await sandbox?.stop();
});

describe('GET /openapi.json', () => {
  test('needs no API key and is JSON', async () => {
    const res = await anonymous.req('GET', '/openapi.json');
    assert.equal(res.status, 200, res.text.slice(0, 300));
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.json.openapi, '3.1.0');
    const head = await anonymous.req('HEAD', '/openapi.json');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

  test('is the document of docs/ with the deployment ceilings substituted', async () => {
    const served = (await anonymous.req('GET', '/openapi.json')).json;
    const schemas = served.components.schemas;
    const limits = schemas.LimitsRequest.properties;
    assert.equal(limits.fuel.maximum, 5000000);
    assert.equal(limits.files_count.maximum, 7);
    assert.equal(limits.memory_bytes.maximum, SOURCE.components.schemas.LimitsRequest.properties.memory_bytes.maximum);
    const ttl = schemas.CreateSessionRequest.properties.ttl_seconds;
    assert.equal(ttl.maximum, 600);
    assert.equal(ttl.default, 60);
    // Put the docs/ values back: nothing else may differ.
    const expected = structuredClone(SOURCE);
    for (const [name, field] of Object.entries(limits)) {
      expected.components.schemas.LimitsRequest.properties[name].maximum = field.maximum;
    }
    Object.assign(expected.components.schemas.CreateSessionRequest.properties.ttl_seconds, {
      maximum: 600,
      default: 60,
    });
    assert.equal(schemas.ForkRequest.properties.ttl_seconds.maximum, 600);
    expected.components.schemas.ForkRequest.properties.ttl_seconds.maximum = 600;
    assert.deepEqual(served, expected);
  });

  test('the served ceilings are the ones the server enforces', async () => {
    const over = await alice.req('POST', '/v1/sessions', { body: { limits: { files_count: 8 } } });
    assert.equal(over.status, 400, over.text);
    assert.match(over.json.error.message, /limits\.files_count must be between 1 and 7/);
    const ttl = await alice.req('POST', '/v1/sessions', { body: { ttl_seconds: 601 } });
    assert.equal(ttl.status, 400, ttl.text);
  });
});

describe('the routes are the documented ones', () => {
  const concrete = (template) =>
    template.replace('{id}', () => id).replace('{path}', 'd/x.csv').replace('{name}', 'no-such-checkpoint');

  test('every documented method of every path is routed', async () => {
    const operations = Object.entries(SOURCE.paths)
      .flatMap(([template, item]) => METHODS.filter((m) => item[m.toLowerCase()]).map((m) => [template, m]))
      // Deletes last, the file's before the session's.
      .sort(([ta, ma], [tb, mb]) => (ma === 'DELETE') - (mb === 'DELETE') || (ma === 'DELETE' ? tb.length - ta.length : 0));
    assert.ok(operations.length >= 13, `${operations.length} operations`);
    for (const [template, method] of operations) {
      {
        // PUT without a body would be 411; a route that does not exist would be 404/405.
        const opts = method === 'PUT' ? { raw: 'a,b\n' } : {};
        const res = await alice.req(method, concrete(template), opts);
        assert.ok(![404, 405].includes(res.status) || ['file_not_found', 'checkpoint_not_found'].includes(res.json?.error?.code),
          `${method} ${template}: ${res.status} ${res.text.slice(0, 200)}`);
        assert.ok(res.status < 500, `${method} ${template}: ${res.status} ${res.text.slice(0, 200)}`);
      }
    }
  });

  test('every other method answers 405 with Allow and a JSON error, QUERY included', async () => {
    for (const [template, item] of Object.entries(SOURCE.paths)) {
      const documented = METHODS.filter((m) => item[m.toLowerCase()]);
      for (const method of METHODS.filter((m) => !item[m.toLowerCase()])) {
        for (const client of [alice, anonymous]) {
          const res = await client.req(method, concrete(template));
          assert.equal(res.status, 405, `${method} ${template}: ${res.status} ${res.text.slice(0, 200)}`);
          assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
          if (method !== 'HEAD') assert.equal(res.json?.error?.code, 'method_not_allowed', `${method} ${template}`);
          const allow = (res.headers.get('allow') ?? '').split(',').map((m) => m.trim()).sort();
          assert.deepEqual(allow, [...documented].sort(), `Allow of ${template}`);
        }
      }
    }
  });
});
