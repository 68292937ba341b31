/**
 * A pending invitation never shows as a change; once it has expired, the
 * plan shows a re-invitation (an in-place update of status back to
 * "invited"), and applying it sends a new invitation to the same member.
 * The server runs with a short invitation lifetime for this.
 */
import { e2eEngines, memberByEmail, startHarness, type Harness } from "./harness";

jest.setTimeout(180_000);

/** Long enough for an apply and a plan to finish while the invitation is still pending. */
const INVITATION_TTL_SECONDS = 20;

async function waitForStatus(harness: Harness, email: string, status: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const member = await memberByEmail(harness.client, email);
    if (member.status === status) return;
    if (Date.now() > deadline) throw new Error(`${email} is still "${member.status}" after ${timeoutMs} ms, expected "${status}"`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe.each(e2eEngines())("invitation expiry on %s", (engineName) => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness(engineName, { invitationTtlSeconds: INVITATION_TTL_SECONDS });
  });

  afterAll(async () => {
    await harness?.close();
  });

  test("an expired invitation is planned as a re-invitation of the same member", async () => {
    const ws = harness.workspace("single-member");
    await ws.init();
    await ws.apply();
    const invited = await memberByEmail(harness.client, "carol@example.com");
    expect(invited.status).toBe("invited");
    expect((await ws.planExitCode()).code).toBe(0);

    await waitForStatus(harness, "carol@example.com", "expired", (INVITATION_TTL_SECONDS + 10) * 1000);
    const { changes, drift } = await ws.planChanges();
    expect(changes.map((c) => [c.address, c.change.actions])).toEqual([["postscale_team_member.carol", ["update"]]]);
    expect(changes[0].change.before).toMatchObject({ status: "expired" });
    expect(changes[0].change.after).toMatchObject({ id: invited.id, status: "invited" });
    expect(drift.find((d) => d.address === "postscale_team_member.carol")?.change.after).toMatchObject({ status: "expired" });

    await ws.applyPlan();
    const reinvited = await memberByEmail(harness.client, "carol@example.com");
    expect(reinvited).toMatchObject({ id: invited.id, status: "invited" });
    expect(Date.parse(reinvited.invited_at)).toBeGreaterThan(Date.parse(invited.invited_at));
    const mail = (await harness.client.devMail()).filter((m) => m.to === "carol@example.com" && m.kind === "invitation");
    expect(mail).toHaveLength(2);
    expect((await ws.planExitCode()).code).toBe(0);
    await ws.destroy();
  });
});
