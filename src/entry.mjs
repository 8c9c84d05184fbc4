// The Worker's entry: the Rust Worker (worker-build's output) and the engine module it runs
// sessions in. wrangler imports engine.wasm as a compiled WebAssembly.Module (compiling Wasm
// from bytes at run time is not allowed in Workers; instantiating a module is), and
// src/instance/host.js finds it under this symbol.
import engine from "../build/engine/engine.wasm";
import { BUILD_ID, INITIAL_PAGES } from "../build/engine/meta.mjs";

globalThis[Symbol.for("edge-sandbox.engine")] = {
  module: engine,
  buildId: BUILD_ID,
  initialPages: INITIAL_PAGES,
};

export * from "../build/worker/shim.mjs";
export { default } from "../build/worker/shim.mjs";
