import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ts from "typescript";
import * as cdktf from "cdktf";
import * as postscale from "../../src";
import { planExport, type ExportFile, type ExportPlan } from "../../src/export/model";
import { renderCdktf } from "../../src/export/render-cdktf";
import { hclString, renderHcl } from "../../src/export/render-hcl";
import { SNAPSHOT } from "./fixtures";

const plan = planExport(SNAPSHOT);
const file = (files: ExportFile[], path: string): string => {
  const found = files.find((f) => f.path === path);
  if (!found) throw new Error(`no ${path} in ${files.map((f) => f.path).join(", ")}`);
  return found.content;
};

/** Runs an exported main.ts with this checkout's constructs, in a temporary folder; returns the synthesized stack. */
function synthExport(files: ExportFile[]): Record<string, any> {
  const dir = mkdtempSync(join(tmpdir(), "postscale-export-synth-"));
  const cwd = process.cwd();
  const outdir = process.env.CDKTF_OUTDIR;
  try {
    for (const f of files) writeFileSync(join(dir, f.path), f.content);
    const modules = new Map<string, unknown>([
      ["cdktf", cdktf],
      ["@postscale/cdktf", postscale],
    ]);
    const load = (path: string): unknown => {
      const source = ts.transpileModule(file(files, path), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
      const module = { exports: {} as Record<string, unknown> };
      const requireFn = (name: string): unknown => modules.get(name) ?? load(`${name.replace(/^\.\//, "")}.ts`);
      new Function("require", "module", "exports", source)(requireFn, module, module.exports);
      return module.exports;
    };
    process.chdir(dir);
    process.env.CDKTF_OUTDIR = join(dir, "cdktf.out");
    load("main.ts");
    return JSON.parse(readFileSync(join(dir, "cdktf.out", "stacks", "access", "cdk.tf.json"), "utf8"));
  } finally {
    process.chdir(cwd);
    if (outdir === undefined) delete process.env.CDKTF_OUTDIR;
    else process.env.CDKTF_OUTDIR = outdir;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `resource "<type>" "<name>"` addresses and `import { to, id }` pairs of an HCL export (uncommented lines only). */
function hclDeclared(files: ExportFile[]): { resources: string[]; imports: string[] } {
  const text = files.filter((f) => f.path.endsWith(".tf")).map((f) => f.content).join("\n");
  const resources = [...text.matchAll(/^resource "([^"]+)" "([^"]+)"/gm)].map((m) => `${m[1]}.${m[2]}`).sort();
  const imports = [...text.matchAll(/^import \{\n {2}to = (\S+)\n {2}id = "([^"]+)"\n\}/gm)].map((m) => `${m[1]} <- ${m[2]}`).sort();
  return { resources, imports };
}

function stackDeclared(stack: Record<string, any>): { resources: string[]; imports: string[] } {
  const resources = Object.entries(stack.resource ?? {}).flatMap(([type, byName]) => Object.keys(byName as object).map((name) => `${type}.${name}`)).sort();
  const imports = ((stack.import ?? []) as { to: string; id: string }[]).map((i) => `${i.to} <- ${i.id}`).sort();
  return { resources, imports };
}

describe("renderHcl", () => {
  const files = renderHcl(plan);

  test("writes the provider, the team, the imports and the notes", () => {
    expect(files.map((f) => f.path)).toEqual(["providers.tf", "team.tf", "imports.tf", "README.md"]);
    expect(file(files, "providers.tf")).toContain('source  = "postscale/postscale"');
    expect(file(files, "providers.tf")).toContain('provider "postscale" {}');
  });

  test("imports every declared resource once, members by email, grants by email/domain, keys by id", () => {
    const { resources, imports } = hclDeclared(files);
    expect(imports.map((i) => i.split(" <- ")[0])).toEqual(resources);
    expect(imports).toContain("postscale_team_member.member_dev_at_acme_test <- dev@acme.test");
    expect(imports).toContain("postscale_domain_access.access_dev_at_acme_test__acme_com <- dev@acme.test/acme.com");
    expect(imports).toContain("postscale_api_key.key_organization__mailer <- key_mail");
    expect(resources).toHaveLength(11);
  });

  test("declares a member key with its holder, domains, expiry and grants first; an organization-wide key without domains", () => {
    const team = file(files, "team.tf");
    expect(team).toContain(
      [
        'resource "postscale_api_key" "key_dev_at_acme_test__ci" {',
        '  name       = "ci"',
        '  owner      = "member"',
        "  member_id  = postscale_team_member.member_dev_at_acme_test.id",
        '  domains    = ["acme.com"]',
        '  expires_at = "2027-01-31T00:00:00Z"',
        "  depends_on = [postscale_domain_access.access_dev_at_acme_test__acme_com, postscale_domain_access.access_dev_at_acme_test__acme_dev]",
        "}",
      ].join("\n"),
    );
    expect(team).toContain(['resource "postscale_api_key" "key_organization__monitoring" {', '  name  = "monitoring"', '  owner = "organization"', "}"].join("\n"));
  });

  test("records the owner and their keys as comments, and writes expired invitations commented out with their imports", () => {
    const team = file(files, "team.tf");
    expect(team).toContain("# Owner: owner@acme.test. Recorded, never managed");
    expect(team).not.toMatch(/^resource "postscale_team_member" "member_owner/m);
    expect(team).toContain('# Not managed: owner@acme.test\'s key "bootstrap"');
    expect(team).toContain('# resource "postscale_team_member" "member_late_at_acme_test" {');
    expect(team).toContain("#   id = \"late@acme.test/acme.com\"");
    expect(file(files, "imports.tf")).not.toContain("late@acme.test");
    expect(team).toContain('# Invitation pending since 2025-03-01.\nresource "postscale_team_member" "member_new_at_acme_test"');
  });

  test("lists the keys that will have no secret in state and how to rotate them", () => {
    const readme = file(files, "README.md");
    expect(readme).toContain("Plan: 11 to import, 0 to add, 0 to change, 0 to destroy.");
    expect(readme).toContain("| ci (ps_ci00…) | dev@acme.test | `postscale_api_key.key_dev_at_acme_test__ci` |");
    expect(readme).toContain("rotation_trigger");
    expect(readme).toContain("- late@acme.test (member), invited 2025-03-01");
  });

  test("writes expiries the way the provider imports them (no zero milliseconds), so the first plan is empty", () => {
    const snapshot = { ...SNAPSHOT, keys: SNAPSHOT.keys.map((k) => (k.name === "ci" ? { ...k, expiresAt: "2027-01-31T00:00:00.000Z" } : k)) };
    expect(file(renderHcl(planExport(snapshot)), "team.tf")).toContain('  expires_at = "2027-01-31T00:00:00Z"\n');
  });

  test("quotes strings so that nothing is interpolated", () => {
    expect(hclString('a"b${c}%{d}')).toBe('"a\\"b$${c}%%{d}"');
  });

  test("is deterministic", () => {
    expect(renderHcl(planExport({ ...SNAPSHOT, members: [...SNAPSHOT.members].reverse() }))).toEqual(files);
  });
});

describe("renderCdktf", () => {
  const files = renderCdktf(plan);

  test("declares one statement per person on the L2 API, admins then members by email", () => {
    const main = file(files, "main.ts");
    const people = main.split("\n").filter((l) => /^(const \w+ = )?team\.add/.test(l));
    expect(people).toEqual([
      'team.addAdmin("lead@acme.test"); // invitation pending since 2025-03-01',
      'const ops = team.addAdmin("ops@acme.test");',
      'const dev = team.addMember("dev@acme.test", { domains: { "acme.com": "read_write", "acme.dev": "read" } });',
      'team.addMember("new@acme.test", { domains: { "shop.acme.com": "read" } }); // invitation pending since 2025-03-01',
    ]);
    expect(main).toContain('dev.apiKey("ci", { domains: [acmeCom], expiresAt: "2027-01-31T00:00:00Z" });');
    expect(main).toContain('team.serviceKey("mailer", { domains: [acmeCom, shopAcmeCom] });');
    expect(main).toContain('const acmeCom = Domain.fromName(stack, "acme.com", "acme.com");');
    expect(main).toContain('// team.addMember("late@acme.test", { domains: { "acme.com": "read" } }); // invitation expired (sent 2025-03-01)');
    expect(main).toContain("importExisting(team, EXISTING);");
    expect(main).toContain('// The owner, owner@acme.test, is recorded, never managed: ownership moves only by transfer.\nconst team = new Team(stack, "team", { owner: "owner@acme.test" });');
  });

  test("synthesizes to the same resources and import blocks as the HCL export", () => {
    const stack = synthExport(files);
    expect(stackDeclared(stack)).toEqual(hclDeclared(renderHcl(plan)));
    // What imports.ts lists of the expired invitation is not imported while it stays commented out.
    expect(JSON.stringify(stack.import)).not.toContain("late@acme.test");
  });

  test("with a roster: the people in the Team.fromFile shape, keys in main.ts, the same stack", () => {
    const withRoster = renderCdktf(plan, { roster: "roster.yaml" });
    const roster = file(withRoster, "roster.yaml");
    expect(roster).toContain("- email: dev@acme.test\n  role: member\n  domains:\n    acme.com: read_write\n    acme.dev: read\n");
    expect(roster).toContain("- email: new@acme.test # invitation pending since 2025-03-01\n");
    expect(roster).toContain("# - email: late@acme.test\n");
    expect(roster).not.toContain("owner@acme.test\n  role");
    expect(postscale.parseRoster(roster, "roster.yaml").map((e) => e.email)).toEqual(["lead@acme.test", "ops@acme.test", "dev@acme.test", "new@acme.test"]);
    const main = file(withRoster, "main.ts");
    expect(main).toContain('const team = Team.fromFile(stack, "team", "roster.yaml", { owner: "owner@acme.test" });');
    expect(main).toContain('team.member("dev@acme.test")?.apiKey("ci", { domains: [acmeCom], expiresAt: "2027-01-31T00:00:00Z" });');
    expect(stackDeclared(synthExport(withRoster))).toEqual(stackDeclared(synthExport(files)));
  });

  test("uncommenting an expired invitation imports it (and plans its re-invitation)", () => {
    const uncommented = files.map((f) => (f.path === "main.ts" ? { ...f, content: f.content.replace('// team.addMember("late@', 'team.addMember("late@') } : f));
    expect(stackDeclared(synthExport(uncommented)).imports).toContain("postscale_team_member.member_late_at_acme_test <- late@acme.test");
  });

  test("keeps Postscale's scope of a member key whose domains the member no longer writes", () => {
    const narrowed = planExport({
      ...SNAPSHOT,
      members: SNAPSHOT.members.map((m) => (m.email === "dev@acme.test" ? { ...m, grants: { "acme.com": "read", "acme.dev": "read_write" } } : m)),
    });
    const main = file(renderCdktf(narrowed), "main.ts");
    expect(main).toContain('dev.apiKey("ci", { expiresAt: "2027-01-31T00:00:00Z" }); // scoped by Postscale to acme.com');
    expect(stackDeclared(synthExport(renderCdktf(narrowed))).imports).toContain("postscale_api_key.key_dev_at_acme_test__ci <- key_ci00");
  });

  test("gives variables names that are unique identifiers", () => {
    const odd: ExportPlan = planExport({
      ...SNAPSHOT,
      domains: ["1.example.com", "new.com"],
      members: [
        { ...SNAPSHOT.members[0], id: "a", email: "team@one.test", grants: { "1.example.com": "read_write", "new.com": "read_write" } },
        { ...SNAPSHOT.members[0], id: "b", email: "team@two.test", grants: { "new.com": "read_write" } },
      ],
      keys: [
        { ...SNAPSHOT.keys[0], memberId: "a", domains: ["1.example.com", "new.com"] },
        { ...SNAPSHOT.keys[0], id: "key_2", memberId: "b", domains: ["new.com"] },
      ],
    });
    const main = file(renderCdktf(odd), "main.ts");
    expect(main).toContain("const d1ExampleCom = Domain.fromName");
    expect(main).toContain('const team2 = team.addMember("team@one.test"');
    expect(main).toContain('const team3 = team.addMember("team@two.test"');
    expect(stackDeclared(synthExport(renderCdktf(odd))).resources).toContain("postscale_api_key.key_team_at_two_test__ci");
  });
});
