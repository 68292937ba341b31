import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { register } from "../../src/cli/review.command";
import type { InvariantRule } from "../../src/policy";
import { plannedAccess, renderJson, renderMarkdown, reviewPlan } from "../../src/review";
import { runCommand } from "../helpers/cli";
import { fixturePath, loadPlan } from "./fixtures";

/**
 * Access rules in the review, on plans the real OpenTofu engine made
 * (scripts/make-review-fixtures.mjs). In `contractor`, plain HCL (no
 * constructs) adds lee@contractors.example.com with read_write on
 * app.example.com.
 */
const NOW = new Date("2026-07-01T00:00:00Z");

const CONTRACTORS: InvariantRule = { name: "contractors never write", kind: "never", people: ["*@contractors.example.com"], access: "read_write", message: "Contractors never get read_write." };
const RULES: InvariantRule[] = [
  CONTRACTORS,
  { name: "at most 3 admins", kind: "at_most", role: "admin", max: 3 },
  { name: "keys expire", kind: "keys_expire", within: "90d", except: ["organization/deploy", "organization/reports"] },
  { name: "owned domains", kind: "every_domain_has_writer" },
  { name: "scoped keys", kind: "no_organization_wide_keys", except: ["organization/deploy"] },
];

describe("the access after a real plan", () => {
  test("people, grants and keys as applying the plan leaves them, auto-scoped keys resolved", () => {
    const plan = loadPlan("engine", "contractor");
    const after = plannedAccess(plan, "after");
    const before = plannedAccess(plan, "before");
    expect(after.people.find((p) => p.email === "lee@contractors.example.com")).toEqual({ email: "lee@contractors.example.com", role: "member", status: "invited", grants: { "app.example.com": "read_write" }, address: "postscale_team_member.lee" });
    expect(before.people.find((p) => p.email === "lee@contractors.example.com")).toBeUndefined();
    expect(after.people.find((p) => p.email === "dave@example.com")).toMatchObject({ role: "admin", status: "invited", grants: {} });
    expect(after.keys.find((k) => k.name === "kim-ci")).toEqual({ name: "kim-ci", holder: "kim@gmail.com", reach: { kind: "domains", domains: ["shop.example.com"] }, expiresAt: null, address: "postscale_api_key.kim_ci" });
    expect(after.keys.find((k) => k.name === "deploy")).toMatchObject({ holder: null, reach: { kind: "organization" }, expiresAt: null });
    expect(after.domains).toEqual(["app.example.com", "news.example.com", "shop.example.com"]);
  });
});

