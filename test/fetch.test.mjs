// Guest `fetch`: default deny, network.allow rules, loopback/private refusal, redirects checked
// hop by hop, per-execution caps, journaled responses (replay never repeats a request).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionHelpers, startSandbox } from './harness.mjs';
import { startLoopback } from './loopback.mjs';

let sandbox;
let lb; // allowed by the tests' rules
let other; // never allowed: must never be contacted

before(async () => {
  [sandbox, lb, other] = await Promise.all([startSandbox(), startLoopback(), startLoopback()]);
});

after(async () => {
  await sandbox?.stop();
  await lb?.close();
  await other?.close();
});

const allowLb = () => ({ network: { allow: [`127.0.0.1:${lb.port}`] } });

const { client, newSession, exec, ok } = sessionHelpers(() => sandbox);

/** Guest code: awaits `expr`; answers 'no error' or [name, message] of what it threw. */
const caught = (expr) =>
  `(async () => { try { await (${expr}); return 'no error' } catch (e) { return [e.name, String(e.message)] } })()`;

/** Asserts a guest fetch of `url` is refused with a TypeError naming `host`. */
async function assertDenied(id, url, host) {
  const out = await ok(id, caught(`fetch(${JSON.stringify(url)})`));
  assert.notEqual(out, 'no error', `${url} should be denied`);
  assert.equal(out[0], 'TypeError', `${url}: ${out}`);
  assert.ok(out[1].includes(host), `${url}: message names ${host}: ${out[1]}`);
  assert.match(out[1], /denied/, url);
}

