// Latency of the sandbox in local workerd, and the size Cloudflare would count for the upload.
// Measures, never asserts. Needs a built Worker (./scripts/bench builds it first).
//
//   (a) POST /v1/sessions/{id}/exec of `1+1` in a warm session
//   (b) POST /v1/sessions followed by the new session's first exec of `1+1`
//   (c) GET /healthz, the cheapest route of the same Worker: the cost of the HTTP path
//
// (a) and (c) alternate request by request, so drift in the machine affects both alike.
// Iteration counts: BENCH_ITERATIONS (default 200), BENCH_WARMUP (20), BENCH_CREATE (50).
//
// Also: fuel per second of CPU for three kinds of code, and the time to rebuild a session from
// journals of BENCH_JOURNALS cells (default 10,100,1000).
//
// BENCH_BASELINE=<dir of another checkout, built>: measures (a)-(c) of that build too, in the
// same run, and prints how this build's ratios compare (e.g. the cost of the sandbox guards).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT, api, startSandbox } from '../test/harness.mjs';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
const CREATE = Number(process.env.BENCH_CREATE ?? 50);

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
    const client = await api(sandbox.url, sandbox.keys.alice);
    const anonymous = await api(sandbox.url);
    const create = () => client.req('POST', '/v1/sessions', { body: {} });
    const exec = (id) => client.req('POST', `/v1/sessions/${id}/exec`, { body: { code: '1+1' } });
    const health = () => anonymous.req('GET', '/healthz');

    const { id } = expect(await create(), 201, 'create').json;
    for (let i = 0; i < WARMUP; i++) {
      expect(await exec(id), 200, 'exec');
      expect(await health(), 200, 'healthz');
    }

    const a = [];
    const c = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const [tc, hres] = await timed(health);
      expect(hres, 200, 'healthz');
      c.push(tc);
      const [ta, eres] = await timed(() => exec(id));
      expect(eres, 200, 'exec');
      if (eres.json?.value !== 2) throw new Error(`exec of 1+1 gave ${eres.text}`);
      a.push(ta);
    }

    const b = [];
    for (let i = 0; i < CREATE; i++) {
      const [tb] = await timed(async () => {
        const created = expect(await create(), 201, 'create').json;
        expect(await exec(created.id), 200, 'first exec');
      });
      b.push(tb);
    }
    if (!extras) return { a: summary(a), b: summary(b), c: summary(c) };
    const fuel = await fuelRate(client);
    const rebuilds = await rebuild(client, (process.env.BENCH_JOURNALS ?? '10,100,1000').split(',').map(Number));
    return { a: summary(a), b: summary(b), c: summary(c), fuel, rebuilds };
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
const { a, b, c, fuel, rebuilds } = await latency();
console.log(`\nedge-sandbox latency, local workerd (wrangler dev), one runtime, ms`);
console.log(`${'measure'.padEnd(38)}${'n'.padStart(5)}${'p50'.padStart(9)}${'p99'.padStart(9)}${'mean'.padStart(9)}${'max'.padStart(9)}`);
for (const [name, s] of [
  ['(a) exec 1+1, warm session', a],
  ['(b) create session + first exec', b],
  ['(c) GET /healthz', c],
]) {
  console.log(`${name.padEnd(38)}${String(s.n).padStart(5)}${ms(s.p50)}${ms(s.p99)}${ms(s.mean)}${ms(s.max)}`);
}
console.log(`\nratios   (a)/(c): p50 ${(a.p50 / c.p50).toFixed(2)}x  p99 ${(a.p99 / c.p99).toFixed(2)}x`);
console.log(`         (b)/(c): p50 ${(b.p50 / c.p50).toFixed(2)}x  p99 ${(b.p99 / c.p99).toFixed(2)}x`);
if (baseline) {
  const r = (x, y) => (x / y).toFixed(2);
  console.log(`\nbaseline ${baselineDir}, measured first in this run:`);
  for (const [name, s] of [['(a) exec 1+1', baseline.a], ['(b) create + first exec', baseline.b], ['(c) GET /healthz', baseline.c]]) {
    console.log(`  ${name.padEnd(36)}${String(s.n).padStart(5)}${ms(s.p50)}${ms(s.p99)}`);
  }
  console.log(`  baseline (a)/(c) p50 ${r(baseline.a.p50, baseline.c.p50)}x, this build ${r(a.p50, c.p50)}x`);
  console.log(`  baseline (b)/(c) p50 ${r(baseline.b.p50, baseline.c.p50)}x, this build ${r(b.p50, c.p50)}x`);
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

const size = uploadSize();
console.log(`\nupload size (wrangler deploy --dry-run): ${size.total ?? '?'} KiB, gzip ${size.gzip ?? '?'} KiB`);
const width = Math.max(0, ...size.files.map((f) => f.file.length)) + 2;
for (const f of size.files) {
  console.log(`  ${f.file.padEnd(width)}${kib(f.bytes)} KiB  gzip -9${kib(f.gzip)} KiB`);
}
