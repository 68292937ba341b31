import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TerraformStack, Testing } from "cdktf";
import { Team, parseRoster } from "../../src";

const dir = mkdtempSync(join(tmpdir(), "postscale-roster-"));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const ROSTER = `# HR export, 2026-11
- email: ops@example.com
  role: admin
  name: Olga Ops
- email: Dev@Example.com
  role: member
  department: Product
  domains:
    app.example.com: read_write
    staging.example.com: read
- email: qa@example.com
  domains:
    - domain: staging.example.com
      access: read_write
`;

describe("Team.fromFile", () => {
  it("declares every person with role and grants (YAML, both domain shapes, extra columns ignored)", () => {
    const out = JSON.parse(
      Testing.synthScope((scope) => {
        const team = Team.fromFile(scope, "team", file("roster.yaml", ROSTER));
        expect(team.members.map((m) => [m.email, m.role, m.grants])).toEqual([
          ["dev@example.com", "member", { "app.example.com": "read_write", "staging.example.com": "read" }],
          ["ops@example.com", "admin", {}],
          ["qa@example.com", "member", { "staging.example.com": "read_write" }],
        ]);
      }),
    );
    expect(Object.keys(out.resource.postscale_domain_access).sort()).toEqual([
      "access_dev_at_example_com__app_example_com",
      "access_dev_at_example_com__staging_example_com",
      "access_qa_at_example_com__staging_example_com",
    ]);
  });

  it("reads JSON, also as {members: [...]}", () => {
    const path = file("roster.json", JSON.stringify({ members: [{ email: "dev@example.com", role: "member", domains: [{ domain: "app.example.com", access: "read" }] }] }, null, 2));
    Testing.synthScope((scope) => {
      expect(Team.fromFile(scope, "team", path).member("dev@example.com")?.grants).toEqual({ "app.example.com": "read" });
    });
  });

  it("offboarding is deleting a line: the person, their grants and keys leave the synth, nothing else changes", () => {
    const full = file("full.yaml", ROSTER);
    const without = file("without.yaml", ROSTER.replace(/- email: Dev@Example.com[\s\S]*?(?=- email: qa)/, ""));
    const synth = (path: string) =>
      JSON.parse(
        Testing.synthScope((scope) => {
          const team = Team.fromFile(scope, "team", path);
          team.member("dev@example.com")?.apiKey("ci");
          team.member("qa@example.com")?.apiKey("ci");
        }),
      );
    const before = synth(full);
    const after = synth(without);
    for (const type of ["postscale_team_member", "postscale_domain_access", "postscale_api_key"]) {
      const kept = Object.fromEntries(Object.entries(before.resource[type]).filter(([id]) => !id.includes("dev_at_example_com")));
      expect(after.resource[type]).toEqual(kept);
    }
    expect(Object.keys(before.resource.postscale_team_member)).toContain("member_dev_at_example_com");
  });

  it.each([
    ["a bad email", "- email: dev.example.com\n", "roster.yaml line 1: entry 1: email must be a valid email address"],
    ["the owner role", "- email: a@example.com\n- email: b@example.com\n  role: owner\n", 'roster.yaml line 2: entry 2 (b@example.com): role must be "admin" or "member", got "owner"'],
    ["a bad access", "- email: a@example.com\n  domains:\n    app.example.com: write\n", 'roster.yaml line 3: entry 1 (a@example.com): access to app.example.com must be "read" or "read_write", got "write"'],
    ["a bad domain", "- email: a@example.com\n  domains:\n    - domain: App.example.com\n      access: read\n", "roster.yaml line 3: entry 1 (a@example.com): domain must be a lower-case domain name"],
    ["a duplicate person", "- email: a@example.com\n- email: b@example.com\n- email: A@example.com\n", "roster.yaml line 3: entry 3 lists a@example.com again (first on line 1). List each person once"],
    ["not a list", "email: a@example.com\n", "roster.yaml line 1: must be a list of members"],
    ["broken YAML", "- email: [a@example.com\n", "roster.yaml line 2: is not valid YAML or JSON"],
  ])("names the line and the entry for %s", (_case, text, expected) => {
    expect(() => parseRoster(text, "roster.yaml")).toThrow(expected);
  });

  it("names the line when a roster entry breaks an access rule (grants for an admin)", () => {
    const path = file("admin-grants.yaml", "- email: ops@example.com\n  role: admin\n  domains:\n    app.example.com: read\n");
    expect(() => Testing.synthScope((scope) => void Team.fromFile(scope, "team", path))).toThrow(
      `${path} line 1 (ops@example.com): Cannot grant read on app.example.com to ops@example.com: ops@example.com is an admin; domain access applies only to role member`,
    );
  });

  it("a missing file", () => {
    expect(() => Team.fromFile(new TerraformStack(Testing.app(), "s"), "team", join(dir, "nope.yaml"))).toThrow(/Team.fromFile: cannot read roster .*nope.yaml/);
  });
});
