#!/usr/bin/env node
/**
 * Bundles the provider (src/provider/main.ts and everything it imports,
 * node_modules included) into two files in dist/provider/, which the
 * installed launcher runs with node:
 *
 * - terraform-provider-postscale.js, from src/provider/main.ts: only what
 *   runs before the go-plugin handshake line (cookie check, certificate,
 *   listen, the line). V8 compiles the whole file it is given, and the
 *   engine waits for that line every time it starts the provider.
 * - postscale-provider-server.js, from src/provider/after-handshake.ts:
 *   the RPC server on node:http2, the generated protobuf codecs, the
 *   provider service and the provider itself. The first file's two lazy
 *   requires (`./rpc-server` in protocol/serve.ts and `./provider` in
 *   main.ts) are rewritten to load it from beside itself through
 *   src/provider/server-bundle.ts, with the V8 code cache that
 *   `postscale provider install` writes next to it.
 *
 * Bundling means one or two reads and no module resolution at start-up, and
 * the generated codecs and method table (.gen/, written by
 * scripts/build-proto.mjs when missing) are inlined by esbuild because the
 * protocol layer requires them by literal paths.
 *
 * Run: `node scripts/build-provider.mjs` (the second half of `npm run build`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const GENERATED = ["tfplugin6-codecs.js", "tfplugin6-methods.json"].map((name) => join(repoRoot, ".gen", name));
const OUT_DIR = join(repoRoot, "dist", "provider");
/** src/provider/install.ts (builtBundlePath, SERVER_BUNDLE_NAME) installs these files; src/provider/server-bundle.ts loads the second. */
const ENTRY = { in: join(repoRoot, "src", "provider", "main.ts"), out: join(OUT_DIR, "terraform-provider-postscale.js") };
const SERVER_BUNDLE_NAME = "postscale-provider-server.js";
const SERVER = { in: join(repoRoot, "src", "provider", "after-handshake.ts"), out: join(OUT_DIR, SERVER_BUNDLE_NAME) };

/** The requires of the first file that load the second: importer (relative to the repo) and specifier. */
const DEFERRED = [
  { importer: join("src", "provider", "main.ts"), specifier: "./provider" },
  { importer: join("src", "provider", "protocol", "serve.ts"), specifier: "./rpc-server" },
];

/**
 * Resolves the DEFERRED requires to the exports of the second file, loaded
 * from beside the first by src/provider/server-bundle.ts (with the V8 code
 * cache the installer writes).
 */
const deferToServerBundle = {
  name: "defer-to-server-bundle",
  setup(b) {
    b.onResolve({ filter: /^\.\/(provider|rpc-server)$/ }, (args) => {
      const from = relative(repoRoot, args.importer);
      if (!DEFERRED.some((d) => d.importer === from && d.specifier === args.path)) return undefined;
      return { path: "server-bundle", namespace: "deferred" };
    });
    b.onLoad({ filter: /.*/, namespace: "deferred" }, () => ({
      resolveDir: join(repoRoot, "src", "provider"),
      loader: "js",
      contents: 'module.exports = require("./server-bundle").loadServerBundle(__dirname);',
    }));
  },
};

/**
 * undici's package index loads all of undici (fetch, cookies, WebSocket, and
 * through them Node's own internal copy of undici): about 80 ms of every
 * provider start, while the provider's HTTP transport
 * (src/api/http-transport.ts) imports only `Agent`. Its `undici` import is
 * served from the three modules that make `Agent` work as the index would:
 * the class, and the request API the index adds to Dispatcher.prototype.
 * The shim is ESM with named exports, so esbuild fails the build if the
 * transport ever imports anything else from undici.
 */
const undiciAgentOnly = {
  name: "undici-agent-only",
  setup(b) {
    const transport = join("src", "api", "http-transport.ts");
    b.onResolve({ filter: /^undici$/ }, (args) =>
      relative(repoRoot, args.importer) === transport ? { path: "undici-agent-only", namespace: "undici-agent-only" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "undici-agent-only" }, () => ({
      resolveDir: repoRoot,
      loader: "js",
      contents: [
        'import Agent from "undici/lib/dispatcher/agent.js";',
        'import Dispatcher from "undici/lib/dispatcher/dispatcher.js";',
        'import api from "undici/lib/api/index.js";',
        "Object.assign(Dispatcher.prototype, api);",
        "export { Agent };",
      ].join("\n"),
    }));
  },
};

/**
 * protobufjs requires the `long` package for 64-bit integers when it can
 * find it; the protocol layer reads them as numbers, and the package would
 * compile a WebAssembly module at every start.
 */
const withoutLong = {
  name: "without-long",
  setup(b) {
    b.onResolve({ filter: /^long$/ }, () => ({ path: "long", namespace: "without-long" }));
    b.onLoad({ filter: /.*/, namespace: "without-long" }, () => ({ contents: "module.exports = null;", loader: "js" }));
  },
};

if (GENERATED.some((file) => !existsSync(file))) {
  execFileSync(process.execPath, [join(repoRoot, "scripts", "build-proto.mjs")], { stdio: "inherit" });
}

const COMMON = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // Whitespace only: names stay readable in stack traces the engine logs.
  minifyWhitespace: true,
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
};

const started = Date.now();
const [entry, server] = await Promise.all([
  build({ ...COMMON, entryPoints: [ENTRY.in], outfile: ENTRY.out, plugins: [deferToServerBundle] }),
  build({ ...COMMON, entryPoints: [SERVER.in], outfile: SERVER.out, plugins: [undiciAgentOnly, withoutLong] }),
]);

for (const file of GENERATED) {
  const name = relative(repoRoot, file);
  if (!Object.keys(server.metafile.inputs).some((input) => input.endsWith(name))) {
    throw new Error(`build-provider: the generated ${name} was not inlined into the bundle`);
  }
}
const unwanted = Object.keys(server.metafile.inputs).filter((file) => /node_modules\/(@grpc|long)\//.test(file));
if (unwanted.length > 0) throw new Error(`build-provider: the provider bundle must not load ${unwanted.join(", ")}`);
const early = Object.keys(entry.metafile.inputs).filter((file) => file.includes("node_modules/"));
if (early.length > 0) {
  throw new Error(`build-provider: ${relative(repoRoot, ENTRY.out)} must load nothing from node_modules before the handshake, but bundles ${early.join(", ")}`);
}
for (const [result, file] of [[entry, ENTRY.out], [server, SERVER.out]]) {
  process.stdout.write(
    `build-provider: wrote ${relative(repoRoot, file)} (${(statSync(file).size / 1024).toFixed(0)} KiB, ` +
      `${Object.keys(result.metafile.inputs).length} modules)\n`,
  );
}
process.stdout.write(`build-provider: done in ${Date.now() - started} ms\n`);
