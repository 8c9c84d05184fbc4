// The engine's speed against its peers, in local workerd (wrangler dev), in one run.
// Measures and prints; never asserts a speed. Exits non-zero only when an answer differs from
// Node's or something fails unexpectedly (an HTTP error, a JavaScript error, a runtime that
// does not start). A program stopped by a sandbox limit is a result: its cell reads
// `limit: memory` (or fuel, ...), and ratios leave it out.
//
// Programs: bench/programs.mjs, each a notebook cell whose last line is its result. Runtimes,
// all in one local runtime (workerd, started as test/harness.mjs does: hermetic, no network):
//   sandbox      POST /v1/run {code}, default limits: a fresh realm per request
//   in-function  the same, with the cell wrapped as `(() => { ...; return <last line> })()`
//   QuickJS      quickjs-emscripten (QuickJS compiled to Wasm) in a plain JavaScript Worker: one
//                Wasm module per isolate, a fresh runtime + context per request
//   V8           the same plain Worker runs the program natively (workerd allows no eval, so the
//                Worker is generated with each program as a function; V8's JIT warms up over the
//                repeats, as it would for a deployed Worker)
// and, in their own runtimes started beside it, the unguarded engine (build/engine-unguarded,
// fuel and allocation accounting compiled out) and BENCH_BASELINE's build.
// Every answer is checked against Node's (vm.runInNewContext, the completion value), after a
// JSON round trip. Requests go one at a time, interleaved runtime by runtime (the first
// runtime rotating each repeat), so machine drift hits all of them alike; each opens its own
// connection, since a kept-alive connection can time out under a long cell (test/harness.mjs).
//
// Printed: the table of medians with the ratios top-level/in-function and sandbox/QuickJS
// (geometric mean and max); exec of `1+1` in a warm session against a hello-world through a
// Durable Object, one that writes a row, and a QuickJS session kept by a JavaScript Durable
// Object that journals each cell (the same design with the reference engine: the floor of a
// durable exec on this runtime), p50 of BENCH_LATENCY interleaved requests on kept-alive
// connections, as bench/bench.mjs measures latency; fuel per CPU second per program and per
// kind; the guard overhead (sandbox / unguarded engine); with BENCH_BASELINE, before/after.
//
// Tunables:
//   BENCH_REPEATS=5            timed requests per program and runtime, after one warm-up each
//   BENCH_ONLY=<names>         comma-separated program names (bench/programs.mjs); `1+1` always
//                              runs, since the fuel table subtracts its time
//   BENCH_LATENCY=300          requests per route in the exec vs hello-world section (0: skip);
//                              the ratios of 30-round runs spread by 0.1x and more
//   BENCH_BASELINE=<build dir> another build's build/ (engine/engine.wasm, engine/meta.mjs,
//                              worker/shim.mjs, index.js, index_bg.wasm): its sandbox rows
//                              (top-level) run in the same run, for a before/after table
//   BENCH_SETTLE_MS=20         pause after every timed request, so the work it leaves behind
//                              (the next run's copy of a fresh realm) is not timed in the next
//   BENCH_OUT=<file>           also writes every result as JSON
//   BENCH_DEVTOOLS_NETWORK=1   leaves on the DevTools network recording wrangler dev starts for
//                              the sandbox (off by default: only the sandbox would pay for it)
//   SANDBOX_LOG=1              wrangler's output on stderr; KEEP_TEST_TMP=1 keeps scratch dirs
// The guard-overhead section needs build/engine-unguarded (ENGINE_VARIANT=unguarded
// ./scripts/build-engine; scripts/bench-engine builds it); without it, it is skipped.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import vm from 'node:vm';
import { ROOT, api, routeHeader, startSandbox } from '../test/harness.mjs';
import { PROGRAMS, asFunction, asScript, functionBody } from './programs.mjs';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const LATENCY = Number(process.env.BENCH_LATENCY ?? 300);
const LATENCY_WARMUP = 10;
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 20);
// wrangler dev records the sandbox's subrequests for DevTools (test/harness.mjs,
// quietDevtoolsNetwork), a cost only the sandbox pays here and nobody pays in production.
const DEVTOOLS_NETWORK = process.env.BENCH_DEVTOOLS_NETWORK === '1';
const BASELINE = process.env.BENCH_BASELINE ? path.resolve(process.env.BENCH_BASELINE) : null;
const OUT = process.env.BENCH_OUT ? path.resolve(process.env.BENCH_OUT) : null;
const UNGUARDED = path.join(ROOT, 'build', 'engine-unguarded');
// Long enough for the slowest cell at the default fuel limit (the GC-heavy end runs a few
// million fuel per second) and for a slow baseline.
const REQUEST_TIMEOUT_MS = 180_000;
const PEERS = 'edge-sandbox-bench-peers';
if (!(Number.isInteger(REPEATS) && REPEATS >= 1)) throw new Error(`BENCH_REPEATS: want an integer >= 1, got ${process.env.BENCH_REPEATS}`);
if (!(Number.isInteger(SETTLE_MS) && SETTLE_MS >= 0)) throw new Error(`BENCH_SETTLE_MS: want an integer >= 0, got ${process.env.BENCH_SETTLE_MS}`);
if (!(Number.isInteger(LATENCY) && LATENCY >= 0)) throw new Error(`BENCH_LATENCY: want an integer >= 0, got ${process.env.BENCH_LATENCY}`);

