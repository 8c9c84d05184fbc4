// Streaming (server-sent events) for exec and /v1/run: console lines as events while the cell
// runs, keepalive comments, then one `result` event holding the plain answer's body.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionHelpers, startSandbox } from './harness.mjs';
import { startLoopback } from './loopback.mjs';
import { streamPost } from './sse.mjs';

let sandbox;
let lb;

before(async () => {
  // A short keepalive interval keeps the slow-fetch test short.
  [sandbox, lb] = await Promise.all([startSandbox({ vars: { STREAM_HEARTBEAT_MS: '1000' } }), startLoopback()]);
});

after(async () => {
  await sandbox?.stop();
  await lb?.close();
});

const { client, newSession, exec } = sessionHelpers(() => sandbox);
const stream = (urlPath, body) => streamPost(sandbox.url, sandbox.keys.alice, urlPath, body);

/** The answer's body without what differs between two runs of one cell. */
function comparable(body) {
  const { duration_ms, ...rest } = body;
  assert.equal(typeof duration_ms, 'number');
  return rest;
}

/** Asserts a well-formed stream: 200 text/event-stream, output events, then one result last. */
function assertStream(res) {
  assert.equal(res.status, 200, res.text.slice(0, 500));
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(res.rest, '', 'the stream ends after a whole event');
  const results = res.events.filter((e) => e.event === 'result');
  assert.equal(results.length, 1, `one result event: ${res.text.slice(0, 500)}`);
  assert.equal(res.events.at(-1).event, 'result', 'the result is the last event');
  for (const e of res.events.slice(0, -1)) {
    assert.ok(['stdout', 'stderr'].includes(e.event), e.event);
    assert.deepEqual(Object.keys(e.data), ['text']);
  }
  return results[0].data;
}

const PRINTS = `console.log('one'); console.error('two'); console.log('three', {a: 1}); console.warn('four\\nfive'); 6 * 7`;

