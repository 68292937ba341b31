import { importCount, planExport } from "../../src/export/model";
import { summaryLines } from "../../src/export/readme";
import { SNAPSHOT } from "./fixtures";

describe("planExport", () => {
  const plan = planExport(SNAPSHOT);

  test("declares admins then members, each by email, pending invitations included; records the owner", () => {
    expect(plan.people.map((p) => `${p.member.role} ${p.member.email} ${p.member.status}`)).toEqual([
      "admin lead@acme.test invited",
      "admin ops@acme.test active",
      "member dev@acme.test active",
      "member new@acme.test invited",
    ]);
    expect(plan.owner?.email).toBe("owner@acme.test");
    expect(plan.expired.map((p) => p.member.email)).toEqual(["late@acme.test"]);
  });

  test("gives people their keys, the organization its keys by name, and never manages the owner's", () => {
    expect(plan.people.map((p) => [p.member.email, p.keys.map((k) => k.name)])).toEqual([
      ["lead@acme.test", []],
      ["ops@acme.test", ["deploy"]],
      ["dev@acme.test", ["ci"]],
      ["new@acme.test", []],
    ]);
    expect(plan.serviceKeys.map((k) => k.name)).toEqual(["mailer", "monitoring"]);
    expect(plan.unmanagedKeys.map((u) => [u.key.name, u.reason])).toEqual([["bootstrap", "held by the owner, who is never managed"]]);
  });

  test("counts one import per member, grant and key declared", () => {
    // 4 people, 3 grants (dev 2, new 1), 2 member keys, 2 service keys.
    expect(importCount(plan)).toBe(11);
    expect(summaryLines(plan)[0]).toBe("4 people (2 with an invitation pending), 4 keys: 11 to import.");
  });

  test("does not declare a member's key the constructs would refuse: domains no longer writable and none writable now", () => {
    const snapshot = {
      ...SNAPSHOT,
      keys: [...SNAPSHOT.keys, { ...SNAPSHOT.keys[0], id: "key_old0", name: "old", memberId: "m_new", domains: ["acme.com"] }],
    };
    const unmanaged = planExport(snapshot).unmanagedKeys.map((u) => u.key.name);
    expect(unmanaged).toEqual(["bootstrap", "old"]);
  });

  test("is the same for the same organization read in another order", () => {
    const shuffled = { ...SNAPSHOT, members: [...SNAPSHOT.members].reverse(), keys: [...SNAPSHOT.keys].reverse() };
    expect(planExport(shuffled)).toEqual({ ...plan, snapshot: shuffled });
  });
});
