// Executing JavaScript in a session: results, state, console output, errors, promises and
// how completion values are encoded (docs/values.md).
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

async function newSession() {
  const res = await alice.req('POST', '/v1/sessions', { body: {} });
  assert.equal(res.status, 201, `create answered ${res.status}: ${res.text}`);
  return res.json.id;
}

/** Runs `code` in session `id`; asserts the HTTP answer is a well-formed 200 and returns its body. */
async function exec(id, code) {
  const res = await alice.req('POST', `/v1/sessions/${id}/exec`, { body: { code } });
  assert.equal(res.status, 200, `exec of ${JSON.stringify(code.slice(0, 80))} answered ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const out = res.json;
  for (const key of ['status', 'value', 'logs', 'error', 'execution_count', 'duration_ms']) {
    assert.ok(key in out, `exec result has ${key}: ${res.text}`);
  }
  assert.ok(Array.isArray(out.logs.stdout) && Array.isArray(out.logs.stderr), 'logs has stdout and stderr arrays');
  return out;
}

/** Runs `code` and asserts it completed with status ok; returns the body. */
async function ok(id, code) {
  const out = await exec(id, code);
  assert.equal(out.status, 'ok', `${code} failed: ${JSON.stringify(out.error)}`);
  assert.equal(out.error, null);
  return out;
}

/** Runs `code` and asserts the cell threw; returns the error object. */
async function fails(id, code) {
  const out = await exec(id, code);
  assert.equal(out.status, 'error', `${code} should fail but gave ${JSON.stringify(out.value)}`);
  assert.equal(out.value, null);
  assert.equal(typeof out.error?.name, 'string');
  assert.equal(typeof out.error?.message, 'string');
  assert.equal(typeof out.error?.stack, 'string');
  return out.error;
}

/** Every `$type` marker found anywhere in an encoded value (iterative: values may be deep). */
function markers(value) {
  const found = [];
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (!Array.isArray(v) && typeof v.$type === 'string') found.push(v);
    for (const child of Object.values(v)) stack.push(child);
  }
  return found;
}

/** The two console streams of a result (logs may carry other keys, such as `truncated`). */
function streams(out) {
  return { stdout: out.logs.stdout, stderr: out.logs.stderr };
}

function hasMarker(value, type) {
  return markers(value).some((m) => m.$type === type);
}

/** Depth of an encoded JSON value (iterative). */
function depth(value) {
  let max = 0;
  const stack = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop();
    max = Math.max(max, d);
    if (v !== null && typeof v === 'object') for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

describe('running code', () => {
  let id;
  before(async () => {
    id = await newSession();
  });

  test('1+1 answers status ok with value 2 and execution_count 1', async () => {
    const out = await ok(id, '1+1');
    assert.equal(out.value, 2);
    assert.deepEqual(streams(out), { stdout: [], stderr: [] });
    assert.equal(out.execution_count, 1);
    assert.equal(typeof out.duration_ms, 'number');
    assert.ok(out.duration_ms >= 0);
  });

  test('execution_count goes up by one per execution, failed ones included', async () => {
    assert.equal((await ok(id, '2')).execution_count, 2);
    assert.equal((await exec(id, 'throw new Error("x")')).execution_count, 3);
    assert.equal((await ok(id, '4')).execution_count, 4);
  });

  test('plain JSON values come back as JSON', async () => {
    assert.equal((await ok(id, '"hello"')).value, 'hello');
    assert.equal((await ok(id, '1.5')).value, 1.5);
    assert.equal((await ok(id, 'true')).value, true);
    assert.equal((await ok(id, 'null')).value, null);
    assert.deepEqual((await ok(id, '[1, "two", [3]]')).value, [1, 'two', [3]]);
    assert.deepEqual((await ok(id, '({a: 1, b: {c: [true, null]}})')).value, { a: 1, b: { c: [true, null] } });
  });

  test('an empty cell completes with undefined', async () => {
    assert.deepEqual((await ok(id, '')).value, { $type: 'undefined' });
  });

  test('a declaration completes with undefined', async () => {
    assert.deepEqual((await ok(id, 'let declaredOnly = 5')).value, { $type: 'undefined' });
  });
});

describe('state across executions', () => {
  test('a let binding is visible in the next execution', async () => {
    const id = await newSession();
    await ok(id, 'let x = 1');
    assert.equal((await ok(id, 'x + 1')).value, 2);
  });

  test('const, var and globalThis properties persist', async () => {
    const id = await newSession();
    await ok(id, 'const c = "c"; var v = "v"; globalThis.g = "g"');
    assert.deepEqual((await ok(id, '[c, v, g]')).value, ['c', 'v', 'g']);
  });

  test('functions defined earlier can be called later', async () => {
    const id = await newSession();
    await ok(id, 'function square(n) { return n * n }');
    await ok(id, 'const cube = (n) => n * square(n)');
    assert.equal((await ok(id, 'square(4) + cube(2)')).value, 24);
  });

  test('a closure keeps its counter between executions', async () => {
    const id = await newSession();
    await ok(id, 'const counter = (() => { let n = 0; return () => ++n })()');
    assert.equal((await ok(id, 'counter()')).value, 1);
    assert.equal((await ok(id, 'counter()')).value, 2);
    assert.equal((await ok(id, 'counter()')).value, 3);
  });

  test('a class defined earlier can be instantiated later', async () => {
    const id = await newSession();
    await ok(id, 'class Point { constructor(x, y) { this.x = x; this.y = y } sum() { return this.x + this.y } }');
    assert.equal((await ok(id, 'new Point(2, 3).sum()')).value, 5);
    assert.equal((await ok(id, 'new Point(1, 1) instanceof Point')).value, true);
  });

  test('objects are mutated in place across executions', async () => {
    const id = await newSession();
    await ok(id, 'const list = []');
    await ok(id, 'list.push("a")');
    await ok(id, 'list.push("b")');
    assert.deepEqual((await ok(id, 'list')).value, ['a', 'b']);
  });

  test('a failed execution keeps the state from before', async () => {
    const id = await newSession();
    await ok(id, 'let kept = 5');
    await fails(id, 'kept = 6; throw new Error("after assignment")');
    assert.equal((await ok(id, 'kept')).value, 6);
    await fails(id, 'this is not javascript');
    assert.equal((await ok(id, 'kept')).value, 6);
  });
});

describe('redeclaring top-level bindings, like the Node REPL', () => {
  test('let can be declared again in a later execution', async () => {
    const id = await newSession();
    await ok(id, 'let a = 1');
    await ok(id, 'let a = 2');
    assert.equal((await ok(id, 'a')).value, 2);
  });

  test('const can be declared again in a later execution', async () => {
    const id = await newSession();
    await ok(id, 'const b = 1');
    await ok(id, 'const b = 2');
    assert.equal((await ok(id, 'b')).value, 2);
  });

  test('a const cannot be assigned, but can be redeclared', async () => {
    const id = await newSession();
    await ok(id, 'const k = 1');
    const err = await fails(id, 'k = 2');
    assert.equal(err.name, 'TypeError');
    await ok(id, 'const k = 3');
    assert.equal((await ok(id, 'k')).value, 3);
  });

  test('class can be declared again in a later execution', async () => {
    const id = await newSession();
    await ok(id, 'class A { f() { return 1 } }');
    await ok(id, 'class A { f() { return 2 } }');
    assert.equal((await ok(id, 'new A().f()')).value, 2);
  });

  test('function can be declared again in a later execution', async () => {
    const id = await newSession();
    await ok(id, 'function f() { return 1 }');
    await ok(id, 'function f() { return 2 }');
    assert.equal((await ok(id, 'f()')).value, 2);
  });

  test('a let can be redeclared as a const, and a const as a let', async () => {
    const id = await newSession();
    await ok(id, 'let m = 1');
    await ok(id, 'const m = 2');
    assert.equal((await ok(id, 'm')).value, 2);
    await ok(id, 'let m = 3');
    await ok(id, 'm = 4');
    assert.equal((await ok(id, 'm')).value, 4);
  });

  test('functions defined before a redeclaration see the new binding', async () => {
    const id = await newSession();
    await ok(id, 'let base = 10; function readBase() { return base }');
    await ok(id, 'let base = 20');
    assert.equal((await ok(id, 'readBase()')).value, 20);
  });

  test('redeclaring twice in the same execution is still a SyntaxError', async () => {
    const id = await newSession();
    const err = await fails(id, 'let dup = 1; let dup = 2');
    assert.equal(err.name, 'SyntaxError');
  });
});

describe('console output', () => {
  let id;
  before(async () => {
    id = await newSession();
  });

  test('console.log, info and debug go to stdout, one string per call', async () => {
    const out = await ok(id, 'console.log("a"); console.info("b"); console.debug("c"); 1');
    assert.deepEqual(streams(out), { stdout: ['a', 'b', 'c'], stderr: [] });
  });

  test('console.warn and console.error go to stderr', async () => {
    const out = await ok(id, 'console.warn("careful"); console.error("broken")');
    assert.deepEqual(streams(out), { stdout: [], stderr: ['careful', 'broken'] });
  });

  test('logs belong to the execution that printed them', async () => {
    await ok(id, 'console.log("first")');
    const out = await ok(id, 'console.log("second")');
    assert.deepEqual(out.logs.stdout, ['second']);
  });

  test('several arguments are joined with spaces', async () => {
    const out = await ok(id, 'console.log("a", 1, true, null, undefined)');
    assert.deepEqual(out.logs.stdout, ['a 1 true null undefined']);
  });

  test('format specifiers work like Node: %s %d %i %f %%', async () => {
    const out = await ok(id, [
      'console.log("%s is %d", "x", 42)',
      'console.log("%i items", 42.9)',
      'console.log("%f", 1.5)',
      'console.log("%d%% sure", 100)',
      'console.log("%s", "extra", "args")',
    ].join(';'));
    assert.deepEqual(out.logs.stdout, ['x is 42', '42 items', '1.5', '100% sure', 'extra args']);
  });

  test('objects and arrays are printed like Node', async () => {
    const out = await ok(id, [
      'console.log({a: 1})',
      'console.log([1, 2])',
      'console.log({s: "x", n: [1, {b: 2}]})',
      'console.log([])',
      'console.log({})',
    ].join(';'));
    assert.deepEqual(out.logs.stdout, ['{ a: 1 }', '[ 1, 2 ]', "{ s: 'x', n: [ 1, { b: 2 } ] }", '[]', '{}']);
  });

  test('Maps, Sets, functions, classes, nested objects and cycles print like Node', async () => {
    const out = await ok(id, [
      "console.log(new Map([['a', 1]]))",
      'console.log(new Set([1, 2]))',
      'console.log(function f() {})',
      'console.log(class C {})',
      'console.log({a: {b: {c: {d: 1}}}})',
      'const cyc = {}; cyc.self = cyc; console.log(cyc)',
      'console.log(10n, -0, Symbol("x"))',
      'console.log([1, , 3])',
    ].join(';'));
    assert.deepEqual(out.logs.stdout, [
      "Map(1) { 'a' => 1 }",
      'Set(2) { 1, 2 }',
      '[Function: f]',
      '[class C]',
      '{ a: { b: { c: [Object] } } }',
      '<ref *1> { self: [Circular *1] }',
      '10n -0 Symbol(x)',
      '[ 1, <1 empty item>, 3 ]',
    ]);
  });

  test('console output does not call getters', async () => {
    const out = await ok(id, 'console.log({ get g() { throw new Error("getter ran") } })');
    assert.deepEqual(out.logs.stdout, ['{ g: [Getter] }']);
  });

  test('strings print without quotes at the top level', async () => {
    const out = await ok(id, 'console.log("plain text")');
    assert.deepEqual(out.logs.stdout, ['plain text']);
  });

  test('printing an Error shows its name and message', async () => {
    const out = await ok(id, 'console.error(new TypeError("bad input")); console.log(new Error("plain"))');
    assert.equal(out.logs.stderr.length, 1);
    assert.match(out.logs.stderr[0], /TypeError: bad input/);
    assert.equal(out.logs.stdout.length, 1);
    assert.match(out.logs.stdout[0], /Error: plain/);
  });

  test('output printed before a throw is kept', async () => {
    const out = await exec(id, 'console.log("before"); console.warn("w"); throw new Error("stop")');
    assert.equal(out.status, 'error');
    assert.deepEqual(streams(out), { stdout: ['before'], stderr: ['w'] });
  });

  test('output printed from a function defined earlier is captured', async () => {
    await ok(id, 'function shout(s) { console.log(s.toUpperCase()) }');
    const out = await ok(id, 'shout("hey")');
    assert.deepEqual(out.logs.stdout, ['HEY']);
  });

  test('output printed in promise callbacks and after await is captured', async () => {
    const out = await ok(id, 'Promise.resolve().then(() => console.log("job")); await null; console.log("after await"); 1');
    assert.deepEqual(out.logs.stdout, ['job', 'after await']);
  });
});

describe('errors thrown by the code', () => {
  let id;
  before(async () => {
    id = await newSession();
  });

  test('throw new TypeError answers 200 with status error and the name, message and stack', async () => {
    const err = await fails(id, 'throw new TypeError("boom")');
    assert.equal(err.name, 'TypeError');
    assert.equal(err.message, 'boom');
    assert.match(err.stack, /boom/);
  });

  test('an undefined variable is a ReferenceError', async () => {
    const err = await fails(id, 'undefinedVar');
    assert.equal(err.name, 'ReferenceError');
    assert.match(err.message, /undefinedVar/);
  });

  test('a syntax error is a SyntaxError', async () => {
    const err = await fails(id, 'let = ;');
    assert.equal(err.name, 'SyntaxError');
    assert.ok(err.message.length > 0);
  });

  test('an unterminated string is a SyntaxError', async () => {
    const err = await fails(id, '"abc');
    assert.equal(err.name, 'SyntaxError');
  });

  test('a runtime TypeError from the engine is reported', async () => {
    const err = await fails(id, 'null.foo');
    assert.equal(err.name, 'TypeError');
  });

  test('an error thrown inside a called function is reported', async () => {
    await ok(id, 'function inner() { throw new RangeError("too far") } function outer() { inner() }');
    const err = await fails(id, 'outer()');
    assert.equal(err.name, 'RangeError');
    assert.equal(err.message, 'too far');
  });

  test('a subclass of Error keeps its name', async () => {
    const err = await fails(id, 'class ValidationError extends Error { constructor(m) { super(m); this.name = "ValidationError" } }; throw new ValidationError("bad field")');
    assert.equal(err.name, 'ValidationError');
    assert.equal(err.message, 'bad field');
  });

  test('throwing a number gives a clear error that mentions the value', async () => {
    const err = await fails(id, 'throw 42');
    assert.match(err.message, /42/);
    assert.ok(err.name.length > 0);
  });

  test('throwing a string gives a clear error that mentions the value', async () => {
    const err = await fails(id, 'throw "went wrong"');
    assert.match(err.message, /went wrong/);
  });

  test('throwing a plain object gives an error answer, not an HTTP error', async () => {
    const err = await fails(id, 'throw { reason: "nope" }');
    assert.ok(err.name.length > 0);
  });

  test('throwing null or undefined gives an error answer', async () => {
    await fails(id, 'throw null');
    await fails(id, 'throw undefined');
  });

  test('a caught error is not an error', async () => {
    const out = await ok(id, 'try { throw new Error("x") } catch (e) { e.message }');
    assert.equal(out.value, 'x');
  });
});

describe('promises and top-level await', () => {
  let id;
  before(async () => {
    id = await newSession();
  });

  test('a promise completion value is awaited', async () => {
    assert.equal((await ok(id, 'Promise.resolve(5)')).value, 5);
  });

  test('an async function call completion value is awaited', async () => {
    assert.equal((await ok(id, '(async () => 7)()')).value, 7);
  });

  test('top-level await works', async () => {
    assert.equal((await ok(id, 'await Promise.resolve(3)')).value, 3);
  });

  test('a const assigned with await is visible in the same and next execution', async () => {
    assert.equal((await ok(id, 'const v = await new Promise(r => r(9)); v')).value, 9);
    assert.equal((await ok(id, 'v')).value, 9);
  });

  test('let, function and class declared in a cell with await persist', async () => {
    await ok(id, 'let la = await 1; function fa() { return "fa" } class Ca {}');
    assert.deepEqual((await ok(id, '[la, fa(), typeof Ca]')).value, [1, 'fa', 'function']);
  });

  test('a chain of awaits resolves in order', async () => {
    const out = await ok(id, 'const steps = []; for (let i = 0; i < 3; i++) { steps.push(await Promise.resolve(i)) } steps');
    assert.deepEqual(out.value, [0, 1, 2]);
  });

  test('a rejected promise completion value is status error', async () => {
    const err = await fails(id, 'Promise.reject(new Error("nope"))');
    assert.equal(err.name, 'Error');
    assert.equal(err.message, 'nope');
  });

  test('an awaited rejection is status error with the rejection reason', async () => {
    const err = await fails(id, 'await Promise.reject(new RangeError("r"))');
    assert.equal(err.name, 'RangeError');
    assert.equal(err.message, 'r');
  });

  test('an async function that throws is status error', async () => {
    const err = await fails(id, '(async () => { throw new TypeError("async boom") })()');
    assert.equal(err.name, 'TypeError');
    assert.equal(err.message, 'async boom');
  });

  test('a caught awaited rejection is not an error', async () => {
    const out = await ok(id, 'let caught; try { await Promise.reject(new Error("x")) } catch (e) { caught = "caught " + e.message }; caught');
    assert.equal(out.value, 'caught x');
  });

  test('pending promise jobs run before the answer', async () => {
    await ok(id, 'let done = false; Promise.resolve().then(() => { done = true }); 0');
    assert.equal((await ok(id, 'done')).value, true);
  });

  test('a promise that never settles answers instead of hanging', async () => {
    const started = Date.now();
    const res = await alice.req('POST', `/v1/sessions/${id}/exec`, { body: { code: 'new Promise(() => {})' } });
    assert.equal(res.status, 200, res.text);
    assert.ok(Date.now() - started < 15_000);
    assert.ok(['ok', 'error', 'limit'].includes(res.json.status));
  });
});

describe('encoding of completion values', () => {
  let id;
  before(async () => {
    id = await newSession();
  });

  test('undefined', async () => {
    assert.deepEqual((await ok(id, 'undefined')).value, { $type: 'undefined' });
  });

  test('NaN, -0, Infinity and -Infinity', async () => {
    assert.deepEqual((await ok(id, 'NaN')).value, { $type: 'number', value: 'NaN' });
    assert.deepEqual((await ok(id, '-0')).value, { $type: 'number', value: '-0' });
    assert.deepEqual((await ok(id, 'Infinity')).value, { $type: 'number', value: 'Infinity' });
    assert.deepEqual((await ok(id, '-Infinity')).value, { $type: 'number', value: '-Infinity' });
  });

  test('special values nested inside arrays and objects', async () => {
    const out = await ok(id, '({ u: undefined, n: NaN, list: [1, undefined] })');
    assert.deepEqual(out.value, {
      u: { $type: 'undefined' },
      n: { $type: 'number', value: 'NaN' },
      list: [1, { $type: 'undefined' }],
    });
  });

  test('bigint', async () => {
    assert.deepEqual((await ok(id, '10n')).value, { $type: 'bigint', value: '10' });
    assert.deepEqual((await ok(id, '2n ** 100n')).value, { $type: 'bigint', value: (2n ** 100n).toString() });
    assert.deepEqual((await ok(id, '-5n')).value, { $type: 'bigint', value: '-5' });
  });

  test('symbol', async () => {
    assert.deepEqual((await ok(id, 'Symbol("s")')).value, { $type: 'symbol', description: 's' });
  });

  test('symbol without a description', async () => {
    assert.deepEqual((await ok(id, 'Symbol()')).value, { $type: 'symbol', description: null });
  });

  test('function', async () => {
    assert.deepEqual((await ok(id, 'function greet() {}; greet')).value, { $type: 'function', name: 'greet' });
    assert.deepEqual((await ok(id, 'const arrowFn = () => 1; arrowFn')).value, { $type: 'function', name: 'arrowFn' });
    assert.deepEqual((await ok(id, '[function () {}]')).value, [{ $type: 'function', name: '' }]);
  });

  test('class', async () => {
    assert.deepEqual((await ok(id, 'class Klass {}; Klass')).value, { $type: 'class', name: 'Klass' });
  });

  test('class instances encode as plain objects', async () => {
    const out = await ok(id, 'class Pt { constructor() { this.x = 1; this.y = 2 } }; new Pt()');
    assert.deepEqual(out.value, { x: 1, y: 2 });
  });

  test('date', async () => {
    assert.deepEqual((await ok(id, 'new Date(0)')).value, { $type: 'date', value: '1970-01-01T00:00:00.000Z' });
  });

  test('an invalid date encodes with a null value', async () => {
    assert.deepEqual((await ok(id, 'new Date(NaN)')).value, { $type: 'date', value: null });
  });

  test('regexp', async () => {
    assert.deepEqual((await ok(id, '/a+/g')).value, { $type: 'regexp', source: 'a+', flags: 'g' });
  });

  test('map', async () => {
    assert.deepEqual((await ok(id, 'new Map([[1, 2]])')).value, { $type: 'map', size: 1, entries: [[1, 2]] });
  });

  test('set', async () => {
    assert.deepEqual((await ok(id, 'new Set(["x", "y"])')).value, { $type: 'set', size: 2, values: ['x', 'y'] });
  });

  test('Uint8Array', async () => {
    assert.deepEqual((await ok(id, 'new Uint8Array([1, 2])')).value, { $type: 'Uint8Array', length: 2, values: [1, 2] });
  });

  test('ArrayBuffer', async () => {
    assert.deepEqual((await ok(id, 'new ArrayBuffer(8)')).value, { $type: 'ArrayBuffer', byteLength: 8 });
  });

  test('array holes', async () => {
    assert.deepEqual((await ok(id, '[1, , 3]')).value, [1, { $type: 'hole' }, 3]);
  });

  test('a promise inside a value shows its state', async () => {
    const out = await ok(id, '({ done: Promise.resolve(1) })');
    assert.deepEqual(out.value, { done: { $type: 'promise', state: 'fulfilled', value: 1 } });
  });

  test('WeakMap and WeakSet', async () => {
    assert.deepEqual((await ok(id, '[new WeakMap(), new WeakSet()]')).value, [{ $type: 'weakmap' }, { $type: 'weakset' }]);
  });

  test('a cyclic object contains a circular marker', async () => {
    const out = await ok(id, 'const o = {}; o.self = o; o');
    assert.deepEqual(out.value, { self: { $type: 'circular' } });
  });

  test('a cyclic array contains a circular marker', async () => {
    const out = await ok(id, 'const arr = [1]; arr.push(arr); arr');
    assert.deepEqual(out.value, [1, { $type: 'circular' }]);
  });

  test('the same object twice, without a cycle, is encoded twice', async () => {
    const out = await ok(id, 'const shared = { x: 1 }; ({ a: shared, b: shared })');
    assert.deepEqual(out.value, { a: { x: 1 }, b: { x: 1 } });
  });

  test('a value that is not truncated says so', async () => {
    const out = await ok(id, '[1, 2, 3]');
    assert.equal(out.value_truncated, false);
  });

  test('a 5000-level nested object answers 200 with a depth truncated marker', async () => {
    const out = await ok(id, 'let deep = {}; { let cur = deep; for (let i = 0; i < 5000; i++) { cur.child = {}; cur = cur.child } } deep');
    assert.ok(markers(out.value).some((m) => m.$type === 'truncated' && m.reason === 'depth'), 'value contains a depth marker');
    assert.ok(depth(out.value) <= 201, `the encoding is cut off at the depth limit, not at ${depth(out.value)}`);
    assert.equal(out.value_truncated, true);
  });

  test('a 5000-level nested array answers 200 with a truncated marker', async () => {
    const out = await ok(id, 'let nest = []; for (let i = 0; i < 5000; i++) nest = [nest]; nest');
    assert.ok(markers(out.value).some((m) => m.$type === 'truncated' && m.reason === 'depth'), 'value contains a depth marker');
    assert.equal(out.value_truncated, true);
  });

  test('a 100000-element array answers 200 with its first 1000 elements and a truncated marker', async () => {
    const out = await ok(id, 'Array.from({length: 1e5}, (_, i) => i)');
    assert.ok(Array.isArray(out.value));
    assert.equal(out.value.length, 1001);
    assert.deepEqual(out.value.slice(0, 3), [0, 1, 2]);
    assert.equal(out.value[999], 999);
    assert.deepEqual(out.value[1000], { $type: 'truncated', omitted: 99000 });
    assert.equal(out.value_truncated, true);
  });

  test('new Array(1e9) answers 200 quickly with holes and a truncated marker', async () => {
    const started = Date.now();
    const out = await ok(id, 'new Array(1e9)');
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.equal(out.value.length, 1001);
    assert.deepEqual(out.value[0], { $type: 'hole' });
    assert.deepEqual(out.value[1000], { $type: 'truncated', omitted: 1e9 - 1000 });
  });

  test('an object with 100000 keys answers 200 with a $truncated key', async () => {
    const out = await ok(id, 'const wide = {}; for (let i = 0; i < 1e5; i++) wide["k" + i] = i; wide');
    assert.equal(out.value.k0, 0);
    assert.deepEqual(out.value.$truncated, { $type: 'truncated', omitted: 99000 });
    assert.equal(Object.keys(out.value).length, 1001);
    assert.equal(out.value_truncated, true);
  });

  test('a getter that throws does not fail the answer and is not called', async () => {
    await ok(id, 'let getterCalls = 0');
    const out = await ok(id, '({ plain: 1, get bad() { getterCalls++; throw new Error("getter ran") } })');
    assert.deepEqual(out.value, { plain: 1, bad: { $type: 'accessor' } });
    assert.equal((await ok(id, 'getterCalls')).value, 0);
  });

  test('toJSON is not called', async () => {
    const out = await ok(id, '({ a: 1, toJSON() { throw new Error("toJSON ran") } })');
    assert.equal(out.value.a, 1);
    assert.deepEqual(out.value.toJSON, { $type: 'function', name: 'toJSON' });
  });

  test('a Proxy encodes as a proxy marker without running its traps', async () => {
    await ok(id, 'let trapCalls = 0');
    const out = await ok(id, 'new Proxy({}, { get() { trapCalls++; throw new Error("trap") }, ownKeys() { trapCalls++; throw new Error("trap") } })');
    assert.deepEqual(out.value, { $type: 'proxy' });
    assert.equal((await ok(id, 'trapCalls')).value, 0);
  });

  test('an Error value is encoded with its name and message', async () => {
    const out = await ok(id, 'new TypeError("as a value")');
    assert.equal(out.value.$type, 'error');
    assert.equal(out.value.name, 'TypeError');
    assert.equal(out.value.message, 'as a value');
  });

  test('a very long string answers 200, cut to 100000 characters', async () => {
    const out = await ok(id, '"x".repeat(2_000_000)');
    assert.equal(typeof out.value, 'string');
    assert.equal(out.value.length, 100_000);
    assert.equal(out.value_truncated, true);
  });
});
