// The guest's I/O API: `fs`, `fetch`, `Headers`, `Response`, and `env`. Evaluated once per realm
// before any guest code; it returns a function the engine calls with its natives, which stay in
// this closure (the guest never sees them). See `io.rs`.
(function () {
  "use strict";
  return function (io, decodeUtf8, encodeUtf8, envValues) {
    const global = globalThis;
    const { Object, Array, String, Symbol, Map, JSON, TypeError, Uint8Array, ArrayBuffer } = global;
    const define = (name, value) =>
      Object.defineProperty(global, name, { value, writable: true, configurable: true, enumerable: false });

    function bytesOf(data, what) {
      if (typeof data === "string") return encodeUtf8(data);
      if (data instanceof Uint8Array) return data;
      if (data instanceof ArrayBuffer) return new Uint8Array(data);
      if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      throw new TypeError(`${what} must be a string, an ArrayBuffer or a typed array (got ${typeof data}); use JSON.stringify for objects`);
    }

    function pathOf(path) {
      if (typeof path !== "string") throw new TypeError(`the path must be a string (got ${typeof path})`);
      return path;
    }

    function encodingOf(options) {
      const encoding = typeof options === "string" ? options : options == null ? undefined : options.encoding;
      if (encoding == null) return null;
      const name = String(encoding).toLowerCase();
      if (name === "utf8" || name === "utf-8") return "utf8";
      throw new TypeError(`unsupported encoding "${encoding}": use "utf8", or none for a Uint8Array`);
    }

    const fs = Object.freeze({
      /** The file's bytes (a Uint8Array), or its text with "utf8". */
      async readFile(path, options) {
        const encoding = encodingOf(options);
        const bytes = await io("read", pathOf(path));
        return encoding ? decodeUtf8(bytes) : bytes;
      },
      /** Writes a string (as UTF-8), an ArrayBuffer or a typed array. */
      async writeFile(path, data, options) {
        const bytes = bytesOf(data, "the data");
        let contentType = options == null ? undefined : options.contentType;
        if (contentType === undefined) {
          contentType = typeof data === "string" ? "text/plain; charset=utf-8" : "application/octet-stream";
        }
        await io("write", pathOf(path), bytes, String(contentType));
      },
      /** Files whose path starts with `prefix`, sorted by path. */
      async list(prefix) {
        if (prefix === undefined) prefix = "";
        if (typeof prefix !== "string") throw new TypeError(`the prefix must be a string (got ${typeof prefix})`);
        return io("list", prefix);
      },
      /** `{path, size, contentType, etag, modified}`. */
      async stat(path) {
        return io("stat", pathOf(path));
      },
      /** Deletes the file; true if it existed. */
      async remove(path) {
        return io("remove", pathOf(path));
      },
    });

    const headerName = (name) => {
      const text = String(name).toLowerCase();
      if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(text)) throw new TypeError(`invalid header name "${name}"`);
      return text;
    };

    class Headers {
      #map = new Map();
      constructor(init) {
        if (init == null) return;
        const pairs =
          init instanceof Headers || Array.isArray(init) || typeof init[Symbol.iterator] === "function"
            ? init
            : Object.entries(init);
        for (const pair of pairs) {
          if (pair == null || pair.length !== 2) throw new TypeError("each header must be a [name, value] pair");
          this.append(pair[0], pair[1]);
        }
      }
      append(name, value) {
        const key = headerName(name);
        const old = this.#map.get(key);
        this.#map.set(key, old === undefined ? String(value) : `${old}, ${value}`);
      }
      set(name, value) {
        this.#map.set(headerName(name), String(value));
      }
      get(name) {
        const value = this.#map.get(headerName(name));
        return value === undefined ? null : value;
      }
      has(name) {
        return this.#map.has(headerName(name));
      }
      delete(name) {
        this.#map.delete(headerName(name));
      }
      *entries() {
        const keys = [...this.#map.keys()].sort();
        for (const key of keys) yield [key, this.#map.get(key)];
      }
      *keys() {
        for (const [key] of this.entries()) yield key;
      }
      *values() {
        for (const [, value] of this.entries()) yield value;
      }
      forEach(callback, thisArg) {
        for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
      }
      [Symbol.iterator]() {
        return this.entries();
      }
    }

    class Response {
      #body;
      #used = false;
      constructor(raw) {
        this.status = raw.status;
        this.statusText = raw.statusText;
        this.ok = raw.status >= 200 && raw.status < 300;
        this.url = raw.url;
        this.redirected = raw.redirected;
        this.headers = new Headers(raw.headers);
        this.#body = raw.body;
      }
      get bodyUsed() {
        return this.#used;
      }
      #take() {
        if (this.#used) throw new TypeError("the body has already been read");
        this.#used = true;
        return this.#body;
      }
      async arrayBuffer() {
        const bytes = this.#take();
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      }
      async bytes() {
        return this.#take();
      }
      async text() {
        return decodeUtf8(this.#take());
      }
      async json() {
        return JSON.parse(await this.text());
      }
    }

    /** WHATWG-shaped fetch, performed by the host under the session's network rules. */
    async function fetch(resource, init) {
      const url = String(resource !== null && typeof resource === "object" && "url" in resource ? resource.url : resource);
      const options = init == null ? {} : init;
      const method = options.method === undefined ? "GET" : String(options.method).toUpperCase();
      const headers = new Headers(options.headers);
      let body;
      if (options.body != null) {
        if (method === "GET" || method === "HEAD") throw new TypeError(`a ${method} request cannot have a body`);
        if (typeof options.body === "string" && !headers.has("content-type")) {
          headers.set("content-type", "text/plain;charset=UTF-8");
        }
        body = bytesOf(options.body, "the body");
      }
      const redirect = options.redirect === undefined ? "follow" : String(options.redirect);
      if (redirect !== "follow" && redirect !== "manual" && redirect !== "error") {
        throw new TypeError(`redirect must be "follow", "manual" or "error" (got "${redirect}")`);
      }
      return new Response(await io("fetch", url, method, [...headers], body, redirect));
    }

    define("fs", fs);
    define("fetch", fetch);
    define("Headers", Headers);
    define("Response", Response);
    define("env", Object.freeze(Object.assign(Object.create(null), envValues)));
  };
})()
