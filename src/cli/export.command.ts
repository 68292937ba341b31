import type { Command } from "commander";

const FORMATS = ["cdktf", "hcl"] as const;
type Format = (typeof FORMATS)[number];

/** Where the provider talks to when POSTSCALE_ENDPOINT is unset; the export reads the same server. */
const DEFAULT_ENDPOINT = "http://127.0.0.1:4000";

interface ExportOptions {
  out: string;
  format: string;
  roster?: string;
  force?: boolean;
}

/**
 * A progress line on stderr: rewritten in place on a terminal, one line per
 * finished list otherwise (CI logs).
 */
function progress(stream: NodeJS.WriteStream): { update: (item: string, count: number, done: boolean) => void; end: () => void } {
  const counts = new Map<string, string>();
  let last = 0;
  const line = (): string => `reading ${[...counts].map(([item, count]) => `${item} ${count}`).join(", ")}`;
  return {
    update(item, count, done) {
      counts.set(item, `${count}${done ? "" : "…"}`);
      if (!stream.isTTY) {
        if (done) stream.write(`read ${count} ${item}\n`);
        return;
      }
      const now = Date.now();
      if (!done && now - last < 100) return;
      last = now;
      stream.write(`\r${line()}\u001b[K`);
    },
    end() {
      if (stream.isTTY && counts.size > 0) stream.write("\n");
    },
  };
}

/**
 * Registers `postscale export`: read an organization through the API (an
 * owner's or admin's key, like the provider) and write it as code whose
 * first plan only imports. Never overwrites files unless --force.
 */
export function register(program: Command): void {
  program
    .command("export")
    .description("Write an existing organization as code (a cdktf app or HCL) whose first plan imports everything and changes nothing.")
    .option("--out <dir>", "folder to write to (created when missing)", ".")
    .option("--format <format>", `cdktf (a TypeScript app on the constructs) or hcl (.tf files with import blocks)`, "cdktf")
    .option("--roster <file>", "cdktf: write the people to this roster file (YAML, the Team.fromFile shape), relative to --out")
    .option("--force", "overwrite files that exist")
    .addHelpText(
      "after",
      "\nReads POSTSCALE_ENDPOINT (default http://127.0.0.1:4000) and POSTSCALE_API_KEY: your own owner or admin key.\n\nExample:\n  npx postscale export --out team-access\n  npx postscale export --format hcl --out team-access-hcl",
    )
    .action(async (options: ExportOptions) => {
      const { basename, isAbsolute, join, normalize, resolve } = await import("node:path");
      const { PostscaleError, ValidationError } = await import("../errors");
      const format = options.format as Format;
      if (!(FORMATS as readonly string[]).includes(format)) {
        throw new ValidationError([{ path: "--format", message: `must be one of ${FORMATS.join(", ")}; got "${options.format}"` }]);
      }
      if (options.roster !== undefined) {
        if (format !== "cdktf") throw new ValidationError([{ path: "--roster", message: "applies only to --format cdktf" }]);
        const roster = normalize(options.roster);
        if (isAbsolute(roster) || roster.startsWith("..")) {
          throw new ValidationError([{ path: "--roster", message: `must be a path inside --out, like roster.yaml; got "${options.roster}"` }]);
        }
      }
      const apiKey = process.env.POSTSCALE_API_KEY?.trim();
      if (!apiKey) {
        throw new PostscaleError(
          "POSTSCALE_E_CONFIG",
          "export: POSTSCALE_API_KEY is not set. Export reads the organization with your own owner or admin key, like the provider: export POSTSCALE_API_KEY=ps_... (and POSTSCALE_ENDPOINT).",
        );
      }
      const endpoint = process.env.POSTSCALE_ENDPOINT?.trim() || DEFAULT_ENDPOINT;

      const { PostscaleClient } = await import("../api/client");
      const { readOrganization } = await import("../export/read");
      const { planExport } = await import("../export/model");
      const client = new PostscaleClient({ endpoint, apiKey });
      const bar = progress(process.stderr);
      let snapshot;
      try {
        snapshot = await readOrganization(client, endpoint, { onProgress: bar.update });
      } finally {
        bar.end();
        await client.close();
      }
      const plan = planExport(snapshot);

      const root = resolve(options.out);
      const { scaffoldFiles } = await import("./scaffold");
      const { readProjectFile, writeProjectFiles } = await import("./project-files");
      let files: { path: string; content: string }[];
      if (format === "hcl") {
        files = (await import("../export/render-hcl")).renderHcl(plan);
      } else {
        const rendered = (await import("../export/render-cdktf")).renderCdktf(plan, { roster: options.roster && normalize(options.roster) });
        let project;
        try {
          project = scaffoldFiles(basename(root), readProjectFile(root, "package.json"));
        } catch (err) {
          throw new ValidationError([{ path: join(root, "package.json"), message: `is not valid JSON (${(err as Error).message}); fix or remove it and export again` }]);
        }
        // The project files of `postscale init`; main.ts is the export's, and the app imports this package.
        const own = new Set(rendered.map((f) => f.path));
        files = [...project.filter((f) => !own.has(f.path)).map((f) => (f.path === "package.json" ? withThisPackage(f) : f)), ...rendered];
      }
      writeProjectFiles(root, options.out, files, { force: options.force, refusal: "export never overwrites files (use --force, or --out an empty folder)" });
      const { summaryLines } = await import("../export/readme");
      process.stdout.write(`\n${summaryLines(plan).join("\n")}\n`);
      const next =
        format === "hcl"
          ? ["tofu init   # or terraform init (1.5 or newer)", "tofu plan"]
          : ["npm install", "npx postscale provider install", "npm run plan"];
      process.stdout.write(`\nNext:\n${options.out === "." ? "" : `  cd ${options.out}\n`}${next.map((l) => `  ${l}\n`).join("")}`);
    });
}

/** package.json with this package as a dev dependency when it is not a dependency yet (init expects it installed first; an export is often a fresh folder). */
function withThisPackage(file: { path: string; content: string }): { path: string; content: string } {
  const { readFileSync } = require("node:fs") as typeof import("node:fs");
  const { join } = require("node:path") as typeof import("node:path");
  const { repositoryRoot } = require("../provider/engine") as typeof import("../provider/engine");
  const self = JSON.parse(readFileSync(join(repositoryRoot(__dirname), "package.json"), "utf8")) as { name: string; version: string };
  const pkg = JSON.parse(file.content) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  if (self.name in { ...pkg.dependencies, ...pkg.devDependencies }) return file;
  const devDependencies = { ...pkg.devDependencies, [self.name]: `^${self.version}` };
  pkg.devDependencies = Object.fromEntries(Object.entries(devDependencies).sort(([a], [b]) => a.localeCompare(b)));
  return { ...file, content: `${JSON.stringify(pkg, null, 2)}\n` };
}