describe('allow rules', () => {
  test('default deny: no network rules refuses every host without contacting it', async () => {
    const id = await newSession();
    const before = lb.hits('/text');
    await assertDenied(id, `${lb.url}/text`, '127.0.0.1');
    await assertDenied(id, 'https://example.com/', 'example.com');
    const out = await ok(id, caught(`fetch('https://example.com/')`));
    assert.match(out[1], /network\.allow/);
    assert.equal(lb.hits('/text'), before, 'the server was not contacted');
  });

  test('an exact rule allows GET with status, headers and every body reader', async () => {
    const id = await newSession(allowLb());
    const value = await ok(
      id,
      `(async () => {
         const r = await fetch('${lb.url}/text');
         const j = await fetch('${lb.url}/json');
         const b = await fetch('${lb.url}/bytes?n=300');
         const u = await fetch('${lb.url}/bytes?n=5');
         const ab = await b.arrayBuffer();
         const bytes = await u.bytes();
         return {
           status: r.status, ok: r.ok, url: r.url, redirected: r.redirected,
           header: r.headers.get('X-Loopback'), has: r.headers.has('x-loopback'), hasNot: r.headers.has('x-nope'),
           missing: r.headers.get('x-nope'),
           entry: [...r.headers].find(([k]) => k === 'x-loopback'),
           entries: Array.from(r.headers.entries()).some(([k, v]) => k === 'content-type' && v.startsWith('text/plain')),
           text: await r.text(), json: await j.json(),
           abLen: ab.byteLength, abLast: new Uint8Array(ab)[299],
           bytes: Array.from(bytes), isU8: bytes instanceof Uint8Array,
         };
       })()`,
    );
    assert.deepEqual(value, {
      status: 200,
      ok: true,
      url: `${lb.url}/text`,
      redirected: false,
      header: 'yes',
      has: true,
      hasNot: false,
      missing: null,
      entry: ['x-loopback', 'yes'],
      entries: true,
      text: 'hello from loopback',
      json: { hello: 'world', n: 42 },
      abLen: 300,
      abLast: 299 % 256,
      bytes: [0, 1, 2, 3, 4],
      isU8: true,
    });
  });

  test('POST sends the method, headers (object or pairs) and body (string or bytes)', async () => {
    const id = await newSession(allowLb());
    const [a, b] = await ok(
      id,
      `(async () => [
         await (await fetch('${lb.url}/echo', { method: 'POST', headers: { 'X-Custom': 'one', 'content-type': 'application/json' }, body: '{"k":1}' })).json(),
         await (await fetch('${lb.url}/echo?q=2', { method: 'PUT', headers: [['x-pair', 'two']], body: new Uint8Array([104, 105]) })).json(),
       ])()`,
    );
    assert.equal(a.method, 'POST');
    assert.equal(a.headers['x-custom'], 'one');
    assert.equal(a.headers['content-type'], 'application/json');
    assert.equal(a.body, '{"k":1}');
    assert.equal(b.method, 'PUT');
    assert.equal(b.path, '/echo?q=2');
    assert.equal(b.headers['x-pair'], 'two');
    assert.equal(b.body, 'hi');
  });

  test('*.suffix matches subdomains at any depth, not the bare suffix or a longer name', async () => {
    const id = await newSession({ network: { allow: ['*.example.invalid'] } });
    for (const url of ['http://a.example.invalid/', 'http://a.b.c.example.invalid/']) {
      // allowed by the rules; the name does not resolve, so it fails, but not as denied
      const out = await ok(id, caught(`fetch('${url}')`));
      assert.notEqual(out, 'no error', url);
      assert.doesNotMatch(out[1], /denied/, `${url} is allowed: ${out[1]}`);
    }
    await assertDenied(id, 'http://example.invalid/', 'example.invalid');
    await assertDenied(id, 'http://badexample.invalid/', 'badexample.invalid');
    await assertDenied(id, 'http://a.example.invalid.evil.com/', 'a.example.invalid.evil.com');
  });

  test('an error status is a response, not a rejection', async () => {
    const id = await newSession(allowLb());
    const value = await ok(id, `(async () => { const r = await fetch('${lb.url}/status/404'); return [r.status, r.ok, await r.text()] })()`);
    assert.deepEqual(value, [404, false, 'status 404']);
  });

  test('a rule for another port denies; non-http schemes are TypeErrors', async () => {
    const id = await newSession({ network: { allow: [`127.0.0.1:${other.port}`] } });
    const before = lb.hits('/text');
    await assertDenied(id, `${lb.url}/text`, '127.0.0.1');
    assert.equal(lb.hits('/text'), before);
    for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/', 'data:text/plain,hi', 'not a url']) {
      const out = await ok(id, caught(`fetch(${JSON.stringify(url)})`));
      assert.equal(out[0], 'TypeError', `${url}: ${out}`);
    }
  });

  test('bad rules at creation are 400 invalid_request naming the rule; GET shows the rules', async () => {
    const c = await client();
    for (const rule of ['http://a.com', '*', 'a b.com', 'a.com:99999', '**.a.com', 'a.*.com', '', 'a.com/path']) {
      const res = await c.req('POST', '/v1/sessions', { body: { network: { allow: [rule] } } });
      assert.equal(res.status, 400, `${JSON.stringify(rule)}: ${res.text}`);
      assert.equal(res.json.error.code, 'invalid_request');
      if (rule) assert.ok(res.json.error.message.includes(rule), `message names ${rule}: ${res.json.error.message}`);
    }
    const tooMany = Array.from({ length: 65 }, (_, i) => `h${i}.example.com`);
    assert.equal((await c.req('POST', '/v1/sessions', { body: { network: { allow: tooMany } } })).status, 400);
    assert.equal((await c.req('POST', '/v1/sessions', { body: { network: { allow: 'a.com' } } })).status, 400);
    assert.equal((await c.req('POST', '/v1/run', { body: { code: '1', network: { allow: ['*'] } } })).status, 400);

    const rules = ['api.example.com', '*.example.org', `127.0.0.1:${lb.port}`, '[::1]:8080'];
    const created = await c.req('POST', '/v1/sessions', { body: { network: { allow: rules } } });
    assert.equal(created.status, 201, created.text);
    const shown = await c.req('GET', `/v1/sessions/${created.json.id}`);
    assert.deepEqual(shown.json.network, { allow: rules });
    const max = await c.req('POST', '/v1/sessions', { body: { network: { allow: tooMany.slice(0, 64) } } });
    assert.equal(max.status, 201, '64 rules are allowed');
  });
});

