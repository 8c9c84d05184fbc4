// The JavaScript side of an engine instance (src/instance/mod.rs is the Rust side).
//
// The Worker's entry (src/entry.mjs) imports the engine module, which wrangler hands over as a
// compiled WebAssembly.Module, and leaves it at ENGINE_KEY. Each EngineHandle is one instance
// with its own memory: the memory's maximum is the session's bound, a trap ends only this
// instance, and a copy of the memory between calls is the whole state of the realm.
//
// Images (checkpoints) are: "ESI1", u32 page count, u32 bitmap bytes, a bitmap of the pages
// that are not all zero, then those pages. Little-endian. Not compressed: CompressionStream's
// deflate runs at about 30 MB/s here (800 ms for a 23 MB heap), far more than storing the
// bytes costs; leaving out zero pages (the unused stack, fresh memory) is nearly free.

const ENGINE_KEY = Symbol.for("edge-sandbox.engine");
const PAGE = 65536;
const MAGIC = 0x31495345; // "ESI1"

function engine() {
  const engine = globalThis[ENGINE_KEY];
  if (!engine) throw new Error("the engine module is not installed (src/entry.mjs)");
  return engine;
}

export function engine_build_id() {
  return engine().buildId;
}

/** Bytes of memory an instance starts with, before its realm exists. */
export function engine_initial_bytes() {
  return engine().initialPages * PAGE;
}

// JSPI (WebAssembly.Suspending / WebAssembly.promising): a streaming cell's engine_yield
// import suspends the instance's stack while its output is sent and the event loop runs (the
// heartbeat timer, the response's body). Without JSPI the output is still sent, but only
// reaches the client when the call returns.
const JSPI =
  typeof WebAssembly.Suspending === "function" && typeof WebAssembly.promising === "function";

