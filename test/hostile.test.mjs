// The hostile corpus: code written to hang, exhaust or crash the sandbox. Every cell must end
// with an execution result (HTTP 200) — a limit (`status: "limit"`, `LimitError`) or, where
// JavaScript itself defines one, a catchable error — and the session must carry on exactly as
// it was before the cell: earlier state intact, nothing of the stopped cell left behind, and a
// second session running at the same time unaffected.
//
// Sessions here run with small limits so each stopped cell ends fast. Nothing is timed: every
// request has the harness's timeout, so a hang fails the test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startSandbox } from './harness.mjs';

/** Limits of the sessions under attack (docs/api.md: `limits`). */
const SMALL = { fuel: 20_000_000, memory_bytes: 16 << 20, output_bytes: 64 << 10 };

/** The built-in maximums of docs/api.md. */
const CEILING = {
  fuel: 2_000_000_000,
  memory_bytes: 67_108_864,
  output_bytes: 4_194_304,
  result_bytes: 4_194_304,
  source_bytes: 1_048_576,
  nesting_depth: 256,
  recursion_depth: 1000,
  file_bytes: 104_857_600,
  files_bytes: 1_073_741_824,
  files_count: 10_000,
  fetch_requests: 100,
  fetch_bytes: 33_554_432,
};
const DEFAULTS = {
  fuel: 120_000_000,
  memory_bytes: 33_554_432,
  output_bytes: 1_048_576,
  result_bytes: 1_048_576,
  source_bytes: 1_048_576,
  nesting_depth: 128,
  recursion_depth: 256,
  file_bytes: 33_554_432,
  files_bytes: 268_435_456,
  files_count: 1000,
  fetch_requests: 20,
  fetch_bytes: 5_242_880,
};

let sandbox;
let alice;
/** A second session that runs ordinary cells while hostile ones run elsewhere. */
let neighbour;

before(async () => {
  sandbox = await startSandbox();
  alice = await api(sandbox.url, sandbox.keys.alice);
  neighbour = await newSession({});
  await ok(neighbour, 'let counter = 0');
});

after(async () => {
  await sandbox?.stop();
});

async function newSession(limits = SMALL) {
  const res = await alice.req('POST', '/v1/sessions', { body: { limits } });
  assert.equal(res.status, 201, `create answered ${res.status}: ${res.text}`);
  return res.json.id;
}

const show = (code) => JSON.stringify(code.length > 100 ? `${code.slice(0, 100)}…` : code);

/** Runs `code`; asserts a well-formed HTTP 200 exec result and returns its body. */
async function exec(id, code) {
  const res = await alice.req('POST', `/v1/sessions/${id}/exec`, { body: { code } });
  assert.equal(res.status, 200, `exec of ${show(code)} answered ${res.status}: ${res.text.slice(0, 2000)}`);
  const out = res.json;
  assert.ok(out && typeof out === 'object', `exec of ${show(code)} answered a non-JSON body: ${res.text.slice(0, 500)}`);
  for (const key of ['status', 'value', 'value_truncated', 'logs', 'error', 'usage', 'execution_count']) {
    assert.ok(key in out, `exec result has ${key}: ${res.text.slice(0, 2000)}`);
  }
  return out;
}

async function ok(id, code) {
  const out = await exec(id, code);
  assert.equal(out.status, 'ok', `${show(code)} failed: ${JSON.stringify(out.error)}`);
  return out;
}

/** Brief text of the error of a result, for assertion messages. */
const brief = (out) =>
  `status ${out.status}, error ${JSON.stringify(out.error)?.slice(0, 400)}, value ${JSON.stringify(out.value)?.slice(0, 200)}`;

// Expectations. A case accepts a small explicit set of outcomes:
//   limits: the `error.limit`s a `status: "limit"` answer may name
//   errors: the `error.name`s a `status: "error"` answer may have (a catchable JS error)
//   ok:     a check of a `status: "ok"` answer's body (the cell is allowed to complete)
//   check:  extra assertions on the body, whatever the status
const limit = (...limits) => ({ limits });
const FUEL = limit('fuel');
const MEMORY = limit('memory');
const FUEL_OR_MEMORY = limit('fuel', 'memory');
const RECURSION = limit('recursion');
const NESTING = limit('nesting');
const OUTPUT = limit('output');
const thrown = (...errors) => ({ errors });

function expectation(e) {
  const parts = [];
  if (e.ok) parts.push('completes');
  if (e.errors?.length) parts.push(`throws ${e.errors.join(' or ')}`);
  if (e.limits?.length) parts.push(`is stopped by the ${e.limits.join(' or ')} limit`);
  return parts.join(' or ');
}

