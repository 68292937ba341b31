/**
 * The fault runs. Each run starts from a fresh copy of the bootstrapped
 * organization, applies test/faults/fixtures/org (30 members, 60 grants,
 * 20 keys) through the fault proxy while one fault strikes, then re-applies
 * once without faults, plans with -detailed-exitcode and audits the server
 * against state (see audit.ts). Modes:
 *
 * - `kill`: the server is SIGKILLed at the k-th write of the apply (k drawn
 *   from the seed): a few milliseconds after the write reached it, or just
 *   after it committed and answered, the answer then lost (see
 *   {@link StrikeSpec}). It stays down a while (the proxy refuses
 *   connections meanwhile) and restarts on the same data, possibly while
 *   the apply still runs;
 * - `proxy`: the apply meets 429s with Retry-After, 503s, resets before the
 *   server saw the request, resets after it answered (lost replies) and
 *   delays (see proxy.ts);
 * - `tofu-sigint` / `tofu-sigkill`: the engine itself gets SIGINT (Ctrl-C) or
 *   SIGKILL at the k-th write; after a SIGKILL the provider processes it
 *   leaves behind are watched (how long they outlive the engine) and killed
 *   after 10 s.
 *
 * A run converged when the re-apply exited 0 and the plan after it found no
 * changes (exit 0), with no engine consistency error.
 */
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineName } from "../../src/provider/engine";
import { audit, type AuditResult } from "./audit";
import { consistencyErrors, EngineSetup, parseErrors, type EngineError, type EngineResult, type FaultWorkspace } from "./engine";
import { DEFAULT_FAULTS, FaultProxy, NO_FAULTS, type ForwardedRequest, type ProxyStats } from "./proxy";
import { between, deriveSeed, prng } from "./random";
import { ServerProcess, StorageTemplate, type Backend } from "./server";

export type Mode = "kill" | "proxy" | "tofu-sigint" | "tofu-sigkill";
export const MODES: readonly Mode[] = ["kill", "proxy", "tofu-sigint", "tofu-sigkill"];

/** Writes a full apply of the fixture sends: 30 member POSTs, 60 grant PUTs, 20 key POSTs. */
const FULL_APPLY_WRITES = 110;
/** How long provider processes may outlive a SIGKILLed engine before the run kills them. */
const LINGER_LIMIT_MS = 10_000;

/**
 * When a kill or an interruption strikes: at the nth write (not GET) that
 * matches `method` and `path` (a prefix), either `afterMs` after it reached
 * the server ("in-flight": the write may or may not commit) or when the
 * server has answered it ("answered": it committed; with a server kill its
 * reply is lost).
 */
export interface StrikeSpec {
  nth: number;
  phase: "in-flight" | "answered";
  afterMs?: number;
  method?: string;
  path?: string;
}

export interface RunSpec {
  mode: Mode;
  backend: Backend;
  seed: number;
  /** Where the fault strikes (kill and engine modes); drawn from the seed when not given. */
  strike?: StrikeSpec;
}

/** A strike at a random write of the apply: any of its writes, at either phase. */
export function drawStrike(seed: number): StrikeSpec {
  const random = prng(deriveSeed(seed, "strike"));
  return { nth: between(random, 1, FULL_APPLY_WRITES), phase: random() < 0.5 ? "in-flight" : "answered", afterMs: between(random, 0, 40) };
}

/** What happened in one run. */
export interface RunReport extends RunSpec {
  engine: EngineName;
  converged: boolean;
  /** The faulted apply, the re-apply and the plan after it (exit code, or the signal that ended it). */
  firstApply: string;
  reapply: string;
  plan: string;
  /** The fault as it struck, e.g. "server SIGKILL 12 ms after write 37 (PUT /v1/...), down 1800 ms, restarted in 6.1 s". */
  fault: string;
  /** How long provider processes outlived a SIGKILLed engine (tofu-sigkill), in ms. */
  providerLingerMs?: number;
  audit?: AuditResult;
  /** Errors of the first apply, as the engine reported them. */
  firstApplyErrors: EngineError[];
  /** Errors of the re-apply (why it did not converge). */
  reapplyErrors: EngineError[];
  /** Resources the plan after the re-apply would still change. */
  planChanges: string[];
  consistencyErrors: string[];
  proxy: ProxyStats;
  /** Milliseconds per step of the run. */
  phases: Record<string, number>;
  /** Something failed that is not a finding (an engine or server that would not start, an audit that could not run). */
  harnessError?: string;
  durationMs: number;
}

