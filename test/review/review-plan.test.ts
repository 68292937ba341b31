import { NO_ACCESS_CHANGES, parsePlanJson, renderJson, renderMarkdown, reviewPlan } from "../../src/review";
import { EXPECTED_OFFBOARDING, EXPECTED_TABLES, PLANTED_SECRET, loadPlan, table } from "./fixtures";

describe("reviewPlan on hand-written plans in the `tofu show -json` format", () => {
  test("new people, grants and a member key are broadening, with emails resolved through config references", () => {
    const review = reviewPlan(loadPlan("hand", "members-added"));
    expect(table(review.rows)).toEqual(EXPECTED_TABLES["members-added"]);
    expect(review.rows.every((r) => r.broadening)).toBe(true);
    expect(review.summary).toMatchObject({ peopleAdded: 2, grantsAdded: 2, keysCreated: 1, broadening: 5 });
    expect(review.broadening).toBe(true);
  });

  test("offboarding lists exactly the grants and member keys destroyed with the person; nothing broadens", () => {
    const review = reviewPlan(loadPlan("hand", "offboarding"));
    expect(review.offboarding).toEqual(EXPECTED_OFFBOARDING);
    expect(review.rows.map((r) => r.sign)).toEqual(["-", "-", "-", "-"]);
    expect(review.broadening).toBe(false);
    expect(review.changes).toBe(true);
    expect(review.rows.some((r) => r.who === "organization")).toBe(false);
  });

  test("role changes and grant widening, narrowing, adding and removal", () => {
    const review = reviewPlan(loadPlan("hand", "roles-and-grants"));
    expect(table(review.rows)).toEqual(EXPECTED_TABLES["roles-and-grants"]);
    expect(review.summary).toMatchObject({ rolesChanged: 2, grantsAdded: 1, grantsWidened: 1, grantsNarrowed: 1, grantsRemoved: 1 });
  });

  test("keys: organization-wide creation and widening are high risk, added domains broaden, removed domains narrow", () => {
    const review = reviewPlan(loadPlan("hand", "keys"));
    expect(review.rows.map((r) => [r.sign, r.who, r.change, r.domain, r.risk, r.reason])).toEqual([
      ["+", "gina@example.com", "key rescoped: gina-ci", "+news.example.com", "medium", "adds news.example.com"],
      ["+", "organization", "key created: backup", "all domains", "high", "new organization-wide key"],
      ["-", "organization", "key revoked: old-script", "shop.example.com", "none", "key revoked"],
      ["+", "organization", "key rescoped: ops", "all domains", "high", "becomes organization-wide"],
      ["-", "organization", "key rescoped: reports", "-app.example.com", "none", "removes app.example.com"],
    ]);
    expect(review.summary).toMatchObject({ keysCreated: 1, keysRescoped: 3, keysRevoked: 1, broadening: 3 });
  });

  test("an email change (replace) reads as the old address leaving and the new one arriving", () => {
    const review = reviewPlan(loadPlan("hand", "replace-email"));
    expect(table(review.rows)).toEqual(EXPECTED_TABLES["replace-email"]);
    expect(review.offboarding.map((o) => o.email)).toEqual(["hal@old.example.com"]);
  });

  test("a plan of no-ops has no access changes and renders as exactly one line", () => {
    const review = reviewPlan(loadPlan("hand", "no-change"));
    expect(review.changes).toBe(false);
    expect(review.rows).toEqual([]);
    expect(renderMarkdown(review)).toBe(`${NO_ACCESS_CHANGES}\n`);
  });

  test("the key secret never reaches markdown or JSON, though the plan carries it in clear", () => {
    for (const name of ["offboarding", "keys", "no-change"]) {
      const plan = loadPlan("hand", name);
      expect(JSON.stringify(plan)).toContain(PLANTED_SECRET);
      const review = reviewPlan(plan);
      expect(renderMarkdown(review)).not.toContain(PLANTED_SECRET);
      expect(renderJson(review)).not.toContain(PLANTED_SECRET);
    }
  });

  test("ids never appear where an email or a domain name is known", () => {
    for (const name of ["members-added", "offboarding", "roles-and-grants", "keys", "replace-email"]) {
      const out = renderJson(reviewPlan(loadPlan("hand", name)));
      expect(out).not.toMatch(/"(m|k)_[a-z0-9]+"|m_[a-z]+\//);
    }
  });

  test("a value marked sensitive is shown as (sensitive), never in clear", () => {
    const plan = loadPlan("hand", "members-added");
    const bob = plan.resource_changes!.find((rc) => rc.address === "postscale_team_member.bob")!;
    bob.change.after_sensitive = { email: true };
    const out = renderMarkdown(reviewPlan(plan));
    expect(out).toContain("| + | (sensitive) | member added |");
    expect(out).not.toMatch(/\| bob@example\.com \| member added/);
  });

  test("unknown values read (known after apply) and an unknown access level counts as broadening", () => {
    const plan = loadPlan("hand", "roles-and-grants");
    const grant = plan.resource_changes!.find((rc) => rc.address === "postscale_domain_access.erin_news")!;
    delete grant.change.after!.access;
    grant.change.after_unknown = { access: true };
    const row = reviewPlan(plan).rows.find((r) => r.address === "postscale_domain_access.erin_news")!;
    expect(row).toMatchObject({ sign: "~", after: "(known after apply)", kind: "grant_changed", broadening: true });
  });

  test("without config references, a grant falls back to its own email, then to the member id", () => {
    const plan = loadPlan("hand", "members-added");
    plan.configuration = {};
    const grant = plan.resource_changes!.find((rc) => rc.address === "postscale_domain_access.bob_app")!;
    expect(reviewPlan(plan).rows.find((r) => r.address === grant.address)!.who).toBe("(known after apply)");
    grant.change.after!.email = "bob@example.com";
    grant.change.after_unknown = { id: true, member_id: true };
    expect(reviewPlan(plan).rows.find((r) => r.address === grant.address)!.who).toBe("bob@example.com");
  });

  test("the order is deterministic: the same plan in any resource order gives the same output", () => {
    const plan = loadPlan("hand", "roles-and-grants");
    const forward = renderMarkdown(reviewPlan(plan));
    plan.resource_changes!.reverse();
    expect(renderMarkdown(reviewPlan(plan))).toBe(forward);
  });

  test("markdown escapes cell content so a name cannot break the table", () => {
    const plan = loadPlan("hand", "members-added");
    plan.resource_changes!.find((rc) => rc.address === "postscale_api_key.bob_ci")!.change.after!.name = "ci|`x`\nnext";
    const line = renderMarkdown(reviewPlan(plan)).split("\n").find((l) => l.includes("key created"))!;
    expect(line).toContain("key created: ci\\|\\`x\\` next");
    expect(line.split(/(?<!\\)\|/).length).toBe(8);
  });

  test("markdown: summary, offboarding first, then the table", () => {
    const md = renderMarkdown(reviewPlan(loadPlan("hand", "offboarding")));
    const lines = md.split("\n");
    expect(lines[2]).toBe("no broadening changes · people: 1 removed · grants: 2 removed · keys: 1 revoked");
    expect(md.indexOf("#### Offboarding")).toBeLessThan(md.indexOf("#### Changes"));
    expect(lines).toContain("- **carol@example.com** (member) leaves and loses:");
    expect(lines).toContain("  - read\\_write on app.example.com");
    expect(lines).toContain("  - API key carol-laptop (app.example.com)");
    expect(lines).toContain("| ± | who | change | domain | before → after | risk |");
    expect(lines).toContain("| - | carol@example.com | member removed | — | member → — | leaves the organization |");
  });

  test("markdown flags broadening in the summary and bolds high risk", () => {
    const md = renderMarkdown(reviewPlan(loadPlan("hand", "members-added")));
    expect(md.split("\n")[2]).toBe("**5 broadening changes** · people: 2 added · grants: 2 added · keys: 1 created");
    expect(md).toContain("| + | alice@example.com | member added | all domains | — → admin | **high**: new admin |");
  });
});

describe("parsePlanJson", () => {
  test("rejects text that is not JSON, naming the source", () => {
    expect(() => parsePlanJson("PK\u0003\u0004", "plan.tfplan")).toThrow(/plan\.tfplan: is not JSON \(this looks like a binary plan file/);
  });
  test("rejects a state (no resource_changes, no planned_values)", () => {
    expect(() => parsePlanJson(JSON.stringify({ format_version: "1.0", values: {} }))).toThrow(/this is a state, not a plan/);
  });
  test("rejects a plan that errored", () => {
    expect(() => parsePlanJson(JSON.stringify({ format_version: "1.2", resource_changes: [], errored: true }))).toThrow(/plan\/errored/);
  });
});
