// Integration test harness: runs the already built Worker (build/, made by scripts/build) in
// local workerd through `wrangler dev`, one runtime per startSandbox() call, with its own
// ports, state directory and API keys.
//
//   const sandbox = await startSandbox();            // { url, keys: { alice, bob }, ... }
//   const alice = await api(sandbox.url, sandbox.keys.alice);
//   const res = await alice.req('POST', '/v1/sessions', { body: {} });
//   await sandbox.stop();
//
// Hermetic: the developer's .dev.vars and .env files are never read, wrangler never rebuilds
// (SKIP_WORKER_BUILD=1 makes scripts/build a no-op) and never reaches the network.
//
// Tests talk to workerd's own socket for the Worker (`url`), not to wrangler's dev proxy on
// `--port` (`proxyUrl`), and open a connection per request. The proxy keeps pooled keep-alive
// connections to workerd; while a cell runs, the isolate holds workerd's only thread, so an
// idle connection's timeout can fire late, after the proxy has already sent a request on it.
// That request is lost and the proxy answers 503 "Your worker restarted mid-request" (about
// 2 per run of hostile.test.mjs; see README, "The two commands"). No such pool exists in
// production, and none exists here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER = path.join(ROOT, 'node_modules', '.bin', 'wrangler');
// The Worker's entry: worker-build's shim plus the engine module (see src/entry.mjs).
const ENTRY = path.join(ROOT, 'src', 'entry.mjs');
const SHIM = path.join(ROOT, 'build', 'worker', 'shim.mjs');
const ENGINE = path.join(ROOT, 'build', 'engine', 'engine.wasm');
const CONSUMER_CONFIG = path.join(ROOT, 'test', 'consumer', 'wrangler.toml');
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
export const FETCH_TIMEOUT_MS = 30_000;

/** Every live wrangler process group and every scratch directory, cleaned up at exit. */
const liveGroups = new Set();
const scratchDirs = new Set();
process.on('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  if (process.env.KEEP_TEST_TMP !== '1') {
    for (const dir of scratchDirs) fs.rmSync(dir, { recursive: true, force: true });
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => process.exit(128 + os.constants.signals[signal]));
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How many R2 objects the sandbox's local state holds (each object's bytes are one blob file).
 * File objects have random keys (a new one per write), so tests count them.
 */
export function blobCount(sandbox) {
  const root = path.join(sandbox.persistDir, 'v3', 'r2');
  let n = 0;
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name));
      else if (path.basename(dir) === 'blobs') n++;
    }
  };
  if (fs.existsSync(root)) walk(root);
  return n;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function randomKey(tenant) {
  return `sk_${tenant}_${randomBytes(16).toString('hex')}`;
}

