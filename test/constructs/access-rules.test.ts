import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, TerraformStack, Testing } from "cdktf";
import { AccessRules, Domain, Duration, Team } from "../../src";
import { newStack, synthFailure } from "./helpers";

const NOW = new Date("2026-07-01T00:00:00Z");

/** The error lines of a failed synth, without cdktf's header and footer. */
function errors(build: (stack: TerraformStack) => void): string[] {
  return synthFailure(build)
    .split("\n")
    .filter((line) => line.startsWith("["))
    .sort();
}

/** A team that keeps every rule of the sketch. */
function goodTeam(stack: TerraformStack): { team: Team; rules: AccessRules } {
  const team = new Team(stack, "team", { owner: "owner@example.com" });
  const platform = team.addMember("platform@example.com", { domains: { "prod.example.com": "read_write", "app.example.com": "read_write" } });
  team.addAdmin("ada@example.com");
  team.addMember("lee@contractors.example.com", { domains: { "app.example.com": "read" } });
  platform.apiKey("deploy", { domains: ["prod.example.com"], expiresAt: "2026-08-01T00:00:00Z" });
  const rules = new AccessRules(stack, "rules", { now: NOW });
  rules.never({ people: "*@contractors.example.com", access: "read_write", name: "contractors never write", message: "Contractors never get read_write." });
  rules.never({ domains: ["prod.example.com"], access: "read_write", except: [platform, "ada@example.com", "owner@example.com"], name: "prod writers" });
  rules.atMost(1, "admins");
  rules.require("keys expire within", Duration.days(90));
  rules.require("every domain has a read_write member");
  rules.require("no organization-wide keys");
  return { team, rules };
}