export class EngineHandle {
  /** A fresh instance whose memory may grow to `maxBytes`. */
  constructor(maxBytes) {
    const { module, initialPages } = engine();
    const maximum = Math.max(initialPages, Math.floor(maxBytes / PAGE));
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum });
    this.trap = null;
    this.panic = null;
    this.oom = null;
    const handle = this;
    this.instance = new WebAssembly.Instance(module, {
      env: {
        memory: this.memory,
        engine_panic(ptr, len) {
          handle.panic = new TextDecoder().decode(new Uint8Array(handle.memory.buffer, ptr, len));
        },
        engine_oom(bytes) {
          handle.oom = bytes;
        },
        // Called only during callStreaming (the engine yields only for a cell started with
        // yield_fuel), which runs the call through WebAssembly.promising.
        engine_yield: JSPI ? new WebAssembly.Suspending(yieldOutput) : yieldOutput,
      },
    });
    this.exports = this.instance.exports;
    this.sink = null;
    function yieldOutput(ptr, len) {
      const sink = handle.sink;
      if (!sink) return undefined;
      sink(new Uint8Array(handle.memory.buffer, ptr, len).slice());
      // A macrotask: the event loop runs (writes the body, fires timers) before the cell goes on.
      return new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  /**
   * `call` for a cell that streams its output: `sink(bytes)` gets each engine_yield's bytes.
   * Resolves to the answer's bytes, or undefined if the instance trapped. While the call is
   * suspended nobody else may call into or copy this instance (the session's turn holds it, and
   * the pool never evicts a checked-out instance).
   */
  async callStreaming(op, message, sink) {
    if (this.trap) return undefined;
    if (this.sink) throw new Error("a streaming call is already running on this instance");
    try {
      const ptr = this.exports.engine_input(message.length);
      new Uint8Array(this.memory.buffer, ptr, message.length).set(message);
      this.sink = sink;
      if (JSPI && !this.promisingCall) this.promisingCall = WebAssembly.promising(this.exports.engine_call);
      const len = JSPI ? await this.promisingCall(op) : this.exports.engine_call(op);
      const out = this.exports.engine_output();
      return new Uint8Array(this.memory.buffer, out, len).slice();
    } catch (e) {
      this.trap = String(e && e.message ? e.message : e);
      return undefined;
    } finally {
      this.sink = null;
    }
  }

  /** Runs `op` on `message`; the answer's bytes, or undefined if the instance trapped. */
  call(op, message) {
    if (this.trap) return undefined;
    if (this.sink) throw new Error("the instance is running a streaming call");
    try {
      const ptr = this.exports.engine_input(message.length);
      new Uint8Array(this.memory.buffer, ptr, message.length).set(message);
      const len = this.exports.engine_call(op);
      const out = this.exports.engine_output();
      return new Uint8Array(this.memory.buffer, out, len).slice();
    } catch (e) {
      // A trap (unreachable after a panic or a failed allocation, an out-of-bounds access when
      // the engine's stack overflows into its data) or V8's own stack limit: the instance is
      // done; the caller restores the session from its checkpoint.
      this.trap = String(e && e.message ? e.message : e);
      return undefined;
    }
  }

  /** Why the instance trapped, as JSON: {trap, panic (a GuestError's JSON), oom}. */
  trap_report() {
    return JSON.stringify({ trap: this.trap, panic: this.panic, oom: this.oom });
  }

  memory_bytes() {
    return this.memory.buffer.byteLength;
  }

  /** The instance's memory as an image (a checkpoint). */
  snapshot() {
    if (this.sink) throw new Error("the instance is running a streaming call");
    const view = new Uint8Array(this.memory.buffer);
    const pages = view.length / PAGE;
    const bitmap = new Uint8Array(Math.ceil(pages / 8));
    const words = new Uint32Array(this.memory.buffer);
    const kept = [];
    let stored = 0;
    for (let p = 0; p < pages; p++) {
      const start = (p * PAGE) / 4;
      const end = start + PAGE / 4;
      for (let i = start; i < end; i++) {
        if (words[i] !== 0) {
          bitmap[p >> 3] |= 1 << (p & 7);
          kept.push(p);
          stored++;
          break;
        }
      }
    }
    const start = 12 + bitmap.length;
    const image = new Uint8Array(start + stored * PAGE);
    const header = new DataView(image.buffer);
    header.setUint32(0, MAGIC, true);
    header.setUint32(4, pages, true);
    header.setUint32(8, bitmap.length, true);
    image.set(bitmap, 12);
    kept.forEach((p, n) => image.set(view.subarray(p * PAGE, (p + 1) * PAGE), start + n * PAGE));
    return image;
  }

  /** A new instance holding `image` (from snapshot) in a memory that may grow to `maxBytes`. */
  static restore(maxBytes, image) {
    const header = new DataView(image.buffer, image.byteOffset, image.byteLength);
    if (image.length < 12 || header.getUint32(0, true) !== MAGIC) {
      throw new Error("not an engine image (bad magic)");
    }
    const pages = header.getUint32(4, true);
    const bitmapLength = header.getUint32(8, true);
    const bitmap = image.subarray(12, 12 + bitmapLength);
    const body = image.subarray(12 + bitmapLength);
    const handle = new EngineHandle(Math.max(maxBytes, pages * PAGE));
    const have = handle.memory.buffer.byteLength / PAGE;
    if (pages > have) handle.memory.grow(pages - have);
    // The image overwrites all of memory: its pages, and zeros elsewhere. Only the memory an
    // instance starts with can hold anything else (the data segments instantiation wrote);
    // grown pages are zero already.
    const view = new Uint8Array(handle.memory.buffer);
    const fresh = engine().initialPages;
    let at = 0;
    for (let p = 0; p < pages; p++) {
      if (bitmap[p >> 3] & (1 << (p & 7))) {
        if (at + PAGE > body.length) throw new Error("engine image truncated");
        view.set(body.subarray(at, at + PAGE), p * PAGE);
        at += PAGE;
      } else if (p < fresh) {
        view.fill(0, p * PAGE, (p + 1) * PAGE);
      }
    }
    if (at !== body.length) throw new Error("engine image has trailing bytes");
    return handle;
  }
}
