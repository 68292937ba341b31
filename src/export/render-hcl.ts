/**
 * An export as HCL for OpenTofu / Terraform 1.5+: `providers.tf`, `team.tf`
 * (people with their grants and keys, then service keys), `imports.tf`
 * (one `import` block per resource) and README.md. Resource names are the
 * logical ids the constructs use, so an HCL set and a cdktf app of the same
 * organization name things alike. Pure: the plan in, files out.
 */
import { accessLogicalId, keyLogicalId, memberLogicalId } from "../constructs/ids";
import { KEY_OWNER, ROLE } from "../policy";
import { configTimestamp } from "../provider/resources/values";
import { day, type ExportFile, type ExportPlan, type ExportedPerson, type SnapshotKey } from "./model";
import { keyAddress, renderReadme } from "./readme";

/** A quoted HCL string: JSON escapes, plus `$${` and `%%{` so nothing is interpolated. */
export function hclString(value: string): string {
  return JSON.stringify(value).replace(/([$%])\{/g, (_, sign: string) => `${sign}${sign}{`);
}

/** A block whose attributes are aligned the way `tofu fmt` aligns them. */
function block(header: string, attributes: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...attributes.map(([name]) => name.length));
  return [`${header} {`, ...attributes.map(([name, value]) => `  ${name.padEnd(width)} = ${value}`), "}"];
}

function list(values: readonly string[]): string {
  return `[${values.join(", ")}]`;
}

const memberAddress = (email: string): string => `postscale_team_member.${memberLogicalId(email)}`;
const accessAddress = (email: string, domain: string): string => `postscale_domain_access.${accessLogicalId(email, domain)}`;

function importBlock(to: string, id: string): string[] {
  return block("import", [
    ["to", to],
    ["id", hclString(id)],
  ]);
}

function keyBlock(key: SnapshotKey, holder?: ExportedPerson): string[] {
  const attributes: [string, string][] = [
    ["name", hclString(key.name)],
    ["owner", hclString(holder === undefined ? KEY_OWNER.organization : KEY_OWNER.member)],
  ];
  if (holder !== undefined) attributes.push(["member_id", `${memberAddress(holder.member.email)}.id`]);
  // Organization-wide keys leave domains unset: Postscale decides, and an empty set is what it stores.
  if (key.scope === "domains") attributes.push(["domains", list(key.domains.map(hclString))]);
  if (key.expiresAt !== null) attributes.push(["expires_at", hclString(configTimestamp(key.expiresAt))]);
  const grants = holder === undefined ? [] : Object.keys(holder.member.grants).sort();
  // As the constructs do: a later re-creation of the key waits for its holder's grants.
  if (grants.length > 0) attributes.push(["depends_on", list(grants.map((d) => accessAddress(holder!.member.email, d)))]);
  return block(`resource "postscale_api_key" "${keyLogicalId(holder?.member.email, key.name)}"`, attributes);
}

/** The resources of one person: the member, their grants by domain, their keys by name. */
function personBlocks(person: ExportedPerson): string[] {
  const { email, role, status, invitedAt } = person.member;
  const lines: string[] = [];
  if (status === "invited") lines.push(`# Invitation pending since ${day(invitedAt)}.`);
  lines.push(
    ...block(`resource "postscale_team_member" "${memberLogicalId(email)}"`, [
      ["email", hclString(email)],
      ["role", hclString(role)],
    ]),
  );
  for (const [domain, access] of Object.entries(person.member.grants).sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push(
      "",
      ...block(`resource "postscale_domain_access" "${accessLogicalId(email, domain)}"`, [
        ["member_id", `${memberAddress(email)}.id`],
        ["domain", hclString(domain)],
        ["access", hclString(access)],
      ]),
    );
  }
  for (const key of person.keys) lines.push("", ...keyBlock(key, person));
  return lines;
}

/** The import blocks of one person, in the order of {@link personBlocks}. */
function personImports(person: ExportedPerson): string[][] {
  const { email, grants } = person.member;
  return [
    importBlock(memberAddress(email), email),
    ...Object.keys(grants)
      .sort()
      .map((domain) => importBlock(accessAddress(email, domain), `${email}/${domain}`)),
    ...person.keys.map((key) => importBlock(keyAddress(email, key.name), key.id)),
  ];
}

function header(plan: ExportPlan): string[] {
  const s = plan.snapshot;
  const lines = [
    `# Postscale access of ${s.organization.name} (${s.organization.id}), exported by \`postscale export\` on ${s.readAt}.`,
    "# imports.tf imports all of it on the first apply; the first plan changes nothing. See README.md.",
  ];
  if (plan.owner !== undefined) lines.push(`#`, `# Owner: ${plan.owner.email}. Recorded, never managed: ownership moves only by transfer.`);
  for (const u of plan.unmanagedKeys) lines.push(`# Not managed: ${u.holder === undefined ? "" : `${u.holder}'s `}key "${u.key.name}" (${u.key.prefix}…): ${u.reason}.`);
  return lines;
}

function section(title: string, blocks: string[][]): string[] {
  if (blocks.length === 0) return [];
  return ["", `# ${title}`, ...blocks.flatMap((b) => ["", ...b])];
}

const commented = (lines: readonly string[]): string[] => lines.map((line) => (line === "" ? "#" : `# ${line}`));

/** The files of an HCL export. */
export function renderHcl(plan: ExportPlan): ExportFile[] {
  const admins = plan.people.filter((p) => p.member.role === ROLE.admin);
  const members = plan.people.filter((p) => p.member.role === ROLE.member);
  const team = [
    ...header(plan),
    ...section("Admins: manage the team and reach every domain.", admins.map(personBlocks)),
    ...section("Members: only the domains granted.", members.map(personBlocks)),
    ...section(
      "Expired invitations, commented out: declared, they would plan a re-invitation. Uncomment a person's blocks (their import blocks too) to invite them again on the next apply.",
      plan.expired.map((p) => commented([`Invitation expired (sent ${day(p.member.invitedAt)}).`, ...personBlocks(p), "", ...personImports(p).flatMap((b) => ["", ...b]).slice(1)])),
    ),
    ...section("Service keys: owned by the organization, they survive people leaving.", plan.serviceKeys.map((key) => keyBlock(key))),
  ];
  const imports = [
    "# What `postscale export` found in Postscale: the first apply imports it instead of creating it.",
    "# Delete this file once that apply has run.",
    ...[...plan.people.flatMap(personImports), ...plan.serviceKeys.map((key) => importBlock(keyAddress(undefined, key.name), key.id))].flatMap((b) => ["", ...b]),
  ];
  const providers = [
    "terraform {",
    '  required_version = ">= 1.5.0" # import blocks',
    "  required_providers {",
    "    postscale = {",
    '      source  = "postscale/postscale"',
    '      version = "~> 0.1"',
    "    }",
    "  }",
    "}",
    "",
    "# endpoint and api_key come from POSTSCALE_ENDPOINT and POSTSCALE_API_KEY: an owner's or admin's own key.",
    'provider "postscale" {}',
  ];
  const text = (lines: string[]): string => `${lines.join("\n")}\n`;
  return [
    { path: "providers.tf", content: text(providers) },
    { path: "team.tf", content: text(team) },
    { path: "imports.tf", content: text(imports) },
    { path: "README.md", content: renderReadme(plan, { format: "hcl", codeFile: "team.tf", importWiring: "imports.tf" }) },
  ];
}