describe("AccessRules at synth", () => {
  test("a team that keeps every rule synthesizes", () => {
    expect(synthFailure((stack) => goodTeam(stack))).toBe("");
  });

  test("each rule kind broken fails synth on the construct concerned, naming the rule, the person, the domain or key, and the fix", () => {
    const lines = errors((stack) => {
      const { team } = goodTeam(stack);
      const lee = team.member("lee@contractors.example.com")!;
      Domain.fromName(stack, "shop", "shop.example.com");
      lee.grant("prod.example.com", "read_write");
      team.addAdmin("bo@example.com");
      team.serviceKey("backup");
      lee.apiKey("laptop", { domains: ["prod.example.com"], expiresAt: "2027-07-01T00:00:00Z" });
    });
    expect(lines).toEqual([
      '[test/rules] access rule "at most 1 admin": 2 admins (ada@example.com, bo@example.com), more than 1 (at most 1 admin). Make 1 of them members with domain access instead, or remove one.',
      '[test/rules] access rule "every domain has a member with read_write": no member has read_write on shop.example.com (every domain has a member with read_write). Grant read_write on shop.example.com to the member who answers for it.',
      '[test/team/bo@example.com] access rule "prod writers": bo@example.com is an admin: read_write on prod.example.com (nobody has read_write on prod.example.com, except platform@example.com, ada@example.com, owner@example.com). Make bo@example.com a member (role member) with only the domain access this rule allows, or remove them.',
      "[test/team/lee@contractors.example.com] access rule \"contractors never write\": lee@contractors.example.com has read_write on prod.example.com (Contractors never get read_write.). Remove lee@contractors.example.com's grant on prod.example.com, or make it read.",
      "[test/team/lee@contractors.example.com] access rule \"prod writers\": lee@contractors.example.com has read_write on prod.example.com (nobody has read_write on prod.example.com, except platform@example.com, ada@example.com, owner@example.com). Remove lee@contractors.example.com's grant on prod.example.com, or make it read.",
      '[test/team/lee@contractors.example.com/key-laptop] access rule "every API key expires within 90d": API key "laptop" of lee@contractors.example.com expires at 2027-07-01T00:00:00Z, 365 days from now, later than 90d (every API key expires within 90d). Give it an earlier expiry, no later than 2026-09-29T00:00:00Z (expires_at; expiresAt in the constructs).',
      '[test/team/service-key-backup] access rule "every API key expires within 90d": organization key "backup" never expires (every API key expires within 90d). Give it an expiry no later than 2026-09-29T00:00:00Z (expires_at; expiresAt in the constructs).',
      '[test/team/service-key-backup] access rule "no API key reaches the whole organization": organization key "backup" reaches every domain of the organization (no API key reaches the whole organization). Name the domains it needs (domains = [...]; domains: [...] in the constructs).',
    ].sort());
  });

  test("a member key without domains is checked with the domains it will be auto-scoped to", () => {
    const lines = errors((stack) => {
      const team = new Team(stack, "team");
      team.addMember("dev@example.com", { domains: { "prod.example.com": "read_write" } }).apiKey("auto", { expiresAt: "2026-07-02T00:00:00Z" });
      new AccessRules(stack, "rules", { now: NOW }).noOrganizationWideKeys();
    });
    expect(lines).toEqual([]);
  });

  test("only the teams given are checked", () => {
    const build = (stack: TerraformStack, teams?: (t: Team[]) => Team[]) => {
      const a = new Team(stack, "a");
      const b = new Team(stack, "b");
      b.addAdmin("x@example.com");
      b.addAdmin("y@example.com");
      new AccessRules(stack, "rules", teams ? { teams: teams([a, b]) } : {}).atMost(1, "admin");
    };
    expect(errors((stack) => build(stack))).toHaveLength(1);
    expect(errors((stack) => build(stack, ([a]) => [a]))).toEqual([]);
  });

  test("synth writes the rules file into the stack's output, in the engine's format", () => {
    const app = Testing.app();
    const stack = newStack(app);
    goodTeam(stack);
    app.synth();
    const written = JSON.parse(readFileSync(join(app.outdir, "stacks", "test", "access-rules.json"), "utf8"));
    expect(written).toEqual({
      version: 1,
      rules: [
        { name: "contractors never write", kind: "never", people: ["*@contractors.example.com"], access: "read_write", message: "Contractors never get read_write." },
        { name: "prod writers", kind: "never", domains: ["prod.example.com"], access: "read_write", except: ["platform@example.com", "ada@example.com", "owner@example.com"] },
        { name: "at most 1 admin", kind: "at_most", role: "admin", max: 1 },
        { name: "every API key expires within 90d", kind: "keys_expire", within: "90d" },
        { name: "every domain has a member with read_write", kind: "every_domain_has_writer" },
        { name: "no API key reaches the whole organization", kind: "no_organization_wide_keys" },
      ],
    });
  });

  test("the file goes where `file` says, or nowhere; a failed synth writes none", () => {
    const dir = mkdtempSync(join(tmpdir(), "access-rules-"));
    try {
      const app = Testing.app();
      const stack = newStack(app);
      new AccessRules(stack, "rules", { file: join(dir, "rules.json") }).atMost(3, "admins");
      app.synth();
      expect(JSON.parse(readFileSync(join(dir, "rules.json"), "utf8")).rules).toEqual([{ name: "at most 3 admins", kind: "at_most", role: "admin", max: 3 }]);

      const none = Testing.app();
      new AccessRules(newStack(none), "rules", { file: false }).atMost(3, "admins");
      none.synth();
      expect(existsSync(join(none.outdir, "stacks", "test", "access-rules.json"))).toBe(false);

      const failing = Testing.app();
      const failingStack = newStack(failing);
      new Team(failingStack, "team").addAdmin("a@example.com");
      new AccessRules(failingStack, "rules").atMost(0, "admins");
      expect(() => failing.synth()).toThrow(/at most 0 admins/);
      expect(existsSync(join(failing.outdir, "stacks", "test", "access-rules.json"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("fromFile reads a rules file, and its problems name the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "access-rules-"));
    try {
      const path = join(dir, "access-rules.json");
      writeFileSync(path, JSON.stringify({ version: 1, rules: [{ name: "one admin", kind: "at_most", role: "admin", max: 1 }] }));
      const lines = errors((stack) => {
        const team = new Team(stack, "team");
        team.addAdmin("a@example.com");
        team.addAdmin("b@example.com");
        AccessRules.fromFile(stack, "rules", path);
      });
      expect(lines).toEqual(['[test/rules] access rule "one admin": 2 admins (a@example.com, b@example.com), more than 1 (at most 1 admin). Make 1 of them members with domain access instead, or remove one.']);
      writeFileSync(path, JSON.stringify({ version: 1, rules: [{ name: "x", kind: "at_most", role: "admin", max: "3" }] }));
      expect(() => AccessRules.fromFile(new TerraformStack(new App(), "s"), "rules", path)).toThrow(`${path}/rules/0/max: must be a whole number >= 0, got "3"`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("rules are checked as they are declared: bad values and duplicate names name the field", () => {
    const rules = new AccessRules(newStack(), "rules");
    expect(() => rules.atMost(-1, "admins")).toThrow('rule "at most -1 admins" max must be a whole number >= 0, got -1.');
    expect(() => rules.atMost(1, "robots" as never)).toThrow('AccessRules.atMost: counts admins, members or owners, got "robots".');
    expect(() => rules.never({ access: "write" as never })).toThrow('access must be one of read_write, any, got "write"');
    rules.atMost(3, "admins");
    expect(() => rules.atMost(3, "admin")).toThrow('name "at most 3 admins" is already the name of /rules/0; rule names are unique');
    expect(() => rules.require("keys expire within" as "keys expire")).toThrow("pass the longest a key may live");
    expect(rules.rules).toHaveLength(1);
  });
});
