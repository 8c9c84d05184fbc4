// Latency of the sandbox in local workerd, and the size Cloudflare would count for the upload.
// Measures, never asserts. Needs a built Worker (./scripts/bench builds it first).
//
//   (a) POST /v1/sessions/{id}/exec of `1+1` in a warm session
//   (b) POST /v1/sessions followed by the new session's first exec of `1+1`
//   (c) GET /healthz, the cheapest route of the same Worker: the cost of the HTTP path
//   (d) POST /v1/run of `1+1`: a one-shot run in a fresh realm, no Durable Object
//   (e) POST /v1/run of `input.xs.reduce((a,b)=>a+b,0)` with `input: {xs: [100 numbers]}`
//   (f) POST /mcp tools/call of session_exec `1+1` in the same warm session as (a)
//
// (a), (c), (d), (e) and (f) alternate request by request, so drift in the machine affects them alike
// ((d) and (e) only when the build answers POST /v1/run, (f) only when it serves /mcp).
// Iteration counts: BENCH_ITERATIONS (default 200), BENCH_WARMUP (20), BENCH_CREATE (50).
//
// File throughput: PUT and GET /v1/sessions/{id}/files/{path} of random bytes in one session,
// BENCH_FILES=<bytes>:<repeats>,... (default 1024:50,1048576:10,26214400:3, i.e. 1 KiB, 1 MiB,
// 25 MiB; at most 32 MiB, the default limits.file_bytes). p50 ms and MiB/s (of the p50) per size
// and direction; before the timed rounds, one PUT + GET per size checks that the bytes come back
// unchanged (sha256) and the run fails if not.
//
// Also: fuel per second of CPU for four kinds of code, and the time to rebuild a session from
// journals of BENCH_JOURNALS cells (default 10,100,1000).
//
// Sessions (engine instances and checkpoints): the time to wake a session after BENCH_WAKE
// fuel of lifetime work (default 1e8,1e9,1e10; the wake is forced by a cell that hits the output
// limit, so the next `1+1` rebuilds it), and the checkpoint's cost and size for heaps of
// BENCH_HEAPS objects (default 0,1e4,1e5): the latency of the cell after which a checkpoint was
// taken (x-sandbox-checkpoint) against the same cell without one, and the image's bytes. Also
// the instance memory of an idle session, and how many such sessions fit 128 MB.
//
// BENCH_BASELINE=<dir of another checkout, built>: measures (a)-(c) of that build too, in the
// same run, and prints how this build's ratios compare (e.g. the cost of the sandbox guards).
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT, api, startSandbox } from '../test/harness.mjs';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
const CREATE = Number(process.env.BENCH_CREATE ?? 50);
const FILES = (process.env.BENCH_FILES ?? '1024:50,1048576:10,26214400:3').split(',').map((spec) => {
  const [bytes, repeats] = spec.split(':').map(Number);
  if (!(bytes > 0 && repeats > 0)) throw new Error(`BENCH_FILES: bad entry ${spec} (want <bytes>:<repeats>)`);
  return { bytes, repeats };
});
const RUN_INPUT = { xs: Array.from({ length: 100 }, (_, i) => i + 1) };
const RUN_INPUT_SUM = 5050;

