/**
 * Authoritative mode (postscale_undeclared_access with remove = true): a
 * member, a grant for a declared member and a key added outside the code
 * are shown by the plan and removed by apply; the owner, the key the
 * engine runs with and exempt access never are; the next plan is empty.
 */
import { OWNER_EMAIL, e2eEngines, memberByEmail, startHarness, type Harness } from "./harness";

jest.setTimeout(180_000);

describe.each(e2eEngines())("exclusive mode on %s", (engineName) => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness(engineName);
  });

  afterAll(async () => {
    await harness?.close();
  });

  test("access added outside the code is shown, removed, and only that", async () => {
    const ws = harness.workspace("exclusive");
    await ws.init();
    const created = await ws.apply();
    expect(created.output).toContain("Undeclared Access Never Removed");
    expect(created.output).toContain(OWNER_EMAIL);

    const client = harness.client;
    const alice = await memberByEmail(client, "alice@example.com");
    await client.inviteMember({ email: "mallory@example.com", role: "member", domain_access: [{ domain: "acme.com", access: "read" }] });
    await client.setDomainAccess(alice.id, "shop.acme.com", "read");
    await client.createApiKey({ name: "stray", owner: "organization" });
    const robot = await client.inviteMember({ email: "robot@example.com", role: "member", domain_access: [{ domain: "acme.dev", access: "read_write" }] });
    await client.createApiKey({ name: "robot", owner: "member", member_id: robot.id });

    const { changes, drift } = await ws.planChanges();
    expect(changes.map((c) => [c.address, c.change.actions])).toEqual([["postscale_undeclared_access.team", ["update"]]]);
    expect(changes[0].change.before).toMatchObject({
      members: ["mallory@example.com"],
      grants: ["alice@example.com/shop.acme.com", "mallory@example.com/acme.com"],
      keys: ["organization/stray"],
    });
    expect(changes[0].change.after).toMatchObject({ members: [], grants: [], keys: [] });
    expect(drift.map((d) => d.address)).toContain("postscale_undeclared_access.team");

    await ws.applyPlan();
    const members = await client.listMembers({ includeDomainAccess: true });
    expect(members.map((m) => m.email).sort()).toEqual(["alice@example.com", OWNER_EMAIL, "robot@example.com"].sort());
    expect(members.find((m) => m.email === "alice@example.com")?.domain_access).toEqual([{ domain: "acme.dev", access: "read_write" }]);
    const keys = await client.listApiKeys();
    expect(keys.map((k) => k.name).sort()).toEqual(["bootstrap", "ci", "robot"]);
    // The engine's own key still works: it was never touched.
    expect((await client.me()).member?.email).toBe(OWNER_EMAIL);

    expect((await ws.planExitCode()).code).toBe(0);
  });
});