describe('exec with Accept: text/event-stream', () => {
  test('stdout and stderr lines arrive as events in order, then the plain answer as the result', async () => {
    const id = await newSession();
    const res = await stream(`/v1/sessions/${id}/exec`, { code: PRINTS });
    const result = assertStream(res);
    const output = res.events.slice(0, -1).map((e) => [e.event, e.data.text]);
    assert.deepEqual(output, [
      ['stdout', 'one'],
      ['stderr', 'two'],
      ['stdout', 'three { a: 1 }'],
      ['stderr', 'four\nfive'],
    ]);
    // The same cell on another session, without streaming: the same answer.
    const other = await newSession();
    const plain = await exec(other, PRINTS);
    assert.deepEqual(comparable(result), comparable(plain));
    assert.equal(result.execution_count, 1);
    // The cell was committed like a plain one: the next exec sees count 2.
    const next = await exec(id, '1');
    assert.equal(next.execution_count, 2);
  });

  test('the first line arrives while the cell still computes, long before the result', async () => {
    const id = await newSession({ limits: { fuel: 1_500_000_000 } });
    // 2e7 iterations: over 3 s on any machine measured so far, so that the cell outlasts the
    // 1 s keepalive interval.
    const code = `console.log('started');
      let s = 0; for (let i = 0; i < 2e7; i++) { s += i % 7 }
      console.log('done'); s`;
    const res = await stream(`/v1/sessions/${id}/exec`, { code });
    const result = assertStream(res);
    assert.equal(result.status, 'ok', JSON.stringify(result.error));
    const first = res.events[0];
    const last = res.events.at(-1);
    assert.deepEqual([first.event, first.data.text], ['stdout', 'started']);
    console.log(`first event after ${first.at.toFixed(0)} ms, result after ${last.at.toFixed(0)} ms, fuel ${result.usage.fuel}`);
    // Measured in the same run: the first event came in the first fifth of the cell's time.
    assert.ok(first.at < last.at * 0.2, `first event at ${first.at} ms, result at ${last.at} ms`);
    // Keepalive comments during a long computation (interval 1 s here).
    assert.ok(res.comments.some((c) => c.text === 'keepalive' && c.at < last.at), 'a keepalive during the computation');
  });

  test('keepalive comments are sent while the cell waits on a slow fetch', async () => {
    const id = await newSession({ network: { allow: [`127.0.0.1:${lb.port}`] } });
    const code = `console.log('fetching');
      const r = await fetch('http://127.0.0.1:${lb.port}/slow?ms=3500'); console.log(await r.text()); r.status`;
    const res = await stream(`/v1/sessions/${id}/exec`, { code });
    const result = assertStream(res);
    assert.equal(result.status, 'ok', JSON.stringify(result.error));
    assert.equal(result.value, 200);
    const [fetching, slow] = res.events;
    assert.equal(fetching.data.text, 'fetching');
    assert.equal(slow.data.text, 'slow');
    const during = res.comments.filter((c) => c.text === 'keepalive' && c.at > fetching.at && c.at < slow.at);
    assert.ok(during.length >= 2, `keepalives while waiting: ${JSON.stringify(res.comments)}`);
    assert.ok(fetching.at < slow.at - 3000, 'the line before the fetch arrived before the fetch ended');
  });

  test('limit and guest errors arrive as the result event', async () => {
    const id = await newSession({ limits: { fuel: 5_000_000 } });
    const limited = await stream(`/v1/sessions/${id}/exec`, { code: `console.log('spin'); for (;;) {}` });
    const limit = assertStream(limited);
    assert.deepEqual(limited.events[0].data, { text: 'spin' });
    assert.equal(limit.status, 'limit');
    assert.equal(limit.error.limit, 'fuel');
    const thrown = await stream(`/v1/sessions/${id}/exec`, { code: `console.error('oops'); throw new TypeError('bad')` });
    const error = assertStream(thrown);
    assert.deepEqual([thrown.events[0].event, thrown.events[0].data.text], ['stderr', 'oops']);
    assert.equal(error.status, 'error');
    assert.equal(error.error.name, 'TypeError');
  });

  test('errors before the cell starts are plain JSON', async () => {
    const missing = await stream('/v1/sessions/ses_aaaaaaaaaaaaaaaaaaaaaaaaaa/exec', { code: '1' });
    assert.equal(missing.status, 404, missing.text);
    assert.match(missing.headers.get('content-type'), /application\/json/);
    assert.equal(missing.json?.error?.code, 'not_found');
    const id = await newSession();
    const bad = await stream(`/v1/sessions/${id}/exec`, { nope: 1 });
    assert.equal(bad.status, 400, bad.text);
    assert.ok(bad.json?.error, bad.text);
    const anonymous = await streamPost(sandbox.url, null, `/v1/sessions/${id}/exec`, { code: '1' });
    assert.equal(anonymous.status, 401, anonymous.text);
    assert.ok(anonymous.json?.error, anonymous.text);
  });

  test('without the Accept header nothing changes', async () => {
    const id = await newSession();
    const res = await (await client()).req('POST', `/v1/sessions/${id}/exec`, { body: { code: PRINTS } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /application\/json/);
    assert.deepEqual(res.json.logs.stdout, ['one', 'three { a: 1 }']);
  });
});

describe('/v1/run with Accept: text/event-stream', () => {
  test('streams the output, then the plain run answer as the result', async () => {
    const body = { code: `console.log('hi'); await fs.writeFile('out.txt', 'x'); console.error('bye'); 5` };
    const res = await stream('/v1/run', body);
    const result = assertStream(res);
    assert.deepEqual(res.events.slice(0, -1).map((e) => [e.event, e.data.text]), [['stdout', 'hi'], ['stderr', 'bye']]);
    const plain = await (await client()).req('POST', '/v1/run', { body });
    assert.equal(plain.status, 200);
    assert.deepEqual(comparable(result), comparable(plain.json));
    assert.equal(result.files[0].path, 'out.txt');
  });

  test('a bad run request is plain JSON', async () => {
    const res = await stream('/v1/run', { code: '1', limits: { fuel: -1 } });
    assert.equal(res.status, 400, res.text);
    assert.ok(res.json?.error, res.text);
  });
});
