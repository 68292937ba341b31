/**
 * What `postscale init` writes: a cdktf app that synthesizes and deploys as
 * it stands (an empty team changes nothing), with the versions this package
 * is tested with pinned, and a .gitignore that keeps state, plans and the
 * local server's data out of git (they hold secrets).
 */

/** The stack name of the scaffolded app; the review script points into its output. */
export const STACK = "access";

/** Versions the scaffold installs; TypeScript stays on 5.x, which ts-node and cdktf need. */
export const SCAFFOLD_DEV_DEPENDENCIES: Readonly<Record<string, string>> = {
  cdktf: "^0.21.0",
  "cdktf-cli": "^0.21.0",
  constructs: "^10.4.2",
  "ts-node": "^10.9.2",
  typescript: "~5.9.3",
};

/**
 * npm scripts. The provider is in no registry, so cdktf must not try to
 * lock providers (`--skip-provider-lock`); `plan` leaves a binary plan that
 * `review` reads without writing secret-bearing JSON to disk.
 */
export const SCAFFOLD_SCRIPTS: Readonly<Record<string, string>> = {
  synth: "cdktf synth",
  plan: "cdktf diff --skip-provider-lock",
  deploy: "cdktf deploy --skip-provider-lock",
  output: "cdktf output --skip-provider-lock",
  review: `postscale review cdktf.out/stacks/${STACK}/plan`,
};

export const GITIGNORE_LINES: readonly string[] = [
  "node_modules/",
  "cdktf.out/",
  ".postscale/",
  ".terraform/",
  "*.tfstate",
  "*.tfstate.*",
  "*.tfplan",
  "plan.json",
];

const MAIN_TS = `import { App, TerraformStack } from "cdktf";
import { PostscaleProvider, Team } from "@postscale/cdktf";

const app = new App();
const stack = new TerraformStack(app, "${STACK}");

// Reads POSTSCALE_ENDPOINT and POSTSCALE_API_KEY: your own owner or admin key.
new PostscaleProvider(stack, "postscale");

// Declare people here: team.addAdmin(email), team.addMember(email, { domains }).
// See docs/guide.md in @postscale/cdktf.
new Team(stack, "team");

app.synth();
`;

const CDKTF_JSON = {
  language: "typescript",
  app: "npx ts-node main.ts",
  sendCrashReports: "false",
  terraformProviders: [],
  terraformModules: [],
  context: {},
};

const TSCONFIG_JSON = {
  compilerOptions: {
    target: "ES2022",
    module: "commonjs",
    moduleResolution: "node",
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
  },
  // Synth runs main.ts often; type errors are the editor's and `tsc --noEmit`'s job.
  "ts-node": { transpileOnly: true },
  include: ["*.ts"],
};

export interface ScaffoldFile {
  path: string;
  content: string;
}

/**
 * The files for a new project named `name`. `existingPackageJson` (the
 * text of one already there, e.g. after `npm install @postscale/cdktf`) is
 * kept and gains the scripts and dev dependencies it lacks.
 */
export function scaffoldFiles(name: string, existingPackageJson?: string): ScaffoldFile[] {
  const pkg = existingPackageJson ? (JSON.parse(existingPackageJson) as Record<string, unknown>) : { name: packageName(name), private: true };
  pkg.scripts = { ...SCAFFOLD_SCRIPTS, ...(pkg.scripts as Record<string, string> | undefined) };
  const installed = { ...(pkg.dependencies as Record<string, string> | undefined), ...(pkg.devDependencies as Record<string, string> | undefined) };
  const missing = Object.entries(SCAFFOLD_DEV_DEPENDENCIES).filter(([dep]) => !(dep in installed));
  pkg.devDependencies = sortKeys({ ...(pkg.devDependencies as Record<string, string> | undefined), ...Object.fromEntries(missing) });
  return [
    { path: "package.json", content: json(pkg) },
    { path: "main.ts", content: MAIN_TS },
    { path: "cdktf.json", content: json(CDKTF_JSON) },
    { path: "tsconfig.json", content: json(TSCONFIG_JSON) },
    { path: ".gitignore", content: GITIGNORE_LINES.join("\n") + "\n" },
  ];
}

/** A valid npm package name from a folder name. */
function packageName(folder: string): string {
  const cleaned = folder.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+|-+$/g, "");
  return cleaned || "postscale-access";
}

function sortKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** Appends the lines of `add` that `text` lacks. */
export function mergeLines(text: string, add: string): string {
  const have = new Set(text.split("\n").map((line) => line.trim()));
  const missing = add.split("\n").filter((line) => line.trim() !== "" && !have.has(line.trim()));
  if (missing.length === 0) return text;
  return `${text.endsWith("\n") || text === "" ? text : `${text}\n`}${missing.join("\n")}\n`;
}