export interface LabOptions {
  engine: EngineName;
  /** Keep the workspaces and data of runs that did not come out clean. */
  keepFailed?: boolean;
  /** Root of everything the lab writes. @default a folder under the OS temp dir */
  root?: string;
  log?: (line: string) => void;
}

/** The engine with the provider installed, and the bootstrapped storage templates, shared by the runs. */
export class FaultLab {
  private readonly templates = new Map<Backend, Promise<StorageTemplate>>();
  private runs = 0;

  private constructor(
    private readonly options: LabOptions,
    readonly root: string,
    readonly setup: EngineSetup,
  ) {}

  static create(options: LabOptions): FaultLab {
    const root = options.root ?? join(tmpdir(), `postscale-faults-${options.engine}-${process.pid}-${Date.now().toString(36)}`);
    mkdirSync(root, { recursive: true });
    return new FaultLab(options, root, EngineSetup.create(options.engine, root));
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private template(backend: Backend): Promise<StorageTemplate> {
    let template = this.templates.get(backend);
    if (!template) {
      template = StorageTemplate.create(backend, join(this.root, backend));
      this.templates.set(backend, template);
    }
    return template;
  }

  /** Bootstraps the template of `backend` now (so its time is not counted in the first run). */
  async prepare(backend: Backend): Promise<void> {
    await this.template(backend);
  }

  async close(): Promise<void> {
    for (const template of this.templates.values()) await (await template.catch(() => undefined))?.destroy();
    for (const pid of this.setup.providerPids()) killQuietly(pid);
    rmSync(this.root, { recursive: true, force: true });
  }

  async run(spec: RunSpec): Promise<RunReport> {
    const started = performance.now();
    const label = `run${++this.runs}-${spec.mode}`;
    const report: RunReport = {
      ...spec,
      engine: this.setup.engine.name,
      converged: false,
      firstApply: "-",
      reapply: "-",
      plan: "-",
      fault: "-",
      firstApplyErrors: [],
      reapplyErrors: [],
      planChanges: [],
      consistencyErrors: [],
      proxy: undefined as unknown as ProxyStats,
      phases: {},
      durationMs: 0,
    };
    let phaseStart = performance.now();
    const phase = (name: string) => {
      const now = performance.now();
      report.phases[name] = Math.round(now - phaseStart);
      phaseStart = now;
    };
    const template = await this.template(spec.backend);
    const storage = await template.clone(label);
    let server: ServerProcess | undefined;
    let restarting: Promise<void> | undefined;
    const proxy = new FaultProxy({ upstream: "http://127.0.0.1:1", seed: deriveSeed(spec.seed, "proxy"), faults: spec.mode === "proxy" ? DEFAULT_FAULTS : NO_FAULTS });
    report.proxy = proxy.stats;
    const dir = join(this.root, label);
    let workspace: FaultWorkspace | undefined;
    try {
      server = await ServerProcess.start({ dataDir: storage.dataDir, databaseUrl: storage.databaseUrl, port: 0 });
      proxy.setUpstream(server.url);
      await proxy.up();
      workspace = this.setup.workspace(dir, proxy.url, storage.ownerKey);
      const init = await workspace.run(["init"]);
      if (init.code !== 0) throw new Error(`init exited ${init.code}:\n${init.output}`);
      phase("start server, init");

      // The faulted apply.
      const apply = workspace.start(["apply", "-auto-approve"]);
      const strikeSpec = spec.strike ?? drawStrike(spec.seed);
      const downMs = between(prng(deriveSeed(spec.seed, "down")), 200, 2000);
      let matched = 0;
      let struck = false;
      const strike = (what: string) => {
        struck = true;
        if (spec.mode === "kill") {
          const killed = performance.now();
          const running = server!;
          const gone = running.kill();
          restarting = (async () => {
            await proxy.down();
            await gone;
            await sleep(downMs);
            const restart = performance.now();
            server = await ServerProcess.start({ dataDir: storage.dataDir, databaseUrl: storage.databaseUrl, port: running.port });
            await proxy.up();
            report.fault = `server SIGKILL ${what}; down ${seconds(performance.now() - killed)} (restart ${seconds(performance.now() - restart)})`;
          })();
        } else if (spec.mode === "tofu-sigint" || spec.mode === "tofu-sigkill") {
          const signal = spec.mode === "tofu-sigint" ? "SIGINT" : "SIGKILL";
          apply.child.kill(signal);
          report.fault = `${this.setup.engine.name} ${signal} ${what}`;
        }
      };
      const matches = (request: ForwardedRequest) =>
        request.method !== "GET" && (strikeSpec.method === undefined || request.method === strikeSpec.method) && (strikeSpec.path === undefined || request.path.startsWith(strikeSpec.path));
      const describe = (request: ForwardedRequest) => `${strikeSpec.method || strikeSpec.path ? `${strikeSpec.method ?? ""} ${strikeSpec.path ?? ""} #` : "write #"}${strikeSpec.nth} (${request.method} ${request.path})`;
      if (spec.mode === "proxy") {
        report.fault = "faults: " + Object.entries(DEFAULT_FAULTS).map(([name, p]) => `${name} ${Math.round(p * 100)}%`).join(", ");
      } else if (strikeSpec.phase === "in-flight") {
        proxy.onForward((request) => {
          if (struck || !matches(request) || ++matched !== strikeSpec.nth) return;
          const afterMs = strikeSpec.afterMs ?? 0;
          setTimeout(() => strike(`${afterMs} ms after ${describe(request)} reached the server`), afterMs);
        });
      } else {
        proxy.onAnswer((request) => {
          if (struck || !matches(request) || ++matched !== strikeSpec.nth) return;
          // The server committed and answered; the kill (or the engine's interruption) comes before the reply is relayed.
          strike(`when the server had answered ${describe(request)}`);
          return spec.mode === "kill" ? "drop" : undefined;
        });
      }
      const first = await apply.done;
      report.firstApply = outcome(first);
      report.firstApplyErrors = parseErrors(first.output);
      if (spec.mode !== "proxy" && !struck) {
        // The apply made fewer matching writes than nth (it failed early, or nth overshot): strike now, after it.
        strike(`after the apply ended (${matched} matching writes, fewer than ${strikeSpec.nth})`);
      }
      if (restarting) await restarting;
      if (spec.mode === "tofu-sigkill") report.providerLingerMs = await this.awaitProviderExit();
      proxy.setFaults(NO_FAULTS);
      phase("faulted apply");

      // One re-apply, then the plan must be empty.
      const reapply = await workspace.run(["apply", "-auto-approve"]);
      report.reapply = outcome(reapply);
      report.reapplyErrors = parseErrors(reapply.output);
      phase("re-apply");
      const plan = await workspace.run(["plan", "-detailed-exitcode"]);
      report.plan = outcome(plan);
      report.planChanges = plannedChanges(plan.output);
      report.consistencyErrors = [...new Set(workspace.results.flatMap((r) => consistencyErrors(r.output)))];
      report.converged = reapply.code === 0 && plan.code === 0 && report.consistencyErrors.length === 0;
      phase("plan");

      report.audit = await audit({ serverUrl: server!.url, ownerKey: storage.ownerKey, state: await workspace.state(), posts: proxy.posts.values() });
      phase("audit");
    } catch (error) {
      report.harnessError = error instanceof Error ? error.message : String(error);
      if (server) report.harnessError += `\n--- server output ---\n${server.output().slice(-3000)}`;
    } finally {
      if (restarting) await restarting.catch(() => undefined);
      // The storage is thrown away (or kept for a look, which a kill does not spoil): no clean shutdown needed.
      await server?.kill().catch(() => undefined);
      await proxy.close();
      const clean = isClean(report);
      if (clean || !this.options.keepFailed) {
        rmSync(dir, { recursive: true, force: true });
        await storage.destroy().catch(() => undefined);
      } else {
        this.log(`kept ${dir} and ${storage.databaseUrl ?? storage.dataDir}`);
      }
      report.durationMs = performance.now() - started;
    }
    return report;
  }

  /** Waits (up to {@link LINGER_LIMIT_MS}) for provider processes to exit after the engine was killed; kills the rest. */
  private async awaitProviderExit(): Promise<number> {
    const started = performance.now();
    let pids = this.setup.providerPids();
    while (pids.length > 0 && performance.now() - started < LINGER_LIMIT_MS) {
      await sleep(50);
      pids = this.setup.providerPids();
    }
    for (const pid of pids) killQuietly(pid);
    return Math.round(performance.now() - started);
  }
}

/** Converged, with nothing duplicated, orphaned, lost, stuck or missing. */
export function isClean(report: RunReport): boolean {
  const a = report.audit;
  return report.converged && !report.harnessError && !!a && a.duplicates + a.orphans + a.lost + a.stuck + a.missing === 0;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function outcome(result: EngineResult): string {
  return result.signal ? result.signal : `exit ${result.code}`;
}

/** The resources a -no-color plan would change ("# x will be created", ...). */
function plannedChanges(output: string): string[] {
  return [...output.matchAll(/^\s*# (\S+) (will be|must be) ([^\n]+)$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
