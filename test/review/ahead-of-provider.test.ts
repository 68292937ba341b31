import { PlanJson, ResourceChange, gateFails, parsePlanJson, renderJson, renderMarkdown, reviewPlan } from "../../src/review";
import { loadPlan } from "./fixtures";

/**
 * Hand-written plans for what the provider cannot produce yet (attributes
 * and resources other work is adding: `rotation_trigger`,
 * `secret_wo_version`, `secret_rotated_at`, `rotate_every`, ephemeral
 * `postscale_api_key`, `postscale_undeclared_access`), made by editing a
 * real OpenTofu plan in memory. When the provider produces them, real-engine
 * fixtures should replace these.
 */

function change(plan: PlanJson, address: string): ResourceChange {
  const rc = plan.resource_changes!.find((r) => r.address === address);
  if (!rc) throw new Error(`no resource change ${address}`);
  return rc;
}

/** The no-change engine plan with one key updated in place: `before` and `after` edited by the test. */
function keyUpdate(edit: (before: Record<string, unknown>, after: Record<string, unknown>, rc: ResourceChange) => void): PlanJson {
  const plan = loadPlan("engine", "no-change");
  const rc = change(plan, "postscale_api_key.deploy");
  rc.change.actions = ["update"];
  rc.change.before = { ...rc.change.before! };
  rc.change.after = { ...rc.change.after! };
  edit(rc.change.before, rc.change.after, rc);
  return plan;
}

describe("hand-written plans for what the provider cannot produce yet: key rotation attributes", () => {
  test("a new rotation_trigger rotates the secret in place: one row, not broadening, the new prefix unknown", () => {
    const plan = keyUpdate((before, after, rc) => {
      before.rotation_trigger = "2026-01";
      after.rotation_trigger = "2026-04";
      delete after.prefix;
      delete after.secret;
      rc.change.after_unknown = { prefix: true, secret: true, secret_rotated_at: true };
    });
    const review = reviewPlan(plan);
    expect(review.rows).toEqual([
      expect.objectContaining({ sign: "~", who: "organization", change: "key rotated: deploy", kind: "key_rotated", before: expect.stringMatching(/^ps_/), after: "new", reason: "rotation_trigger changed; changes in place", broadening: false, expires: "never" }),
    ]);
    expect(gateFails(review, "broadening")).toBe(false);
    expect(gateFails(review, "any")).toBe(true);
  });

  test("a trigger read from another resource (unknown until apply) is a rotation too", () => {
    const review = reviewPlan(keyUpdate((before, after, rc) => {
      before.rotation_trigger = "a";
      delete after.rotation_trigger;
      rc.change.after_unknown = { rotation_trigger: true };
    }));
    expect(review.rows.map((r) => r.kind)).toEqual(["key_rotated"]);
  });

  test("a secret_wo_version bump is 'secret rotated' (write-only key material, no secret in the plan)", () => {
    const review = reviewPlan(keyUpdate((before, after) => {
      before.secret_wo_version = 1;
      after.secret_wo_version = 2;
      before.secret = null;
      after.secret = null;
    }));
    expect(review.rows).toEqual([expect.objectContaining({ change: "key rotated: deploy", reason: "secret rotated (secret_wo_version 1 → 2); changes in place" })]);
  });

  test("a computed secret_rotated_at that changes is a rotation; unchanged rotation attributes are not", () => {
    expect(reviewPlan(keyUpdate((before, after) => {
      before.secret_rotated_at = "2026-01-01T00:00:00Z";
      after.secret_rotated_at = "2026-04-01T00:00:00Z";
    })).rows.map((r) => r.reason)).toEqual(["secret rotated; changes in place"]);
    expect(reviewPlan(keyUpdate((before, after) => {
      before.rotation_trigger = after.rotation_trigger = "x";
      before.secret_wo_version = after.secret_wo_version = 3;
      after.name = "deploy-v2";
    })).rows.map((r) => r.kind)).toEqual(["key_renamed"]);
  });

  test("rotate_every is shown on the key's rows, and dropping it is its own row", () => {
    const review = reviewPlan(keyUpdate((before, after) => {
      before.rotate_every = "90d";
      after.rotate_every = null;
    }));
    expect(review.rows).toEqual([expect.objectContaining({ change: "key rotation changed: deploy", before: "90d", after: "never", reason: "no longer rotates on a schedule", broadening: false })]);
    const created = loadPlan("engine", "keys");
    change(created, "postscale_api_key.backup").change.after!.rotate_every = "30d";
    expect(reviewPlan(created).rows.find((r) => r.key === "backup")!.notes).toEqual(["rotates every 30d"]);
  });

  test("a rotation left half done (a deposed old key and the new one) is one row", () => {
    const plan = loadPlan("engine", "rotation");
    const rc = change(plan, "postscale_api_key.deploy");
    const deposed: ResourceChange = { ...rc, deposed: "00000001", change: { ...rc.change, actions: ["delete"], after: null } };
    rc.change = { ...rc.change, actions: ["create"], before: null };
    plan.resource_changes!.push(deposed);
    const rows = reviewPlan(plan).rows.filter((r) => r.key === "deploy");
    expect(rows.map((r) => [r.change, r.reason])).toEqual([["key rotated: deploy", "requested (-replace); the new key exists before the old one is revoked"]]);
  });

  test("a key rotated in place is not listed to rotate when its creator leaves: it gets a new secret", () => {
    const plan = loadPlan("engine", "offboarding");
    const carol = change(plan, "postscale_team_member.carol").change.before!.id;
    const deploy = change(plan, "postscale_api_key.deploy").change;
    deploy.actions = ["update"];
    deploy.before = { ...deploy.before!, created_by: carol, rotation_trigger: "a" };
    deploy.after = { ...deploy.after!, created_by: carol, rotation_trigger: "b" };
    expect(reviewPlan(plan).offboarding[0].rotate).toEqual([]);
  });
});

