/**
 * Model-based adversarial test of the API server: random sequences of every
 * state-changing call (invites, sign-up, roles, grants, keys, ownership,
 * offboarding, domains and their records, organization settings, billing,
 * and races of two calls) issued by random credentials (owner, admin and
 * member sessions, their keys, domain-scoped and organization-owned keys,
 * revoked keys, keys and sessions of removed or demoted people, expiring
 * keys, bogus tokens), against a real server over HTTP, compared at every
 * step with the reference model in ./model.ts (written from the API's
 * rules, not from src/). After every run the whole database and the
 * server's log are scanned for every secret and token handed out. See
 * ./commands.ts for the invariants checked after each step.
 *
 * In CI this is bounded: POSTSCALE_MODEL_RUNS (2) runs of
 * POSTSCALE_MODEL_STEPS (60) steps per backend, each on a fresh server: about
 * a minute on PGlite (its start dominates) and half that on PostgreSQL; a
 * failure adds up to POSTSCALE_MODEL_SHRINK_SECONDS (45) of shrinking.
 *
 * To run more, or replay a failure (the failure message prints both commands):
 *   npm run test:model -- --steps 200 --runs 10
 *   npm run test:model -- --seed 12345 [--path 0:1:2] [--steps 60 --runs 2]
 *   npm run test:model -- --replay /tmp/postscale-model/counterexample-pglite-12345.json
 *   npm run test:model -- --backend postgresql       (needs POSTSCALE_TEST_DATABASE_URL)
 * or directly: POSTSCALE_MODEL_STEPS=200 npx jest test/model --runInBand
 */
import { BACKENDS } from "../helpers/server";
import { checkBackend, configFromEnv, selectBackends } from "./run";

const config = configFromEnv();
const backends = selectBackends(BACKENDS);
// Each run: a server start (~2 s), setup and up to ~0.4 s per step; plus shrinking and the scans.
const timeout = 120_000 + config.runs * (config.steps * 1_500 + 20_000) + config.shrinkSeconds * 1_000;

describe.each(backends)("model-based adversarial test on %s", (backend) => {
  test(
    config.replay ? `replay of ${config.replay}` : `${config.runs} run(s) of ${config.steps} steps (seed ${config.seed})`,
    async () => {
      const outcome = await checkBackend(backend, config, (line) => process.stderr.write(`  [model] ${line}\n`));
      if (outcome.failed) throw new Error(outcome.message);
    },
    timeout,
  );
});
