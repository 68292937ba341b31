/**
 * The ephemeral postscale_api_key on OpenTofu (Terraform 1.5.7 knows no
 * ephemeral resources; its runs of the other suites show the provider
 * still serves it). A run gets a key that configures an aliased provider,
 * answers 401 once the run is over, and is in no plan, state or log; a
 * run killed while it holds the key leaves one that Postscale refuses once
 * its ttl has passed (the test waits for it: ttl "1m", the shortest
 * allowed).
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PostscaleClient } from "../../src/api";
import { startHarness, type Harness, type Workspace } from "./harness";

jest.setTimeout(300_000);

const examples = join(__dirname, "..", "..", "examples");

describe("ephemeral postscale_api_key on tofu", () => {
  let harness: Harness;
  const clients: PostscaleClient[] = [];
  const as = (secret: string) => {
    const client = new PostscaleClient({ endpoint: harness.endpoint, apiKey: secret, retries: 0 });
    clients.push(client);
    return client;
  };
  const previousLog = process.env.POSTSCALE_E2E_TF_LOG;

  beforeAll(async () => {
    // Provider and engine logs at trace level land in each run's output, which is searched for the secret.
    process.env.POSTSCALE_E2E_TF_LOG = "trace";
    harness = await startHarness("tofu");
  });

  afterAll(async () => {
    if (previousLog === undefined) delete process.env.POSTSCALE_E2E_TF_LOG;
    else process.env.POSTSCALE_E2E_TF_LOG = previousLog;
    await Promise.all(clients.map((c) => c.close()));
    await harness?.close();
  });

  const prepare = (vars: Record<string, unknown>): { ws: Workspace; capture: string } => {
    const ws = harness.workspace("ephemeral-key");
    const capture = join(ws.dir, "captured-secret");
    ws.setVars({ capture_file: capture, ...vars });
    return { ws, capture };
  };

  test("the example validates", async () => {
    const ws = harness.workspace("provider-only");
    ws.writeFile("ephemeral.tf", readFileSync(join(examples, "ephemeral-resources", "postscale_api_key", "ephemeral-resource.tf"), "utf8"));
    await ws.init();
    expect((await ws.run(["validate"])).output).toContain("The configuration is valid.");
  });

  test("a run's key authenticates an aliased provider, is revoked after the run, and is in no plan, state or log", async () => {
    const { ws, capture } = prepare({ name_prefix: "e2e-run-" });
    await ws.init();
    const planned = await ws.run(["plan", "-out=tfplan"]);
    const planJson = (await ws.run(["show", "-json", "tfplan"])).stdout;
    const applied = await ws.applyPlan();
    expect(applied.output).toContain("Apply complete!");

    const secret = readFileSync(capture, "utf8");
    expect(secret).toMatch(/^ps_/);
    // The aliased provider read through the key during the run; the output came back from that read.
    expect((await ws.showJson()).values).toMatchObject({ outputs: { domain_status: { value: expect.any(String) } } });

    // Closed at the end of the run: revoked, and no key of the run is left.
    await expect(as(secret).me()).rejects.toMatchObject({ code: "POSTSCALE_E_UNAUTHENTICATED" });
    expect((await harness.client.listApiKeys()).filter((k) => k.name.startsWith("e2e-run-"))).toEqual([]);

    const stateJson = (await ws.run(["show", "-json"])).stdout;
    const stateFile = readFileSync(join(ws.dir, "terraform.tfstate"), "utf8");
    const plan = JSON.parse(planJson) as { resource_changes?: { address: string }[] };
    expect((plan.resource_changes ?? []).map((c) => c.address)).toEqual(["terraform_data.capture"]);
    for (const [where, text] of Object.entries({ "plan JSON": planJson, "state JSON": stateJson, "state file": stateFile, "plan output": planned.output, "apply output": applied.output })) {
      expect({ where, leaks: text.includes(secret) }).toEqual({ where, leaks: false });
    }
  });

  test("a killed run leaves a key that works until its ttl has passed, then answers 401", async () => {
    const { ws, capture } = prepare({ name_prefix: "e2e-killed-", ttl: "1m", kill_engine: true });
    await ws.init();
    const opened = Date.now();
    await ws.run(["apply", "-auto-approve"], [128, 137]);
    const secret = readFileSync(capture, "utf8");

    // Nothing closed it: the key of the apply phase is still there, expiring a ttl after it was opened.
    const left = (await harness.client.listApiKeys()).filter((k) => k.name.startsWith("e2e-killed-"));
    expect(left).toHaveLength(1);
    const expiresAt = Date.parse(left[0].expires_at!);
    expect(expiresAt).toBeGreaterThan(opened + 55_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
    await expect(as(secret).me()).resolves.toMatchObject({ key: { id: left[0].id } });

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 1_500));
    await expect(as(secret).me()).rejects.toMatchObject({ code: "POSTSCALE_E_UNAUTHENTICATED" });
    rmSync(join(ws.dir, ".terraform.tfstate.lock.info"), { force: true });
  });
});
