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
    for (const name of ["members-added", "no-change", "offboarding", "roles-and-grants", "keys", "replace-email", "drift", "import", "rotation", "new-people"]) {
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
    for (const name of ["offboarding", "roles-and-grants", "keys", "replace-email", "drift", "import", "rotation", "new-people"]) {
      const p = plan(name);
      const ids = (p.prior_state?.values?.root_module?.resources ?? []).filter((r) => r.type === "postscale_team_member").map((r) => String(r.values?.id));
      expect(ids.length).toBeGreaterThan(0);
      const out = renderMarkdown(reviewPlan(p));
      for (const id of ids) expect(out).not.toContain(id);
    }
  });

  test("drift: grants changed in the dashboard are shown as such, and the rows that put them back say so", () => {
    const review = reviewPlan(plan("drift"));
    expect(review.drift).toEqual([
      { who: "erin@example.com", change: "grant widened", domain: "news.example.com", before: "read", after: "read_write", reverted: true, address: "postscale_domain_access.erin_news" },
      { who: "gina@example.com", change: "grant removed", domain: "app.example.com", before: "read_write", after: "—", reverted: true, address: "postscale_domain_access.gina_app" },
    ]);
    expect(table(review.rows)).toEqual([
      ["-", "erin@example.com", "grant narrowed", "news.example.com", "read_write → read", "none"],
      ["+", "gina@example.com", "grant added", "app.example.com", "— → read_write", "medium"],
    ]);
    expect(review.rows.every((r) => r.notes?.includes("undoes a change made outside the code"))).toBe(true);
    const md = renderMarkdown(review);
    expect(md).toContain("#### Changed outside the code\n\n- erin@example.com: grant widened on news.example.com (read → read\\_write); this plan puts it back\n");
    expect(review.summary.drifted).toBe(2);
  });

  test("import: access that exists becomes managed; no access change, so the gates stay open", () => {
    const review = reviewPlan(plan("import"));
    expect(review.imports).toEqual([
      { who: "ivan@example.com", change: "member imported", domain: "—", value: "member", address: "postscale_team_member.ivan" },
      { who: "ivan@example.com", change: "grant imported", domain: "shop.example.com", value: "read", address: "postscale_domain_access.ivan_shop" },
    ]);
    expect(review.changes).toBe(false);
    expect(renderMarkdown(review)).toBe(
      "### Postscale access review\n\nno broadening changes · imports: 2\n\n#### Imported\n\n- ivan@example.com: member imported (member)\n- ivan@example.com: grant imported (read) on shop.example.com\n",
    );
  });

  test("rotation: -replace of a key is one row, old prefix → new, and is not broadening; create_before_destroy says the new key comes first", () => {
    const p = plan("rotation");
    const prefix = (address: string): string => p.resource_changes!.find((rc) => rc.address === address)!.change.before!.prefix as string;
    const review = reviewPlan(p);
    expect(review.rows.map((r) => [r.sign, r.who, r.change, r.before, r.after, r.broadening])).toEqual([
      ["~", "bob@example.com", "key rotated: bob-ci", prefix("postscale_api_key.bob_ci"), "new", false],
      ["~", "organization", "key rotated: deploy", prefix("postscale_api_key.deploy"), "new", false],
    ]);
    expect(review.rows[0].reason).toBe("requested (-replace); the old key is revoked before the new one exists: clients fail until they get the new secret");
    expect(review.rows[1].reason).toBe("requested (-replace); the new key exists before the old one is revoked");
    expect(review.broadening).toBe(false);
    expect(review.summary.keysRotated).toBe(2);
  });

  test("new people: a likely typo of an existing email, an unusual domain, an auto-scoped key resolved from the plan's grants, and a key that works once its holder joins", () => {
    const review = reviewPlan(plan("new-people"));
    expect(review.hints.map((h) => [h.email, h.kind, h.similarTo])).toEqual([
      ["erin@exmaple.com", "likely_typo", "erin@example.com"],
      ["erin@exmaple.com", "unusual_domain", undefined],
      ["kim@gmail.com", "unusual_domain", undefined],
    ]);
    const key = review.rows.find((r) => r.key === "kim-ci")!;
    expect(key).toMatchObject({ who: "kim@gmail.com", domain: "shop.example.com", after: "shop.example.com", expires: "never", notes: ["auto-scoped at creation", "works once kim@gmail.com joins"] });
    const md = renderMarkdown(review);
    expect(md).toContain("#### Check these emails\n\n- **erin@exmaple.com**: looks like erin@example.com (an existing member): check the spelling before the invitation goes out\n");
    expect(md).toContain("| + | kim@gmail.com | key created: kim-ci | shop.example.com | — → shop.example.com | medium: new key · **never expires** · auto-scoped at creation · works once kim@gmail.com joins |");
    // Person by person: kim's member row, grant and key together.
    expect(review.rows.filter((r) => r.who === "kim@gmail.com").map((r) => r.kind)).toEqual(["member_added", "grant_added", "key_created"]);
  });
});
