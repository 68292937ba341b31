import { PlanJson, ResourceChange, renderJson, renderMarkdown, reviewPlan } from "../../src/review";
import type { StateModule } from "../../src/review/plan-json";
import { loadPlan } from "./fixtures";

/**
 * Offboarding lists the keys the person leaving created that survive them
 * ("rotate: created by the person leaving"): they may know those secrets,
 * and the server does not revoke a key when its creator leaves. The plans
 * are the real OpenTofu ones (test/review/fixtures/engine), with
 * `created_by` set in memory as the provider now records it.
 */

/** The person whose credential created every key unless a test says otherwise; not in the plan. */
const OWNER_ID = "mem_owner0000000000000000000";

function modules(plan: PlanJson): StateModule[] {
  const walk = (m: StateModule | undefined): StateModule[] => (m ? [m, ...(m.child_modules ?? []).flatMap(walk)] : []);
  return [...walk(plan.prior_state?.values?.root_module), ...walk(plan.planned_values?.root_module)];
}

function change(plan: PlanJson, address: string): ResourceChange {
  const rc = plan.resource_changes!.find((r) => r.address === address);
  if (!rc) throw new Error(`no resource change ${address}`);
  return rc;
}

/** The member id of a `postscale_team_member` before the plan. */
function memberId(plan: PlanJson, name: string): string {
  return change(plan, `postscale_team_member.${name}`).change.before!.id as string;
}

/** Records `creator` as the key's `created_by` wherever the plan carries the key: before, after, prior state, planned values. */
function setCreator(plan: PlanJson, address: string, creator: string | null): void {
  const rc = plan.resource_changes!.find((r) => r.address === address);
  if (rc?.change.before) rc.change.before.created_by = creator;
  if (rc?.change.after) rc.change.after.created_by = creator;
  for (const m of modules(plan)) for (const r of m.resources ?? []) if (r.address === address && r.values) r.values.created_by = creator;
}

/** An engine plan where the owner created every key, as the provider records it. */
function plan(name: string): PlanJson {
  const p = loadPlan("engine", name);
  for (const rc of p.resource_changes!) if (rc.type === "postscale_api_key") setCreator(p, rc.address, OWNER_ID);
  return p;
}

const deploy = { name: "deploy", holder: "organization", domains: "organization-wide", address: "postscale_api_key.deploy" };
const bobCi = { name: "bob-ci", holder: "bob@example.com", domains: "app.example.com", address: "postscale_api_key.bob_ci" };

