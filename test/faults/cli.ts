/**
 * `npm run faults -- --runs N [--seed S] [--engine tofu|terraform]
 * [--mode kill|proxy|tofu-kill|all] [--backend pglite|postgresql|both]
 * [--strike SPEC] [--keep-failed] [--json FILE]`: N fault runs per mode, a line per run as
 * it ends, then the table and what failed. Exits 1 when a run is not clean.
 * Run through scripts/faults.mjs, which bundles this file.
 */
import { writeFileSync } from "node:fs";
import { ENGINE_NAMES, type EngineName } from "../../src/provider/engine";
import { failureDetails, markdownTable, runLine } from "./report";
import { FaultLab, isClean, type Mode, type RunReport, type RunSpec, type StrikeSpec } from "./runs";
import { postgresAdminUrl, type Backend } from "./server";

const USAGE = `usage: npm run faults -- [--runs N] [--seed S] [--engine tofu|terraform] [--mode kill|proxy|tofu-kill|all]
                      [--backend pglite|postgresql|both] [--strike SPEC] [--keep-failed] [--json FILE]

  --runs N        runs per mode (default 1)
  --seed S        base seed; run i uses S + i (default: drawn, and printed)
  --engine        tofu (default) or terraform
  --mode          kill: SIGKILL the server mid-apply (default); proxy: lost replies, 429, 503, resets, delays;
                  tofu-kill: SIGINT and SIGKILL the engine mid-apply (alternating); all: each of them
  --backend       pglite (default), postgresql (needs POSTSCALE_TEST_DATABASE_URL), or both (alternating)
  --strike SPEC   where kills and engine interruptions strike instead of a random write: [METHOD:PATH:]N:PHASE,
                  PHASE in-flight or answered, e.g. POST:/v1/api-keys:3:answered (the 3rd key create, its reply lost)
  --keep-failed   keep the workspace and data of runs that are not clean
  --json FILE     write every run's report as JSON`;

interface Args {
  runs: number;
  seed: number;
  engine: EngineName;
  modes: string[];
  backends: Backend[];
  keepFailed: boolean;
  strike?: StrikeSpec;
  json?: string;
}

function parseStrike(text: string): StrikeSpec {
  const match = /^(?:([A-Z]+):(\/[^:]*):)?(\d+):(in-flight|answered)$/.exec(text);
  if (!match) throw new Error(`--strike is [METHOD:PATH:]N:in-flight|answered, e.g. POST:/v1/team/members:5:answered; got "${text}"`);
  return { ...(match[1] ? { method: match[1], path: match[2] } : {}), nth: Number(match[3]), phase: match[4] as StrikeSpec["phase"] };
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 1, seed: Math.floor(Math.random() * 1_000_000), engine: "tofu", modes: ["kill"], backends: ["pglite"], keepFailed: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const count = (v: string): number => {
      if (!/^\d+$/.test(v)) throw new Error(`${flag} takes a whole number, got "${v}"`);
      return Number(v);
    };
    switch (flag) {
      case "--runs":
        args.runs = count(value());
        break;
      case "--seed":
        args.seed = count(value());
        break;
      case "--engine": {
        const v = value();
        if (!(ENGINE_NAMES as readonly string[]).includes(v)) throw new Error(`--engine is one of ${ENGINE_NAMES.join(", ")}, got "${v}"`);
        args.engine = v as EngineName;
        break;
      }
      case "--mode": {
        const v = value();
        if (!["kill", "proxy", "tofu-kill", "all"].includes(v)) throw new Error(`--mode is kill, proxy, tofu-kill or all, got "${v}"`);
        args.modes = v === "all" ? ["kill", "proxy", "tofu-kill"] : [v];
        break;
      }
      case "--backend": {
        const v = value();
        if (!["pglite", "postgresql", "both"].includes(v)) throw new Error(`--backend is pglite, postgresql or both, got "${v}"`);
        args.backends = v === "both" ? ["pglite", "postgresql"] : [v as Backend];
        break;
      }
      case "--strike":
        args.strike = parseStrike(value());
        break;
      case "--keep-failed":
        args.keepFailed = true;
        break;
      case "--json":
        args.json = value();
        break;
      case "-h":
      case "--help":
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option "${flag}"\n${USAGE}`);
    }
  }
  if (args.backends.includes("postgresql") && !postgresAdminUrl()) {
    throw new Error("--backend postgresql needs POSTSCALE_TEST_DATABASE_URL, e.g. POSTSCALE_TEST_DATABASE_URL=$(cat /tmp/pgurl) or $(scripts/ci-postgres.sh --url)");
  }
  return args;
}

/** The runs in order: per mode, N runs; tofu-kill alternates SIGINT and SIGKILL, backends alternate. */
function plan(args: Args): RunSpec[] {
  const specs: RunSpec[] = [];
  for (const mode of args.modes) {
    for (let i = 0; i < args.runs; i++) {
      const actual: Mode = mode === "tofu-kill" ? (i % 2 === 0 ? "tofu-sigint" : "tofu-sigkill") : (mode as Mode);
      specs.push({ mode: actual, backend: args.backends[i % args.backends.length], seed: args.seed + i, ...(args.strike ? { strike: args.strike } : {}) });
    }
  }
  return specs;
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const specs = plan(args);
  const say = (line: string) => process.stderr.write(`${line}\n`);
  say(`faults: ${specs.length} runs on ${args.engine}, seed ${args.seed} (repeat with --seed ${args.seed})`);
  const lab = FaultLab.create({ engine: args.engine, keepFailed: args.keepFailed, log: say });
  const reports: RunReport[] = [];
  const started = performance.now();
  let interrupted = false;
  process.once("SIGINT", () => {
    interrupted = true;
    say("faults: SIGINT, stopping after this run");
  });
  try {
    for (const backend of new Set(specs.map((s) => s.backend))) {
      const t = performance.now();
      await lab.prepare(backend);
      say(`faults: bootstrapped the ${backend} template in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
    for (const [i, spec] of specs.entries()) {
      if (interrupted) break;
      const report = await lab.run(spec);
      reports.push(report);
      say(`[${i + 1}/${specs.length}] ${runLine(report)}`);
    }
  } finally {
    await lab.close();
  }
  const total = performance.now() - started;
  if (args.json) writeFileSync(args.json, JSON.stringify(reports, null, 2));
  const clean = reports.filter(isClean).length;
  const out = [
    "",
    markdownTable(reports),
    "",
    `${reports.length} runs on ${args.engine} (seed ${args.seed}) in ${(total / 60000).toFixed(1)} min: ${clean} clean, ${reports.length - clean} not.`,
  ];
  const details = failureDetails(reports);
  if (details) out.push("", details);
  process.stdout.write(`${out.join("\n")}\n`);
  return clean === reports.length && reports.length === specs.length ? 0 : 1;
}
