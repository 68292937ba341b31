/**
 * Entry point of terraform-provider-postscale, the file
 * scripts/build-provider.mjs bundles and the installed launcher runs.
 *
 * The engine waits for the handshake line before it does anything else,
 * and starts a provider several times per command, so nothing but the
 * protocol layer loads before that line: the provider definition (and with
 * it the resources and the HTTP client) is required on first use, which
 * the protocol layer makes right after the handshake. In the bundle that
 * require loads the second file (see scripts/build-provider.mjs), so V8
 * does not even compile the provider before the line.
 */
import { serve } from "./protocol/serve";
import type { ProviderDefinition } from "./protocol/types";
import type { ProviderContext } from "./resources/context";

let loaded: ProviderDefinition<ProviderContext> | undefined;

function provider(): ProviderDefinition<ProviderContext> {
  loaded ??= (require("./provider") as typeof import("./provider")).postscaleProvider;
  return loaded;
}

/** postscaleProvider, loaded on first use; only its name is needed before the handshake. */
const definition: ProviderDefinition<ProviderContext> = {
  name: "postscale",
  get version() {
    return provider().version;
  },
  get schema() {
    return provider().schema;
  },
  get resources() {
    return provider().resources;
  },
  get dataSources() {
    return provider().dataSources;
  },
  get ephemeralResources() {
    return provider().ephemeralResources;
  },
  validateConfig: (request) => provider().validateConfig?.(request) ?? [],
  configure: (config, meta) => provider().configure(config, meta),
  stop: () => provider().stop?.(),
};

// WRITE_CODE_CACHE_ARG of ./server-bundle, spelled out: importing it would load that module before the handshake.
if (process.argv[2] === "--postscale-write-code-cache") {
  // The installer's call (src/provider/install.ts): write the code cache for a package directory, then exit.
  const { writeCodeCache } = require("./server-bundle") as typeof import("./server-bundle");
  process.stdout.write(`${writeCodeCache(process.argv[3])}\n`);
  process.exit(0);
} else {
  serve(definition).catch((err: unknown) => {
    // Before the handshake the engine shows stderr to the user: say what broke.
    process.stderr.write(`terraform-provider-postscale: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
