// Streaming figures, local workerd (wrangler dev). Measures, never asserts; needs a built Worker.
//   - time to the first event (a line printed first) vs the whole answer, for a cell that prints,
//     then computes for seconds (BENCH_STREAM_LOOP iterations, default 8e6), streamed; min/median
//     of BENCH_STREAM_RUNS (default 3)
//   - exec of `1+1` in a warm session: plain JSON and streamed, alternating, p50/p99 of
//     BENCH_ITERATIONS (default 200) each
//   node bench/stream.mjs
import { api, startSandbox } from '../test/harness.mjs';
import { streamPost } from '../test/sse.mjs';

const RUNS = Number(process.env.BENCH_STREAM_RUNS ?? 3);
const LOOP = Number(process.env.BENCH_STREAM_LOOP ?? 8e6);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

const sandbox = await startSandbox();
try {
  const client = await api(sandbox.url, sandbox.keys.alice, { keepAlive: true });
  const session = async (body = {}) => (await client.req('POST', '/v1/sessions', { body })).json.id;

  const id = await session({ limits: { fuel: 2e9 } });
  const code = `console.log('started'); let s = 0; for (let i = 0; i < ${LOOP}; i++) { s += i % 7 } console.log('done'); s`;
  const rows = [];
  for (let i = 0; i < RUNS; i++) {
    const res = await streamPost(sandbox.url, sandbox.keys.alice, `/v1/sessions/${id}/exec`, { code }, { timeoutMs: 600_000 });
    const result = res.events.at(-1);
    rows.push({ first: res.events[0].at, total: result.at, fuel: result.data.usage.fuel, keepalives: res.comments.length });
  }
  console.log(`print, then compute (${LOOP} iterations), streamed exec, ms since the request was sent`);
  for (const r of rows) {
    console.log(`  first event ${r.first.toFixed(1).padStart(8)}  result ${r.total.toFixed(1).padStart(9)}  fuel ${r.fuel}  keepalives ${r.keepalives}`);
  }

  // Both kinds open a connection per request (test/sse.mjs does), so they compare alike.
  const fresh = await api(sandbox.url, sandbox.keys.alice);
  const warm = await session();
  const plain = [];
  const streamed = [];
  const time = async (fn) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  for (let i = 0; i < 20; i++) {
    await fresh.req('POST', `/v1/sessions/${warm}/exec`, { body: { code: '1+1' } });
    await streamPost(sandbox.url, sandbox.keys.alice, `/v1/sessions/${warm}/exec`, { code: '1+1' });
  }
  for (let i = 0; i < ITERATIONS; i++) {
    plain.push(await time(() => fresh.req('POST', `/v1/sessions/${warm}/exec`, { body: { code: '1+1' } })));
    streamed.push(await time(() => streamPost(sandbox.url, sandbox.keys.alice, `/v1/sessions/${warm}/exec`, { code: '1+1' })));
  }
  console.log(`exec 1+1, warm session, ${ITERATIONS} each, ms`);
  console.log(`  plain JSON  p50 ${pct(plain, 50).toFixed(2)}  p99 ${pct(plain, 99).toFixed(2)}`);
  console.log(`  streamed    p50 ${pct(streamed, 50).toFixed(2)}  p99 ${pct(streamed, 99).toFixed(2)}  `);
} finally {
  await sandbox.stop();
}
