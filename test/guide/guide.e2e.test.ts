/**
 * docs/guide.md, followed as written: the package packed with `npm pack`,
 * a new folder outside the repository, every shell block of the guide run
 * verbatim in one bash session (the only substitution: the packed tarball
 * for `@postscale/cdktf` in shell commands), on each engine, offline (no
 * provider registry; npm packages come from npm's cache when it has them).
 * Then the outcome is checked through the API: the people, grants and keys
 * the guide declares exist, and the review the guide prints names them.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostscaleClient } from "../../src/api";
import { stopBackground } from "../../src/cli/background";
import { type EngineName, repositoryRoot, requireEngine } from "../../src/provider/engine";
import { e2eEngines } from "../e2e/harness";
import { guideScript, guideSteps } from "./guide-script";

const ROOT = repositoryRoot();
const GUIDE = readFileSync(join(ROOT, "docs", "guide.md"), "utf8");
const STEP_TIMEOUT_MS = 15 * 60_000;
jest.setTimeout(STEP_TIMEOUT_MS + 60_000);

let packDir: string;
let tarball: string;

beforeAll(() => {
  packDir = mkdtempSync(join(tmpdir(), "postscale-guide-pack-"));
  const name = execFileSync("npm", ["pack", "--silent", "--pack-destination", packDir], { cwd: ROOT, encoding: "utf8" }).trim().split("\n").pop()!;
  tarball = join(packDir, name);
});

afterAll(() => rmSync(packDir, { recursive: true, force: true }));

interface GuideRun {
  code: number | null;
  output: string;
  project: string;
}

/** Runs the guide's script in a fresh folder with `engine` as the engine cdktf and review use. */
async function followGuide(engine: EngineName, folder: string): Promise<GuideRun> {
  const bin = join(folder, "bin");
  mkdirSync(bin);
  // The reader has one engine on PATH under its own name.
  symlinkSync(requireEngine(engine).binary, join(bin, engine));
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${process.env.PATH}`,
    HOME: join(folder, "home"),
    LANG: "C.UTF-8",
    CHECKPOINT_DISABLE: "1",
    CI: "1",
    npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? "", ".npm"),
    npm_config_prefer_offline: "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    ...(engine === "tofu" ? { TERRAFORM_BINARY_NAME: "tofu" } : {}),
  };
  mkdirSync(env.HOME!);
  const script = guideScript(guideSteps(GUIDE), { "@postscale/cdktf": tarball });
  writeFileSync(join(folder, "guide.sh"), script);
  const child = spawn("bash", [join(folder, "guide.sh")], { cwd: folder, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), STEP_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  // For a look at what a reader sees: POSTSCALE_GUIDE_LOG=<dir> keeps each run's output.
  if (process.env.POSTSCALE_GUIDE_LOG) writeFileSync(join(process.env.POSTSCALE_GUIDE_LOG, `guide-${engine}.log`), output);
  return { code, output, project: join(folder, "team-access") };
}

describe("docs/guide.md", () => {
  it("has shell blocks to run and a main.ts to write", () => {
    const steps = guideSteps(GUIDE);
    expect(steps.filter((s) => s.kind === "file").map((s) => s.file)).toEqual(["main.ts"]);
    expect(steps.some((s) => s.kind === "shell" && s.text.includes("npx postscale init"))).toBe(true);
  });

  describe.each(e2eEngines())("followed as written on %s", (engine) => {
    let folder: string;
    let run: GuideRun;

    beforeAll(async () => {
      folder = mkdtempSync(join(tmpdir(), `postscale-guide-${engine}-`));
      run = await followGuide(engine, folder);
      // The guide stops its server at the end; start it again to look at what it made.
    });

    afterAll(async () => {
      // A step that failed before the guide's last block leaves its server running.
      if (run) await stopBackground(join(run.project, ".postscale"));
      if (folder) rmSync(folder, { recursive: true, force: true });
    });

    it("runs every command successfully", () => {
      if (run.code !== 0) throw new Error(`the guide failed (exit ${run.code}); its output:\n${run.output.slice(-8000)}`);
    });

    it("scaffolded the project init promises, with state, plans and server data ignored by git", () => {
      for (const file of ["main.ts", "cdktf.json", "tsconfig.json", "package.json", ".gitignore"]) expect(existsSync(join(run.project, file))).toBe(true);
      const ignored = readFileSync(join(run.project, ".gitignore"), "utf8").split("\n");
      expect(ignored).toEqual(expect.arrayContaining(["cdktf.out/", ".postscale/", "*.tfstate", "node_modules/"]));
      const pkg = JSON.parse(readFileSync(join(run.project, "package.json"), "utf8"));
      expect(pkg.devDependencies.typescript).toMatch(/^[~^]?5\./);
      // Constructs users do not get the gRPC/msgpack stack: the provider is bundled.
      expect(readdirSync(join(run.project, "node_modules"))).not.toContain("@grpc");
    });

    it("printed an access review of the first plan that names the people and keys", () => {
      expect(run.output).toContain("dev@example.com");
      expect(run.output).toContain("contractor@example.com");
      expect(run.output).toMatch(/mailer/);
      expect(run.output).not.toMatch(/ps_[A-Za-z0-9_-]{20,}/);
    });

    it("deployed the declared team: people, grants and keys exist in Postscale", async () => {
      const key = readFileSync(join(run.project, ".postscale", "owner.key"), "utf8").trim();
      const server = spawn(process.execPath, [join(run.project, "node_modules", ".bin", "postscale"), "server", "--port", "0"], {
        cwd: run.project,
        env: { ...process.env, HOME: join(folder, "home") },
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = "";
          server.stdout!.on("data", (chunk) => {
            out += chunk;
            const match = /listening on (\S+)/.exec(out);
            if (match) resolve(match[1]);
          });
          server.on("exit", (code) => reject(new Error(`server exited ${code}: ${out}`)));
        });
        const client = new PostscaleClient({ endpoint: url, apiKey: key });
        const members = await client.listMembers();
        const byEmail = new Map(members.map((m) => [m.email, m]));
        expect(byEmail.get("ops@example.com")?.role).toBe("admin");
        expect(byEmail.get("dev@example.com")?.role).toBe("member");
        const grants = await client.listDomainAccess(byEmail.get("dev@example.com")!.id);
        expect(grants.map((g) => [g.domain, g.access]).sort()).toEqual([
          ["app.example.com", "read_write"],
          ["staging.example.com", "read"],
        ]);
        const keys = await client.listApiKeys();
        expect(keys.map((k) => k.name).sort()).toEqual(expect.arrayContaining(["ci", "mailer"]));
      } finally {
        server.kill("SIGTERM");
      }
    });
  });
});