function percentile(sorted, p) {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function summary(samples) {
  const sorted = [...samples].sort((x, y) => x - y);
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  return { n: samples.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean, max: sorted.at(-1) };
}

async function timed(fn) {
  const start = process.hrtime.bigint();
  const res = await fn();
  return [Number(process.hrtime.bigint() - start) / 1e6, res];
}

function expect(res, status, what) {
  if (res.status !== status) throw new Error(`${what} answered ${res.status}: ${res.text.slice(0, 500)}`);
  return res;
}

async function latency(start = startSandbox, extras = true) {
  const sandbox = await start();
  try {
    const client = await api(sandbox.url, sandbox.keys.alice, { keepAlive: true });
    const anonymous = await api(sandbox.url, undefined, { keepAlive: true });
    const create = () => client.req('POST', '/v1/sessions', { body: {} });
    const exec = (id) => client.req('POST', `/v1/sessions/${id}/exec`, { body: { code: '1+1' } });
    const health = () => anonymous.req('GET', '/healthz');
    const run = () => client.req('POST', '/v1/run', { body: { code: '1+1' } });
    const runInput = () =>
      client.req('POST', '/v1/run', { body: { code: 'input.xs.reduce((a,b)=>a+b,0)', input: RUN_INPUT } });
    const checkRun = (res, want, what) => {
      expect(res, 200, what);
      if (res.json?.value !== want) throw new Error(`${what} gave ${res.text.slice(0, 500)}`);
    };
    // A build without POST /v1/run (an older BENCH_BASELINE) is measured without (d) and (e).
    const hasRun = (await run()).status !== 404;
    let rpcId = 0;
    const mcpExec = (id) =>
      client.req('POST', '/mcp', {
        headers: { accept: 'application/json, text/event-stream' },
        body: { jsonrpc: '2.0', id: ++rpcId, method: 'tools/call', params: { name: 'session_exec', arguments: { session_id: id, code: '1+1' } } },
      });
    const checkMcp = (res) => {
      expect(res, 200, 'mcp session_exec');
      if (res.json?.result?.structuredContent?.value !== 2) throw new Error(`mcp session_exec gave ${res.text.slice(0, 500)}`);
    };
    // (f) only when the build serves /mcp.
    const hasMcp = (await client.req('POST', '/mcp', { body: { jsonrpc: '2.0', id: 0, method: 'ping' } })).status === 200;

    const { id } = expect(await create(), 201, 'create').json;
    for (let i = 0; i < WARMUP; i++) {
      expect(await exec(id), 200, 'exec');
      expect(await health(), 200, 'healthz');
      if (hasRun) {
        checkRun(await run(), 2, 'run of 1+1');
        checkRun(await runInput(), RUN_INPUT_SUM, 'run with input');
      }
      if (hasMcp) checkMcp(await mcpExec(id));
    }

    const a = [];
    const c = [];
    const d = [];
    const e = [];
    const f = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const [tc, hres] = await timed(health);
      expect(hres, 200, 'healthz');
      c.push(tc);
      const [ta, eres] = await timed(() => exec(id));
      expect(eres, 200, 'exec');
      if (eres.json?.value !== 2) throw new Error(`exec of 1+1 gave ${eres.text}`);
      a.push(ta);
      if (hasRun) {
        const [td, dres] = await timed(run);
        checkRun(dres, 2, 'run of 1+1');
        d.push(td);
        const [te, rres] = await timed(runInput);
        checkRun(rres, RUN_INPUT_SUM, 'run with input');
        e.push(te);
      }
      if (hasMcp) {
        const [tf, fres] = await timed(() => mcpExec(id));
        checkMcp(fres);
        f.push(tf);
      }
    }
    const runs = hasRun ? { d: summary(d), e: summary(e) } : {};
    if (hasMcp) runs.f = summary(f);

    const b = [];
    for (let i = 0; i < CREATE; i++) {
      const [tb] = await timed(async () => {
        const created = expect(await create(), 201, 'create').json;
        expect(await exec(created.id), 200, 'first exec');
      });
      b.push(tb);
    }
    const wakeLevels = (process.env.BENCH_WAKE ?? '1e8,1e9,1e10').split(',').map(Number);
    if (!extras) {
      const wakes = await wakeVsWork(await api(sandbox.url, sandbox.keys.alice), wakeLevels);
      return { a: summary(a), b: summary(b), c: summary(c), ...runs, wakes };
    }
    // Cells that run for seconds hold workerd's thread; a kept-alive connection can then time
    // out under a request (test/harness.mjs), so these phases open a connection per request.
    const fresh = await api(sandbox.url, sandbox.keys.alice);
    const fuel = await fuelRate(fresh);
    const rebuilds = await rebuild(fresh, (process.env.BENCH_JOURNALS ?? '10,100,1000').split(',').map(Number));
    const files = await fileThroughput(fresh, sandbox);
    const wakes = await wakeVsWork(fresh, wakeLevels);
    const heaps = await checkpointCost(fresh, (process.env.BENCH_HEAPS ?? '0,1e4,1e5').split(',').map(Number));
    return { a: summary(a), b: summary(b), c: summary(c), ...runs, fuel, rebuilds, files, wakes, heaps };
  } finally {
    await sandbox.stop();
  }
}