/** A .dev.vars / .env file body; values are single-quoted, so they are taken literally. */
function dotenv(vars) {
  return Object.entries(vars)
    .map(([name, value]) => {
      const text = String(value);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad var name ${name}`);
      if (/['\n\r]/.test(text)) throw new Error(`var ${name}: quotes and newlines are not supported`);
      return `${name}='${text}'\n`;
    })
    .join('');
}

/**
 * A directory that looks like the repository to wrangler (a symlink to each top-level entry)
 * but has its own .dev.vars and no .env files or .wrangler state. Needed when the sandbox is
 * the second config of a multi-config `wrangler dev`: such a Worker ignores --var and
 * --env-file and reads .dev.vars from its config's directory.
 */
function mirrorRepo(dir, vars) {
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of fs.readdirSync(ROOT)) {
    if (entry === '.git' || entry === '.wrangler' || entry.startsWith('.dev.vars') || entry.startsWith('.env')) {
      continue;
    }
    fs.symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
  }
  fs.writeFileSync(path.join(dir, '.dev.vars'), dotenv(vars));
  return path.join(dir, 'wrangler.toml');
}

/**
 * wrangler.toml for tests: the repository's, with `main` made absolute and without `[build]`,
 * so wrangler neither rebuilds nor restarts the Worker when a source file changes mid-test.
 */
function testConfig(scratch, entry = ENTRY) {
  const lines = fs.readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8').split('\n');
  const out = [];
  let inBuild = false;
  for (const line of lines) {
    if (/^\s*\[/.test(line)) inBuild = /^\s*\[build\]\s*$/.test(line);
    if (inBuild) continue;
    out.push(line.replace(/^main\s*=.*$/, `main = ${JSON.stringify(entry)}`));
  }
  const file = path.join(scratch, 'wrangler.toml');
  fs.writeFileSync(file, out.join('\n'));
  return file;
}

/**
 * An entry module for the sandbox that serves the built engine module under the build id
 * `buildId`: to the sessions it is a deploy of another engine build (checkpoints are tagged
 * with the build id, and never restored by another one).
 */
export function engineEntry(buildId) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-sandbox-entry-'));
  scratchDirs.add(dir);
  const file = path.join(dir, 'entry.mjs');
  const source = fs
    .readFileSync(ENTRY, 'utf8')
    .replaceAll('"../build/', `"${path.join(ROOT, 'build')}/`)
    .replace(/buildId: BUILD_ID/, `buildId: ${JSON.stringify(buildId)}`);
  fs.writeFileSync(file, source);
  return file;
}

/**
 * The header that sends a request on workerd's socket (a sandbox's `url`) to the Worker named
 * `name` of the same runtime (startSandbox's `workers`) instead of the sandbox: wrangler's
 * local runtime (miniflare) routes every request by it before any Worker sees it.
 */
export const routeHeader = (name) => ({ 'MF-Route-Override': name });

/**
 * Starts the sandbox Worker in local workerd.
 *
 * opts.vars      extra Worker vars, e.g. { MAX_TTL_SECONDS: '5' } (override wrangler.toml)
 * opts.keys      API keys by tenant (default: random keys for alice and bob)
 * opts.consumer  true: also run test/consumer (a Worker with a service binding to the
 *                sandbox) in the same runtime; `url` is then the consumer's
 * opts.persistDir  state directory (default: a new temporary one, removed at exit)
 * opts.entry     the Worker's entry module (default: src/entry.mjs); engineEntry() makes one
 *                that labels the same engine module with another build id
 * opts.workers   wrangler configs of more Workers to run in the same runtime, after the
 *                sandbox (not with `consumer`); `url` stays the sandbox's, and a request to
 *                `url` with the header `MF-Route-Override: <a Worker's name>` reaches that
 *                Worker instead (routeHeader(name)). Such a Worker reads no --env-file: its
 *                vars come from a .dev.vars beside its config.
 * opts.devtoolsNetwork  false: turn off the DevTools network recording wrangler dev starts for
 *                the sandbox (see quietDevtoolsNetwork), after every start; for benchmarks
 *
 * Returns { url, port, proxyUrl, inspectorPort, keys, persistDir, r2Object(key), output(),
 *   stop(), kill(), restart() }.
 */
export async function startSandbox(opts = {}) {
  for (const built of [SHIM, ENGINE]) {
    if (!fs.existsSync(built)) {
      throw new Error(`${path.relative(process.cwd(), built)} is missing: build the Worker first (./scripts/build)`);
    }
  }
  if (!fs.existsSync(WRANGLER)) {
    throw new Error('node_modules/.bin/wrangler is missing: run ./scripts/setup');
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-sandbox-test-'));
  scratchDirs.add(scratch);
  const persistDir = opts.persistDir ?? path.join(scratch, 'state');
  const keys = opts.keys ?? { alice: randomKey('alice'), bob: randomKey('bob') };
  const vars = {
    API_KEYS: Object.entries(keys).map(([tenant, key]) => `${tenant}=${key}`).join(','),
    ...opts.vars,
  };

  const args = ['dev', '--ip', '127.0.0.1', '--persist-to', persistDir];
  let config;
  if (opts.consumer && opts.workers?.length) {
    throw new Error('startSandbox: `workers` cannot be combined with `consumer`');
  }
  if (opts.consumer) {
    config = mirrorRepo(path.join(scratch, 'repo'), vars);
    args.push('-c', CONSUMER_CONFIG, '-c', config);
  } else {
    const envFile = path.join(scratch, 'test.env');
    fs.writeFileSync(envFile, dotenv(vars));
    config = testConfig(scratch, opts.entry);
    args.push('-c', config, '--env-file', envFile);
    for (const extra of opts.workers ?? []) args.push('-c', extra);
  }
  const env = {
    ...process.env,
    SKIP_WORKER_BUILD: '1',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: 'true',
    CLOUDFLARE_INCLUDE_PROCESS_ENV: 'false',
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_HIDE_BANNER: 'true',
    WRANGLER_CI_DISABLE_CONFIG_WATCHING: 'true',
    WRANGLER_REGISTRY_PATH: path.join(scratch, 'registry'),
    WRANGLER_LOG_PATH: path.join(scratch, 'logs'),
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  };

  let port = opts.port ?? (await freePort());
  let child = null;
  let log = '';

  async function start() {
    log = '';
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch();
      } catch (err) {
        // The free port may have been taken between freePort() and wrangler's listen().
        if (attempt < 3 && /EADDRINUSE|address already in use/i.test(log)) {
          port = opts.port ?? (await freePort());
          continue;
        }
        throw err;
      }
    }
  }

  let proxyUrl = null;
  let inspectorPort = null;

  async function launch() {
    inspectorPort = await freePort();
    const proc = spawn(WRANGLER, [...args, '--port', String(port), '--inspector-port', String(inspectorPort)], {
      cwd: ROOT,
      env,
      detached: true, // own process group: kill() reaches workerd too
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    liveGroups.add(proc.pid);
    const exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        liveGroups.delete(proc.pid);
        // wrangler is gone; make sure no workerd of its group outlives it
        killGroup(proc.pid, 'SIGKILL');
        resolve({ code, signal });
      });
    });
    proc.exited = exited;
    const append = (chunk) => {
      log += chunk;
      if (process.env.SANDBOX_LOG === '1') process.stderr.write(chunk);
    };
    proc.stdout.setEncoding('utf8').on('data', append);
    proc.stderr.setEncoding('utf8').on('data', append);

    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let done = null;
    exited.then((status) => (done = status));
    while (true) {
      if (done) {
        throw new Error(`wrangler dev exited (${done.signal ?? done.code}) before it was ready:\n${log}`);
      }
      if (Date.now() > deadline) {
        await stopProcess(proc, 'SIGKILL');
        throw new Error(`wrangler dev was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${log}`);
      }
      if (/Ready on/.test(log)) {
        let ready = false;
        try {
          const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
          await res.arrayBuffer();
          ready = res.status === 200;
        } catch {
          // not listening yet
        }
        if (ready) {
          proxyUrl = url;
          const served = await workerdUrl(proc.pid, [port, inspectorPort]);
          if (opts.devtoolsNetwork === false) await quietDevtoolsNetwork(inspectorPort);
          return served;
        }
      }
      await sleep(200);
    }
  }

  async function stopProcess(proc, signal) {
    if (!proc || !liveGroups.has(proc.pid)) return;
    if (signal === 'SIGKILL') {
      killGroup(proc.pid, 'SIGKILL');
    } else {
      try {
        proc.kill(signal); // wrangler shuts workerd down itself
      } catch {
        // already gone
      }
    }
    const timer = sleep(STOP_TIMEOUT_MS).then(() => 'timeout');
    if ((await Promise.race([proc.exited, timer])) === 'timeout') {
      killGroup(proc.pid, 'SIGKILL');
      await proc.exited;
    }
  }

  const sandbox = {
    /** workerd's socket for the Worker (changes on restart). */
    url: await start(),
    get port() {
      return Number(new URL(sandbox.url).port);
    },
    /** wrangler dev's proxy, on the port given to --port (kept across restarts). */
    get proxyUrl() {
      return proxyUrl;
    },
    /** wrangler dev's DevTools inspector proxy (the port given to --inspector-port). */
    get inspectorPort() {
      return inspectorPort;
    },
    keys,
    persistDir,
    /**
     * An object of the local R2 bucket, read from the state directory by `wrangler r2 object
     * get --local`: its bytes, or null when there is no such object.
     */
    async r2Object(key) {
      const bucket = /bucket_name\s*=\s*"([^"]+)"/.exec(fs.readFileSync(config, 'utf8'))[1];
      const proc = spawn(
        WRANGLER,
        ['r2', 'object', 'get', `${bucket}/${key}`, '--local', '--persist-to', persistDir, '--pipe', '-c', config],
        { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
      );
      const out = [];
      const err = [];
      proc.stdout.on('data', (chunk) => out.push(chunk));
      proc.stderr.on('data', (chunk) => err.push(chunk));
      const [code, signal] = await new Promise((resolve) => proc.on('close', (...status) => resolve(status)));
      if (code === 0) return Buffer.concat(out);
      const why = Buffer.concat([...out, ...err]).toString('utf8');
      if (/does not exist|not found/i.test(why)) return null;
      throw new Error(`wrangler r2 object get ${key} failed (${code ?? signal}): ${why}`);
    },
    /** Everything wrangler printed since the last (re)start. */
    output: () => log,
    /** Graceful stop: SIGTERM to wrangler, then SIGKILL to its group after 10 s. */
    async stop() {
      await stopProcess(child, 'SIGTERM');
    },
    /** Crash: SIGKILL to wrangler and every workerd it started, at once. */
    async kill() {
      await stopProcess(child, 'SIGKILL');
    },
    /** Stops (gracefully) if running, then starts again on the same state and proxy port; `url`
     * changes (workerd gets a new port), so clients must be made again from it. */
    async restart() {
      await stopProcess(child, 'SIGTERM');
      sandbox.url = await start();
      return sandbox;
    },
  };
  return sandbox;
}

