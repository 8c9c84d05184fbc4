// A small HTTP server on 127.0.0.1 for guest fetch tests. Routes:
//   /json            {"hello":"world","n":42}
//   /text            "hello from loopback"
//   /echo            {method, path, headers, body} of the request, as JSON
//   /bytes?n=N       N bytes (i % 256)
//   /redirect?to=U   302 with Location: U
//   /loop            302 to itself, forever
//   /status/N        an empty answer with status N
//   /count/...       a text body with how many times this exact path was hit
//   /slow?ms=N       "slow" after N milliseconds
// Every request is counted by path (without the query): hits('/json').
import http from 'node:http';

export function startLoopback() {
  const counts = new Map();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const send = (status, headers, data) => {
        res.writeHead(status, headers);
        res.end(data);
      };
      const p = url.pathname;
      if (p === '/json') {
        send(200, { 'content-type': 'application/json', 'x-loopback': 'yes' }, JSON.stringify({ hello: 'world', n: 42 }));
      } else if (p === '/text') {
        send(200, { 'content-type': 'text/plain; charset=utf-8', 'x-loopback': 'yes' }, 'hello from loopback');
      } else if (p === '/echo') {
        const out = { method: req.method, path: req.url, headers: req.headers, body: body.toString('utf8') };
        send(200, { 'content-type': 'application/json' }, JSON.stringify(out));
      } else if (p === '/bytes') {
        const n = Number(url.searchParams.get('n') ?? 0);
        const data = Buffer.alloc(n);
        for (let i = 0; i < n; i++) data[i] = i % 256;
        send(200, { 'content-type': 'application/octet-stream' }, data);
      } else if (p === '/redirect') {
        send(302, { location: url.searchParams.get('to') ?? '/text' }, '');
      } else if (p === '/loop') {
        send(302, { location: '/loop' }, '');
      } else if (p.startsWith('/status/')) {
        send(Number(p.slice('/status/'.length)) || 500, { 'content-type': 'text/plain' }, `status ${p.slice(8)}`);
      } else if (p === '/slow') {
        setTimeout(() => send(200, { 'content-type': 'text/plain' }, 'slow'), Number(url.searchParams.get('ms') ?? 1000));
      } else if (p === '/count' || p.startsWith('/count/')) {
        send(200, { 'content-type': 'text/plain' }, String(counts.get(p)));
      } else {
        send(404, { 'content-type': 'text/plain' }, 'no such route');
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        hits: (path) => counts.get(path) ?? 0,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}