const programs = selectPrograms(process.env.BENCH_ONLY);

function selectPrograms(only) {
  if (!only) return PROGRAMS;
  const names = only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !PROGRAMS.some((p) => p.name === n));
  if (unknown.length) {
    throw new Error(`BENCH_ONLY: no program named ${unknown.map((n) => JSON.stringify(n)).join(', ')}; names: ${PROGRAMS.map((p) => p.name).join(', ')}`);
  }
  return PROGRAMS.filter((p) => p.name === '1+1' || names.includes(p.name));
}

// ---------------------------------------------------------------------------------------------
// Scratch files: the peers Worker and entry modules for the other engine builds.

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-sandbox-bench-engine-'));
process.on('exit', () => {
  if (process.env.KEEP_TEST_TMP !== '1') fs.rmSync(scratch, { recursive: true, force: true });
});

/**
 * The plain JavaScript Worker of the peers (QuickJS in Wasm, V8, hello-world with and without a
 * Durable Object) and its wrangler config; answers have the sandbox's shape
 * ({status, value, error}).
 */
function peersWorker() {
  const dir = path.join(scratch, 'peers');
  fs.mkdirSync(dir);
  // wrangler's bundler resolves the npm imports from the Worker's directory.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const wasm = path.join(ROOT, 'node_modules', '@jitl', 'quickjs-wasmfile-release-sync', 'dist', 'emscripten-module.wasm');
  if (!fs.existsSync(wasm)) throw new Error(`${wasm} is missing: run ./scripts/setup (npm ci)`);
  const table = programs
    .map((p) => `  ${JSON.stringify(p.name)}: ${p.async ? 'async ' : ''}() => {\n${functionBody(p.code)}\n  },`)
    .join('\n');
  const source = `// Generated by bench/engine.mjs.
import { DurableObject } from 'cloudflare:workers';
import { newQuickJSWASMModuleFromVariant, newVariant } from 'quickjs-emscripten-core';
import baseVariant from '@jitl/quickjs-wasmfile-release-sync';
// wrangler's CompiledWasm rule makes this a WebAssembly.Module: workerd refuses to compile Wasm
// from bytes at run time, which the singlefile variants do.
import wasmModule from ${JSON.stringify(wasm)};

// One QuickJS Wasm instance per isolate (like the sandbox's engine module); a fresh runtime and
// context per request (like /v1/run's fresh realm).
let quickjs = null;
const getQuickJS = () => (quickjs ??= newQuickJSWASMModuleFromVariant(newVariant(baseVariant, { wasmModule })));

/** Evaluates code in a QuickJS context: its answer in the sandbox's shape. */
function evaluate(context, code) {
  const result = context.evalCode(code);
  if (result.error) {
    const error = context.dump(result.error);
    result.error.dispose();
    return { status: 'error', error };
  }
  // An async program's value is a promise: run its jobs, then read how it settled.
  context.runtime.executePendingJobs();
  const state = context.getPromiseState(result.value);
  if (state.type === 'pending') {
    result.value.dispose();
    return { status: 'error', error: { name: 'Error', message: 'the promise never settled' } };
  }
  const settled = state.type === 'fulfilled' ? state.value : state.error;
  const dumped = context.dump(settled);
  if (settled !== result.value) settled.dispose();
  result.value.dispose();
  return state.type === 'fulfilled' ? { status: 'ok', value: dumped } : { status: 'error', error: dumped };
}

async function runQuickJS(code) {
  const QuickJS = await getQuickJS();
  const runtime = QuickJS.newRuntime();
  const context = runtime.newContext();
  try {
    return evaluate(context, code);
  } finally {
    context.dispose();
    runtime.dispose();
  }
}

const V8 = {
${table}
};

async function runV8(name) {
  const program = V8[name];
  if (!program) return { status: 'error', error: { name: 'Error', message: 'no program ' + name } };
  try {
    return { status: 'ok', value: await program() };
  } catch (e) {
    return { status: 'error', error: { name: e?.name, message: String(e?.message ?? e) } };
  }
}

export class HelloObject extends DurableObject {
  async fetch(request) {
    const body = await request.text();
    if (new URL(request.url).pathname === '/do-hello-write') {
      // The least a durable exec does before it answers: one row written (the output gate holds
      // the response until the write is stored).
      this.ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS cells (seq INTEGER PRIMARY KEY, code TEXT)');
      this.ctx.storage.sql.exec('INSERT INTO cells (code) VALUES (?)', body);
    }
    return Response.json({ status: 'ok', value: 2 });
  }
}

// A session as the sandbox keeps one, built with the reference engine in JavaScript: a QuickJS
// context that lives as long as the object, and each cell journaled (one row, and the session's
// counters updated) before the answer goes out. The floor of a durable exec on this runtime.
export class QuickJSSession extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, code TEXT, now_ms REAL)');
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS session (execution_count INTEGER, last_used_at INTEGER)');
    if (!ctx.storage.sql.exec('SELECT 1 FROM session').toArray().length) ctx.storage.sql.exec('INSERT INTO session VALUES (0, 0)');
  }

  async fetch(request) {
    const { code } = await request.json();
    this.context ??= (await getQuickJS()).newContext();
    const answer = evaluate(this.context, code);
    // A cell that threw is journaled too: its effects before the throw stand.
    const now = Date.now();
    this.ctx.storage.sql.exec('INSERT INTO journal (code, now_ms) VALUES (?, ?)', code, now);
    this.ctx.storage.sql.exec('UPDATE session SET execution_count = execution_count + 1, last_used_at = ?', now);
    return Response.json(answer);
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === '/hello') {
      await request.text();
      return Response.json({ status: 'ok', value: 2 });
    }
    if (pathname === '/do-hello' || pathname === '/do-hello-write') {
      return env.HELLO.get(env.HELLO.idFromName('hello')).fetch(request);
    }
    if (pathname === '/do-quickjs-exec') return env.QUICKJS_SESSION.get(env.QUICKJS_SESSION.idFromName('session')).fetch(request);
    if (pathname === '/quickjs') return Response.json(await runQuickJS((await request.json()).code));
    if (pathname === '/v8') return Response.json(await runV8((await request.json()).name));
    return new Response('not found', { status: 404 });
  },
};
`;
  fs.writeFileSync(path.join(dir, 'worker.mjs'), source);
  const config = path.join(dir, 'wrangler.toml');
  fs.writeFileSync(
    config,
    `name = "${PEERS}"
main = "worker.mjs"
compatibility_date = "2026-04-01"

[[durable_objects.bindings]]
name = "HELLO"
class_name = "HelloObject"

[[durable_objects.bindings]]
name = "QUICKJS_SESSION"
class_name = "QuickJSSession"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["HelloObject", "QuickJSSession"]
`,
  );
  // No vars; an empty .dev.vars keeps wrangler from looking further for one.
  fs.writeFileSync(path.join(dir, '.dev.vars'), '');
  return config;
}