describe("offboarding: keys the person leaving created that survive them", () => {
  test("an organization key and another person's key are listed; their own key (revoked with them) and keys others created are not", () => {
    const p = plan("offboarding");
    const carol = memberId(p, "carol");
    for (const key of ["deploy", "bob_ci", "carol_laptop"]) setCreator(p, `postscale_api_key.${key}`, carol);
    const review = reviewPlan(p);
    expect(review.offboarding).toEqual([
      expect.objectContaining({ email: "carol@example.com", keys: [{ name: "carol-laptop", domains: "app.example.com" }], rotate: [bobCi, deploy] }),
    ]);
    // Nothing to rotate is a change the plan makes: the rows and the gate are those of the plan without created_by.
    const without = reviewPlan(loadPlan("engine", "offboarding"));
    expect(review.rows).toEqual(without.rows);
    expect(review.summary).toEqual(without.summary);
    expect(review.broadening).toBe(false);
    expect(without.offboarding[0].rotate).toEqual([]);

    const lines = renderMarkdown(review).split("\n");
    const carolAt = lines.indexOf("- **carol@example.com** (member) leaves and loses:");
    expect(lines.slice(carolAt + 1, carolAt + 6)).toEqual([
      "  - read\\_write on app.example.com",
      "  - read on news.example.com",
      "  - API key carol-laptop (app.example.com)",
      "  - rotate: API key bob-ci (held by bob@example.com, app.example.com): created by the person leaving",
      "  - rotate: API key deploy (held by the organization, organization-wide): created by the person leaving",
    ]);
    expect(JSON.parse(renderJson(review)).offboarding[0].rotate.map((k: { name: string }) => k.name)).toEqual(["bob-ci", "deploy"]);
    // The creator is named by email in the person line; their member id never reaches the output.
    expect(renderMarkdown(review) + renderJson(review)).not.toContain(carol);
  });

  test("a key this plan destroys or replaces is not listed (it is revoked, or gets a new secret); a key updated in place still is", () => {
    const p = plan("offboarding");
    const carol = memberId(p, "carol");
    for (const key of ["gina_ci", "old_script", "reports"]) setCreator(p, `postscale_api_key.${key}`, carol);
    const gina = change(p, "postscale_api_key.gina_ci").change;
    gina.actions = ["delete", "create"];
    gina.after = { ...gina.after! };
    for (const computed of ["id", "secret", "prefix", "created_at", "created_by"]) delete gina.after[computed];
    gina.after_unknown = { id: true, secret: true, prefix: true, created_at: true, created_by: true };
    const oldScript = change(p, "postscale_api_key.old_script").change;
    oldScript.actions = ["delete"];
    oldScript.after = null;
    const reports = change(p, "postscale_api_key.reports").change;
    reports.actions = ["update"];
    reports.after = { ...reports.after!, name: "reports-v2" };

    const review = reviewPlan(p);
    expect(review.offboarding[0].rotate).toEqual([{ name: "reports-v2", holder: "organization", domains: "app.example.com, news.example.com", address: "postscale_api_key.reports" }]);
  });

  test("a key the plan does not list is read from the prior state", () => {
    const p = plan("offboarding");
    setCreator(p, "postscale_api_key.deploy", memberId(p, "carol"));
    p.resource_changes = p.resource_changes!.filter((rc) => rc.address !== "postscale_api_key.deploy");
    expect(reviewPlan(p).offboarding[0].rotate).toEqual([deploy]);
  });

  test("a key held by someone else leaving in the same plan goes with its holder; each person gets their own list", () => {
    const p = plan("offboarding");
    const carol = memberId(p, "carol");
    const bob = change(p, "postscale_team_member.bob").change;
    bob.actions = ["delete"];
    bob.after = null;
    setCreator(p, "postscale_api_key.bob_ci", carol);
    setCreator(p, "postscale_api_key.deploy", memberId(p, "bob"));
    setCreator(p, "postscale_api_key.gina_ci", carol);
    const review = reviewPlan(p);
    expect(review.offboarding.map((o) => [o.email, o.rotate.map((k) => k.name)])).toEqual([
      ["bob@example.com", ["deploy"]],
      ["carol@example.com", ["gina-ci"]],
    ]);
  });

  test("an email change offboards the old address with the keys its member id created", () => {
    const p = plan("replace-email");
    setCreator(p, "postscale_api_key.deploy", memberId(p, "hal"));
    const review = reviewPlan(p);
    expect(review.offboarding).toEqual([expect.objectContaining({ email: "hal@old.example.com", rotate: [deploy] })]);
    expect(renderMarkdown(review)).toContain(
      "- **hal@old.example.com** (member) leaves and loses:\n  - read\\_write on app.example.com\n  - rotate: API key deploy (held by the organization, organization-wide): created by the person leaving\n",
    );
  });

  test("a person with nothing else changing still gets the keys to rotate under their name", () => {
    const p = plan("offboarding");
    setCreator(p, "postscale_api_key.deploy", memberId(p, "carol"));
    p.resource_changes = p.resource_changes!.filter((rc) => rc.type !== "postscale_domain_access" && rc.address !== "postscale_api_key.carol_laptop");
    expect(renderMarkdown(reviewPlan(p))).toContain(
      "- **carol@example.com** (member) leaves; no grants or keys of theirs change in this plan.\n  - rotate: API key deploy (held by the organization, organization-wide): created by the person leaving\n",
    );
  });

  test("keys without a recorded creator, and plans where nobody leaves, list nothing", () => {
    const p = loadPlan("engine", "offboarding");
    for (const rc of p.resource_changes!) if (rc.type === "postscale_api_key") setCreator(p, rc.address, null);
    expect(reviewPlan(p).offboarding[0].rotate).toEqual([]);
    for (const name of ["members-added", "no-change", "roles-and-grants", "keys"]) expect(reviewPlan(plan(name)).offboarding).toEqual([]);
  });
});