/** Asserts that the result `out` of `code` is one of the outcomes `e` allows. */
function assertOutcome(code, out, e) {
  if (out.status === 'limit') {
    assert.ok(e.limits?.length, `${show(code)} should not hit a limit: ${brief(out)}`);
    assert.equal(out.error?.name, 'LimitError', `${show(code)}: ${brief(out)}`);
    assert.ok(e.limits.includes(out.error.limit), `${show(code)} hit limit ${out.error.limit}, expected ${e.limits.join('|')}`);
    assert.equal(typeof out.error.message, 'string');
    assert.ok(out.error.message.length > 0);
    assert.equal(out.value, null);
  } else if (out.status === 'error') {
    assert.ok(e.errors?.length, `${show(code)} should not throw: ${brief(out)}`);
    assert.ok(e.errors.includes(out.error?.name), `${show(code)} threw ${out.error?.name}, expected ${e.errors.join('|')}: ${brief(out)}`);
    assert.equal(typeof out.error.message, 'string');
    assert.equal(out.value, null);
  } else {
    assert.equal(out.status, 'ok', `${show(code)}: unknown status: ${brief(out)}`);
    assert.ok(e.ok, `${show(code)} should not complete: ${brief(out)}`);
    assert.equal(out.error, null);
    e.ok(out);
  }
  e.check?.(out);
}

let seq = 0;

/**
 * The core check: sets state, runs the hostile `code` (after a first statement that sets a
 * global), checks the outcome, then checks the state is intact, the stopped cell left no trace,
 * and a fresh cell works.
 */
async function attack(id, code, e) {
  const n = ++seq;
  await ok(id, `globalThis.marker = 42; let before${n} = "state ${n}"`);
  const out = await exec(id, `globalThis.leaked${n} = 1;\n${code}`);
  assertOutcome(code, out, e);
  await assertIntact(id, n, out, code);
  return out;
}

async function assertIntact(id, n, out, code) {
  const after = await ok(id, `[marker, before${n}, typeof leaked${n}, 1 + 1]`);
  assert.equal(after.value[0], 42, `marker survives ${show(code)}`);
  assert.equal(after.value[1], `state ${n}`, `earlier let survives ${show(code)}`);
  assert.equal(after.value[3], 2, `a fresh cell works after ${show(code)}`);
  const rolledBack = out.status === 'limit' || out.error?.name === 'InternalError';
  if (rolledBack) {
    assert.equal(after.value[2], 'undefined', `${show(code)} was rolled back, yet left a global behind`);
  } else {
    // It completed or threw after its first statement: its effects stand (docs/api.md).
    assert.equal(after.value[2], 'number', `${show(code)} completed or threw, so its first statement stands`);
  }
}

/** Runs `code` as in `attack` while the neighbour session runs `counter++` cells at the same time. */
async function attackWithNeighbour(id, code, e) {
  const n = ++seq;
  await ok(id, `globalThis.marker = 42; let before${n} = "state ${n}"`);
  // Read, not tracked: an earlier test that failed mid-way may have run some of its cells.
  const start = (await ok(neighbour, 'counter')).value;
  const [out, ...others] = await Promise.all([
    exec(id, `globalThis.leaked${n} = 1;\n${code}`),
    ...Array.from({ length: 5 }, () => exec(neighbour, 'counter++')),
  ]);
  assertOutcome(code, out, e);
  for (const other of others) assert.equal(other.status, 'ok', `the neighbour's cell: ${brief(other)}`);
  assert.deepEqual(
    others.map((o) => o.value).sort((a, b) => a - b),
    [0, 1, 2, 3, 4].map((i) => start + i),
    'the neighbour saw each counter value once',
  );
  assert.equal((await ok(neighbour, 'counter')).value, start + 5);
  await assertIntact(id, n, out, code);
}

/**
 * One test per case, each in a session of its own (a session's memory budget is cumulative, so
 * cases that legitimately keep memory must not starve the next), and the first case again with
 * a neighbour at work.
 */
function corpus(cases, limits = SMALL) {
  for (const [code, e] of cases) {
    test(`${show(code)} ${expectation(e)}, and the session keeps its state`, async () => {
      await attack(await newSession(limits), code, e);
    });
  }
  const [code, e] = cases[0];
  test(`${show(code)} ${expectation(e)} while another session keeps answering correctly`, async () => {
    await attackWithNeighbour(await newSession(limits), code, e);
  });
}