/**
 * An entry module like src/entry.mjs that serves the engine module of `engineDir` with the
 * Worker of `buildDir` (both absolute, so it can live in the scratch directory).
 */
function entryModule(name, engineDir, buildDir) {
  for (const file of [path.join(engineDir, 'engine.wasm'), path.join(engineDir, 'meta.mjs'), path.join(buildDir, 'worker', 'shim.mjs')]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing`);
  }
  let source = fs
    .readFileSync(path.join(ROOT, 'src', 'entry.mjs'), 'utf8')
    .replaceAll('"../build/engine/', `"${engineDir}/`)
    .replaceAll('"../build/worker/', `"${path.join(buildDir, 'worker')}/`);
  if (source.includes('../build/')) throw new Error('src/entry.mjs imports more of build/ than bench/engine.mjs knows how to replace');
  const file = path.join(scratch, `entry-${name}.mjs`);
  fs.writeFileSync(file, source);
  return file;
}

const buildId = (engineDir) => /BUILD_ID = "([^"]+)"/.exec(fs.readFileSync(path.join(engineDir, 'meta.mjs'), 'utf8'))?.[1] ?? '?';

// ---------------------------------------------------------------------------------------------
// Requests and answers.

async function timed(fn) {
  const start = process.hrtime.bigint();
  const res = await fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  // Work a request leaves behind (after answering a run, the sandbox copies the next run's fresh
  // realm) runs on the runtime's thread: let it finish before the next request is timed, so it
  // is not counted in another runtime's or route's figure.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return [ms, res];
}