/**
 * wrangler dev attaches a DevTools session to the first Worker of its runtime (the sandbox) and
 * turns on its Network domain: every subrequest that Worker makes (each request it forwards to
 * a session object) is then reported as four messages, which wrangler's inspector proxy (a
 * second workerd) relays one HTTP request each to wrangler's Node process. On a 2-CPU machine
 * that work competes with the runtime: it measured about 1.5 ms of CPU per exec, and exec `1+1`
 * took 4.75 ms p50 with it against 2.97 without. Other Workers of the runtime (the benchmark's
 * peers) never pay it, and production has no inspector. Sends `Network.disable` through
 * wrangler's inspector proxy on `port` (its --inspector-port).
 */
async function quietDevtoolsNetwork(port) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  try {
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const id = 1;
    const replied = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to Network.disable within 10 s')), 10_000);
      socket.on('message', (data) => {
        if (JSON.parse(String(data)).id === id) {
          clearTimeout(timer);
          resolve();
        }
      });
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ id, method: 'Network.disable' }));
    await replied;
  } finally {
    socket.close();
  }
}

/**
 * The URL of the socket on which the workerd processes of wrangler's process group `pgid`
 * serve the Worker: a listening TCP port of theirs, other than `exclude` (wrangler's proxy
 * and inspector), that answers GET /healthz with 200. Linux: read from /proc.
 */
