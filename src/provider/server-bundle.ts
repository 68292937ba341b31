/**
 * Loading the provider's second bundle, postscale-provider-server.js, with
 * the V8 code cache `postscale provider install` writes beside it.
 *
 * The engine starts the provider three times per plan, and each start
 * compiles the second bundle (about 800 KiB) right after the handshake:
 * 15-20 ms of V8 parsing, which Node 20's `require` cannot cache. Compiling
 * it as a `vm.Script` with `cachedData` made at install time, by the same
 * node running this same code (see {@link writeCodeCache}), skips most of it.
 *
 * V8 checks a cache against its own version, its flags and the source's
 * length only, so the cache file starts with the SHA-256 of the bundle it
 * was made from: a rebuilt bundle never runs with another build's code.
 * A cache that does not fit is ignored and the bundle compiles as usual; it
 * costs nothing but the time it would have saved.
 *
 * scripts/build-provider.mjs points the entry's two lazy requires
 * (`./rpc-server` in protocol/serve.ts, `./provider` in main.ts) here; run
 * from source (tests), those requires load the modules themselves.
 */
import { createHash } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire, wrap } from "node:module";
import { join } from "node:path";
import { Script } from "node:vm";
import { log } from "./protocol/log";

/** The second bundle's file name (src/provider/install.ts installs it under this name). */
export const SERVER_BUNDLE_NAME = "postscale-provider-server.js";
/** The code cache's file name beside it: the bundle's SHA-256, then V8's cached data. */
export const CODE_CACHE_FILE = `${SERVER_BUNDLE_NAME}.v8cache`;
/** The entry bundle's argument that makes it write the code cache for a package directory instead of serving. */
export const WRITE_CODE_CACHE_ARG = "--postscale-write-code-cache";

const DIGEST_BYTES = 32;

type CommonJsWrapper = (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;

interface Compiled {
  script: Script;
  /** SHA-256 of the bundle's bytes, which a cache made from them starts with. */
  digest: Buffer;
  /** "used": the cache fit; "rejected": V8 refused it; "stale": made from another bundle; "none": no cache file. */
  cache: "used" | "rejected" | "stale" | "none";
  run(): unknown;
}

/** The V8 data of the cache file in `dir` when it was made from the bundle with `digest`; "none" or "stale" otherwise. */
function cachedDataFor(dir: string, digest: Buffer): Buffer | "none" | "stale" {
  let stored: Buffer;
  try {
    stored = readFileSync(join(dir, CODE_CACHE_FILE));
  } catch {
    return "none"; // e.g. a hand-made install: compile from source
  }
  return stored.length > DIGEST_BYTES && stored.subarray(0, DIGEST_BYTES).equals(digest) ? stored.subarray(DIGEST_BYTES) : "stale";
}

/** Compiles the bundle in `dir` as `require` would, with its code cache when that was made from these bytes. */
function compile(dir: string): Compiled {
  const file = join(dir, SERVER_BUNDLE_NAME);
  const source = readFileSync(file);
  const digest = createHash("sha256").update(source).digest();
  const cachedData = cachedDataFor(dir, digest);
  const fits = typeof cachedData !== "string";
  const script = new Script(wrap(source.toString("utf8")), { filename: file, cachedData: fits ? cachedData : undefined });
  return {
    script,
    digest,
    cache: !fits ? cachedData : script.cachedDataRejected ? "rejected" : "used",
    run() {
      const module = { exports: {} as unknown };
      (script.runInThisContext() as CommonJsWrapper).call(module.exports, module.exports, createRequire(file), module, file, dir);
      return module.exports;
    },
  };
}

let loaded: unknown;

/** The second bundle's exports, loaded once from `dir` (the directory of the running entry bundle). */
export function loadServerBundle(dir: string): unknown {
  if (loaded === undefined) {
    const compiled = compile(dir);
    loaded = compiled.run();
    log.child("postscale").debug("provider code loaded", { file: join(dir, SERVER_BUNDLE_NAME), codeCache: compiled.cache });
  }
  return loaded;
}

/**
 * Writes the code cache of the server bundle in `dir`, run by the installer
 * as `node <entry bundle> --postscale-write-code-cache <dir>` with the node
 * the launcher runs. The bundle's top level is run first (it only defines
 * things), so the cache also holds the functions that run at load. A cache
 * that already fits is kept: V8's output differs from run to run, and an
 * unchanged install must keep the bytes the engine's lock file hashed.
 */
export function writeCodeCache(dir: string): "kept" | "written" {
  const compiled = compile(dir);
  if (compiled.cache === "used") return "kept";
  compiled.run();
  const out = join(dir, CODE_CACHE_FILE);
  const partial = `${out}.partial`;
  writeFileSync(partial, Buffer.concat([compiled.digest, compiled.script.createCachedData()]));
  renameSync(partial, out);
  return "written";
}
