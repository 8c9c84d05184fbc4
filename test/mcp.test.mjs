// The MCP server at /mcp, driven by the official TypeScript SDK client
// (@modelcontextprotocol/sdk, StreamableHTTPClientTransport) against the real local sandbox:
// tools and their schemas, notebook state across session_exec calls, files both ways, errors
// and limits as isError results, auth and tenancy; and the protocol's HTTP rules with raw
// requests (versions, batches, notifications, methods, Origin).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { api, startSandbox } from './harness.mjs';

let sandbox;
let alice;
const clients = [];

before(async () => {
  sandbox = await startSandbox();
  alice = await api(sandbox.url, sandbox.keys.alice);
});

after(async () => {
  for (const client of clients) await client.close().catch(() => {});
  await sandbox?.stop();
});

async function connect(key) {
  const client = new Client({ name: 'edge-sandbox-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', sandbox.url), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  clients.push(client);
  return client;
}

/** A raw JSON-RPC POST to /mcp. */
async function rpc(body, headers = {}) {
  const res = await fetch(new URL('/mcp', sandbox.url), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${sandbox.keys.alice}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

const initialize = (version) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});

describe('MCP through the official SDK client', () => {
  let client;
  before(async () => {
    client = await connect(sandbox.keys.alice);
  });

  test('initialize negotiates, names the server and explains the workflow', async () => {
    assert.equal(client.getServerVersion().name, 'edge-sandbox');
    assert.ok(client.getServerCapabilities().tools, 'tools capability');
    const instructions = client.getInstructions();
    assert.match(instructions, /session_create/);
    assert.match(instructions, /session_exec/);
  });

  test('tools/list: every tool with schemas, snake_case names and hints', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, [
      'checkpoint_create', 'checkpoint_delete', 'checkpoint_list', 'checkpoint_restore',
      'file_list', 'file_read', 'file_write', 'run_js', 'session_create', 'session_delete',
      'session_exec', 'session_fork', 'session_get', 'session_list',
    ]);
    for (const tool of tools) {
      assert.match(tool.name, /^[a-z0-9_]{1,63}$/);
      assert.equal(tool.inputSchema.type, 'object', tool.name);
      assert.equal(tool.outputSchema.type, 'object', tool.name);
      assert.ok(tool.description.length > 20, tool.name);
    }
    const by = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const name of ['session_list', 'session_get', 'file_read', 'file_list', 'checkpoint_list']) {
      assert.equal(by[name].annotations.readOnlyHint, true, name);
    }
    assert.equal(by.session_delete.annotations.destructiveHint, true);
    assert.deepEqual(by.session_exec.inputSchema.required, ['session_id', 'code']);
  });

  test('run_js: one-shot with input and files, structured and text results agree', async () => {
    const result = await client.callTool({
      name: 'run_js',
      arguments: {
        code: "const t = await fs.readFile('in.txt', 'utf8'); await fs.writeFile('out.txt', t.toUpperCase()); input.a + input.b",
        input: { a: 2, b: 3 },
        files: { 'in.txt': 'hello' },
      },
    });
    assert.equal(result.isError, false);
    assert.equal(result.structuredContent.status, 'ok');
    assert.equal(result.structuredContent.value, 5);
    assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);
    const out = result.structuredContent.files.find((f) => f.path === 'out.txt');
    assert.equal(out.content, 'HELLO');
  });

  test('a session keeps state across session_exec calls, and files go both ways', async () => {
    const created = await client.callTool({ name: 'session_create', arguments: { metadata: { via: 'mcp' } } });
    assert.equal(created.isError, false);
    const id = created.structuredContent.id;
    assert.match(id, /^ses_[a-z2-7]{26}$/);

    const first = await client.callTool({ name: 'session_exec', arguments: { session_id: id, code: 'let total = 40; function add(x) { total += x; return total }' } });
    assert.equal(first.isError, false, first.content[0].text);
    const second = await client.callTool({ name: 'session_exec', arguments: { session_id: id, code: 'console.log("adding"); add(2)' } });
    assert.equal(second.structuredContent.value, 42);
    assert.deepEqual(second.structuredContent.logs.stdout, ['adding']);
    assert.equal(second.structuredContent.execution_count, 2);

    // Text and binary in; the code reads them and writes new files; read them back.
    const wrote = await client.callTool({ name: 'file_write', arguments: { session_id: id, path: 'data/in.csv', content: 'a,b\n1,2\n' } });
    assert.equal(wrote.isError, false, wrote.content[0].text);
    assert.equal(wrote.structuredContent.size, 8);
    const bin = Buffer.from([0, 1, 2, 254, 255]);
    await client.callTool({ name: 'file_write', arguments: { session_id: id, path: 'raw.bin', content: bin.toString('base64'), encoding: 'base64' } });
    const exec = await client.callTool({
      name: 'session_exec',
      arguments: {
        session_id: id,
        code: "const rows = (await fs.readFile('data/in.csv', 'utf8')).trim().split('\\n'); const b = await fs.readFile('raw.bin'); await fs.writeFile('out/n.txt', String(rows.length)); await fs.writeFile('out/b.bin', b.reverse()); b.length",
      },
    });
    assert.equal(exec.structuredContent.value, 5, exec.content[0].text);
    const text = await client.callTool({ name: 'file_read', arguments: { session_id: id, path: 'out/n.txt' } });
    assert.deepEqual([text.structuredContent.encoding, text.structuredContent.content], ['utf8', '2']);
    const binary = await client.callTool({ name: 'file_read', arguments: { session_id: id, path: 'out/b.bin' } });
    assert.equal(binary.structuredContent.encoding, 'base64');
    assert.deepEqual([...Buffer.from(binary.structuredContent.content, 'base64')], [255, 254, 2, 1, 0]);
    assert.ok(binary.content.some((c) => c.type === 'resource' && c.resource.blob === binary.structuredContent.content));
    const listed = await client.callTool({ name: 'file_list', arguments: { session_id: id, prefix: 'out/' } });
    assert.deepEqual(listed.structuredContent.files.map((f) => f.path), ['out/b.bin', 'out/n.txt']);

    // The same session over REST: one implementation.
    const rest = await alice.req('GET', `/v1/sessions/${id}`);
    assert.equal(rest.json.execution_count, 3);
    assert.deepEqual(rest.json.metadata, { via: 'mcp' });

    const sessions = await client.callTool({ name: 'session_list', arguments: {} });
    assert.ok(sessions.structuredContent.sessions.some((s) => s.id === id));
    const deleted = await client.callTool({ name: 'session_delete', arguments: { session_id: id } });
    assert.deepEqual(deleted.structuredContent, { id, deleted: true });
    const gone = await client.callTool({ name: 'session_exec', arguments: { session_id: id, code: '1' } });
    assert.equal(gone.isError, true);
    assert.match(gone.content[0].text, /not found.*session_create/s);
  });

  test('guest errors, limits and bad arguments are isError results a model can act on', async () => {
    const { structuredContent: s } = await client.callTool({ name: 'session_create', arguments: { limits: { fuel: 1000000 } } });
    const thrown = await client.callTool({ name: 'session_exec', arguments: { session_id: s.id, code: 'undefinedThing.x' } });
    assert.equal(thrown.isError, true);
    assert.match(thrown.content[0].text, /ReferenceError/);
    assert.equal(thrown.structuredContent.status, 'error');
    const limited = await client.callTool({ name: 'session_exec', arguments: { session_id: s.id, code: 'for(;;){}' } });
    assert.equal(limited.isError, true);
    assert.match(limited.content[0].text, /fuel limit/);
    assert.equal(limited.structuredContent.error.limit, 'fuel');
    const missing = await client.callTool({ name: 'session_exec', arguments: { code: '1' } });
    assert.equal(missing.isError, true);
    assert.match(missing.content[0].text, /session_id/);
    const unknownId = await client.callTool({ name: 'session_exec', arguments: { session_id: 'nope', code: '1' } });
    assert.equal(unknownId.isError, true);
    assert.match(unknownId.content[0].text, /session_create/);
    const badLimits = await client.callTool({ name: 'run_js', arguments: { code: '1', limits: { fuel: -1 } } });
    assert.equal(badLimits.isError, true);
    assert.match(badLimits.content[0].text, /fuel/);
    const noFile = await client.callTool({ name: 'file_read', arguments: { session_id: s.id, path: 'nope.txt' } });
    assert.equal(noFile.isError, true);
    assert.match(noFile.content[0].text, /no such file/);
    // An unknown tool is a protocol error.
    await assert.rejects(client.callTool({ name: 'rm_rf', arguments: {} }), /unknown tool/);
  });

  test('a long session_exec with a progress token streams its console lines as progress', async () => {
    const { structuredContent: s } = await client.callTool({ name: 'session_create', arguments: { limits: { fuel: 1000000000 } } });
    const progress = [];
    const started = performance.now();
    const result = await client.callTool(
      {
        name: 'session_exec',
        arguments: { session_id: s.id, code: "console.log('starting'); let t = 0; for (let i = 0; i < 5e6; i++) t += i; console.log('done'); t" },
      },
      undefined,
      { onprogress: (p) => progress.push({ ...p, at: performance.now() - started }), timeout: 120000 },
    );
    const finished = performance.now() - started;
    assert.equal(result.isError, false, result.content[0].text);
    assert.equal(result.structuredContent.value, 12499997500000);
    assert.deepEqual(progress.map((p) => p.message), ['stdout: starting', 'stdout: done']);
    assert.deepEqual(progress.map((p) => p.progress), [1, 2]);
    // Measured in this run: the first line came while the loop still ran, not with the answer.
    assert.ok(progress[0].at < finished / 2, `first line at ${progress[0].at} ms of ${finished} ms`);
  });

  test('session_exec with idempotency_key runs a retried cell once', async () => {
    const { structuredContent: s } = await client.callTool({ name: 'session_create', arguments: {} });
    const args = { session_id: s.id, code: 'globalThis.n = (globalThis.n ?? 0) + 1', idempotency_key: 'mcp-retry-1' };
    const first = await client.callTool({ name: 'session_exec', arguments: args });
    const again = await client.callTool({ name: 'session_exec', arguments: args });
    assert.equal(first.structuredContent.value, 1);
    assert.deepEqual(again.structuredContent, first.structuredContent);
    const other = await client.callTool({ name: 'session_exec', arguments: { ...args, code: 'n' } });
    assert.equal(other.isError, true);
    assert.match(other.content[0].text, /idempotency_key_reused/);
  });

  test("another tenant's session is not found, and a bad key is refused", async () => {
    const { structuredContent: s } = await client.callTool({ name: 'session_create', arguments: {} });
    const bob = await connect(sandbox.keys.bob);
    const exec = await bob.callTool({ name: 'session_exec', arguments: { session_id: s.id, code: '1' } });
    assert.equal(exec.isError, true);
    assert.match(exec.content[0].text, /not found/);
    const del = await bob.callTool({ name: 'session_delete', arguments: { session_id: s.id } });
    assert.equal(del.isError, true);
    const read = await bob.callTool({ name: 'file_list', arguments: { session_id: s.id } });
    assert.equal(read.isError, true);
    const list = await bob.callTool({ name: 'session_list', arguments: {} });
    assert.ok(!list.structuredContent.sessions.some((x) => x.id === s.id));
    // Alice's session is untouched.
    const mine = await client.callTool({ name: 'session_exec', arguments: { session_id: s.id, code: '6*7' } });
    assert.equal(mine.structuredContent.value, 42);

    await assert.rejects(connect('wrong-key-0123456789abcdef'), (err) => {
      assert.match(String(err), /401|nauthori/);
      return true;
    });
  });
});