describe("hand-written plans for what the provider cannot produce yet: ephemeral keys", () => {
  test("mode ephemeral entries (before and after null, no change object) never fail; they are listed as short-lived keys", () => {
    const plan = JSON.parse(JSON.stringify(loadPlan("engine", "no-change")));
    plan.resource_changes.push({ address: "ephemeral.postscale_api_key.run", mode: "ephemeral", type: "postscale_api_key", name: "run" });
    plan.resource_changes.push({ address: "ephemeral.postscale_api_key.ci", mode: "ephemeral", type: "postscale_api_key", name: "ci", change: { actions: ["open"], before: null, after: null } });
    plan.configuration.root_module.resources.push({
      address: "ephemeral.postscale_api_key.ci", mode: "ephemeral", type: "postscale_api_key", name: "ci",
      expressions: { name_prefix: { constant_value: "ci-run" }, owner: { constant_value: "member" }, member_id: { references: ["postscale_team_member.bob.id", "postscale_team_member.bob"] } },
    });
    const review = reviewPlan(parsePlanJson(JSON.stringify(plan)));
    expect(review.changes).toBe(false);
    expect(review.ephemeralKeys).toEqual([
      { who: "bob@example.com", name: "ci-run", address: "ephemeral.postscale_api_key.ci" },
      { who: "(holder known at run time)", name: "run", address: "ephemeral.postscale_api_key.run" },
    ]);
    expect(renderMarkdown(review)).toBe(
      "### Postscale access review\n\nno broadening changes\n\n#### Short-lived keys for this run\n\n- ci-run (held by bob@example.com): revoked when the run ends, never in state\n- run (held by (holder known at run time)): revoked when the run ends, never in state\n",
    );
  });

  test("an ephemeral key only in the configuration (no resource change) is listed too", () => {
    const plan = loadPlan("engine", "no-change");
    plan.configuration!.root_module!.resources!.push({ address: "ephemeral.postscale_api_key.deploy", mode: "ephemeral", type: "postscale_api_key", name: "deploy", expressions: { owner: { constant_value: "organization" } } });
    expect(reviewPlan(plan).ephemeralKeys).toEqual([{ who: "organization", name: "deploy", address: "ephemeral.postscale_api_key.deploy" }]);
  });
});

