#!/usr/bin/env node
/**
 * Writes docs/openapi.json: the OpenAPI 3.1 document the server serves at
 * GET /v1/openapi.json, generated from the route schemas (the source of
 * truth). The server suite fails when the committed copy drifts.
 * Run after `npm run build`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { startServer } = createRequire(import.meta.url)(join(root, "dist/src/server/index.js"));

const dataDir = mkdtempSync(join(tmpdir(), "postscale-openapi-"));
const server = await startServer({ port: 0, dataDir, rateLimit: false });
try {
  const doc = await (await fetch(`${server.url}/v1/openapi.json`)).json();
  writeFileSync(join(root, "docs", "openapi.json"), `${JSON.stringify(doc, null, 2)}\n`);
  process.stdout.write(`wrote docs/openapi.json (${Object.keys(doc.paths).length} paths)\n`);
} finally {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