/** Fuel per second: how fuel limits map to CPU time in this runtime. */
async function fuelRate(client) {
  const FUEL = 50_000_000;
  const { id } = expect(await client.req('POST', '/v1/sessions', { body: { limits: { fuel: FUEL } } }), 201, 'create').json;
  const exec = (code) => client.req('POST', `/v1/sessions/${id}/exec`, { body: { code } });
  const rows = [];
  for (const [name, code] of [
    ['empty loop until out of fuel', 'for (;;) {}'],
    ['objects + closures until out of fuel', 'let o = []; for (let i = 0; ; i++) { o.push({ i, f: () => i }); if (o.length > 1000) o = []; }'],
    ['sort 1e5 numbers with a comparator', 'const xs = Array.from({ length: 1e5 }, (_, i) => (i * 7919) % 1e5); xs.sort((x, y) => x - y).length'],
    // Collections are not charged fuel; each traces the whole live array, so this is the slow end.
    ['a sparse array growing until a limit', 'const a = []; for (let i = 0; ; i++) a[i * 1024] = i'],
  ]) {
    const base = [];
    const work = [];
    let fuel = 0;
    for (let i = 0; i < 3; i++) {
      base.push((await timed(() => exec('0')))[0]);
      const [t, res] = await timed(() => exec(code));
      expect(res, 200, name);
      fuel = res.json.usage.fuel;
      work.push(t);
    }
    const t = Math.min(...work) - Math.min(...base);
    rows.push({ name, fuel, ms: t, perSecond: fuel / (t / 1000) });
  }
  return rows;
}

/** Time to rebuild a session's realm from journals of several lengths. */
async function rebuild(client, lengths) {
  const rows = [];
  for (const n of lengths) {
    // Small fuel, so the cell that forces a rebuild (by hitting a limit) is quick.
    const { id } = expect(await client.req('POST', '/v1/sessions', { body: { limits: { fuel: 1_000_000 } } }), 201, 'create').json;
    const exec = (code) => client.req('POST', `/v1/sessions/${id}/exec`, { body: { code } });
    for (let i = 0; i < n; i++) {
      expect(await exec(`var v${i % 50} = Array.from({ length: 20 }, (_, j) => j * ${i}); function f${i % 50}() { return v${i % 50}.length } f${i % 50}()`), 200, 'cell');
    }
    const warm = [];
    const cold = [];
    for (let r = 0; r < 3; r++) {
      warm.push((await timed(() => exec('1+1')))[0]);
      expect(await exec('for (;;) {}'), 200, 'limit');
      const [t, res] = await timed(() => exec('1+1'));
      if (res.json?.value !== 2) throw new Error(`after rebuild: ${res.text}`);
      cold.push(t);
    }
    const w = Math.min(...warm);
    const c = Math.min(...cold);
    rows.push({ n, warm: w, cold: c, rebuild: c - w });
  }
  return rows;
}

/** Lifetime work in cells of at most about 4e8 fuel (burn(1.2e7)), well inside a request timeout. */
const BURN = 'function burn(n) { let s = 0; for (let i = 0; i < n; i++) s += i; return s }';
const PER_ITERATION = 33;

/**
 * Wake after `levels` fuel of lifetime work: exec 1+1 after a rollback, minus a warm one (min of
 * 3). A build that refuses the work (the journal's ceiling) reports at which fuel it did.
 */
async function wakeVsWork(client, levels) {
  const rows = [];
  for (const level of levels) {
    const { id } = expect(
      await client.req('POST', '/v1/sessions', { body: { limits: { fuel: 2_000_000_000, output_bytes: 1024 } } }),
      201,
      'create',
    ).json;
    const exec = (code) => client.req('POST', `/v1/sessions/${id}/exec`, { body: { code } });
    expect(await exec(BURN), 200, 'burn');
    let done = 0;
    let cells = 0;
    let refused = null;
    const started = Date.now();
    while (done < level) {
      const n = Math.max(1e5, Math.min(1.2e7, Math.ceil((level - done) / PER_ITERATION)));
      const res = expect(await exec(`burn(${n})`), 200, 'burn');
      if (res.json.status !== 'ok') {
        refused = `${res.json.error?.limit ?? res.json.status} after ${(done / 1e6).toFixed(0)}M fuel`;
        break;
      }
      done += res.json.usage.fuel;
      cells++;
    }
    const workSeconds = (Date.now() - started) / 1000;
    const warm = [];
    const cold = [];
    let replayed = null;
    for (let r = 0; r < 3 && !refused; r++) {
      warm.push((await timed(() => exec('1+1')))[0]);
      expect(await exec("console.log('x'.repeat(4096))"), 200, 'output limit');
      const [t, res] = await timed(() => exec('1+1'));
      if (res.json?.value !== 2) throw new Error(`after rollback: ${res.text.slice(0, 300)}`);
      replayed = res.headers.get('x-sandbox-wake');
      cold.push(t);
    }
    rows.push({
      level,
      fuel: done,
      cells,
      workSeconds,
      refused,
      wake: refused ? null : Math.min(...cold) - Math.min(...warm),
      header: replayed,
    });
  }
  return rows;
}

