// A client for the sandbox's server-sent event streams (docs/api.md "Streaming"): sends a
// request with `Accept: text/event-stream` and reads the body as it arrives, noting when each
// event and comment came (ms since the request was sent).
import { FETCH_TIMEOUT_MS } from './harness.mjs';

/**
 * POSTs `body` to `base + urlPath` with `key`; answers { status, headers, text, events, comments,
 * sentAt } where events are { event, data (parsed JSON), at } in order and comments { text, at }.
 * A non-stream answer (an error) has its JSON in `json`.
 */
export async function streamPost(base, key, urlPath, body, { timeoutMs = FETCH_TIMEOUT_MS * 4, headers: extra = {} } = {}) {
  const headers = { accept: 'text/event-stream', 'content-type': 'application/json', connection: 'close', ...extra };
  if (key != null) headers.authorization = `Bearer ${key}`;
  const sentAt = performance.now();
  const res = await fetch(new URL(urlPath, base), {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const events = [];
  const comments = [];
  let text = '';
  let pending = '';
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const at = performance.now() - sentAt;
    const chunk = decoder.decode(value, { stream: true });
    text += chunk;
    pending += chunk;
    let end;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      const block = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const fields = { event: 'message', data: [] };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) comments.push({ text: line.slice(1).trim(), at });
        else if (line.startsWith('event: ')) fields.event = line.slice(7);
        else if (line.startsWith('data: ')) fields.data.push(line.slice(6));
      }
      if (fields.data.length > 0) {
        events.push({ event: fields.event, data: JSON.parse(fields.data.join('\n')), at });
      }
    }
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, events, comments, json, rest: pending };
}