/** POST of a JSON body on a connection of its own; answers the parsed JSON body. */
async function post(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${url} answered ${res.status}: ${text.slice(0, 500)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`POST ${url} answered a body that is not JSON: ${text.slice(0, 500)}`);
  }
}

/**
 * Node's answer: the completion value of the cell (an async program's, run as an async
 * function, once its promise settles), after a JSON round trip.
 */
async function nodeAnswer(program) {
  try {
    return JSON.parse(JSON.stringify(await vm.runInNewContext(asScript(program), {}, { timeout: 120_000 })) ?? 'null');
  } catch (err) {
    throw new Error(`program ${JSON.stringify(program.name)} fails in Node, so it has no answer to check: ${err}`);
  }
}

const show = (value) => {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 300 ? `${text.slice(0, 300)}...` : text;
};

/** The runtimes a program runs on, each answering { status, value, error, fuel }. */
function runtimes({ main, unguarded, baseline }) {
  const sandbox = (sb) => ({
    run: (p, code) => post(`${sb.url}/v1/run`, { code }, { authorization: `Bearer ${sb.keys.alice}` }),
  });
  const list = [
    { id: 'sandbox', label: 'sandbox /v1/run', code: (p) => p.code, ...sandbox(main) },
    { id: 'function', label: 'in-function', code: (p) => asFunction(p.code, p.async), ...sandbox(main) },
    // QuickJS evaluates a script, where `await` needs a function around it.
    { id: 'quickjs', label: 'QuickJS Wasm', code: asScript, run: (p, code) => post(`${main.url}/quickjs`, { code }, routeHeader(PEERS)) },
    { id: 'v8', label: 'V8', code: (p) => p.code, run: (p) => post(`${main.url}/v8`, { name: p.name }, routeHeader(PEERS)) },
  ];
  if (unguarded) list.push({ id: 'unguarded', label: 'unguarded engine', code: (p) => p.code, ...sandbox(unguarded) });
  if (baseline) list.push({ id: 'baseline', label: 'baseline', code: (p) => p.code, ...sandbox(baseline) });
  return list;
}

/**
 * Runs one program on one runtime and checks the answer: { ms, outcome, fuel } where outcome is
 * 'ok', 'limit: <name>' or 'error'. A wrong answer or an error is recorded in `failures`.
 */
async function runOnce(rt, program, expected, failures) {
  const [ms, answer] = await timed(() => rt.run(program, rt.code(program)));
  const fuel = answer.usage?.fuel ?? null;
  if (answer.status === 'limit') {
    return { ms, outcome: `limit: ${answer.error?.limit ?? '?'}`, fuel };
  }
  if (answer.status !== 'ok') {
    failures.add(`${program.name} on ${rt.label}: ${answer.status} ${show(answer.error)}, Node answers ${show(expected)}`);
    return { ms, outcome: 'error', fuel };
  }
  const got = JSON.parse(JSON.stringify(answer.value ?? null));
  if (!isDeepStrictEqual(got, expected)) {
    failures.add(`${program.name} on ${rt.label}: answered ${show(got)}, Node answers ${show(expected)}`);
    return { ms, outcome: 'wrong', fuel };
  }
  return { ms, outcome: 'ok', fuel };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1];
};
const geomean = (xs) => (xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : NaN);