describe("hand-written plans for what the provider cannot produce yet: postscale_undeclared_access", () => {
  /** The no-change plan with a postscale_undeclared_access resource that found the given access. */
  function undeclared(remove: boolean, found: Record<string, unknown[]>, after?: Record<string, unknown[]>): PlanJson {
    const plan = loadPlan("engine", "no-change");
    const before = { id: "org_1", remove, members: [], grants: [], keys: [], ...found };
    plan.resource_changes!.push({
      address: "postscale_undeclared_access.team", mode: "managed", type: "postscale_undeclared_access", name: "team",
      change: { actions: remove ? ["update"] : ["no-op"], before, after: { ...before, ...(remove ? { members: [], grants: [], keys: [] } : {}), ...after }, after_unknown: {}, before_sensitive: {}, after_sensitive: {} },
    });
    return plan;
  }
  const found = { members: ["mallory@example.com"], grants: ["mallory@example.com/app.example.com", "bob@example.com/shop.example.com"], keys: ["organization/legacy-ci", "bob@example.com/laptop"] };

  test("remove = true: each piece is a narrowing row, person by person; the broadening gate stays open, the any gate trips", () => {
    const review = reviewPlan(undeclared(true, found));
    expect(review.rows.map((r) => [r.sign, r.who, r.change, r.domain, `${r.before} → ${r.after}`])).toEqual([
      ["-", "bob@example.com", "grant added outside the code — will be removed", "shop.example.com", "access → —"],
      ["-", "bob@example.com", "key: laptop added outside the code — will be removed", "—", "key → —"],
      ["-", "mallory@example.com", "member added outside the code — will be removed", "—", "member → —"],
      ["-", "mallory@example.com", "grant added outside the code — will be removed", "app.example.com", "access → —"],
      ["-", "organization", "key: legacy-ci added outside the code — will be removed", "—", "key → —"],
    ]);
    expect(review.summary.undeclaredRemoved).toBe(5);
    expect(gateFails(review, "broadening")).toBe(false);
    expect(gateFails(review, "any")).toBe(true);
  });

  test("remove = false: listed as added outside the code — not managed, and no access change", () => {
    const review = reviewPlan(undeclared(false, found));
    expect(review.changes).toBe(false);
    expect(renderMarkdown(review)).toContain(
      "#### Added outside the code — not managed\n\n- bob@example.com: grant (access) on shop.example.com\n- bob@example.com: key: laptop (key)\n- mallory@example.com: grant (access) on app.example.com\n- mallory@example.com: member (member)\n- organization: key: legacy-ci (key)\n",
    );
  });

  test("its schema is read defensively: objects with ids are resolved to emails, ids never shown; unknown sets do not fail", () => {
    const plan = loadPlan("engine", "no-change");
    const bobId = change(plan, "postscale_team_member.bob").change.before!.id as string;
    const weird = undeclared(true, { members: [{ member_id: bobId, role: "admin", id: "mem_secretid" }], grants: [{ member_id: "mem_unknown", domain: "app.example.com", access: "read_write" }], keys: [42] });
    const review = reviewPlan(weird);
    expect(review.rows.map((r) => [r.who, r.change, r.domain, r.before])).toEqual([
      ["bob@example.com", "member added outside the code — will be removed", "all domains", "admin"],
      ["(not named in the plan)", "grant added outside the code — will be removed", "app.example.com", "read_write"],
      ["(not named in the plan)", "key: (not named in the plan) added outside the code — will be removed", "—", "key"],
    ]);
    const out = renderMarkdown(review) + renderJson(review);
    expect(out).not.toContain("mem_");
    const unknown = undeclared(true, {});
    const rc = change(unknown, "postscale_undeclared_access.team");
    delete rc.change.before!.members;
    delete rc.change.after!.members;
    rc.change.after_unknown = { members: true };
    expect(reviewPlan(unknown).rows.map((r) => [r.who, r.change])).toEqual([["(known after apply)", "members added outside the code — will be removed"]]);
  });
});