async function workerdUrl(pgid, exclude) {
  const inodes = new Set();
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    if (pgrp !== pgid || comm !== 'workerd') continue;
    let fds = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // exited meanwhile
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode) inodes.add(inode);
      } catch {
        // closed meanwhile
      }
    }
  }
  const ports = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let rows = [];
    try {
      rows = fs.readFileSync(table, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const row of rows) {
      const [, local, , state, , , , , , inode] = row.trim().split(/\s+/);
      if (state === '0A' && inodes.has(inode)) ports.add(parseInt(local.split(':')[1], 16));
    }
  }
  for (const port of ports) {
    if (exclude.includes(port)) continue;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
        headers: { connection: 'close' },
        signal: AbortSignal.timeout(2_000),
      });
      const text = await res.text();
      if (res.status === 200 && JSON.parse(text)?.status === 'ok') return `http://127.0.0.1:${port}`;
    } catch {
      // not HTTP (workerd's debug port) or not the Worker
    }
  }
  throw new Error(
    `found no workerd socket serving the Worker among ports ${[...ports].join(', ') || '(none)'} ` +
      `of process group ${pgid}; wrangler's process layout may have changed`,
  );
}

/**
 * A small HTTP client for the sandbox API. `key` undefined or null sends no Authorization.
 *
 * req(method, path, { body, headers, raw }):
 *   body  JSON-encoded, with content-type: application/json
 *   raw   sent as is (string, Buffer, ...) with only the given headers
 * answers { status, headers (a Headers), text, json (undefined unless the body is JSON) }.
 * Every request gives up after 30 s.
 *
 * Each request has a connection of its own (`connection: close`), so no request is ever sent on
 * an idle connection that workerd, busy with another session's cell, is about to time out (see
 * the top of this file). `{ keepAlive: true }` reuses connections: for sequential benchmarks.
 */
export async function api(base, key, { keepAlive = false } = {}) {
  async function req(method, urlPath, { body, headers = {}, raw } = {}) {
    const h = new Headers(headers);
    if (key != null && !h.has('authorization')) h.set('authorization', `Bearer ${key}`);
    if (!keepAlive && !h.has('connection')) h.set('connection', 'close');
    let payload = raw;
    if (raw === undefined && body !== undefined) {
      payload = JSON.stringify(body);
      if (!h.has('content-type')) h.set('content-type', 'application/json');
    }
    const res = await fetch(new URL(urlPath, base), {
      method,
      headers: h,
      body: payload,
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }
  return {
    req,
    get: (p, o) => req('GET', p, o),
    post: (p, body, o) => req('POST', p, { ...o, body }),
    delete: (p, o) => req('DELETE', p, o),
  };
}

/**
 * Session helpers bound to a sandbox started later (`getSandbox()` is read at each call, so its
 * URL may change across restarts): { client, newSession(body), exec(id, code), ok(id, code) }.
 * newSession answers the id; exec the result body (asserting HTTP 200); ok the value (asserting
 * status "ok").
 */
export function sessionHelpers(getSandbox, who = 'alice') {
  const client = () => api(getSandbox().url, getSandbox().keys[who]);
  async function newSession(body = {}) {
    const res = await (await client()).req('POST', '/v1/sessions', { body });
    assert.equal(res.status, 201, `create answered ${res.status}: ${res.text}`);
    return res.json.id;
  }
  async function exec(id, code) {
    const res = await (await client()).req('POST', `/v1/sessions/${id}/exec`, { body: { code } });
    assert.equal(res.status, 200, `exec answered ${res.status}: ${res.text.slice(0, 1000)}`);
    return res.json;
  }
  async function ok(id, code) {
    const out = await exec(id, code);
    assert.equal(out.status, 'ok', `${code.slice(0, 200)} failed: ${JSON.stringify(out.error)}`);
    return out.value;
  }
  return { client, newSession, exec, ok };
}
