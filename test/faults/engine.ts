/**
 * The engine side of the fault runs: the provider installed once into a
 * local mirror, a workspace per run holding the fixture, and engine
 * commands that may be interrupted (SIGINT) or killed (SIGKILL) mid-run.
 * Results are returned, never thrown: a failed apply is data for the table.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { engineEnv, repositoryRoot, requireEngine, writeCliConfig, type Engine, type EngineName } from "../../src/provider/engine";
import { builtBundlePath, installProvider } from "../../src/provider/install";
import { CONSISTENCY_ERRORS, PROVIDER_VERSION } from "../e2e/harness";

/** The configuration every run applies (found from the repository root, so a bundle of this file finds it too). */
export const FIXTURE_DIR = join(repositoryRoot(), "test", "faults", "fixtures", "org");

/** One engine command's outcome. */
export interface EngineResult {
  args: string[];
  /** Exit code; null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  durationMs: number;
}

/** An `Error:` block of the engine's output. */
export interface EngineError {
  summary: string;
  /** The resource address (`with ...`), when the error names one. */
  address?: string;
  /** The first lines of the explanation. */
  detail: string;
}

/** The engine with the provider installed, ready to run workspaces. */
export class EngineSetup {
  private constructor(
    readonly engine: Engine,
    readonly mirrorDir: string,
    private readonly cliConfigFile: string,
  ) {}

  /** Installs the built provider bundle under `root` and writes the CLI config. */
  static create(name: EngineName, root: string): EngineSetup {
    const engine = requireEngine(name);
    const bundle = builtBundlePath();
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first`);
    mkdirSync(root, { recursive: true });
    const mirrorDir = join(root, "mirror");
    installProvider({ dir: mirrorDir, version: PROVIDER_VERSION, bundle });
    const cliConfigFile = join(root, "cli.tfrc");
    writeCliConfig(cliConfigFile, mirrorDir);
    return new EngineSetup(engine, mirrorDir, cliConfigFile);
  }

  /** A folder holding the fixture, whose provider talks to `endpoint` with `apiKey`. */
  workspace(dir: string, endpoint: string, apiKey: string): FaultWorkspace {
    cpSync(FIXTURE_DIR, dir, { recursive: true });
    const env = engineEnv({ cliConfigFile: this.cliConfigFile, endpoint, apiKey, log: process.env.POSTSCALE_FAULTS_TF_LOG });
    return new FaultWorkspace(this, dir, env);
  }

  /** Pids of provider processes started from this setup's mirror that are still alive. */
  providerPids(): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
        if (cmdline.includes(this.mirrorDir) && !isZombie(Number(entry))) pids.push(Number(entry));
      } catch {
        // The process ended while we looked.
      }
    }
    return pids;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** A running engine command. */
export interface RunningCommand {
  child: ChildProcess;
  done: Promise<EngineResult>;
}

export class FaultWorkspace {
  /** Every command so far, for failure reports. */
  readonly results: EngineResult[] = [];

  constructor(
    readonly setup: EngineSetup,
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Starts `args` with -input=false -no-color (where the command takes them). */
  start(args: string[]): RunningCommand {
    const options = args[0] === "show" ? ["-no-color"] : ["-input=false", "-no-color"];
    const full = [args[0], ...options, ...args.slice(1)];
    const started = performance.now();
    const child = spawn(this.setup.engine.binary, full, { cwd: this.dir, env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => chunks.push(chunk));
    const done = new Promise<EngineResult>((resolve) => {
      child.on("error", (error) => resolve({ args: full, code: 127, signal: null, output: String(error), durationMs: performance.now() - started }));
      child.on("close", (code, signal) => {
        const result = { args: full, code, signal, output: Buffer.concat(chunks).toString("utf8"), durationMs: performance.now() - started };
        this.results.push(result);
        resolve(result);
      });
    });
    return { child, done };
  }

  run(args: string[]): Promise<EngineResult> {
    return this.start(args).done;
  }

  /** Managed resources in state, from `show -json` (empty when there is no state or it cannot be read). */
  async state(): Promise<StateResource[]> {
    const result = await this.run(["show", "-json"]);
    if (result.code !== 0) throw new Error(`${this.setup.engine.name} show -json exited ${result.code}:\n${result.output}`);
    const json = JSON.parse(result.output) as { values?: { root_module?: { resources?: StateResource[] } } };
    return (json.values?.root_module?.resources ?? []).filter((r) => r.mode === "managed");
  }
}

export interface StateResource {
  address: string;
  mode: string;
  type: string;
  values: Record<string, unknown>;
}

/** The engine's consistency-check messages found in `output` (a provider bug whenever one appears). */
export function consistencyErrors(output: string): string[] {
  return CONSISTENCY_ERRORS.filter((message) => output.includes(message));
}

/** The `Error:` blocks of an engine's -no-color output. */
export function parseErrors(output: string): EngineError[] {
  const errors: EngineError[] = [];
  const blocks = output.split(/^(?:│ )?Error: /m).slice(1);
  for (const block of blocks) {
    const lines = block.split("\n").map((line) => line.replace(/^│ ?/, ""));
    const summary = lines[0].trim();
    const address = /^\s*with ([^,]+),/m.exec(block)?.[1];
    // The explanation follows the source excerpt (indented lines) after the first blank line.
    const rest = lines.slice(1);
    const detail: string[] = [];
    let seenBlank = false;
    for (const line of rest) {
      if (line.trim() === "") {
        if (detail.length > 0) break;
        seenBlank = true;
        continue;
      }
      if (!seenBlank || /^\s{2}/.test(line)) continue;
      detail.push(line.trim());
    }
    errors.push({ summary, ...(address ? { address } : {}), detail: detail.join(" ").slice(0, 400) });
  }
  return errors;
}