describe('loopback, private addresses and the sandbox itself', () => {
  test('private, link-local, loopback and localhost are refused without an exact rule', async () => {
    const id = await newSession({ network: { allow: [`127.0.0.1:${lb.port}`, '*.example.com'] } });
    await assertDenied(id, `http://localhost:${lb.port}/text`, 'localhost');
    await assertDenied(id, 'http://10.0.0.1/', '10.0.0.1');
    await assertDenied(id, 'http://169.254.169.254/latest/meta-data/', '169.254.169.254');
    await assertDenied(id, `http://[::1]:${lb.port}/text`, '::1');
    await assertDenied(id, `http://127.0.0.2:${lb.port}/text`, '127.0.0.2');
    await assertDenied(id, `http://0.0.0.0:${lb.port}/text`, '0.0.0.0');
    const decimal = await ok(id, caught(`fetch('http://2130706433:${other.port}/text')`));
    assert.equal(decimal[0], 'TypeError', `decimal 127.0.0.1 on another port: ${decimal}`);
    assert.equal(other.hits('/text'), 0);
  });

  test('a wildcard rule never allows a loopback address', async () => {
    const c = await client();
    const res = await c.req('POST', '/v1/sessions', { body: { network: { allow: ['*.0.0.1', '*.localhost'] } } });
    if (res.status === 400) {
      assert.equal(res.json.error.code, 'invalid_request'); // refusing such rules outright is fine too
      return;
    }
    assert.equal(res.status, 201, res.text);
    const before = lb.hits('/text');
    await assertDenied(res.json.id, `${lb.url}/text`, '127.0.0.1');
    await assertDenied(res.json.id, `http://localhost:${lb.port}/text`, 'localhost');
    assert.equal(lb.hits('/text'), before);
  });

  test('an exact localhost rule allows localhost, and only it', async () => {
    const id = await newSession({ network: { allow: [`localhost:${lb.port}`] } });
    const value = await ok(id, `(async () => { const r = await fetch('http://localhost:${lb.port}/text'); return [r.status, await r.text()] })()`);
    assert.deepEqual(value, [200, 'hello from loopback']);
    await assertDenied(id, `${lb.url}/text`, '127.0.0.1');
  });

  test("the sandbox's own origin is refused when only the test server is allowed", async () => {
    const id = await newSession(allowLb());
    await assertDenied(id, `http://127.0.0.1:${sandbox.port}/healthz`, '127.0.0.1');
    await assertDenied(id, `http://localhost:${sandbox.port}/v1/sessions`, 'localhost');
  });
});

describe('redirects', () => {
  test('are followed to an allowed URL; manual and error modes', async () => {
    const id = await newSession(allowLb());
    const target = `${lb.url}/json`;
    const [r, rel, manual, err] = await ok(
      id,
      `(async () => {
         const a = await fetch('${lb.url}/redirect?to=' + encodeURIComponent('${target}'));
         const b = await fetch('${lb.url}/redirect?to=/text');
         const m = await fetch('${lb.url}/redirect?to=/text', { redirect: 'manual' });
         let e = 'no error';
         try { await fetch('${lb.url}/redirect?to=/text', { redirect: 'error' }) } catch (x) { e = x.name }
         return [{ status: a.status, redirected: a.redirected, url: a.url, body: await a.json() },
                 { url: b.url, body: await b.text() },
                 { status: m.status, location: m.headers.get('location'), redirected: m.redirected },
                 e];
       })()`,
    );
    assert.deepEqual(r, { status: 200, redirected: true, url: target, body: { hello: 'world', n: 42 } });
    assert.deepEqual(rel, { url: `${lb.url}/text`, body: 'hello from loopback' });
    assert.deepEqual(manual, { status: 302, location: '/text', redirected: false });
    assert.notEqual(err, 'no error', 'redirect: "error" rejects');
  });

  test('a redirect loop stops after at most 10 hops', async () => {
    const id = await newSession(allowLb());
    const before = lb.hits('/loop');
    const out = await ok(id, caught(`fetch('${lb.url}/loop')`));
    assert.notEqual(out, 'no error');
    const sent = lb.hits('/loop') - before;
    assert.ok(sent >= 10 && sent <= 11, `${sent} requests for a redirect loop`);
  });

  test('a redirect to a denied host rejects naming it, and the host is never contacted', async () => {
    const id = await newSession(allowLb());
    for (const to of [`${other.url}/text`, 'http://169.254.169.254/latest/', 'https://evil.example.net/']) {
      const host = new URL(to).hostname;
      const out = await ok(id, caught(`fetch('${lb.url}/redirect?to=' + encodeURIComponent(${JSON.stringify(to)}))`));
      assert.equal(out[0], 'TypeError', `${to}: ${out}`);
      assert.ok(out[1].includes(host), `${to}: names ${host}: ${out[1]}`);
    }
    assert.equal(other.hits('/text'), 0, 'the denied target got no request');
  });
});