/**
 * Checkpoint cost by heap size: in a session holding `n` objects, cells of about 12M fuel, so
 * every second one passes the 20M-fuel tail bound and is followed by a checkpoint.
 */
async function checkpointCost(client, sizes) {
  const rows = [];
  for (const n of sizes) {
    const { id } = expect(
      await client.req('POST', '/v1/sessions', { body: { limits: { memory_bytes: 64 << 20 } } }),
      201,
      'create',
    ).json;
    const exec = (code) => client.req('POST', `/v1/sessions/${id}/exec`, { body: { code } });
    expect(await exec(`${BURN}; var heap = Array.from({ length: ${n} }, (_, i) => ({ i, s: 'item ' + i })); heap.length`), 200, 'heap');
    const withCheckpoint = [];
    const without = [];
    let header = null;
    for (let i = 0; i < 12; i++) {
      const [t, res] = await timed(() => exec('burn(3.6e5)'));
      expect(res, 200, 'burn');
      const h = res.headers.get('x-sandbox-checkpoint');
      if (h) {
        header = h;
        withCheckpoint.push(t);
      } else {
        without.push(t);
      }
    }
    const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const parsed = Object.fromEntries((header ?? '').split('; ').filter(Boolean).map((kv) => kv.split('=')));
    rows.push({
      n,
      checkpoints: withCheckpoint.length,
      cost: withCheckpoint.length && without.length ? median(withCheckpoint) - median(without) : null,
      memory: Number(parsed.memory_bytes ?? NaN),
      image: Number(parsed.image_bytes ?? NaN),
    });
  }
  return rows;
}

/**
 * PUT and GET of files of several sizes in one session: p50 ms and MiB/s per size. Raw fetch
 * with a Buffer body (fetch sets content-length), since the harness's client reads bodies as text.
 */
async function fileThroughput(client, sandbox) {
  const fileBytes = Math.max(...FILES.map((f) => f.bytes));
  const { id } = expect(
    await client.req('POST', '/v1/sessions', { body: { limits: { file_bytes: Math.max(fileBytes, 33_554_432) } } }),
    201,
    'create (files)',
  ).json;
  const headers = { authorization: `Bearer ${sandbox.keys.alice}`, connection: 'close' };
  const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
  const put = async (url, body) => {
    const res = await fetch(url, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body,
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${url} answered ${res.status}: ${text.slice(0, 500)}`);
    const size = JSON.parse(text).size;
    if (size !== body.length) throw new Error(`PUT ${url} of ${body.length} bytes answered size ${size}: ${text.slice(0, 500)}`);
  };
  const get = async (url, size) => {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(120_000) });
    const bytes = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${bytes.toString('utf8', 0, 500)}`);
    if (bytes.length !== size) throw new Error(`GET ${url} gave ${bytes.length} bytes, ${size} were PUT`);
    return bytes;
  };

  const rows = [];
  for (const { bytes, repeats } of FILES) {
    const url = new URL(`/v1/sessions/${id}/files/bench/${bytes}.bin`, sandbox.url);
    const body = randomBytes(bytes);
    // Untimed round: the bytes must come back unchanged.
    await put(url, body);
    const back = await get(url, bytes);
    if (sha256(back) !== sha256(body)) {
      throw new Error(`GET ${url} gave other bytes than were PUT: sha256 ${sha256(back)}, want ${sha256(body)}`);
    }
    const puts = [];
    const gets = [];
    for (let i = 0; i < repeats; i++) {
      puts.push((await timed(() => put(url, body)))[0]);
      gets.push((await timed(() => get(url, bytes)))[0]);
    }
    const mibps = (s) => bytes / 1048576 / (s.p50 / 1000);
    const p = summary(puts);
    const g = summary(gets);
    rows.push({ bytes, repeats, put: { ...p, mibps: mibps(p) }, get: { ...g, mibps: mibps(g) } });
  }
  expect(await client.req('DELETE', `/v1/sessions/${id}`), 200, 'delete (files)');
  return rows;
}