/** Every program on every runtime: one warm-up each, then REPEATS rounds, request by request. */
async function measurePrograms(list, failures) {
  const results = {};
  for (const p of programs) {
    const expected = await nodeAnswer(p);
    results[p.name] = { program: p, expected, runs: Object.fromEntries(list.map((rt) => [rt.id, []])) };
  }
  for (let round = 0; round <= REPEATS; round++) {
    const started = Date.now();
    for (const p of programs) {
      const r = results[p.name];
      for (let k = 0; k < list.length; k++) {
        const rt = list[(k + round) % list.length];
        const run = await runOnce(rt, p, r.expected, failures);
        if (round > 0) r.runs[rt.id].push(run); // round 0 is the warm-up
      }
    }
    console.error(`engine bench: ${round === 0 ? 'warm-up' : `round ${round}/${REPEATS}`} done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  // One figure per program and runtime: the median time, and the outcome (the worst seen).
  for (const r of Object.values(results)) {
    r.summary = {};
    for (const [id, runs] of Object.entries(r.runs)) {
      const bad = runs.find((x) => x.outcome !== 'ok');
      r.summary[id] = {
        ms: median(runs.map((x) => x.ms)),
        outcome: bad ? bad.outcome : 'ok',
        fuel: median(runs.map((x) => x.fuel ?? NaN)),
        samples: runs.map((x) => x.ms),
      };
    }
  }
  return results;
}

/**
 * exec of `1+1` in a warm session against hello-world through a Durable Object: LATENCY
 * interleaved rounds of every route, kept-alive connections (no long cell runs meanwhile).
 */
async function measureLatency({ main, baseline }) {
  const client = await api(main.url, main.keys.alice, { keepAlive: true });
  const peers = await api(main.url, undefined, { keepAlive: true });
  const answersTwo = (res) => res.status === 200 && res.json?.value === 2;
  const check = (res, what, ok = answersTwo) => {
    if (!ok(res)) throw new Error(`${what} answered ${res.status}: ${res.text.slice(0, 500)}`);
  };
  const session = async (c) => {
    const res = await c.req('POST', '/v1/sessions', { body: {} });
    if (res.status !== 201) throw new Error(`create session answered ${res.status}: ${res.text.slice(0, 500)}`);
    return res.json.id;
  };
  const body = { code: '1+1' };
  const id = await session(client);
  const routes = [
    ['exec', 'exec 1+1, warm session', () => client.req('POST', `/v1/sessions/${id}/exec`, { body })],
    // The same Worker and session object without the engine or a write: the floor under exec.
    ['info', 'GET /v1/sessions/:id (same Worker and object, no cell)', () => client.req('GET', `/v1/sessions/${id}`), (res) => res.status === 200 && res.json?.id === id],
    ['run', 'POST /v1/run 1+1', () => client.req('POST', '/v1/run', { body })],
    // Right behind another run, before the isolate has made that run's successor its copy of a
    // fresh realm: this one waits for it.
    ['runAfterRun', 'POST /v1/run 1+1 right after another run', () => client.req('POST', '/v1/run', { body }), answersTwo, () => client.req('POST', '/v1/run', { body })],
    ['doHello', 'hello-world via a Durable Object', () => peers.req('POST', '/do-hello', { body, headers: routeHeader(PEERS) })],
    ['doHelloWrite', 'hello-world via a Durable Object that writes one SQL row', () => peers.req('POST', '/do-hello-write', { body, headers: routeHeader(PEERS) })],
    ['doQuickJS', 'exec 1+1 in QuickJS kept by a Durable Object, journaled (JavaScript)', () => peers.req('POST', '/do-quickjs-exec', { body, headers: routeHeader(PEERS) })],
    ['hello', 'hello-world, plain Worker', () => peers.req('POST', '/hello', { body, headers: routeHeader(PEERS) })],
  ];
  if (baseline) {
    const before = await api(baseline.url, baseline.keys.alice, { keepAlive: true });
    const beforeId = await session(before);
    routes.push(
      ['baselineExec', 'baseline: exec 1+1, warm session', () => before.req('POST', `/v1/sessions/${beforeId}/exec`, { body })],
      ['baselineRun', 'baseline: POST /v1/run 1+1', () => before.req('POST', '/v1/run', { body })],
    );
  }
  const samples = Object.fromEntries(routes.map(([key]) => [key, []]));
  for (let i = 0; i < LATENCY_WARMUP + LATENCY; i++) {
    for (let k = 0; k < routes.length; k++) {
      const [key, label, send, ok, before] = routes[(k + i) % routes.length];
      // An untimed request first, with no pause before the timed one.
      if (before) check(await before(), label);
      const [ms, res] = await timed(send);
      check(res, label, ok);
      if (i >= LATENCY_WARMUP) samples[key].push(ms);
    }
  }
  return Object.fromEntries(
    routes.map(([key, label]) => [key, { label, n: samples[key].length, p50: percentile(samples[key], 50), p99: percentile(samples[key], 99) }]),
  );
}

// ---------------------------------------------------------------------------------------------
// Printing.

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const cell = (s) => (s.outcome === 'ok' ? fmt(s.ms) : `${s.outcome} (${fmt(s.ms)})`);
const ratio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '–');
/** a/b of two summaries, when both ran to an answer. */
const over = (a, b) => (a?.outcome === 'ok' && b?.outcome === 'ok' ? a.ms / b.ms : NaN);
const table = (header, rows) => {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
};
/** "geomean 1.23x, max 2.34x (program)" over the finite ratios of `pairs` ([name, ratio]). */
const spread = (pairs) => {
  const ok = pairs.filter(([, x]) => Number.isFinite(x));
  if (!ok.length) return 'no program ran to an answer on both';
  const [maxName, max] = ok.reduce((a, b) => (b[1] > a[1] ? b : a));
  const left = pairs.length - ok.length;
  return `geomean ${ratio(geomean(ok.map(([, x]) => x)))}, max ${ratio(max)} (${maxName}) over ${ok.length} programs${left ? `; ${left} left out (a limit or an error on one side)` : ''}`;
};

function printPrograms(results) {
  console.log(`\n## Programs: end-to-end ms from Node, median of ${REPEATS} (after 1 warm-up), every answer checked against Node's\n`);
  const rows = [];
  const topFn = [];
  const vsQuickJS = [];
  for (const r of Object.values(results)) {
    const s = r.summary;
    const tf = over(s.sandbox, s.function);
    const sq = over(s.sandbox, s.quickjs);
    // 1+1 declares nothing at the top level: its two forms differ only by the request's noise.
    if (r.program.name !== '1+1') topFn.push([r.program.name, tf]);
    vsQuickJS.push([r.program.name, sq]);
    rows.push([r.program.name, cell(s.sandbox), cell(s.function), ratio(tf), cell(s.quickjs), cell(s.v8), ratio(sq)]);
  }
  table(['program', 'sandbox /v1/run', 'in-function', 'top/fn', 'QuickJS Wasm', 'V8', 'sandbox/QuickJS'], rows);
  console.log(`\nsandbox/QuickJS: ${spread(vsQuickJS)}`);
  console.log(`top-level/in-function without 1+1 (goal: within 1.2x): ${spread(topFn)}`);
}

function printLatency(latency) {
  console.log(`\n## exec vs hello-world through a Durable Object: ${latency.exec.n} interleaved requests per route, kept-alive connections, ms\n`);
  table(
    ['route', 'p50', 'p99'],
    Object.values(latency).map((s) => [s.label, fmt(s.p50), fmt(s.p99)]),
  );
  const r = (a, b) => ratio(latency[a].p50 / latency[b].p50);
  console.log(`\nexec / DO hello p50 (goal <= 1.3x): ${r('exec', 'doHello')}`);
  console.log(`/v1/run / exec p50 (goal <= 1x): ${r('run', 'exec')}; right after another run: ${r('runAfterRun', 'exec')}`);
  console.log(`DO hello / plain hello p50: ${r('doHello', 'hello')}`);
  console.log(`exec / session info p50: ${r('exec', 'info')} (the cell: engine call, journal); session info / DO hello: ${r('info', 'doHello')} (this Worker's and object's own round trip)`);
  console.log(`exec / DO hello that writes one row p50: ${r('exec', 'doHelloWrite')}; DO hello that writes / DO hello: ${r('doHelloWrite', 'doHello')}`);
  console.log(`exec / QuickJS session object p50: ${r('exec', 'doQuickJS')}; QuickJS session object / DO hello: ${r('doQuickJS', 'doHello')} (the same design with the reference engine, in JavaScript)`);
  if (latency.baselineExec) {
    console.log(`baseline: exec / DO hello p50 ${r('baselineExec', 'doHello')}, /v1/run / exec ${r('baselineRun', 'baselineExec')}`);
  }
}

/**
 * Fuel per CPU second. Local workerd reports no CPU time, but it gives wall time, which for a
 * compute-bound cell on an otherwise idle isolate is its CPU time; the time of `1+1` (the
 * request, a fresh realm, the answer) is subtracted. Rows stopped by a limit other than fuel are
 * left out of the kinds (their time includes tearing the instance down).
 */
function fuelRates(results) {
  const base = results['1+1'].summary.sandbox.ms;
  const rows = [];
  for (const r of Object.values(results)) {
    if (r.program.name === '1+1') continue;
    const s = r.summary.sandbox;
    const net = s.ms - base;
    const counted = (s.outcome === 'ok' || s.outcome === 'limit: fuel') && net > 0 && Number.isFinite(s.fuel);
    rows.push({ name: r.program.name, kind: r.program.kind, fuel: s.fuel, net, outcome: s.outcome, counted, rate: counted ? s.fuel / (net / 1000) : NaN });
  }
  const kinds = {};
  for (const row of rows.filter((x) => x.counted)) {
    const k = (kinds[row.kind] ??= { kind: row.kind, fuel: 0, net: 0, programs: 0 });
    k.fuel += row.fuel;
    k.net += row.net;
    k.programs++;
  }
  for (const k of Object.values(kinds)) k.rate = k.fuel / (k.net / 1000);
  return { base, rows, kinds: Object.values(kinds) };
}

function printFuel(fuel) {
  const m = (x) => (Number.isFinite(x) ? (x / 1e6).toFixed(1) : '–');
  console.log(`\n## Fuel per CPU second (sandbox /v1/run; ms = median minus the median of 1+1, ${fmt(fuel.base)} ms)\n`);
  table(
    ['program', 'kind', 'fuel (M)', 'ms', 'M fuel/s'],
    fuel.rows.map((r) => [r.name, r.kind, m(r.fuel), fmt(r.net), r.counted ? m(r.rate) : `– (${r.outcome})`]),
  );
  console.log('');
  table(
    ['kind', 'programs', 'M fuel/s'],
    fuel.kinds.map((k) => [k.kind, String(k.programs), m(k.rate)]),
  );
  const rates = fuel.kinds.map((k) => k.rate);
  if (rates.length >= 2) {
    const hi = fuel.kinds.reduce((a, b) => (b.rate > a.rate ? b : a));
    const lo = fuel.kinds.reduce((a, b) => (b.rate < a.rate ? b : a));
    console.log(`\nmax/min across kinds (goal <= 2x): ${ratio(hi.rate / lo.rate)} (${hi.kind} / ${lo.kind})`);
  }
}

function printGuards(results, unguardedId) {
  console.log(`\n## Guard overhead: sandbox / unguarded engine (${unguardedId}), top-level, median ms\n`);
  const pairs = [];
  const rows = [];
  for (const r of Object.values(results)) {
    const s = r.summary;
    const g = over(s.sandbox, s.unguarded);
    // 1+1 is the request and a fresh realm, not guarded code: left out of the mean.
    if (r.program.name !== '1+1') pairs.push([r.program.name, g]);
    rows.push([r.program.name, cell(s.sandbox), cell(s.unguarded), ratio(g)]);
  }
  table(['program', 'sandbox', 'unguarded', 'guarded/unguarded'], rows);
  console.log(`\nguarded/unguarded without 1+1 (goal: geomean <= 1.15): ${spread(pairs)}`);
}

function printBaseline(results, baselineId) {
  console.log(`\n## Before/after: BENCH_BASELINE ${BASELINE} (engine ${baselineId}) against this build, top-level, median ms\n`);
  const pairs = [];
  const rows = [];
  for (const r of Object.values(results)) {
    const s = r.summary;
    const x = over(s.sandbox, s.baseline);
    pairs.push([r.program.name, x]);
    rows.push([r.program.name, cell(s.baseline), cell(s.sandbox), ratio(x)]);
  }
  table(['program', 'before (baseline)', 'after (this build)', 'after/before'], rows);
  console.log(`\nafter/before (below 1x: this build is faster): ${spread(pairs)}`);
  if (baselineId === ids.main) console.log('(the same engine build on both sides: the ratios show the run-to-run spread)');
}

// ---------------------------------------------------------------------------------------------

const failures = new Set();
const hasUnguarded = fs.existsSync(path.join(UNGUARDED, 'engine.wasm')) && fs.existsSync(path.join(UNGUARDED, 'meta.mjs'));
const ids = {
  main: buildId(path.join(ROOT, 'build', 'engine')),
  unguarded: hasUnguarded ? buildId(UNGUARDED) : null,
  baseline: BASELINE ? buildId(path.join(BASELINE, 'engine')) : null,
};
const started = {};
const load = { start: os.loadavg()[0] };
try {
  // One at a time: starting a runtime takes the machine's CPU for a few seconds.
  const start = (opts) => startSandbox({ ...opts, devtoolsNetwork: DEVTOOLS_NETWORK });
  started.main = await start({ workers: [peersWorker()] });
  if (hasUnguarded) started.unguarded = await start({ entry: entryModule('unguarded', UNGUARDED, path.join(ROOT, 'build')) });
  if (BASELINE) started.baseline = await start({ entry: entryModule('baseline', path.join(BASELINE, 'engine'), BASELINE) });
  const list = runtimes(started);
  console.error(`engine bench: ${programs.length} programs on ${list.map((rt) => rt.label).join(', ')}; ${REPEATS} repeats`);
  const results = await measurePrograms(list, failures);
  const latency = LATENCY > 0 ? await measureLatency(started) : null;

  console.log(`\n# Engine benchmark, local workerd (wrangler dev), ${new Date().toISOString()}`);
  console.log(`engine ${ids.main}${ids.unguarded ? `, unguarded ${ids.unguarded}` : ''}${ids.baseline ? `, baseline ${ids.baseline}` : ''}; Node ${process.version}; ${os.cpus().length} CPUs`);
  // Other work on the machine widens the spread of every figure: say how busy it was.
  console.log(`load average (1 min) at the start ${load.start.toFixed(2)}, at the end ${os.loadavg()[0].toFixed(2)}`);
  console.log(`wrangler dev's DevTools network recording of the sandbox: ${DEVTOOLS_NETWORK ? 'on (BENCH_DEVTOOLS_NETWORK=1)' : 'off'}`);
  printPrograms(results);
  if (latency) printLatency(latency);
  const fuel = fuelRates(results);
  printFuel(fuel);
  if (hasUnguarded) {
    printGuards(results, ids.unguarded);
  } else {
    console.log(`\n## Guard overhead: skipped, ${path.relative(ROOT, UNGUARDED)}/engine.wasm is missing (build it with: ENGINE_VARIANT=unguarded ./scripts/build-engine)`);
  }
  if (BASELINE) printBaseline(results, ids.baseline);

  if (OUT) {
    const json = {
      date: new Date().toISOString(),
      repeats: REPEATS,
      engines: ids,
      baseline: BASELINE,
      programs: Object.values(results).map((r) => ({ name: r.program.name, kind: r.program.kind, expected: r.expected, runtimes: r.summary })),
      latency,
      fuel,
      failures: [...failures],
    };
    fs.writeFileSync(OUT, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`\nresults written to ${OUT}`);
  }
  if (failures.size) {
    console.log(`\nFAILED: ${failures.size} answer(s) differ from Node's or errored:`);
    for (const f of failures) console.log(`  - ${f}`);
    process.exitCode = 1;
  }
} finally {
  for (const sb of Object.values(started)) await sb.stop();
}