describe("reviewPlan with access rules", () => {
  test("a violation brought in by plain HCL is caught and marked new; each broken rule names the person, domain or key and the fix", () => {
    const review = reviewPlan(loadPlan("engine", "contractor"), { rules: RULES, now: NOW });
    expect(review.invariants?.rules).toBe(5);
    expect(review.invariants?.violations.map((v) => [v.rule, v.person ?? "", v.domain ?? "", v.key ?? "", v.introduced])).toEqual([
      ["contractors never write", "lee@contractors.example.com", "app.example.com", "", true],
      ["keys expire", "bob@example.com", "", "bob@example.com/bob-ci", false],
      ["keys expire", "gina@example.com", "", "gina@example.com/gina-ci", false],
      ["keys expire", "kim@gmail.com", "", "kim@gmail.com/kim-ci", false],
      ["keys expire", "", "", "organization/backup", false],
      ["scoped keys", "", "", "organization/backup", false],
    ]);
    expect(review.invariants?.violations[0]).toEqual({
      rule: "contractors never write",
      kind: "never",
      message: "Contractors never get read_write.",
      person: "lee@contractors.example.com",
      domain: "app.example.com",
      detail: "lee@contractors.example.com has read_write on app.example.com",
      fix: "Remove lee@contractors.example.com's grant on app.example.com, or make it read.",
      introduced: true,
    });
    const markdown = renderMarkdown(review);
    expect(markdown).toContain("#### Access rules broken\n\n**3 of 5 access rules broken** by the access after this plan:\n\n");
    expect(markdown).toContain(
      "- **contractors never write** (new in this plan): lee@contractors.example.com has read\\_write on app.example.com. Remove lee@contractors.example.com's grant on app.example.com, or make it read. _Contractors never get read\\_write._",
    );
  });

  test("the same plan keeps the rules it does not break; rules that all hold say so", () => {
    const review = reviewPlan(loadPlan("engine", "roles-and-grants"), { rules: [CONTRACTORS, { name: "at most 2 admins", kind: "at_most", role: "admin", max: 2 }], now: NOW });
    expect(review.invariants).toEqual({ rules: 2, violations: [] });
    expect(renderMarkdown(review)).toContain("#### Access rules\n\nAll 2 access rules hold after this plan.\n");
  });

  test("a plan that changes nothing still shows the rules the organization breaks", () => {
    const review = reviewPlan(loadPlan("engine", "no-change"), { rules: [{ name: "one admin", kind: "at_most", role: "admin", max: 1 }], now: NOW });
    expect(review.changes).toBe(false);
    expect(review.invariants?.violations).toEqual([expect.objectContaining({ rule: "one admin", people: ["alice@example.com", "frank@example.com"], introduced: false })]);
    expect(renderMarkdown(review)).toContain("**one admin**: 2 admins (alice@example.com, frank@example.com), more than 1.");
  });

  test("a role change breaks at_most; a grant removed breaks every_domain_has_writer", () => {
    const review = reviewPlan(loadPlan("engine", "roles-and-grants"), { rules: [{ name: "one admin", kind: "at_most", role: "admin", max: 1 }, { name: "owned", kind: "every_domain_has_writer" }], now: NOW });
    expect(review.invariants?.violations.map((v) => [v.rule, v.detail, v.introduced])).toEqual([
      ["one admin", "2 admins (alice@example.com, dave@example.com), more than 1", false],
      ["owned", "no member has read_write on shop.example.com", false],
    ]);
  });
});

describe("each rule kind, broken and kept, on real plans", () => {
  const brokenBy = (fixture: string, rule: InvariantRule): string[] =>
    (reviewPlan(loadPlan("engine", fixture), { rules: [rule], now: NOW }).invariants?.violations ?? []).map((v) => v.detail);

  test.each<[string, InvariantRule, string, string[]]>([
    ["never", CONTRACTORS, "contractor", ["lee@contractors.example.com has read_write on app.example.com"]],
    ["never", CONTRACTORS, "new-people", []],
    ["never", { name: "n", kind: "never", domains: ["news.example.com"], access: "any", except: ["gina@*", "erin@*", "alice@*", "dave@*"] }, "roles-and-grants", ["bob@example.com has read on news.example.com"]],
    ["at_most", { name: "a", kind: "at_most", role: "admin", max: 1 }, "keys", ["2 admins (alice@example.com, dave@example.com), more than 1"]],
    ["at_most", { name: "a", kind: "at_most", role: "admin", max: 2 }, "keys", []],
    ["keys_expire", { name: "k", kind: "keys_expire" }, "members-added", ['API key "bob-ci" of bob@example.com never expires']],
    ["keys_expire", { name: "k", kind: "keys_expire", except: ["bob@example.com/*"] }, "members-added", []],
    ["every_domain_has_writer", { name: "w", kind: "every_domain_has_writer" }, "keys", ["no member has read_write on shop.example.com"]],
    ["every_domain_has_writer", { name: "w", kind: "every_domain_has_writer" }, "new-people", []],
    ["no_organization_wide_keys", { name: "o", kind: "no_organization_wide_keys" }, "keys", ['organization key "backup" reaches every domain of the organization', 'organization key "deploy" reaches every domain of the organization']],
    ["no_organization_wide_keys", { name: "o", kind: "no_organization_wide_keys" }, "members-added", []],
  ])("%s: %j on %s", (_, rule, fixture, expected) => {
    expect(brokenBy(fixture, rule)).toEqual(expected);
  });
});

