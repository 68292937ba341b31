/**
 * Key rotation in place and write-only key material, on the real engines.
 * OpenTofu: a key rotating on its rotate_every schedule keeps answering with
 * the old secret through the whole apply (a request loop never fails), the
 * new secret works after, the old one answers 401 once the overlap ends; a
 * write-only key authenticates with its material, rotates on a version bump
 * (old 401, new 200), and neither material is in the state file, the plan or
 * state JSON, the run output or the provider's trace log. Terraform 1.5.7
 * (no write-only attributes) refuses secret_wo cleanly and creates nothing.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostscaleClient } from "../../src/api";
import { e2eEngines, startHarness, type Harness, type Workspace } from "./harness";

jest.setTimeout(300_000);

const material = () => randomBytes(36).toString("base64url");

describe.each(e2eEngines())("key rotation and write-only material on %s", (engineName) => {
  let harness: Harness;
  const clients: PostscaleClient[] = [];
  const logFile = join(tmpdir(), `postscale-e2e-rotation-${process.pid}-${engineName}.log`);
  const saved = { log: process.env.POSTSCALE_E2E_TF_LOG, path: process.env.POSTSCALE_E2E_TF_LOG_PATH };
  const as = (secret: string) => {
    const client = new PostscaleClient({ endpoint: harness.endpoint, apiKey: secret, retries: 0 });
    clients.push(client);
    return client;
  };
  const works = (secret: string) =>
    as(secret)
      .me()
      .then(
        () => true,
        (err: { status?: number }) => (err.status === 401 ? false : Promise.reject(err)),
      );

  beforeAll(async () => {
    process.env.POSTSCALE_E2E_TF_LOG = "trace";
    process.env.POSTSCALE_E2E_TF_LOG_PATH = logFile;
    harness = await startHarness(engineName);
  });

  afterAll(async () => {
    for (const [name, value] of [["POSTSCALE_E2E_TF_LOG", saved.log], ["POSTSCALE_E2E_TF_LOG_PATH", saved.path]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await Promise.all(clients.map((c) => c.close()));
    await harness?.close();
  });

  const keySecret = async (ws: Workspace): Promise<string> => (await ws.stateValues())["postscale_api_key.deploy"].secret as string;

  test("a scheduled rotation with overlap: the old secret never fails during the apply, the new works after, the old answers 401 after the overlap", async () => {
    const ws = harness.workspace("key-rotation");
    ws.setVars({ rotate_every: "90d", overlap: "30s" });
    await ws.init();
    await ws.apply();
    const old = await keySecret(ws);
    const id = (await ws.stateValues())["postscale_api_key.deploy"].id as string;
    expect(await works(old)).toBe(true);

    // Due now: the schedule is shorter than the key's age.
    await new Promise((r) => setTimeout(r, 1100));
    ws.setVars({ rotate_every: "1s", overlap: "30s" });
    const { changes } = await ws.planChanges();
    expect(changes.map((c) => [c.address, c.change.actions])).toEqual([["postscale_api_key.deploy", ["update"]]]);

    let running = true;
    const failures: string[] = [];
    let requests = 0;
    const loop = (async () => {
      while (running) {
        requests++;
        if (!(await works(old))) failures.push(new Date().toISOString());
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await ws.applyPlan();
    running = false;
    await loop;
    expect({ failures, some: requests > 5 }).toEqual({ failures: [], some: true });

    const rotated = (await ws.stateValues())["postscale_api_key.deploy"];
    expect(rotated.id).toBe(id);
    const next = rotated.secret as string;
    expect(next).not.toBe(old);
    expect(await works(next)).toBe(true);
    const until = Date.parse((await harness.client.getApiKey(id)).previous_valid_until!);
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 1000));
    expect(await works(old)).toBe(false);
    expect(await works(next)).toBe(true);
    ws.setVars({ rotate_every: "90d", overlap: "30s" });
    await ws.apply();
    expect((await ws.planExitCode()).code).toBe(0);
    expect(await keySecret(ws)).toBe(next);
  });

  if (engineName === "tofu") {
    test("write-only material: authenticates, rotates on a version bump, and is in no state, plan, output or log", async () => {
      const ws = harness.workspace("write-only-key");
      const first = material();
      ws.setVars({ material: first, material_version: 1 });
      await ws.init();
      const created = await ws.planChanges();
      const planJson1 = JSON.stringify(await ws.showJson("tfplan"));
      const applied1 = await ws.applyPlan();
      expect(await works(first)).toBe(true);
      const state1 = await ws.stateValues();
      expect(state1["postscale_api_key.payments"]).toMatchObject({ secret: null, secret_wo: null, secret_wo_version: 1 });

      const second = material();
      ws.setVars({ material: second, material_version: 2 });
      const { changes, result: planned2 } = await ws.planChanges();
      expect(changes.map((c) => [c.address, c.change.actions])).toEqual([["postscale_api_key.payments", ["update"]]]);
      const planJson2 = JSON.stringify(await ws.showJson("tfplan"));
      const applied2 = await ws.applyPlan();
      expect(await works(first)).toBe(false);
      expect(await works(second)).toBe(true);
      expect((await ws.stateValues())["postscale_api_key.payments"].id).toBe(state1["postscale_api_key.payments"].id);

      const places: Record<string, string> = {
        "state file": readFileSync(join(ws.dir, "terraform.tfstate"), "utf8"),
        "state JSON": JSON.stringify(await ws.showJson()),
        "first plan JSON": planJson1,
        "second plan JSON": planJson2,
        "run output": [created.result, applied1, planned2, applied2].map((r) => r.output).join("\n"),
        "trace log": existsSync(logFile) ? readFileSync(logFile, "utf8") : "",
      };
      expect(places["trace log"].length).toBeGreaterThan(1000);
      for (const [where, text] of Object.entries(places)) {
        expect({ where, first: text.includes(first), second: text.includes(second) }).toEqual({ where, first: false, second: false });
      }
    });
  } else {
    test("Terraform 1.5.7 refuses secret_wo cleanly, naming the attribute and the engines that support it; nothing is created", async () => {
      const ws = harness.workspace("write-only-key");
      ws.writeFile("main.tf", readFileSync(join(ws.dir, "main.tf"), "utf8").replace("  ephemeral = true\n", ""));
      const mine = material();
      ws.setVars({ material: mine, material_version: 1 });
      await ws.init();
      const result = await ws.run(["plan"], [1]);
      expect(result.output).toContain("Write-Only Attribute Not Supported By This Engine");
      expect(result.output).toMatch(/secret_wo is write-only/);
      expect(result.output.replace(/\s+/g, " ")).toContain("OpenTofu 1.11 or later, or Terraform 1.11 or later");
      expect(result.output).not.toContain(mine);
      expect((await harness.client.listApiKeys()).filter((k) => k.name === "e2e-write-only")).toEqual([]);
    });
  }
});