/** `wrangler deploy --dry-run` of the built Worker: its own size report and the files. */
function uploadSize() {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-sandbox-bundle-'));
  try {
    const run = spawnSync(
      path.join(ROOT, 'node_modules', '.bin', 'wrangler'),
      ['deploy', '--dry-run', '--outdir', outdir],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, SKIP_WORKER_BUILD: '1', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
      },
    );
    const output = `${run.stdout}${run.stderr}`;
    if (run.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${output}`);
    const line = output.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
    const files = fs
      .readdirSync(outdir)
      .filter((f) => /\.(m?js|wasm)$/.test(f))
      .map((f) => {
        const bytes = fs.readFileSync(path.join(outdir, f));
        return { file: f, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
      });
    return { total: line && Number(line[1]), gzip: line && Number(line[2]), files };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

const ms = (x) => x.toFixed(2).padStart(9);
const kib = (bytes) => (bytes / 1024).toFixed(1).padStart(9);

const baselineDir = process.env.BENCH_BASELINE;
const baseline = baselineDir
  ? await latency((await import(path.resolve(baselineDir, 'test', 'harness.mjs'))).startSandbox, false)
  : null;
const { a, b, c, d, e, f, fuel, rebuilds, files, wakes, heaps } = await latency();
console.log(`\nedge-sandbox latency, local workerd (wrangler dev), one runtime, ms`);
console.log(`${'measure'.padEnd(38)}${'n'.padStart(5)}${'p50'.padStart(9)}${'p99'.padStart(9)}${'mean'.padStart(9)}${'max'.padStart(9)}`);
for (const [name, s] of [
  ['(a) exec 1+1, warm session', a],
  ['(b) create session + first exec', b],
  ['(c) GET /healthz', c],
  ['(d) POST /v1/run 1+1', d],
  ['(e) POST /v1/run, input of 100 numbers', e],
  ['(f) MCP tools/call session_exec 1+1', f],
]) {
  if (s) console.log(`${name.padEnd(38)}${String(s.n).padStart(5)}${ms(s.p50)}${ms(s.p99)}${ms(s.mean)}${ms(s.max)}`);
}
const ratio = (name, x, y) => {
  if (x && y) console.log(`${name}: p50 ${(x.p50 / y.p50).toFixed(2)}x  p99 ${(x.p99 / y.p99).toFixed(2)}x`);
};
console.log('');
ratio('ratios   (a)/(c)', a, c);
ratio('         (b)/(c)', b, c);
ratio('         (d)/(a)', d, a);
ratio('         (d)/(c)', d, c);
ratio('         (e)/(a)', e, a);
ratio('         (e)/(d)', e, d);
ratio('         (f)/(a)', f, a);
if (!d) console.log('         (d), (e): this build answers POST /v1/run with 404, not measured');
if (baseline) {
  const r = (x, y) => (x / y).toFixed(2);
  console.log(`\nbaseline ${baselineDir}, measured first in this run:`);
  for (const [name, s] of [
    ['(a) exec 1+1', baseline.a],
    ['(b) create + first exec', baseline.b],
    ['(c) GET /healthz', baseline.c],
    ['(d) POST /v1/run 1+1', baseline.d],
    ['(e) POST /v1/run, input', baseline.e],
  ]) {
    if (s) console.log(`  ${name.padEnd(36)}${String(s.n).padStart(5)}${ms(s.p50)}${ms(s.p99)}`);
  }
  console.log(`  baseline (a)/(c) p50 ${r(baseline.a.p50, baseline.c.p50)}x, this build ${r(a.p50, c.p50)}x`);
  console.log(`  baseline (b)/(c) p50 ${r(baseline.b.p50, baseline.c.p50)}x, this build ${r(b.p50, c.p50)}x`);
  if (baseline.d && d) console.log(`  baseline (d)/(a) p50 ${r(baseline.d.p50, baseline.a.p50)}x, this build ${r(d.p50, a.p50)}x`);
}

const mb = (x) => (x / 1048576).toFixed(1);
const wakeRows = (rows) => {
  console.log(`  ${'lifetime fuel'.padStart(14)}${'cells'.padStart(7)}${'work s'.padStart(9)}${'wake ms'.padStart(10)}  rebuilt by`);
  for (const r of rows) {
    const wake = r.refused ? `refused: ${r.refused}` : `${ms(r.wake)}  ${r.header ?? '(journal replay)'}`;
    console.log(`  ${r.level.toExponential(0).padStart(14)}${String(r.cells).padStart(7)}${r.workSeconds.toFixed(1).padStart(9)} ${wake}`);
  }
};
console.log(`\nwake after lifetime work (exec 1+1 after a rollback, minus a warm one, min of 3)`);
wakeRows(wakes);
if (baseline?.wakes) {
  console.log(`baseline ${baselineDir}, same measure:`);
  wakeRows(baseline.wakes);
}
console.log(`\ncheckpoint cost by heap (cells of ~12M fuel; median with a checkpoint minus median without)`);
console.log(`  ${'objects'.padStart(8)}${'taken'.padStart(7)}${'cost ms'.padStart(10)}${'memory MiB'.padStart(12)}${'image MiB'.padStart(11)}`);
for (const r of heaps) {
  console.log(`  ${String(r.n).padStart(8)}${String(r.checkpoints).padStart(7)}${r.cost == null ? '        ?' : ms(r.cost)} ${mb(r.memory).padStart(11)}${mb(r.image).padStart(11)}`);
}
const idle = heaps.find((r) => r.n === 0);
if (idle && idle.memory > 0) {
  console.log(
    `  an idle session's instance: ${mb(idle.memory)} MiB of memory, ${mb(idle.image)} MiB stored; ` +
      `${Math.floor((128 << 20) / idle.memory)} fit 128 MB, ${Math.floor((80 << 20) / idle.memory)} the default pool (ENGINE_POOL_BYTES 80 MiB)`,
  );
}

