// The programs of bench/engine.mjs: notebook cells as an agent would send them, top-level code
// whose LAST LINE is the result expression on its own, so that `return ` before that line makes
// the body of a function (asFunction). Every answer is plain JSON (numbers, strings, arrays) and
// deterministic (no Math.random, no clock), so it can be compared with Node's. `async: true` marks
// a program with top-level `await`, which the other runtimes run as an async function.
//
// `kind` groups the programs in the fuel-per-CPU-second table: fuel should track CPU time
// alike for every kind of code, so a limit in fuel means about the same time whatever the
// code does.

export const PROGRAMS = [
  {
    // The cost of the request itself; the fuel table subtracts its time from every other row.
    name: '1+1',
    kind: 'trivial',
    code: '1+1',
  },
  {
    name: 'fib(25)',
    kind: 'calls',
    code: `function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
fib(25)`,
  },
  {
    // `let` at top level becomes a global (README, "Notebook semantics"): every access is a
    // global lookup, unlike the same loop inside a function.
    name: '1e6 loop',
    kind: 'loops over globals',
    code: `let s = 0;
for (let i = 0; i < 1e6; i++) s += i;
s`,
  },
  {
    name: 'sort 1e5 (comparator)',
    kind: 'builtin callbacks',
    code: `const xs = Array.from({ length: 1e5 }, (_, i) => (i * 7919) % 100003);
xs.sort((a, b) => a - b);
let check = 0;
for (let i = 0; i < xs.length; i += 100) check = (check * 31 + xs[i]) % 1000003;
[xs[0], xs[50000], xs[xs.length - 1], check]`,
  },
  {
    // The comparator above is one the engine recognises and compares natively (like
    // SpiderMonkey); this one it must call for every comparison.
    name: 'sort 1e5 records by key',
    kind: 'builtin callbacks',
    code: `const rs = Array.from({ length: 1e5 }, (_, i) => ({ id: i, score: (i * 7919) % 100003 }));
rs.sort((a, b) => a.score - b.score || a.id - b.id);
let check = 0;
for (let i = 0; i < rs.length; i += 100) check = (check * 31 + rs[i].id) % 1000003;
[rs[0].id, rs[50000].score, rs[rs.length - 1].id, check]`,
  },
  {
    name: 'string build + split 1e5',
    kind: 'strings',
    code: `let s = '';
for (let i = 0; i < 1e5; i++) s += i + ',';
s.split(',').length`,
  },
  {
    name: 'regex replace 100 kB',
    kind: 'regex',
    code: `const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
const parts = [];
for (let i = 0; i < 13000; i++) parts.push(words[i % 8] + (i % 100));
const text = parts.join(' ');
const swapped = text.replace(/(\\w+) (\\w+)/g, '$2 $1');
let calls = 0;
const upper = text.replace(/\\b([a-z])(\\w*)/g, (m, a, b) => { calls++; return a.toUpperCase() + b; });
let check = 0;
for (let i = 0; i < text.length; i += 97) check = (check * 31 + swapped.charCodeAt(i) + upper.charCodeAt(i)) % 1000003;
[text.length, swapped.length, upper.length, calls, check]`,
  },
  {
    name: 'JSON 1e5 objects',
    kind: 'JSON',
    code: `const items = [];
for (let i = 0; i < 1e5; i++) items.push({ id: i, name: 'item' + i, ok: i % 2 === 0 });
const json = JSON.stringify(items);
const back = JSON.parse(json);
[json.length, back.length, back[99999].name, back.filter((x) => x.ok).length]`,
  },
  {
    name: 'array methods over records',
    kind: 'builtin callbacks',
    code: `const depts = ['eng', 'ops', 'sales', 'hr', 'legal'];
const records = Array.from({ length: 2e4 }, (_, i) => ({ id: i, dept: depts[i % 5], salary: 1000 + ((i * 37) % 5000), active: i % 3 !== 0 }));
const active = records.filter((r) => r.active);
const raised = active.map((r) => ({ ...r, salary: r.salary * 1.1 }));
const total = raised.reduce((sum, r) => sum + r.salary, 0);
const byDept = raised.reduce((groups, r) => { (groups[r.dept] ||= []).push(r.id); return groups; }, {});
const found = raised.find((r) => r.salary > 5900);
const anyBig = raised.some((r) => r.salary > 6000);
[active.length, Math.round(total), Object.keys(byDept).map((k) => k + ':' + byDept[k].length).join(','), found.id, anyBig]`,
  },
  {
    name: 'Map/Set',
    kind: 'collections',
    code: `const m = new Map();
for (let i = 0; i < 1e5; i++) { const k = 'k' + (i % 5000); m.set(k, (m.get(k) || 0) + i); }
let total = 0;
for (const [k, v] of m) total += (v % 1000) + k.length;
const seen = new Set();
for (let i = 0; i < 1e5; i++) seen.add(i % 7777);
[m.size, total, seen.size]`,
  },
  {
    name: 'string formatting',
    kind: 'strings',
    code: `const lines = [];
for (let i = 0; i < 2e4; i++) lines.push(\`\${String(i).padStart(6, '0')} | \${(i / 7).toFixed(3)} | \${(i * 1.5).toFixed(1)}\`);
const out = lines.join('\\n');
[out.length, lines[12345], lines[19999]]`,
  },
  {
    name: 'Date',
    kind: 'builtins',
    code: `let acc = 0;
let last = '';
for (let i = 0; i < 2e4; i++) {
  const d = new Date(1700000000000 + i * 86400123);
  acc += d.getUTCFullYear() + d.getUTCMonth() + d.getUTCDate() + d.getUTCHours() + d.getUTCMinutes() + d.getUTCSeconds() + d.getUTCDay();
  last = d.toISOString();
}
[acc, last]`,
  },
  {
    name: 'class-heavy',
    kind: 'objects + methods',
    code: `class Vec {
  constructor(x, y) { this.x = x; this.y = y; }
  add(o) { return new Vec(this.x + o.x, this.y + o.y); }
  get len2() { return this.x * this.x + this.y * this.y; }
}
class Vec3 extends Vec {
  constructor(x, y, z) { super(x, y); this.z = z; }
  add(o) { const v = super.add(o); return new Vec3(v.x, v.y, this.z + o.z); }
  get len2() { return super.len2 + this.z * this.z; }
}
let acc = new Vec3(0, 0, 0);
let sum = 0;
for (let i = 0; i < 1e5; i++) {
  acc = acc.add(new Vec3(i % 7, i % 11, i % 13));
  sum += acc.len2 % 1000;
}
[acc.x, acc.y, acc.z, sum]`,
  },
  {
    // A spread and Object.assign copy every property under one instruction or call.
    name: 'object spread + assign',
    kind: 'object copies',
    code: `const base = {};
for (let i = 0; i < 200; i++) base['k' + i] = i;
let total = 0;
for (let j = 0; j < 500; j++) {
  const merged = { ...base, j };
  const copy = Object.assign({}, merged);
  total += copy.k199 + copy.j;
}
total`,
  },
  {
    // The shape of an agent's cell that fetches: top-level `await`, then top-level bindings
    // and loops over them (`async: true`: QuickJS, V8 and the in-function form run it as an
    // async function).
    name: 'top-level await + loops',
    kind: 'top-level await',
    async: true,
    code: `const rows = await Promise.resolve(Array.from({ length: 2e4 }, (_, i) => ({ id: i, group: i % 10, value: (i * 31) % 1000 })));
const totals = {};
for (const r of rows) totals[r.group] = (totals[r.group] || 0) + r.value;
let best = -1, sum = 0;
for (let i = 0; i < rows.length; i++) { if (rows[i].value > best) best = rows[i].value; sum += rows[i].value; }
[Object.keys(totals).length, totals[3], best, sum]`,
  },
  // Extra kinds for the fuel-per-CPU-second table.
  {
    name: 'top-level do-while',
    kind: 'loops over globals',
    code: `let i = 0;
do { i++ } while (i < 1e6);
i`,
  },
  {
    // An empty loop body; the counter is block-scoped (not top level, so not a global): the
    // tightest loop there is.
    name: 'empty for(;;) loop to 5e6',
    kind: 'tight loop (locals)',
    code: `let n;
{ let i = 0; for (; i < 5e6; i++) {} n = i; }
n`,
  },
  {
    // A live heap the collector must trace on every collection, while short-lived garbage keeps
    // triggering collections (which spend no fuel).
    name: 'GC-heavy heap',
    kind: 'GC-heavy heap',
    code: `const heap = [];
for (let i = 0; i < 2e5; i++) heap.push({ i });
let churn = 0;
for (let r = 0; r < 3e5; r++) { const tmp = { r, a: [r, r + 1] }; churn += tmp.a[1] - tmp.r; }
[heap.length, heap[123456].i, churn]`,
  },
];

/** The program as the body of a function: `return ` before its last line. */
export function functionBody(code) {
  const lines = code.split('\n');
  return [...lines.slice(0, -1), `return ${lines.at(-1)};`].join('\n');
}

/**
 * The program wrapped in a function that is called at once: same answer, no top-level bindings.
 * An `async` program's function is async (its value is then a promise of the answer).
 */
export function asFunction(code, async = false) {
  return `(${async ? 'async ' : ''}() => {\n${functionBody(code)}\n})()`;
}

/** The program as a script: an `async` program (top-level `await`) as an async function. */
export function asScript(program) {
  return program.async ? asFunction(program.code, true) : program.code;
}
