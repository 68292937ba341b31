/**
 * Invalid configurations are stopped at plan, with the diagnostic on the
 * attribute at fault (the engine then quotes the source line), and change
 * nothing on the server. What depends on the server's current state (a
 * grant on someone who is an admin today) warns at plan and is refused at
 * apply with the same finding, creating nothing.
 */
import { e2eEngines, memberByEmail, organizationSnapshot, startHarness, type Harness, type RunResult } from "./harness";

jest.setTimeout(180_000);

/** Asserts the engine pointed at `attribute` of `address` in main.tf, quoting its line. */
function expectDiagnosticAt(result: RunResult, severity: "Error" | "Warning", resource: string, attribute: string): void {
  const [type, name] = resource.split(".");
  expect(result.output).toContain(`${severity}: `);
  expect(result.output).toContain(`with ${resource},`);
  const snippet = new RegExp(`on main\\.tf line \\d+, in resource "${type}" "${name}":\\n\\s*\\d+:\\s*${attribute}\\s*=`);
  expect(result.output).toMatch(snippet);
}

describe.each(e2eEngines())("invalid configurations on %s", (engineName) => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness(engineName);
  });

  afterAll(async () => {
    await harness?.close();
  });

  test.each([
    ["a malformed email", "invalid-email", "postscale_team_member.bad", "email", /email/i],
    ["an unknown access level", "invalid-access", "postscale_domain_access.bad", "access", /read_write/],
    ["an organization key with a member", "org-key-with-member", "postscale_api_key.bad", "member_id", /member_id/],
  ])("%s fails at plan on the attribute and creates nothing", async (_what, fixture, resource, attribute, explanation) => {
    const before = await organizationSnapshot(harness.client);
    const ws = harness.workspace(fixture);
    ws.setVars(fixture === "org-key-with-member" ? { member_id: "mem_does_not_matter" } : {});
    await ws.init();
    const result = await ws.run(["plan"], [1]);
    expectDiagnosticAt(result, "Error", resource, attribute);
    expect(result.output).toMatch(explanation);
    await ws.run(["apply", "-auto-approve"], [1]);
    expect(await organizationSnapshot(harness.client)).toEqual(before);
  });

  test("domain access on an admin warns at plan, naming the admin, and is refused at apply with nothing created", async () => {
    const admin = await harness.client.inviteMember({ email: "erin@example.com", role: "admin" });
    const before = await organizationSnapshot(harness.client);
    const ws = harness.workspace("grant-on-admin");
    ws.setVars({ admin_email: admin.email });
    await ws.init();

    const plan = await ws.run(["plan"]);
    expectDiagnosticAt(plan, "Warning", "postscale_domain_access.on_admin", "member_id");
    expect(plan.output).toContain("erin@example.com");

    const apply = await ws.run(["apply", "-auto-approve"], [1]);
    expectDiagnosticAt(apply, "Error", "postscale_domain_access.on_admin", "member_id");
    expect(apply.output).toContain("erin@example.com");
    expect((await memberByEmail(harness.client, admin.email)).domain_access ?? []).toEqual([]);
    expect(await organizationSnapshot(harness.client)).toEqual(before);
    await harness.client.removeMember(admin.id);
  });
});
