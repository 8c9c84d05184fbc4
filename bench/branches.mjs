// Forks and checkpoints in local workerd: fork latency against create + first exec, for a fresh
// session and for one holding a ~20 MB heap and 100 MiB of files; checkpoint and restore
// latency; bytes stored per checkpoint. Measures, never asserts; every answer is checked.
// Needs a built Worker (./scripts/build). BENCH_REPEATS (default 5) per measure.
import { api, startSandbox } from '../test/harness.mjs';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timed(fn) {
  const t = performance.now();
  const out = await fn();
  return [performance.now() - t, out];
}
function expect(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text.slice(0, 300)}`);
  return res;
}

const sandbox = await startSandbox();
try {
  const c = await api(sandbox.url, sandbox.keys.alice);
  const create = async (body = {}) => expect(await c.req('POST', '/v1/sessions', { body }), 201, 'create').json.id;
  const exec = async (id, code) => {
    const res = expect(await c.req('POST', `/v1/sessions/${id}/exec`, { body: { code } }), 200, 'exec');
    if (res.json.status !== 'ok') throw new Error(`${code.slice(0, 80)}: ${JSON.stringify(res.json.error)}`);
    return res.json.value;
  };
  const fork = async (id) => expect(await c.req('POST', `/v1/sessions/${id}/fork`, { body: {} }), 201, 'fork').json.sessions[0].id;

  async function measure(id, label, probe, expected) {
    const forks = [];
    const forkMs = [];
    for (let i = 0; i < REPEATS; i++) {
      const [ms, child] = await timed(() => fork(id));
      forkMs.push(ms);
      forks.push(child);
    }
    // Each fork answers the source's state.
    for (const child of forks) {
      const got = JSON.stringify(await exec(child, probe));
      if (got !== JSON.stringify(expected)) throw new Error(`fork of ${label} answered ${got}`);
    }
    const firstExec = [];
    for (const child of forks.slice(0, 3)) {
      const [ms] = await timed(() => exec(child, '1+1'));
      firstExec.push(ms);
    }
    const cpMs = [];
    const restoreMs = [];
    let bytes = 0;
    for (let i = 0; i < REPEATS; i++) {
      const [ms, res] = await timed(() => c.req('POST', `/v1/sessions/${id}/checkpoints`, { body: { name: `b${i}` } }));
      expect(res, 201, 'checkpoint');
      bytes = res.json.bytes;
      cpMs.push(ms);
      await exec(id, 'globalThis.scratch = (globalThis.scratch ?? 0) + 1');
      const [rms, rres] = await timed(() => c.req('POST', `/v1/sessions/${id}/checkpoints/b${i}/restore`));
      expect(rres, 200, 'restore');
      restoreMs.push(rms);
    }
    const [wakeMs] = await timed(() => exec(id, '1+1'));
    for (let i = 0; i < REPEATS; i++) expect(await c.req('DELETE', `/v1/sessions/${id}/checkpoints/b${i}`), 200, 'delete checkpoint');
    for (const child of forks) expect(await c.req('DELETE', `/v1/sessions/${child}`), 200, 'delete fork');
    return {
      label,
      fork: median(forkMs),
      forkFirstExec: median(firstExec),
      checkpoint: median(cpMs),
      restore: median(restoreMs),
      execAfterRestore: wakeMs,
      bytes,
    };
  }

  // Baseline: create + first exec.
  const createMs = [];
  for (let i = 0; i < REPEATS; i++) {
    const [ms] = await timed(async () => exec(await create(), '1+1'));
    createMs.push(ms);
  }

  const fresh = await create();
  await exec(fresh, 'var n = 1');
  const rows = [await measure(fresh, 'fresh session (one cell)', 'n', 1)];

  const heavy = await create({ limits: { memory_bytes: 67108864, fuel: 2000000000 } });
  await exec(heavy, "var big = Array.from({length: 150000}, (_, i) => ({i, s: 'x'.repeat(40) + i})); big.length");
  const chunk = Buffer.alloc(25 * 1024 * 1024, 7);
  for (let i = 0; i < 4; i++) {
    const res = await c.req('PUT', `/v1/sessions/${heavy}/files/data/part${i}.bin`, {
      raw: chunk,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res, 201, 'upload');
  }
  const info = expect(await c.req('GET', `/v1/sessions/${heavy}`), 200, 'info').json;
  rows.push(await measure(heavy, `heap of 150k objects + ${(info.files.bytes / 2 ** 20).toFixed(0)} MiB files`, 'big.length', 150000));

  console.log('\nforks and checkpoints, local workerd, median ms');
  console.log(`create + first exec (baseline): ${median(createMs).toFixed(1)} ms`);
  console.log(`${'session'.padEnd(44)}${'fork'.padStart(8)}${'1st exec'.padStart(10)}${'checkpt'.padStart(9)}${'restore'.padStart(9)}${'exec'.padStart(8)}${'image MiB'.padStart(11)}`);
  for (const r of rows) {
    console.log(
      `${r.label.padEnd(44)}${r.fork.toFixed(1).padStart(8)}${r.forkFirstExec.toFixed(1).padStart(10)}${r.checkpoint.toFixed(1).padStart(9)}${r.restore.toFixed(1).padStart(9)}${r.execAfterRestore.toFixed(1).padStart(8)}${(r.bytes / 2 ** 20).toFixed(2).padStart(11)}`,
    );
  }
  console.log('  fork: POST .../fork (count 1); 1st exec: the fork\'s first exec of 1+1 (restores its image);');
  console.log('  exec: the first exec after the last restore; files are shared, so neither fork nor');
  console.log('  checkpoint copies file bytes (image = the memory image stored per checkpoint)');
  console.log(`  fork / (create + first exec): ${rows.map((r) => (r.fork / median(createMs)).toFixed(2) + 'x').join(', ')}`);
} finally {
  await sandbox.stop();
}