describe('MCP HTTP rules (raw requests)', () => {
  test('initialize answers the client version when served, else the latest', async () => {
    for (const version of ['2025-11-25', '2025-06-18', '2025-03-26']) {
      const res = await rpc(initialize(version));
      assert.equal(res.status, 200);
      assert.equal(res.json.result.protocolVersion, version);
      assert.equal(res.headers.get('mcp-session-id'), null, 'stateless');
    }
    const old = await rpc(initialize('2024-11-05'));
    assert.equal(old.json.result.protocolVersion, '2025-11-25');
  });

  test('notifications are 202, ping answers, unknown methods are JSON-RPC errors', async () => {
    const note = await rpc({ jsonrpc: '2.0', method: 'notifications/initialized' });
    assert.equal(note.status, 202);
    assert.equal(note.text, '');
    const ping = await rpc({ jsonrpc: '2.0', id: 'p', method: 'ping' });
    assert.deepEqual(ping.json, { jsonrpc: '2.0', id: 'p', result: {} });
    const unknown = await rpc({ jsonrpc: '2.0', id: 2, method: 'resources/list' });
    assert.equal(unknown.json.error.code, -32601);
    assert.equal(unknown.json.id, 2);
  });

  test('batches, malformed JSON and invalid messages are refused', async () => {
    const batch = await rpc([{ jsonrpc: '2.0', id: 1, method: 'ping' }]);
    assert.equal(batch.status, 400);
    assert.equal(batch.json.error.code, -32600);
    assert.match(batch.json.error.message, /batch/);
    const garbage = await rpc('{"jsonrpc": ');
    assert.equal(garbage.status, 400);
    assert.equal(garbage.json.error.code, -32700);
    const noVersion = await rpc({ id: 1, method: 'ping' });
    assert.equal(noVersion.status, 400);
    assert.equal(noVersion.json.error.code, -32600);
  });

  test('an unsupported MCP-Protocol-Version is 400; a supported one is served', async () => {
    const bad = await rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-protocol-version': '1999-01-01' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /2025-06-18/);
    const good = await rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-protocol-version': '2025-06-18' });
    assert.equal(good.status, 200);
  });

  test('GET and DELETE are 405; auth is required; a foreign Origin is 403', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(new URL('/mcp', sandbox.url), { method, headers: { authorization: `Bearer ${sandbox.keys.alice}` } });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get('allow'), 'POST');
      assert.equal((await res.json()).error.code, 'method_not_allowed');
    }
    const anonymous = await rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }, { authorization: '' });
    assert.equal(anonymous.status, 401);
    const evil = await rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }, { origin: 'https://evil.example' });
    assert.equal(evil.status, 403);
    assert.equal(evil.json.error.code, 'forbidden');
    const own = await rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }, { origin: new URL(sandbox.url).origin });
    assert.equal(own.status, 200);
  });

  test('tools/call with bad arguments is an isError result; an unknown tool is -32602', async () => {
    const bad = await rpc({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'session_exec', arguments: { session_id: 5 } } });
    assert.equal(bad.status, 200);
    assert.equal(bad.json.result.isError, true);
    assert.match(bad.json.result.content[0].text, /session_id|invalid type/);
    const unknown = await rpc({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'nope' } });
    assert.equal(unknown.json.error.code, -32602);
  });
});
