/**
 * One model-based run (a fresh server, the setup, the operations, the
 * secrets scan) and the fast-check property around it, with a shrinker that
 * suits a real server: a failing run stops at its first discrepancy, so the
 * shrinker first tries shorter prefixes, then drops chunks of operations.
 *
 * Configuration comes from the environment (scripts/test-model.mjs sets it
 * from `npm run test:model -- --steps N --seed S ...`):
 *   POSTSCALE_MODEL_STEPS           operations per run (default 60)
 *   POSTSCALE_MODEL_RUNS            runs per backend (default 2)
 *   POSTSCALE_MODEL_SEED            fast-check seed (default: random, printed)
 *   POSTSCALE_MODEL_PATH            fast-check counterexample path, to replay a shrunk failure
 *   POSTSCALE_MODEL_REPLAY          a JSON file of operations (printed on failure) to run as is
 *   POSTSCALE_MODEL_SHRINK_SECONDS  time for shrinking a failure (default 45; 0: no shrinking)
 *   POSTSCALE_MODEL_BACKENDS        comma-separated subset of the harness's backends
 *   POSTSCALE_MODEL_TRACE_DIR       write every run's full request trace and server log there
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import type { Backend } from "../helpers/server";
import { Discrepancy, type Op, World, opArb } from "./commands";
import { scanForSecrets } from "./secrets-scan";
import { ModelServer } from "./server";

export interface ModelConfig {
  steps: number;
  runs: number;
  seed: number;
  path?: string;
  replay?: string;
  shrinkSeconds: number;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ModelConfig {
  const int = (name: string, fallback: number) => {
    const v = env[name];
    return v === undefined || v === "" ? fallback : Number.parseInt(v, 10);
  };
  return {
    steps: int("POSTSCALE_MODEL_STEPS", 60),
    runs: int("POSTSCALE_MODEL_RUNS", 2),
    seed: int("POSTSCALE_MODEL_SEED", Math.floor(Math.random() * 0x7fffffff)),
    path: env.POSTSCALE_MODEL_PATH || undefined,
    replay: env.POSTSCALE_MODEL_REPLAY || undefined,
    shrinkSeconds: int("POSTSCALE_MODEL_SHRINK_SECONDS", 45),
  };
}

export function selectBackends(all: Backend[], env: NodeJS.ProcessEnv = process.env): Backend[] {
  const wanted = env.POSTSCALE_MODEL_BACKENDS?.split(",").map((b) => b.trim()).filter(Boolean);
  return wanted && wanted.length > 0 ? all.filter((b) => wanted.includes(b)) : all;
}

export interface RunReport {
  ok: boolean;
  message: string;
  steps: number;
  stats: World["stats"];
  ms: number;
  /** Where the time went: server start, setup, steps, stop, scan. */
  times: string;
}

