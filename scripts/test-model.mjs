#!/usr/bin/env node
/**
 * Runs the model-based adversarial test (test/model) with more steps, more
 * runs, a given seed, or a saved counterexample:
 *
 *   npm run test:model -- --steps 200 --runs 10
 *   npm run test:model -- --seed 12345 [--path 0:1:2] [--steps 45 --runs 2]
 *   npm run test:model -- --replay /tmp/postscale-model/counterexample-pglite-12345.json
 *   npm run test:model -- --backend postgresql      (needs POSTSCALE_TEST_DATABASE_URL)
 *   npm run test:model -- --trace /tmp/model-traces  (every run's requests and server log)
 *   npm run test:model -- --shrink-seconds 600
 *
 * A failure prints the commands that replay it. Options become the
 * POSTSCALE_MODEL_* variables that test/model/run.ts reads; Jest runs the
 * one test file in band.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { resolve } from "node:path";

const OPTIONS = {
  "--steps": "POSTSCALE_MODEL_STEPS",
  "--runs": "POSTSCALE_MODEL_RUNS",
  "--seed": "POSTSCALE_MODEL_SEED",
  "--path": "POSTSCALE_MODEL_PATH",
  "--replay": "POSTSCALE_MODEL_REPLAY",
  "--shrink-seconds": "POSTSCALE_MODEL_SHRINK_SECONDS",
  "--backend": "POSTSCALE_MODEL_BACKENDS",
  "--trace": "POSTSCALE_MODEL_TRACE_DIR",
};

const env = { ...process.env };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 1) {
  const [flag, inline] = args[i].split("=", 2);
  if (flag === "--help" || flag === "-h") {
    console.log(`usage: npm run test:model -- [${Object.keys(OPTIONS).map((o) => `${o} V`).join("] [")}]`);
    process.exit(0);
  }
  const name = OPTIONS[flag];
  if (!name) {
    console.error(`unknown option ${flag}; try --help`);
    process.exit(2);
  }
  const value = inline ?? args[++i];
  if (value === undefined) {
    console.error(`${flag} needs a value`);
    process.exit(2);
  }
  env[name] = flag === "--replay" || flag === "--trace" ? resolve(value) : value;
}
if (env.POSTSCALE_MODEL_BACKENDS?.includes("postgresql") && !env.POSTSCALE_TEST_DATABASE_URL) {
  console.error("--backend postgresql needs POSTSCALE_TEST_DATABASE_URL (a PostgreSQL URL the tests may create databases with)");
  process.exit(2);
}

const jest = createRequire(import.meta.url).resolve("jest/bin/jest");
const result = spawnSync(process.execPath, [jest, "test/model/adversarial.test.ts", "--runInBand"], { stdio: "inherit", env });
process.exit(result.status ?? 1);