console.log(`\nfuel rate (min of 3, minus an empty exec), local workerd`);
for (const r of fuel) {
  console.log(`  ${r.name.padEnd(40)} ${String(r.fuel).padStart(11)} fuel ${ms(r.ms)} ms  ${(r.perSecond / 1e6).toFixed(1).padStart(6)} M fuel/s`);
}
console.log(`\nrebuild from the journal (exec of 1+1 after a limit dropped the realm, min of 3), ms`);
console.log(`  ${'cells'.padStart(6)}${'warm exec'.padStart(11)}${'cold exec'.padStart(11)}${'rebuild'.padStart(11)}${'per cell'.padStart(10)}`);
for (const r of rebuilds) {
  console.log(`  ${String(r.n).padStart(6)}${ms(r.warm)}  ${ms(r.cold)}  ${ms(r.rebuild)} ${(r.rebuild / r.n).toFixed(3).padStart(9)}`);
}

const sizeName = (bytes) =>
  bytes % 1048576 === 0 ? `${bytes / 1048576} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} B`;
const rate = (x) => x.toFixed(x < 10 ? 2 : 1).padStart(9);
console.log(`\nfile throughput, PUT and GET /v1/sessions/{id}/files/{path}, one session, p50 ms and MiB/s at p50`);
console.log(
  `  ${'size'.padEnd(9)}${'n'.padStart(5)}${'PUT p50'.padStart(10)}${'PUT p99'.padStart(10)}${'MiB/s'.padStart(9)}` +
    `${'GET p50'.padStart(10)}${'GET p99'.padStart(10)}${'MiB/s'.padStart(9)}`,
);
for (const f of files) {
  console.log(
    `  ${sizeName(f.bytes).padEnd(9)}${String(f.repeats).padStart(5)} ${ms(f.put.p50)} ${ms(f.put.p99)}${rate(f.put.mibps)}` +
      ` ${ms(f.get.p50)} ${ms(f.get.p99)}${rate(f.get.mibps)}`,
  );
}
console.log(`  (each size: one untimed PUT + GET first; its GET bytes matched the PUT bytes by sha256)`);

const size = uploadSize();
console.log(`\nupload size (wrangler deploy --dry-run): ${size.total ?? '?'} KiB, gzip ${size.gzip ?? '?'} KiB`);
const width = Math.max(0, ...size.files.map((f) => f.file.length)) + 2;
for (const f of size.files) {
  console.log(`  ${f.file.padEnd(width)}${kib(f.bytes)} KiB  gzip -9${kib(f.gzip)} KiB`);
}