/** One run on a fresh server. Never throws: a discrepancy is reported with the trace of the run. */
export async function runOnce(backend: Backend, ops: Op[]): Promise<RunReport> {
  const started = Date.now();
  const timing = { start: 0, setup: 0, steps: 0, stop: 0, scan: 0 };
  let mark = started;
  const lap = (what: keyof typeof timing) => {
    const now = Date.now();
    timing[what] = now - mark;
    mark = now;
  };
  const server = await ModelServer.start(backend);
  lap("start");
  const world = new World(server);
  let ran = 0;
  let failure: string | undefined;
  try {
    try {
      await world.init();
      lap("setup");
      for (const op of ops) {
        ran += 1;
        await world.run(op);
      }
      await world.finalChecks();
    } catch (error) {
      failure = error instanceof Discrepancy ? error.message : `${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    }
    lap("steps");
    await server.stopProcess();
    lap("stop");
    // The scan runs after a failed run too: a discrepancy found earlier must not hide a leaked secret.
    const scan = await scanVerdict(server, world, ran);
    if (scan.length > 0) failure = [failure, ...scan].filter(Boolean).join("\n\n");
    lap("scan");
  } finally {
    // Cleanup is the harness's; a database PostgreSQL will not drop yet (a backend still closing) is retried, then reported.
    await server.destroy().catch(async () => {
      await new Promise((r) => setTimeout(r, 2000));
      await server.destroy().catch((error: unknown) => process.stderr.write(`  [model] could not remove the test storage: ${String(error)}\n`));
    });
  }
  if (process.env.POSTSCALE_MODEL_TRACE_DIR) {
    mkdirSync(process.env.POSTSCALE_MODEL_TRACE_DIR, { recursive: true });
    writeFileSync(join(process.env.POSTSCALE_MODEL_TRACE_DIR, `trace-${backend}-${started}.txt`), `${world.trace.join("\n")}\n${failure ?? "passed"}\n`);
    writeFileSync(join(process.env.POSTSCALE_MODEL_TRACE_DIR, `server-${backend}-${started}.log`), server.log());
  }
  const ms = Date.now() - started;
  const times = Object.entries(timing).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(", ");
  if (!failure) return { ok: true, message: "", steps: ran, stats: world.stats, ms, times };
  const trace = world.trace.slice(-40).join("\n");
  return { ok: false, message: `${failure}\n\n--- last requests of the run (${backend}) ---\n${trace}`, steps: ran, stats: world.stats, ms, times };
}

/** The secrets scan of a stopped server, as failure messages (none when clean). */
async function scanVerdict(server: ModelServer, world: World, ran: number): Promise<string[]> {
  const s = world.model.s;
  const canaries = s.people.filter((p) => p.status !== "removed").map((p) => p.email);
  const { findings, blind } = await scanForSecrets(server, world.secrets(), canaries);
  if (blind.length > 0) return [`secrets scan cannot be trusted: ${blind.join("; ")}`];
  if (findings.length === 0) return [];
  const describe = (secret: string) => {
    if (s.keys.some((k) => k.secret === secret) || secret === server.server.ownerKey) return "an API key secret";
    if (s.creds.some((c) => c.kind === "session" && c.token === secret)) return "a session token";
    if (s.people.some((p) => p.inviteTokens.includes(secret))) return "an invitation token";
    if (s.people.some((p) => p.verifyToken === secret)) return "a verification token";
    if (s.people.some((p) => p.password === secret)) return "a password";
    return "a token";
  };
  const byWhere = new Map<string, Set<string>>();
  for (const f of findings) byWhere.set(f.where, (byWhere.get(f.where) ?? new Set()).add(describe(f.secret)));
  const where = [...byWhere].map(([place, kinds]) => `${place}: ${[...kinds].join(", ")}`).join("\n  ");
  return [`secrets scan after ${ran} steps: ${findings.length} secret(s) found in clear (of ${world.secrets().length} handed out):\n  ${where}`];
}

/**
 * Operations of a fixed length; shrinks to shorter prefixes first (a run
 * stops at its first discrepancy), then without chunks of operations, then
 * element-wise.
 */
class OpsArbitrary extends fc.Arbitrary<Op[]> {
  private readonly inner: fc.Arbitrary<Op[]>;

  constructor(private readonly length: number) {
    super();
    this.inner = fc.array(opArb, { minLength: length, maxLength: length });
  }

  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<Op[]> {
    return new fc.Value(this.inner.generate(mrng, biasFactor).value, undefined);
  }

  canShrinkWithoutContext(value: unknown): value is Op[] {
    return Array.isArray(value);
  }

  shrink(value: Op[]): fc.Stream<fc.Value<Op[]>> {
    function* candidates(): Generator<Op[]> {
      const n = value.length;
      for (let k = Math.floor(n / 2); k < n; k = k + Math.max(1, Math.floor((n - k) / 2))) yield value.slice(0, k);
      for (let chunk = Math.floor(n / 2); chunk >= 1; chunk = Math.floor(chunk / 2)) {
        for (let start = n - chunk - 1; start >= 0; start -= chunk) yield [...value.slice(0, start), ...value.slice(start + chunk)];
      }
    }
    return fc.stream(candidates()).map((ops) => new fc.Value(ops, undefined));
  }
}

export interface PropertyOutcome {
  failed: boolean;
  message: string;
  runs: RunReport[];
}

/** Runs the property for one backend and, on failure, a message with the seed, the replay command and the shrunk trace. */
export async function checkBackend(backend: Backend, config: ModelConfig, log: (line: string) => void = () => undefined): Promise<PropertyOutcome> {
  const runs: RunReport[] = [];
  if (config.replay) {
    const ops = JSON.parse(readFileSync(config.replay, "utf8")) as Op[];
    const report = await runOnce(backend, ops);
    runs.push(report);
    return { failed: !report.ok, message: report.ok ? "" : `replay of ${config.replay} failed on ${backend}:\n${report.message}`, runs };
  }
  let shrinkDeadline: number | undefined;
  let lastFailure: { ops: Op[]; report: RunReport } | undefined;
  const property = fc.asyncProperty(new OpsArbitrary(config.steps), async (ops) => {
    // Past the shrinking budget every candidate "passes", so fast-check stops with the smallest failure so far.
    if (shrinkDeadline !== undefined && Date.now() > shrinkDeadline) return true;
    const report = await runOnce(backend, ops);
    runs.push(report);
    log(`${backend}: ${report.ok ? "pass" : "FAIL"} after ${report.steps} step(s) in ${(report.ms / 1000).toFixed(1)} s (${report.stats.requests} requests, ${report.stats.successes} successes, ${report.stats.refusals} refusals, ${report.stats.races} races, ${report.stats.skipped} skipped; ${report.times})`);
    if (!report.ok) {
      shrinkDeadline ??= Date.now() + config.shrinkSeconds * 1000;
      if (!lastFailure || ops.length <= lastFailure.ops.length) lastFailure = { ops: ops.slice(0, report.steps), report };
      throw new Error(report.message);
    }
    return true;
  });
  const details = await fc.check(property, { numRuns: config.runs, seed: config.seed, path: config.path, endOnFailure: config.shrinkSeconds <= 0 });
  if (!details.failed) return { failed: false, message: "", runs };
  const dir = join(tmpdir(), "postscale-model");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `counterexample-${backend}-${config.seed}.json`);
  const ops = lastFailure?.ops ?? (details.counterexample?.[0] as Op[] | undefined) ?? [];
  writeFileSync(file, JSON.stringify(ops, null, 1));
  const message = [
    `model-based test failed on ${backend} (seed ${details.seed}, path ${details.counterexamplePath}, ${details.numShrinks} shrink(s))`,
    `replay the generation: npm run test:model -- --backend ${backend} --steps ${config.steps} --runs ${config.runs} --seed ${details.seed}${details.counterexamplePath ? ` --path ${details.counterexamplePath}` : ""}`,
    `replay the shrunk operations (${ops.length}): npm run test:model -- --backend ${backend} --replay ${file}`,
    "",
    lastFailure?.report.message ?? String(details.errorInstance),
  ].join("\n");
  return { failed: true, message, runs };
}