describe("effective access before → after", () => {
  test("role, each domain (all domains for a manager), then keys, for everyone whose access changes", () => {
    const review = reviewPlan(loadPlan("engine", "roles-and-grants"));
    expect(review.effectiveAccess).toEqual([
      { who: "dave@example.com", lines: [{ what: "role", before: "member", after: "admin" }, { what: "all domains", before: "—", after: "read_write" }] },
      {
        who: "erin@example.com",
        lines: [
          { what: "role", before: "member", after: "member" },
          { what: "app.example.com", before: "read", after: "read_write" },
          { what: "news.example.com", before: "read_write", after: "read" },
          { what: "shop.example.com", before: "read", after: "—" },
        ],
      },
      {
        who: "frank@example.com",
        lines: [
          { what: "role", before: "admin", after: "member" },
          { what: "all domains", before: "read_write", after: "—" },
          { what: "shop.example.com", before: "read_write", after: "read" },
        ],
      },
    ]);
    const markdown = renderMarkdown(review);
    expect(markdown).toContain("#### Effective access\n\n| who | access | before → after |\n| --- | --- | --- |\n| dave@example.com | role | member → **admin** |\n");
    expect(markdown).toContain("| erin@example.com | role | member |\n");
    expect(JSON.parse(renderJson(review)).effectiveAccess[0].who).toBe("dave@example.com");
  });

  test("keys with the domains they resolve to; the organization's keys only where they change", () => {
    const review = reviewPlan(loadPlan("engine", "keys"));
    expect(review.effectiveAccess).toEqual([
      {
        who: "gina@example.com",
        lines: [
          { what: "role", before: "member", after: "member" },
          { what: "app.example.com", before: "read_write", after: "read_write" },
          { what: "news.example.com", before: "read_write", after: "read_write" },
          { what: "key gina-ci", before: "app.example.com", after: "app.example.com, news.example.com" },
        ],
      },
      {
        who: "organization",
        lines: [
          { what: "key backup", before: "—", after: "organization-wide" },
          { what: "key old-script", before: "shop.example.com", after: "—" },
          { what: "key reports", before: "app.example.com, news.example.com", after: "news.example.com" },
        ],
      },
    ]);
  });
});

describe("postscale review --rules", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "review-rules-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[]) => runCommand(register, ["review", ...args]);

  const rulesFile = (name: string, content: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
    return path;
  };

  test("--fail-on invariants exits 2 when the access after the plan breaks a rule, 0 when it keeps them all", async () => {
    const contractors = rulesFile("contractors.json", { version: 1, rules: [CONTRACTORS] });
    const broken = await run([fixturePath("engine", "contractor"), "--rules", contractors, "--fail-on", "invariants"]);
    expect(broken.exitCode).toBe(2);
    expect(broken.stdout).toContain("**contractors never write** (new in this plan)");
    expect((await run([fixturePath("engine", "new-people"), "--rules", contractors, "--fail-on", "invariants"])).exitCode).toBe(0);
    expect((await run([fixturePath("engine", "contractor"), "--rules", contractors])).exitCode).toBe(0);
    expect((await run([fixturePath("engine", "contractor"), "--rules", contractors, "--fail-on", "broadening"])).exitCode).toBe(2);
  });

  test("--json carries the invariants section", async () => {
    const contractors = rulesFile("contractors.json", { version: 1, rules: [CONTRACTORS] });
    const out = JSON.parse((await run([fixturePath("engine", "contractor"), "--rules", contractors, "--json"])).stdout);
    expect(Object.keys(out).slice(-2)).toEqual(["effectiveAccess", "invariants"]);
    expect(out.invariants.violations[0]).toMatchObject({ rule: "contractors never write", person: "lee@contractors.example.com", domain: "app.example.com", introduced: true });
  });

  test("a bad rules file, or --fail-on invariants without rules, fails naming the field", async () => {
    const plan = fixturePath("engine", "contractor");
    const bad = rulesFile("bad.json", { version: 1, rules: [{ name: "x", kind: "at_most", role: "admin" }] });
    await expect(run([plan, "--rules", bad])).rejects.toThrow(`${bad}/rules/0/max: must be a whole number >= 0, got undefined`);
    await expect(run([plan, "--rules", rulesFile("text.json", "not json")])).rejects.toThrow(/text\.json: is not JSON/);
    await expect(run([plan, "--rules", join(dir, "missing.json")])).rejects.toThrow(/missing\.json: cannot be read: ENOENT/);
    await expect(run([plan, "--fail-on", "invariants"])).rejects.toThrow("--fail-on: invariants needs --rules <file>: the access rules to check");
  });
});
