/**
 * Keeps WebAssembly on V8's baseline compiler in a provider process.
 *
 * undici parses HTTP with llhttp compiled to WebAssembly, and V8 recompiles
 * it optimized on background threads that an exiting process waits for:
 * 300-1000 ms per provider exit, which the engine waits for up to three
 * times per command. `--liftoff-only` avoids that (JavaScript is not
 * affected). It is set here, before the provider's first HTTP request, and
 * not on node's command line: a V8 flag given at start makes V8 refuse
 * Node's built-in code cache, which cost about 10 ms of every provider start
 * before the handshake (docs/benchmarks.md, "Issue 15").
 */
import { setFlagsFromString } from "node:v8";

let set = false;

export function keepWasmOnBaselineCompiler(): void {
  if (set) return;
  setFlagsFromString("--liftoff-only");
  set = true;
}
