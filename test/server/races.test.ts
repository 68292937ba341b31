/**
 * Authorization where the write happens: writes racing a change of the
 * caller's standing (a demotion, a grant removal, an offboarding, a key
 * revocation) never commit after that change, and concurrent ownership
 * transfers leave one owner and one 200. The oracle is the audit log's
 * order, which is the commit order of writes in one organization.
 */
import { APP, BACKENDS, uniqueEmail, useServer, type Person, type TestServer } from "../helpers/server";
import { Caller, type HttpResponse, ok } from "../helpers/http";

const RACERS = 20;

interface AuditEvent {
  id: string;
  action: string;
  target: string | null;
}

async function auditLog(s: TestServer): Promise<AuditEvent[]> {
  return ok(await s.owner.get("/v1/audit-events?limit=1000")).data;
}

/**
 * Fires `RACERS` writes and, in the middle of them, the change; returns the
 * writes' responses and the change's. Every racer is in flight when the
 * change is sent.
 */
async function race(write: (i: number) => Promise<HttpResponse>, change: () => Promise<HttpResponse>) {
  const writes: Promise<HttpResponse>[] = [];
  for (let i = 0; i < RACERS / 2; i++) writes.push(write(i));
  const changed = change();
  for (let i = RACERS / 2; i < RACERS; i++) writes.push(write(i));
  return { writes: await Promise.all(writes), changed: await changed };
}

/** Each successful write's audit event is older than the change's (the log is newest first). */
function expectNothingAfter(log: AuditEvent[], changeAction: string, changeTarget: string, writes: HttpResponse[], targetOf: (body: { id: string }) => string) {
  const changeAt = log.findIndex((e) => e.action === changeAction && e.target === changeTarget);
  expect(changeAt).toBeGreaterThanOrEqual(0);
  for (const res of writes) {
    expect(res.status).toBeLessThan(500);
    if (res.status >= 300) {
      expect([401, 403, 404]).toContain(res.status);
      continue;
    }
    const at = log.findIndex((e) => e.target === targetOf(res.body));
    expect(at).toBeGreaterThan(changeAt);
  }
  // Writes after the change must be refused: at least the ones sent after it usually are, but
  // the assertion that matters is above; this one only checks the race was a race.
  return writes.filter((r) => r.status < 300).length;
}

describe.each(BACKENDS)("writes racing a change on %s", (backend) => {
  const server = useServer(backend);

  test("invitations by an admin racing their demotion: none commits after it", async () => {
    const s = server();
    const admin = await s.onboard(uniqueEmail("racing-admin"), "admin");
    const { writes, changed } = await race(
      () => admin.api.post("/v1/team/members", { email: uniqueEmail("raced"), role: "member" }),
      () => s.owner.patch(`/v1/team/members/${admin.id}`, { role: "member" }),
    );
    ok(changed);
    expectNothingAfter(await auditLog(s), "team.member.update", `member:${admin.id}`, writes, (m) => `member:${m.id}`);
    expect((await admin.api.post("/v1/team/members", { email: uniqueEmail("late"), role: "member" })).status).toBe(403);
  });

  test("alias writes with a member's key racing the removal of the grant: none commits after it", async () => {
    const s = server();
    const member = await s.onboard(uniqueEmail("racing-member"), "member", [{ domain: APP, access: "read_write" }]);
    const key = s.as((await s.createKey(member.api, { name: "racer", owner: "member" })).secret);
    const { writes, changed } = await race(
      (i) => key.post(`/v1/domains/${APP}/aliases`, { address: `grant-race-${i}-${Date.now()}`, forward_to: ["x@example.com"] }),
      () => s.owner.delete(`/v1/team/members/${member.id}/domain-access/${APP}`),
    );
    expect(changed.status).toBe(204);
    expectNothingAfter(await auditLog(s), "team.domain_access.revoke", `member:${member.id}/domain:${APP}`, writes, (a) => `domain:${APP}/alias:${a.id}`);
  });

  test("alias writes with a session racing the person's offboarding: none commits after it", async () => {
    const s = server();
    const member = await s.onboard(uniqueEmail("leaving"), "member", [{ domain: APP, access: "read_write" }]);
    const { writes, changed } = await race(
      (i) => member.api.post(`/v1/domains/${APP}/aliases`, { address: `offboard-race-${i}-${Date.now()}`, forward_to: ["x@example.com"] }),
      () => s.owner.delete(`/v1/team/members/${member.id}`),
    );
    expect(changed.status).toBe(204);
    expectNothingAfter(await auditLog(s), "team.member.remove", `member:${member.id}`, writes, (a) => `domain:${APP}/alias:${a.id}`);
    expect((await member.api.get("/v1/me")).status).toBe(401);
  });

  test("alias writes with a key racing its revocation: none commits after it", async () => {
    const s = server();
    const member = await s.onboard(uniqueEmail("revoked"), "member", [{ domain: APP, access: "read_write" }]);
    const created = await s.createKey(member.api, { name: "doomed", owner: "member" });
    const key = s.as(created.secret);
    const { writes, changed } = await race(
      (i) => key.post(`/v1/domains/${APP}/aliases`, { address: `revoke-race-${i}-${Date.now()}`, forward_to: ["x@example.com"] }),
      () => s.owner.delete(`/v1/api-keys/${created.id}`),
    );
    expect(changed.status).toBe(204);
    expectNothingAfter(await auditLog(s), "api_key.delete", `api_key:${created.id}`, writes, (a) => `domain:${APP}/alias:${a.id}`);
  });

  test(`${RACERS} concurrent ownership transfers: exactly one 200 and one owner`, async () => {
    const s = server();
    const targets: Person[] = [];
    for (let i = 0; i < 4; i++) targets.push(await s.onboard(uniqueEmail(`heir-${i}`), "admin"));
    const owner = await s.ownerSession();
    const results = await Promise.all(
      Array.from({ length: RACERS }, (_, i) => owner.post("/v1/organization/transfer-ownership", { member_id: targets[i % targets.length].id })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((st) => st === 200)).toHaveLength(1);
    expect(statuses.every((st) => st === 200 || st === 403)).toBe(true);
    const members = ok(await new Caller(s.url, targets[0].session).get("/v1/team/members?limit=1000")).data;
    const owners = members.filter((m: { role: string }) => m.role === "owner");
    expect(owners).toHaveLength(1);
    const winner = results.find((r) => r.status === 200)!.body.owner.id;
    expect(owners[0].id).toBe(winner);
  });
});
