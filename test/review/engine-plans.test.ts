import { PlanJson, renderJson, renderMarkdown, reviewPlan } from "../../src/review";
import { EXPECTED_OFFBOARDING, EXPECTED_TABLES, loadPlan, table } from "./fixtures";

/**
 * The review on plans the real OpenTofu engine produced against the real
 * server and provider (scripts/make-review-fixtures.mjs): one plan per kind
 * of change, planned in sequence so each starts from the previous state.
 */
const plan = (name: string): PlanJson => loadPlan("engine", name);

/** Every API key secret the plan carries in clear (in before, after or prior state). */
function secrets(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => secrets(v, out));
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === "secret" && typeof v === "string") out.push(v);
      else secrets(v, out);
    }
  }
  return out;
}

describe("reviewPlan on real OpenTofu plans", () => {
  test("members added: emails through config references, all broadening", () => {
    const review = reviewPlan(plan("members-added"));
    expect(table(review.rows)).toEqual(EXPECTED_TABLES["members-added"]);
    expect(review.broadening).toBe(true);
  });

  test("no change: one line", () => {
    const review = reviewPlan(plan("no-change"));
    expect(review.changes).toBe(false);
    expect(renderMarkdown(review)).toBe("No access changes.\n");
  });

  test("offboarding: the person, their grants and their key", () => {
    const review = reviewPlan(plan("offboarding"));
    expect(review.offboarding).toEqual(EXPECTED_OFFBOARDING);
    expect(review.broadening).toBe(false);
  });

  test("role changes and grants widened, narrowed, added, removed", () => {
    expect(table(reviewPlan(plan("roles-and-grants")).rows)).toEqual(EXPECTED_TABLES["roles-and-grants"]);
  });

  test("keys created (organization-wide), rescoped both ways, revoked", () => {
    expect(reviewPlan(plan("keys")).rows.map((r) => [r.sign, r.who, r.change, r.domain, r.risk])).toEqual([
      ["+", "gina@example.com", "key rescoped: gina-ci", "+news.example.com", "medium"],
      ["+", "organization", "key created: backup", "all domains", "high"],
      ["-", "organization", "key revoked: old-script", "shop.example.com", "none"],
      ["-", "organization", "key rescoped: reports", "-app.example.com", "none"],
    ]);
  });

  test("email change replaces the member: old address offboarded, new one added", () => {
    const review = reviewPlan(plan("replace-email"));
    expect(table(review.rows)).toEqual(EXPECTED_TABLES["replace-email"]);
    expect(review.offboarding.map((o) => o.email)).toEqual(["hal@old.example.com"]);
  });

  test("no secret the engine put in a plan reaches the review", () => {
    let seen = 0;
    for (const name of ["members-added", "no-change", "offboarding", "roles-and-grants", "keys", "replace-email"]) {
      const p = plan(name);
      const found = secrets(p);
      seen += found.length;
      const review = reviewPlan(p);
      const out = renderMarkdown(review) + renderJson(review);
      for (const secret of found) expect(out).not.toContain(secret);
    }
    expect(seen).toBeGreaterThan(0);
  });

  test("member ids never appear in the review: emails only", () => {
    for (const name of ["offboarding", "roles-and-grants", "keys", "replace-email"]) {
      const p = plan(name);
      const ids = (p.prior_state?.values?.root_module?.resources ?? []).filter((r) => r.type === "postscale_team_member").map((r) => String(r.values?.id));
      expect(ids.length).toBeGreaterThan(0);
      const out = renderMarkdown(reviewPlan(p));
      for (const id of ids) expect(out).not.toContain(id);
    }
  });
});
