import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

const root = join(__dirname, "..");

/** A free port for the demo's server, so a busy 4000 on the CI machine can't fail the run. */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

jest.setTimeout(15 * 60_000);

describe("npm run demo", () => {
  beforeAll(() => {
    if (!existsSync(join(root, "dist", "src", "cli", "main.js"))) throw new Error("run `npm run build` before this test (npm test does)");
  });

  it("deploys, shows the access matrix, walks a sign-up and proves the offboarding", async () => {
    const port = await freePort();
    const run = spawnSync(process.execPath, [join(root, "scripts", "demo.mjs")], {
      cwd: root,
      env: { ...process.env, POSTSCALE_DEMO_PORT: String(port) },
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    const out = run.stdout;
    if (run.status !== 0) throw new Error(`demo failed (exit ${run.status}):\n${out}\n${run.stderr}`);

    expect(out).toContain("Access matrix (from the API), after the first deploy:");
    expect(out).toMatch(/│ dev@example\.com\s+│ member │ \w+\s+│ read\/write\s+│ ·\s+│ read\s+│ read\/write\s+│/);
    expect(out).toMatch(/contractor@example\.com sees 2 of 4 domains: app\.example\.com, staging\.example\.com/);
    expect(out).toContain("GET /v1/domains/prod.example.com as contractor@example.com → 404");
    expect(out).toContain("POST /v1/domains/app.example.com/verify with read access → 403");
    expect(out).toMatch(/\*\*contractor@example\.com\*\* \(member\) leaves and loses:/);
    expect(out).toMatch(/Offboarding proof: contractor@example\.com is no longer a member; their key ps_\S+ answered 200 before and 401 after\./);
    const afterOffboarding = out.slice(out.indexOf("after offboarding:"));
    expect(afterOffboarding).not.toContain("contractor@example.com │");
    // The secret itself is never printed, only its prefix.
    expect(out).not.toMatch(/ps_[A-Za-z0-9_-]{30,}/);
    expect(existsSync(join(root, ".demo"))).toBe(false);
  });

  it("refuses a busy port with a clear message and starts nothing", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const { port } = blocker.address() as { port: number };
    try {
      const run = spawnSync(process.execPath, [join(root, "scripts", "demo.mjs")], {
        cwd: root,
        env: { ...process.env, POSTSCALE_DEMO_PORT: String(port) },
        encoding: "utf8",
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`port ${port} is already in use`);
      expect(run.stderr).toContain("POSTSCALE_DEMO_PORT");
    } finally {
      blocker.close();
    }
  });
});