describe('per-execution caps', () => {
  test('fetch_requests: the third request rejects with a catchable RangeError; the next exec starts over', async () => {
    const id = await newSession({ ...allowLb(), limits: { fetch_requests: 2 } });
    const path = '/count/requests';
    const out = await ok(
      id,
      `(async () => {
         const a = await (await fetch('${lb.url}${path}')).text();
         const b = await (await fetch('${lb.url}${path}')).text();
         try { await fetch('${lb.url}${path}'); return 'no error' } catch (e) { return [a, b, e.name, e.message] }
       })()`,
    );
    assert.equal(out[0], '1');
    assert.equal(out[1], '2');
    assert.equal(out[2], 'RangeError');
    assert.match(out[3], /fetch_requests/);
    assert.equal(lb.hits(path), 2, 'the third request was not sent');
    const again = await ok(id, `(async () => [await (await fetch('${lb.url}${path}')).text(), await (await fetch('${lb.url}${path}')).text()])()`);
    assert.deepEqual(again, ['3', '4']);
    // each redirect hop counts: redirect + target = 2, so one more fetch is over
    const hops = await ok(
      id,
      `(async () => { await fetch('${lb.url}/redirect?to=/text'); try { await fetch('${lb.url}/text'); return 'no error' } catch (e) { return e.name } })()`,
    );
    assert.equal(hops, 'RangeError');
  });

  test('fetch_bytes: response bytes over the cap reject with a RangeError', async () => {
    const id = await newSession({ ...allowLb(), limits: { fetch_bytes: 100 } });
    const small = await ok(id, `(async () => (await (await fetch('${lb.url}/bytes?n=60')).arrayBuffer()).byteLength)()`);
    assert.equal(small, 60);
    const big = await ok(id, caught(`fetch('${lb.url}/bytes?n=500').then((r) => r.arrayBuffer())`));
    assert.equal(big[0], 'RangeError', JSON.stringify(big));
    assert.match(big[1], /fetch_bytes/);
    const total = await ok(
      id,
      caught(`fetch('${lb.url}/bytes?n=60').then((r) => r.arrayBuffer()).then(() => fetch('${lb.url}/bytes?n=60')).then((r) => r.arrayBuffer())`),
    );
    assert.equal(total[0], 'RangeError', `60 + 60 bytes in one exec: ${JSON.stringify(total)}`);
  });
});

describe('replay', () => {
  test('rebuilding the realm (after a limit and after a crash) never repeats a request', async () => {
    const id = await newSession({ ...allowLb(), limits: { fuel: 1_000_000 } });
    const path = '/count/replay';
    await ok(id, `var got = await (await fetch('${lb.url}${path}')).text(); var j = await (await fetch('${lb.url}/json')).json()`);
    assert.equal(lb.hits(path), 1);
    const stopped = await exec(id, 'for (;;) {}');
    assert.equal(stopped.status, 'limit');
    assert.deepEqual(await ok(id, '[got, j.n]'), ['1', 42]);
    await sandbox.kill();
    await sandbox.restart();
    assert.deepEqual(await ok(id, '[got, j.n]'), ['1', 42]);
    assert.equal(lb.hits(path), 1, 'replay did not fetch again');
  });
});

describe('one-shot run', () => {
  test('network.allow works on /v1/run, and runs deny by default', async () => {
    const c = await client();
    const code = `(async () => (await fetch('${lb.url}/json')).json())()`;
    const allowed = await c.req('POST', '/v1/run', { body: { code, ...allowLb() } });
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.json.status, 'ok', JSON.stringify(allowed.json.error));
    assert.deepEqual(allowed.json.value, { hello: 'world', n: 42 });
    const denied = await c.req('POST', '/v1/run', { body: { code } });
    assert.equal(denied.json.status, 'error');
    assert.equal(denied.json.error.name, 'TypeError');
    assert.match(denied.json.error.message, /127\.0\.0\.1/);
  });
});
