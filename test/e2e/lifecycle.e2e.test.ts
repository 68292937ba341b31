/**
 * The provider's whole lifecycle on the real engines against the real
 * server: create, an empty second plan, in-place changes, import, drift,
 * out-of-band deletion and destroy. The steps share one server and one
 * workspace per engine and run in order.
 */
import {
  e2eEngines,
  memberByEmail,
  organizationSnapshot,
  startHarness,
  type Harness,
  type OrganizationSnapshot,
  type PlannedChange,
  type Workspace,
} from "./harness";

jest.setTimeout(240_000);

const WIDENED = { bob_role: "member", alice_shop_access: "read_write", alice_key_domains: ["acme.dev", "shop.acme.com"] };

function actionsByAddress(changes: PlannedChange[]): Record<string, string[]> {
  return Object.fromEntries(changes.map((c) => [c.address, c.change.actions]));
}

describe.each(e2eEngines())("lifecycle on %s", (engineName) => {
  let harness: Harness;
  let ws: Workspace;
  let before: OrganizationSnapshot;

  beforeAll(async () => {
    harness = await startHarness(engineName);
    before = await organizationSnapshot(harness.client);
    ws = harness.workspace("team");
    await ws.init();
  });

  afterAll(async () => {
    await harness?.close();
  });

  test("creates members, grants and keys from one plan", async () => {
    const { changes } = await ws.planChanges();
    expect(actionsByAddress(changes)).toEqual({
      "postscale_api_key.alice": ["create"],
      "postscale_api_key.ci": ["create"],
      "postscale_domain_access.alice_acme": ["create"],
      "postscale_domain_access.alice_dev": ["create"],
      "postscale_domain_access.alice_shop": ["create"],
      "postscale_team_member.alice": ["create"],
      "postscale_team_member.bob": ["create"],
    });
    await ws.applyPlan();

    const alice = await memberByEmail(harness.client, "alice@example.com");
    expect(alice).toMatchObject({ role: "member", status: "invited" });
    expect([...(alice.domain_access ?? [])].sort((a, b) => a.domain.localeCompare(b.domain))).toEqual([
      { domain: "acme.com", access: "read" },
      { domain: "acme.dev", access: "read_write" },
      { domain: "shop.acme.com", access: "read" },
    ]);
    expect(await memberByEmail(harness.client, "bob@example.com")).toMatchObject({ role: "admin", status: "invited" });

    const state = await ws.stateValues();
    const keys = await harness.client.listApiKeys();
    const aliceKey = keys.find((k) => k.id === state["postscale_api_key.alice"].id);
    expect(aliceKey).toMatchObject({ owner: "member", member_id: alice.id, scope: "domains", domains: ["acme.dev"] });
    const ciKey = keys.find((k) => k.id === state["postscale_api_key.ci"].id);
    expect(ciKey).toMatchObject({ owner: "organization", member_id: null, scope: "domains", domains: ["acme.com"] });
    // The secret is known after create only and kept in state; it is the key the record describes.
    const secret = state["postscale_api_key.ci"].secret as string;
    expect(secret.startsWith(ciKey!.prefix)).toBe(true);
    const reachable = await harness.client.withToken(secret).listDomains();
    expect(reachable.map((d) => d.name)).toEqual(["acme.com"]);
  });

  test("a second plan is empty", async () => {
    const { code, result } = await ws.planExitCode();
    expect({ code, output: result.stdout }).toEqual({ code: 0, output: expect.stringContaining("No changes") });
  });

  test("a role change, a widened grant and a key gaining that domain apply in place in one plan", async () => {
    ws.setVars(WIDENED);
    const { changes, result } = await ws.planChanges();
    expect(actionsByAddress(changes)).toEqual({
      "postscale_api_key.alice": ["update"],
      "postscale_domain_access.alice_shop": ["update"],
      "postscale_team_member.bob": ["update"],
    });
    expect(result.stdout).not.toContain("must be replaced");
    await ws.applyPlan();

    expect(await memberByEmail(harness.client, "bob@example.com")).toMatchObject({ role: "member" });
    const alice = await memberByEmail(harness.client, "alice@example.com");
    expect(alice.domain_access).toContainEqual({ domain: "shop.acme.com", access: "read_write" });
    const state = await ws.stateValues();
    expect((await harness.client.getApiKey(state["postscale_api_key.alice"].id as string)).domains.sort()).toEqual(["acme.dev", "shop.acme.com"]);
    expect((await ws.planExitCode()).code).toBe(0);
  });

  test("import by email, by email/domain and by id into a fresh state plans no changes", async () => {
    const state = await ws.stateValues();
    const fresh = harness.workspace("team");
    fresh.setVars(WIDENED);
    await fresh.init();
    const aliceId = state["postscale_team_member.alice"].id as string;
    await fresh.import("postscale_team_member.alice", "alice@example.com");
    await fresh.import("postscale_team_member.bob", state["postscale_team_member.bob"].id as string);
    await fresh.import("postscale_domain_access.alice_dev", "alice@example.com/acme.dev");
    await fresh.import("postscale_domain_access.alice_shop", "alice@example.com/shop.acme.com");
    await fresh.import("postscale_domain_access.alice_acme", `${aliceId}/acme.com`);
    await fresh.import("postscale_api_key.alice", state["postscale_api_key.alice"].id as string);
    await fresh.import("postscale_api_key.ci", state["postscale_api_key.ci"].id as string);

    const imported = await fresh.stateValues();
    expect(imported["postscale_team_member.alice"]).toMatchObject({ id: aliceId, email: "alice@example.com", role: "member" });
    expect(imported["postscale_domain_access.alice_shop"]).toMatchObject({ member_id: aliceId, domain: "shop.acme.com", access: "read_write" });
    expect(imported["postscale_api_key.alice"]).toMatchObject({ name: "alice-deploy", owner: "member", member_id: aliceId });
    // The secret is never re-read: an imported key has none.
    expect(imported["postscale_api_key.alice"].secret).toBeNull();

    const { code, result } = await fresh.planExitCode();
    expect({ code, output: result.stdout }).toEqual({ code: 0, output: expect.stringContaining("No changes") });
    fresh.remove();
  });

  test("a change made through the API shows as drift and is planned back", async () => {
    const alice = await memberByEmail(harness.client, "alice@example.com");
    await harness.client.setDomainAccess(alice.id, "acme.com", "read_write");
    const state = await ws.stateValues();
    await harness.client.updateApiKey(state["postscale_api_key.ci"].id as string, { name: "ci-renamed" });

    const { changes, drift } = await ws.planChanges();
    expect(actionsByAddress(changes)).toEqual({
      "postscale_api_key.ci": ["update"],
      "postscale_domain_access.alice_acme": ["update"],
    });
    const grantDrift = drift.find((d) => d.address === "postscale_domain_access.alice_acme");
    expect(grantDrift?.change.before).toMatchObject({ access: "read" });
    expect(grantDrift?.change.after).toMatchObject({ access: "read_write" });
    expect(drift.find((d) => d.address === "postscale_api_key.ci")?.change.after).toMatchObject({ name: "ci-renamed" });

    await ws.applyPlan();
    expect((await memberByEmail(harness.client, "alice@example.com")).domain_access).toContainEqual({ domain: "acme.com", access: "read" });
    expect((await harness.client.getApiKey(state["postscale_api_key.ci"].id as string)).name).toBe("ci");
  });

  test("resources deleted out of band are planned for re-creation", async () => {
    const state = await ws.stateValues();
    const alice = await memberByEmail(harness.client, "alice@example.com");
    await harness.client.deleteApiKey(state["postscale_api_key.ci"].id as string);
    await harness.client.removeDomainAccess(alice.id, "acme.com");

    const { changes } = await ws.planChanges();
    expect(actionsByAddress(changes)).toEqual({
      "postscale_api_key.ci": ["create"],
      "postscale_domain_access.alice_acme": ["create"],
    });
    await ws.applyPlan();
    expect((await ws.planExitCode()).code).toBe(0);
  });

  test("destroy leaves the organization as it was", async () => {
    await ws.destroy();
    expect(await ws.stateValues()).toEqual({});
    expect(await organizationSnapshot(harness.client)).toEqual(before);
  });
});