describe('each limit by name', () => {
  test('a cell over source_bytes is refused with limit "source"', async () => {
    const id = await newSession({ ...SMALL, source_bytes: 1000 });
    await ok(id, 'globalThis.marker = 42; let before0 = "state 0"');
    const code = `globalThis.leaked0 = 1; ${'1;'.repeat(600)}1`;
    const out = await exec(id, code);
    assertOutcome(code, out, limit('source'));
    await assertIntact(id, 0, out, code);
    assert.equal((await ok(id, `${'1;'.repeat(400)}2`)).value, 2, 'a cell under the limit runs');
  });

  test('a cell nested deeper than nesting_depth is refused with limit "nesting"', async () => {
    const id = await newSession({ ...SMALL, nesting_depth: 10 });
    assert.equal((await ok(id, `${'['.repeat(5)}1${']'.repeat(5)}.flat(Infinity)[0]`)).value, 1);
    await attack(id, `${'['.repeat(20)}1${']'.repeat(20)}`, NESTING);
  });

  test('calls nested deeper than recursion_depth stop with limit "recursion"; shallower ones run', async () => {
    const id = await newSession({ ...SMALL, recursion_depth: 50 });
    await ok(id, 'function depth(n) { return n === 0 ? 0 : 1 + depth(n - 1) }');
    assert.equal((await ok(id, 'depth(30)')).value, 30);
    await attack(id, 'depth(100)', RECURSION);
  });

  test('a value over result_bytes is limit "result", and the cell\'s effects stand', async () => {
    const id = await newSession({ ...SMALL, result_bytes: 10_000 });
    const out = await exec(id, 'globalThis.big = "y".repeat(20000); let bigLet = "z".repeat(20000); big');
    assert.equal(out.status, 'limit');
    assert.equal(out.error.name, 'LimitError');
    assert.equal(out.error.limit, 'result');
    assert.equal(out.value, null);
    assert.deepEqual((await ok(id, '[big.length, bigLet.length]')).value, [20000, 20000]);
    assert.equal((await ok(id, 'big.slice(0, 3)')).value, 'yyy');
  });

  test('usage reports the fuel used and the console bytes written', async () => {
    const id = await newSession(SMALL);
    const out = await ok(id, 'console.log("hello"); console.error("é"); let s = 0; for (let i = 0; i < 1000; i++) s += i; s');
    assert.equal(out.value, 499500);
    assert.ok(out.usage.fuel > 1000, `fuel ${out.usage.fuel}`);
    assert.equal(out.usage.output_bytes, 'hello'.length + 1 + Buffer.byteLength('é') + 1);
    assert.equal(typeof out.usage.memory_bytes, 'number');
    assert.ok(out.usage.memory_bytes >= 0);
    const stopped = await exec(id, 'console.log("hi"); for (;;) {}');
    assert.equal(stopped.status, 'limit');
    assert.ok(stopped.usage.fuel > 0 && stopped.usage.fuel <= SMALL.fuel, `fuel ${stopped.usage.fuel}`);
    assert.deepEqual(stopped.logs.stdout, ['hi'], 'output before the limit is kept');
    assert.equal(stopped.usage.output_bytes, 3);
  });

  test('GET /v1/sessions/{id} shows the session\'s limits, the defaults filling the rest', async () => {
    const id = await newSession({ fuel: 1234, recursion_depth: 77 });
    const res = await alice.req('GET', `/v1/sessions/${id}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.limits, { ...DEFAULTS, fuel: 1234, recursion_depth: 77 });
    const plain = await alice.req('POST', '/v1/sessions', { body: {} });
    assert.deepEqual(plain.json.limits, DEFAULTS);
  });

  test('limits at the ceiling are accepted', async () => {
    const res = await alice.req('POST', '/v1/sessions', { body: { limits: CEILING } });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.json.limits, CEILING);
  });

  for (const [name, max] of Object.entries(CEILING)) {
    test(`limits.${name} of 0 or above ${max} is refused with 400 invalid_request`, async () => {
      for (const value of [0, max + 1]) {
        const res = await alice.req('POST', '/v1/sessions', { body: { limits: { [name]: value } } });
        assert.equal(res.status, 400, `${name}: ${value} answered ${res.status}: ${res.text}`);
        assert.equal(res.json.error.code, 'invalid_request');
        assert.match(res.json.error.message, new RegExp(`limits\\.${name}|${name}`));
      }
    });
  }

  test('a limit that is negative, fractional, a string, null or unknown is refused with 400 invalid_request', async () => {
    for (const limits of [{ fuel: -1 }, { fuel: 1.5 }, { fuel: '1000' }, { fuel: null }, { fuels: 1000 }, [], 'x']) {
      const res = await alice.req('POST', '/v1/sessions', { body: { limits } });
      assert.equal(res.status, 400, `limits ${JSON.stringify(limits)} answered ${res.status}: ${res.text}`);
      assert.equal(res.json.error.code, 'invalid_request');
    }
  });
});

describe('endless loops, also inside functions and builtin callbacks', () => {
  corpus([
    ['while (true) {}', FUEL],
    ['for (;;) {}', FUEL],
    ['do {} while (1)', FUEL],
    [
      'function spin() { for (let i = 0; ; i++) { for (let j = 0; j < 1e6; j++) {} } } function outer() { return spin() } outer()',
      FUEL,
    ],
    ['[1].map(() => { for (;;) {} })', FUEL],
    ['[3, 1, 2].sort(() => { for (;;) {} })', FUEL],
    ['[1, 2, 3].reduce(function r(a) { for (;;) {} })', FUEL],
    ['const o = { get g() { for (;;) {} } }; o.g', FUEL],
    ['String({ toString() { for (;;) {} } })', FUEL],
    [`JSON.parse('{"a":[1,2]}', (k, v) => { for (;;) {} })`, FUEL],
    [`'abc'.replace(/b/g, () => { for (;;) {} })`, FUEL],
    [`'abc'.replace('b', () => { while (true) {} })`, FUEL],
    [`const p = new Proxy({}, { has() { for (;;) {} } }); 'x' in p`, FUEL],
    ['for (const x of (function* () { for (;;) yield 1 })()) {}', FUEL],
    ['[...{ *[Symbol.iterator]() { for (;;) yield 1 } }]', FUEL_OR_MEMORY],
    ['Array.from({ length: 1e9 }, (_, i) => i)', FUEL_OR_MEMORY],
    ['new Array(1e9).fill(0)', FUEL_OR_MEMORY],
    ['new Array(1e9).forEach(() => {})', FUEL],
    ['new Array(1e9).indexOf(1)', FUEL],
    ['new Array(1e9).join()', FUEL_OR_MEMORY],
  ]);
});

describe('loops in try/catch/finally cannot swallow a limit', () => {
  corpus([
    ['for (;;) { try { while (true) {} } catch {} finally { continue } }', FUEL],
    ['for (;;) { try { throw new Error("again") } catch (e) { continue } }', FUEL],
    [`let tries = 0; while (true) { try { JSON.parse('{bad') } catch (e) { tries++ } }`, FUEL],
    ['outer: for (;;) { try { break outer } finally { continue outer } }', FUEL],
    ['try { for (;;) {} } catch (e) { "caught" } finally { "finally" }', FUEL],
    // If the catch or finally ran after the limit, this would recurse instead.
    ['function retry() { try { for (;;) {} } catch (e) { return retry() } finally { return retry() } } retry()', FUEL],
    ['(async () => { for (;;) { try { await Promise.reject(1) } catch {} } })()', FUEL],
  ]);
});

describe('unbounded recursion', () => {
  corpus(
    [
      ['function f() { return f() } f()', RECURSION],
      ['function a(n) { return b(n + 1) } function b(n) { return a(n + 1) } a(0)', RECURSION],
      ['const o = { get x() { return this.x } }; o.x', RECURSION],
      // A fresh object per level: Boa answers "" / 0 for an object converted while its own
      // conversion is under way, instead of recursing.
      ['function mk() { return { toString() { return String(mk()) } } } String(mk())', RECURSION],
      ['function mk() { return { valueOf() { return +mk() } } } +mk()', RECURSION],
      ['function mk() { return { [Symbol.toPrimitive]() { return `${mk()}` } } } `${mk()}`', RECURSION],
      ['const p = new Proxy({}, { get(t, k, r) { return r[k] } }); p.x', RECURSION],
      ['const p = new Proxy(function () {}, { apply() { return p() } }); p()', RECURSION],
      ['function g() { return g.bind(null)() } g()', RECURSION],
      ['class A { constructor() { new A() } } new A()', RECURSION],
      ['JSON.stringify({ toJSON() { return JSON.stringify(this) } })', RECURSION],
      ['function f() { try { return f() } catch (e) { return f() } } f()', RECURSION],
      // A long chain built in a loop is walked natively: too deep for the engine, a RangeError.
      [
        'let f = function () { return 1 }; for (let i = 0; i < 1e5; i++) f = f.bind(null); f()',
        { errors: ['RangeError'], limits: ['recursion', 'memory'] },
      ],
      ['let p = {}; for (let i = 0; i < 1e5; i++) p = new Proxy(p, {}); p.x', thrown('RangeError')],
      ['let o = {}; for (let i = 0; i < 1e5; i++) o = Object.create(o); o.x', thrown('RangeError')],
    ],
    { ...SMALL, memory_bytes: 32 << 20 },
  );
});

describe('memory bombs', () => {
  corpus([
    ['let s = "x"; for (;;) s += s', MEMORY],
    ['let s = "x"; for (;;) s = s.concat(s)', MEMORY],
    ['"x".repeat(2 ** 28)', MEMORY],
    ['"".padEnd(2 ** 30)', MEMORY],
    ['"a".repeat(1e5).replaceAll("a", "b".repeat(1e3))', MEMORY],
    ['new Array(1e7).join("x".repeat(1000))', FUEL_OR_MEMORY],
    ['Array(1e8).fill(1)', FUEL_OR_MEMORY],
    ['const a = []; for (let i = 0; ; i++) a[i * 1024] = i', FUEL_OR_MEMORY],
    ['let a = [1]; for (;;) a = a.concat(a)', FUEL_OR_MEMORY],
    ['[..."x".repeat(1e4).repeat(1e3)]', FUEL_OR_MEMORY],
    // Allocating a buffer may also fail with the RangeError JavaScript defines for it.
    ['new Float64Array(2 ** 28)', { limits: ['memory'], errors: ['RangeError'] }],
    ['new ArrayBuffer(2 ** 31)', { limits: ['memory'], errors: ['RangeError'] }],
    ['new Uint8Array(new ArrayBuffer(2 ** 26))', { limits: ['memory'], errors: ['RangeError'] }],
    ['const m = new Map(); for (let i = 0; ; i++) m.set(i, { i })', FUEL_OR_MEMORY],
    ['const s = new Set(); for (let i = 0; ; i++) s.add("k" + i)', FUEL_OR_MEMORY],
    ['const o = {}; for (let i = 0; ; i++) o["p" + i] = i', FUEL_OR_MEMORY],
    ['const keep = []; for (;;) keep.push(new Array(1000).fill(0))', FUEL_OR_MEMORY],
  ]);
});

describe('catastrophic regular expressions', () => {
  corpus([
    ['/(a+)+$/.test("a".repeat(40) + "!")', FUEL],
    ['/(a|a)*$/.test("a".repeat(40) + "!")', FUEL],
    ['/(.*a){25}$/.test("a".repeat(40) + "!")', FUEL],
    ['/^(\\w+\\s?)*$/.test("a".repeat(40) + "!")', FUEL],
    ['("a".repeat(40) + "!").replace(/(a+)+$/, "x")', FUEL],
    ['("a".repeat(40) + "!").replace(/(a+)+$/g, () => "x")', FUEL],
    ['("a".repeat(40) + "!").split(/(a|a)*$/)', FUEL],
    ['("a".repeat(40) + "!").match(/(.*a){25}$/)', FUEL],
    ['[...("a".repeat(40) + "!").matchAll(/(a+)+$/g)]', FUEL],
    ['("€".repeat(40) + "!").replace(/(€+)+$/, "x")', FUEL],
    ['try { /(a+)+$/.test("a".repeat(40) + "!") } catch (e) { "caught" }', FUEL],
  ]);
});

describe('superlinear builtins', () => {
  // Big strings are built as "x".repeat(1e3).repeat(n): repeat(n) costs about 16 bytes of
  // memory budget per repetition (a list of slices) on top of the string itself.
  let id;
  before(async () => {
    // Ordinary heavy work gets the default fuel: fuel counts allocations and calls too.
    id = await newSession({ ...SMALL, fuel: DEFAULTS.fuel, memory_bytes: DEFAULTS.memory_bytes });
  });

  test('splitting a 400 kB string into 100001 parts answers at once with the right parts', async () => {
    const out = await ok(id, `const parts = 'ab1,'.repeat(1e5).split(','); [parts.length, parts[0], parts[99999], parts[100000]]`);
    assert.deepEqual(out.value, [100001, 'ab1', 'ab1', '']);
    assert.ok(out.usage.fuel < SMALL.fuel);
  });

  test('sorting 20000 numbers with a comparator completes (sort is not quadratic)', async () => {
    const out = await ok(id, 'Array.from({ length: 2e4 }, (_, i) => (i * 7919) % 2e4).sort((a, b) => a - b).every((v, i) => v === i)');
    assert.equal(out.value, true);
  });

  // Boa's global replace keeps a match object per match until it is done (about 200 bytes
  // each), so 50000 matches is what fits the default memory comfortably.
  test('a global replace over 50000 characters completes', async () => {
    assert.equal((await ok(await newSession({ ...SMALL, fuel: DEFAULTS.fuel, memory_bytes: DEFAULTS.memory_bytes }), `'x'.repeat(1e3).repeat(50).replace(/x/g, 'yy').length`)).value, 100_000);
  });

  test('searching a million characters for a missing character completes', async () => {
    assert.equal((await ok(id, `'a'.repeat(1e3).repeat(1e3).lastIndexOf('b')`)).value, -1);
  });

  test('splitting a 40 MB string either answers or stops at a limit', async () => {
    await attack(await newSession(), `'ab1,'.repeat(1e3).repeat(1e4).split(',').length`, {
      ok: (out) => assert.equal(out.value, 10_000_001),
      limits: ['memory', 'fuel'],
    });
  });

  const haystack = `const h = 'a'.repeat(1e3).repeat(1e3); const n = 'a'.repeat(1e4) + 'b';`;
  for (const call of ['h.indexOf(n)', 'h.lastIndexOf(n)', 'h.includes(n)', 'h.split(n)']) {
    test(`a quadratic substring search (${call}) is stopped by the fuel limit`, async () => {
      await attack(await newSession(), `${haystack} ${call}`, FUEL);
    });
  }

  test('"a".repeat(1e7).split("") is stopped by a limit', async () => {
    await attack(await newSession(), '"a".repeat(1e4).repeat(1e3).split("")', FUEL_OR_MEMORY);
  });

  test('a quadratic substring search is stopped while another session keeps answering correctly', async () => {
    await attackWithNeighbour(await newSession(), `${haystack} h.indexOf(n)`, FUEL);
  });
});

describe('endless promise chains, async loops and async generators', () => {
  corpus([
    ['(async () => { for (;;) await null })()', FUEL],
    ['Promise.resolve().then(function f() { return Promise.resolve().then(f) })', FUEL_OR_MEMORY],
    ['async function* g() { for (;;) yield 1 } for await (const x of g()) {}', FUEL],
    ['async function* g() { for (;;) yield 1 } (async () => { for await (const x of g()) {} })()', FUEL],
    ['new Promise(() => { for (;;) {} })', FUEL],
    ['await null; for (;;) {}', FUEL],
    ['let p = Promise.resolve(); for (;;) p = p.then(() => {})', FUEL_OR_MEMORY],
    ['async function f() { await null; return f() } f()', FUEL_OR_MEMORY],
    ['const t = { then(resolve) { resolve(t) } }; await t', FUEL_OR_MEMORY],
    ['Promise.all(Array.from({ length: 1e9 }, () => Promise.resolve()))', FUEL_OR_MEMORY],
  ], { ...SMALL, fuel: 5_000_000 }); // promise jobs are slow per unit of fuel: keep these short
});

describe('hostile completion values are encoded without running guest code', () => {
  const completes = (check) => ({ ok: check });
  corpus([
    [
      'const a = { x: 1 }; a.self = a; a',
      completes((out) => assert.deepEqual(out.value, { x: 1, self: { $type: 'circular' } })),
    ],
    [
      'const m = new Map(); m.set("m", m); m',
      completes((out) => assert.equal(out.value.$type, 'map')),
    ],
    [
      '({ get boom() { throw new Error("no") } })',
      completes((out) => assert.deepEqual(out.value, { boom: { $type: 'accessor' } })),
    ],
    [
      '({ get loop() { for (;;) {} } })',
      completes((out) => assert.deepEqual(out.value, { loop: { $type: 'accessor' } })),
    ],
    [
      'const boom = () => { throw 1 }; new Proxy({}, { get: boom, ownKeys: boom, has: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom })',
      completes((out) => assert.deepEqual(out.value, { $type: 'proxy' })),
    ],
    [
      'new Proxy(function () {}, { apply() { for (;;) {} }, get() { for (;;) {} } })',
      completes((out) => assert.deepEqual(out.value, { $type: 'proxy' })),
    ],
    [
      'const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); proxy',
      completes((out) => assert.deepEqual(out.value, { $type: 'proxy' })),
    ],
    [
      'const e = new Error("m"); Object.defineProperty(e, "message", { get() { for (;;) {} } }); e',
      completes((out) => assert.equal(out.value.$type, 'error')),
    ],
    [
      'a = []; a[1e9] = 1; a',
      completes((out) => {
        assert.ok(Array.isArray(out.value));
        assert.ok(out.value.length <= 1001, `${out.value.length} elements`);
        assert.equal(out.value.at(-1).$type, 'truncated');
        assert.equal(out.value_truncated, true);
      }),
    ],
    [
      'const big = []; big.length = 2 ** 32 - 1; big',
      completes((out) => assert.equal(out.value_truncated, true)),
    ],
    [
      'let d = []; for (let i = 0; i < 1e5; i++) d = [d]; d',
      completes((out) => assert.equal(out.value_truncated, true)),
    ],
    [
      'let o = {}; for (let i = 0; i < 1e5; i++) o = { o }; o',
      completes((out) => assert.equal(out.value_truncated, true)),
    ],
    [
      'const wide = {}; for (let i = 0; i < 2e4; i++) wide["k" + i] = i; wide',
      completes((out) => {
        assert.equal(out.value_truncated, true);
        assert.equal(out.value.$truncated?.$type, 'truncated');
      }),
    ],
    [
      '10n ** 100000n',
      completes((out) => {
        // values.md: a decimal value longer than the string limit is cut like a string.
        assert.equal(out.value.$type, 'bigint');
        assert.equal(out.value.value, `1${'0'.repeat(99999)}`);
        assert.equal(out.value_truncated, true);
      }),
    ],
    [
      'Symbol("s")',
      completes((out) => assert.deepEqual(out.value, { $type: 'symbol', description: 's' })),
    ],
    [
      '"x".repeat(1e3).repeat(5e3)',
      completes((out) => {
        assert.equal(out.value, 'x'.repeat(100000));
        assert.equal(out.value_truncated, true);
      }),
    ],
    [
      'new Uint8Array(1e6)',
      completes((out) => {
        assert.equal(out.value.$type, 'Uint8Array');
        assert.equal(out.value.length, 1e6);
        assert.equal(out.value_truncated, true);
      }),
    ],
  ], { ...SMALL, memory_bytes: DEFAULTS.memory_bytes });
});

describe('hostile thrown values are reported as readable errors', () => {
  const readable = (names, { limits = [], message } = {}) => ({
    errors: names,
    limits,
    check: (out) => {
      if (out.status !== 'error') return;
      assert.equal(typeof out.error.message, 'string');
      assert.ok(out.error.message.length <= 64 * 1024, `message of ${out.error.message.length} characters`);
      if (message) assert.match(out.error.message, message);
    },
  });
  corpus([
    ['throw { get message() { for (;;) {} } }', readable(['Uncaught'], { limits: ['fuel'] })],
    ['throw new Proxy({}, { get() { throw 1 } })', readable(['Uncaught'])],
    ['throw new Proxy(new Error("p"), {})', readable(['Uncaught', 'Error'])],
    [
      'class Loopy extends Error { get name() { for (;;) {} } } throw new Loopy("m")',
      readable(['Error', 'Loopy'], { limits: ['fuel'] }),
    ],
    [
      'throw Object.create(Error.prototype, { message: { get() { throw new Error("inner") } } })',
      readable(['Error', 'Uncaught']),
    ],
    ['const e = new Error("cyc"); e.cause = e; throw e', readable(['Error'], { message: /cyc/ })],
    ['const c = {}; c.c = c; throw c', readable(['Uncaught'])],
    ['throw Symbol()', readable(['Uncaught'], { message: /Symbol\(\)/ })],
    ['throw "x".repeat(1e3).repeat(5e3)', readable(['Uncaught'])],
    ['throw new Error("x".repeat(1e3).repeat(5e3))', readable(['Error'])],
    ['throw 10n ** 100000n', readable(['Uncaught'])],
    ['Promise.reject({ get message() { for (;;) {} } })', readable(['Uncaught'], { limits: ['fuel'] })],
  ]);
});

describe('console floods', () => {
  const LIMIT = SMALL.output_bytes;
  /** Output limit reached: truncated, something kept, never more than the limit. */
  const flood = (stream) => ({
    limits: ['output'],
    check: (out) => {
      assert.equal(out.logs.truncated, true);
      assert.ok(out.logs[stream].length > 0, `${stream} keeps the output up to the limit`);
      const bytes = [...out.logs.stdout, ...out.logs.stderr].reduce((n, line) => n + Buffer.byteLength(line) + 1, 0);
      assert.ok(bytes <= LIMIT, `${bytes} bytes of output kept, more than the limit of ${LIMIT}`);
      assert.ok(bytes > LIMIT / 2, `only ${bytes} bytes of output kept`);
      assert.equal(out.usage.output_bytes, bytes, 'usage.output_bytes counts the output kept');
    },
  });
  corpus([
    ['for (;;) console.log("x")', flood('stdout')],
    ['console.log("x".repeat(1e3).repeat(2e3))', flood('stdout')],
    ['for (;;) console.error("e".repeat(100))', flood('stderr')],
    ['for (let i = 0; ; i++) { console.log(i); console.warn(i) }', flood('stderr')],
    ['try { for (;;) console.log("x") } catch {} "swallowed"', flood('stdout')],
    ['for (;;) console.log("é€😀".repeat(333))', flood('stdout')],
    ['for (;;) console.log({ a: [1, 2, { b: "c" }] }, "%s %d %j", "s", 1, { x: 1 })', flood('stdout')],
  ]);
});

describe('deeply nested sources are refused before parsing', () => {
  corpus([
    ['('.repeat(1e5), NESTING],
    ['['.repeat(1e5), NESTING],
    ['{'.repeat(1e5), NESTING],
    ['!'.repeat(1e5) + '1', NESTING],
    ['- '.repeat(1e5) + '1', NESTING],
    ['typeof '.repeat(1e4) + '1', NESTING],
    ['a?'.repeat(1e4) + 'a' + ':a'.repeat(1e4), NESTING],
    ['x=>'.repeat(1e4) + '1', NESTING],
    ['a='.repeat(1e5) + '1', NESTING],
    ['`${'.repeat(1e4) + '1' + '}`'.repeat(1e4), NESTING],
  ]);
});

describe('deep structures built at run time', () => {
  const deepArray = 'let deep = []; for (let i = 0; i < 1e5; i++) deep = [deep];';
  const deepObject = 'let deep = {}; for (let i = 0; i < 1e5; i++) deep = { deep };';
  corpus([
    [`JSON.parse('['.repeat(1e3).repeat(1e3))`, thrown('SyntaxError')],
    [`JSON.parse('['.repeat(1e5) + ']'.repeat(1e5))`, thrown('SyntaxError')],
    [`JSON.parse('{"a":'.repeat(1e5) + '1' + '}'.repeat(1e5))`, thrown('SyntaxError')],
    [`${deepArray} JSON.stringify(deep)`, thrown('RangeError')],
    [`${deepObject} JSON.stringify(deep)`, thrown('RangeError')],
    [`${deepArray} String(deep)`, { errors: ['RangeError'], limits: ['recursion'] }],
    [`${deepArray} deep.join()`, { errors: ['RangeError'], limits: ['recursion'] }],
    [`${deepArray} deep.flat(Infinity)`, { errors: ['RangeError'], limits: ['recursion'] }],
    [`${deepArray} console.log(deep); "logged"`, { ok: (out) => assert.equal(out.value, 'logged') }],
    // Sources built at run time do not pass the cell's nesting check: the parser must cope.
    [`eval('('.repeat(1e5))`, { errors: ['SyntaxError', 'RangeError'], limits: ['nesting', 'recursion'] }],
    [`new Function('['.repeat(1e5))`, { errors: ['SyntaxError', 'RangeError'], limits: ['nesting', 'recursion'] }],
    [`eval('!'.repeat(1e5) + '1')`, { errors: ['SyntaxError', 'RangeError'], limits: ['nesting', 'recursion'] }],
   ], { ...SMALL, memory_bytes: DEFAULTS.memory_bytes });
});

describe('statement nesting without brackets', () => {
  // `if (1) if (1) ...` nests statements with brackets that close at once; a parser that
  // recurses per level must still not overflow.
  const parsesOrRefused = (value) => ({
    ok: (out) => assert.deepEqual(out.value, value),
    errors: ['SyntaxError', 'RangeError'],
    limits: ['nesting'],
  });
  corpus([
    ['if (1) '.repeat(5e4) + '7', parsesOrRefused(7)],
    ['1+'.repeat(1e5) + '1', parsesOrRefused(100001)],
    [Array.from({ length: 1e4 }, (_, i) => `l${i}: `).join('') + '8', parsesOrRefused(8)],
    ['while (0) '.repeat(4e4) + '9', parsesOrRefused({ $type: 'undefined' })],
  ]);
});

describe('sources near the size limit', () => {
  // Within the default source_bytes (512 KiB): refused or run, in bounded time.
  corpus(
    [
      ['1;'.repeat(1e5), { ok: (out) => assert.equal(out.value, 1), limits: ['memory'] }],
      ['('.repeat(5e5), NESTING],
      ['['.repeat(2.5e5) + ']'.repeat(2.5e5), NESTING],
    ],
    { ...SMALL, memory_bytes: DEFAULTS.memory_bytes },
  );

  test('100000 statements in a 16 MiB session either run or stop at the memory limit', async () => {
    await attack(await newSession(SMALL), '1;'.repeat(1e5), { ok: (out) => assert.equal(out.value, 1), limits: ['memory'] });
  });
});

describe('thrown errors whose stack is a getter', () => {
  // Last in the file: if the sandbox ran this getter outside the fuel budget it would spin
  // forever and stall every later request to the runtime.
  corpus([
    [
      'const e = new Error("m"); Object.defineProperty(e, "stack", { get() { for (;;) {} } }); throw e',
      { errors: ['Error'], limits: ['fuel'], check: (out) => out.status === 'error' && assert.equal(out.error.message, 'm') },
    ],
    [
      'const e = new Error("m"); Object.defineProperty(e, "stack", { get() { throw new Error("from the getter") } }); throw e',
      { errors: ['Error'], check: (out) => assert.equal(out.error.message, 'm') },
    ],
  ]);
});
