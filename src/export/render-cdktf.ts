/**
 * An export as a TypeScript cdktf app on the L2 constructs: `main.ts` (one
 * statement per person, admins then members by email, then service keys),
 * `imports.ts` (what exists, for `importExisting`), optionally a roster file
 * in the `Team.fromFile` shape, and README.md. Pure: the plan in, files out;
 * the CLI adds the project files `postscale init` writes.
 */
import { KEY_OWNER, ROLE } from "../policy";
import { STACK } from "../cli/scaffold";
import { day, writableDomains, type ExportFile, type ExportPlan, type ExportedPerson, type SnapshotKey } from "./model";
import { renderReadme } from "./readme";

/** Options of {@link renderCdktf}. */
export interface CdktfExportOptions {
  /**
   * Writes the people to this roster file (relative to the project) and
   * reads it with `Team.fromFile`.
   * @default - people are declared in main.ts
   */
  readonly roster?: string;
}

/** Lines longer than this are split, one grant per line. */
const MAX_LINE = 120;

const RESERVED = new Set(
  (
    "app stack team existing break case catch class const continue debugger default delete do else enum export extends false finally for function if " +
    "import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package " +
    "private protected public await as async of"
  ).split(" "),
);

/** Unique camelCase identifiers for domains and people. */
class Names {
  private readonly used = new Set(RESERVED);

  take(text: string): string {
    const words = text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 0);
    let base = words.map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join("") || "x";
    if (/^[0-9]/.test(base)) base = `d${base}`;
    let name = base;
    for (let n = 2; this.used.has(name); n++) name = `${base}${n}`;
    this.used.add(name);
    return name;
  }
}

const str = (value: string): string => JSON.stringify(value);

function grantsLiteral(grants: Readonly<Record<string, string>>, indent: string): string {
  const entries = Object.entries(grants).sort(([a], [b]) => (a < b ? -1 : 1));
  const inline = `{ ${entries.map(([d, a]) => `${str(d)}: ${str(a)}`).join(", ")} }`;
  if (indent.length + inline.length < MAX_LINE - 40) return inline;
  return `{\n${entries.map(([d, a]) => `${indent}    ${str(d)}: ${str(a)},`).join("\n")}\n${indent}  }`;
}

/** The argument list of `apiKey`/`serviceKey`, and a comment when Postscale's own scope is kept. */
function keyArguments(key: SnapshotKey, holder: ExportedPerson | undefined, domainVar: (d: string) => string): { args: string; note?: string } {
  const options: string[] = [];
  let note: string | undefined;
  if (key.scope === "domains") {
    // A role-member's key may only name domains the member writes today; otherwise Postscale's current scope is kept as it is.
    const writable = holder?.member.role === ROLE.member ? new Set(writableDomains(holder.member)) : undefined;
    if (writable === undefined || key.domains.every((d) => writable.has(d))) options.push(`domains: [${key.domains.map(domainVar).join(", ")}]`);
    else note = `scoped by Postscale to ${key.domains.join(", ")}`;
  }
  if (key.expiresAt !== null) options.push(`expiresAt: ${str(key.expiresAt)}`);
  return { args: options.length === 0 ? str(key.name) : `${str(key.name)}, { ${options.join(", ")} }`, note };
}

const trailing = (note: string | undefined): string => (note === undefined ? "" : ` // ${note}`);

function pendingNote(person: ExportedPerson): string | undefined {
  return person.member.status === "invited" ? `invitation pending since ${day(person.member.invitedAt)}` : undefined;
}

/** The import list: everything declared, and the expired invitations, so uncommenting one imports it. */
function renderImports(plan: ExportPlan): string {
  const people = [...plan.people, ...plan.expired];
  const members = people.map((p) => p.member.email).sort();
  const grants = people.flatMap((p) => Object.keys(p.member.grants).map((d) => `${p.member.email}/${d}`)).sort();
  const keys = [
    ...people.flatMap((p) => p.keys.map((k) => [`${p.member.email}/${k.name}`, k.id] as const)),
    ...plan.serviceKeys.map((k) => [`${KEY_OWNER.organization}/${k.name}`, k.id] as const),
  ].sort(([a], [b]) => (a < b ? -1 : 1));
  const listOf = (items: string[]): string => (items.length === 0 ? "[]" : `[\n${items.map((i) => `    ${str(i)},`).join("\n")}\n  ]`);
  return [
    `// What \`postscale export\` found in Postscale on ${plan.snapshot.readAt}. importExisting(team, EXISTING)`,
    "// imports what the team declares of it instead of creating it. Delete this file and that call once the",
    "// first deploy has run.",
    'import type { ExistingAccess } from "@postscale/cdktf";',
    "",
    "export const EXISTING: ExistingAccess = {",
    `  members: ${listOf(members)},`,
    `  grants: ${listOf(grants)},`,
    `  keys: ${keys.length === 0 ? "{}" : `{\n${keys.map(([k, id]) => `    ${str(k)}: ${str(id)},`).join("\n")}\n  }`},`,
    "};",
    "",
  ].join("\n");
}

/** A YAML scalar: plain when that reads back as the same string, else double-quoted. */
function yamlScalar(value: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._%+@-]*$/.test(value) ? value : str(value);
}

function rosterEntry(person: ExportedPerson): string[] {
  const { email, role, grants } = person.member;
  const pending = pendingNote(person);
  const lines = [`- email: ${yamlScalar(email)}${pending === undefined ? "" : ` # ${pending}`}`, `  role: ${role}`];
  const domains = Object.entries(grants).sort(([a], [b]) => (a < b ? -1 : 1));
  if (domains.length > 0) lines.push("  domains:", ...domains.map(([d, a]) => `    ${yamlScalar(d)}: ${a}`));
  return lines;
}

function renderRoster(plan: ExportPlan): string {
  const lines = [`# People of ${plan.snapshot.organization.name}, exported by \`postscale export\` on ${plan.snapshot.readAt}.`];
  if (plan.owner !== undefined) lines.push(`# Owner: ${plan.owner.email}. Recorded, never managed: ownership moves only by transfer.`);
  lines.push(...plan.people.flatMap(rosterEntry));
  if (plan.expired.length > 0) {
    lines.push(
      "",
      "# Expired invitations, commented out: listed, they would plan a re-invitation. Uncomment an entry (and its keys",
      "# in main.ts) to invite the person again on the next deploy.",
      ...plan.expired.flatMap((p) => [`# invitation expired (sent ${day(p.member.invitedAt)})`, ...rosterEntry(p).map((l) => `# ${l}`)]),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The files of a cdktf export (without the project files `postscale init` writes). */
export function renderCdktf(plan: ExportPlan, options: CdktfExportOptions = {}): ExportFile[] {
  const s = plan.snapshot;
  const names = new Names();
  const people = [...plan.people, ...plan.expired];
  const used = new Set<string>([
    ...people.flatMap((p) => Object.keys(p.member.grants)),
    ...[...people.flatMap((p) => p.keys), ...plan.serviceKeys].flatMap((k) => (k.scope === "domains" ? k.domains : [])),
  ]);
  const domainVars = new Map([...used].sort().map((d) => [d, names.take(d)]));
  const domainVar = (d: string): string => domainVars.get(d) ?? str(d);
  const roster = options.roster;

  const out: string[] = [
    `// Postscale access of ${s.organization.name} (${s.organization.id}), exported by \`postscale export\` on ${s.readAt}.`,
    `// The first \`npm run deploy\` imports all of it (imports.ts) and changes nothing. See README.md.`,
    'import { App, TerraformStack } from "cdktf";',
    `import { Domain, PostscaleProvider, Team, importExisting } from "@postscale/cdktf";`,
    'import { EXISTING } from "./imports";',
    "",
    "const app = new App();",
    `const stack = new TerraformStack(app, ${str(STACK)});`,
    "// Reads POSTSCALE_ENDPOINT and POSTSCALE_API_KEY: your own owner or admin key.",
    'new PostscaleProvider(stack, "postscale");',
  ];
  if (domainVars.size > 0) {
    out.push("", "// Looked up by name: a plan fails early when one is missing.");
    for (const [domain, v] of domainVars) out.push(`const ${v} = Domain.fromName(stack, ${str(domain)}, ${str(domain)});`);
  }
  const props = plan.owner === undefined ? "" : `, { owner: ${str(plan.owner.email)} }`;
  if (plan.owner !== undefined) out.push("", `// The owner, ${plan.owner.email}, is recorded, never managed: ownership moves only by transfer.`);
  else out.push("");
  out.push(roster === undefined ? `const team = new Team(stack, "team"${props});` : `const team = Team.fromFile(stack, "team", ${str(roster)}${props});`);
  for (const u of plan.unmanagedKeys) out.push(`// Not managed: ${u.holder === undefined ? "" : `${u.holder}'s `}key ${str(u.key.name)} (${u.key.prefix}…): ${u.reason}.`);

  const personLines = (person: ExportedPerson): string[] => {
    const { email, role, grants } = person.member;
    const keyLine = (target: string, key: SnapshotKey): string => {
      const { args, note } = keyArguments(key, person, domainVar);
      return `${target}.apiKey(${args});${trailing(note)}`;
    };
    if (roster !== undefined) return person.keys.map((key) => keyLine(`team.member(${str(email)})?`, key));
    const call =
      role === ROLE.admin
        ? `team.addAdmin(${str(email)})`
        : `team.addMember(${str(email)}${Object.keys(grants).length === 0 ? "" : `, { domains: ${grantsLiteral(grants, "")} }`})`;
    const note = trailing(pendingNote(person));
    if (person.keys.length === 0) return [`${call};${note}`];
    const v = names.take(email.split("@")[0]);
    return [`const ${v} = ${call};${note}`, ...person.keys.map((key) => keyLine(v, key))];
  };

  const group = (title: string, lines: string[]): void => {
    if (lines.length > 0) out.push("", title, ...lines);
  };
  if (roster === undefined) {
    group("// Admins: manage the team and reach every domain.", plan.people.filter((p) => p.member.role === ROLE.admin).flatMap(personLines));
    group("// Members: only the domains granted.", plan.people.filter((p) => p.member.role === ROLE.member).flatMap(personLines));
    group(
      "// Expired invitations, commented out: declared, they would plan a re-invitation. Uncomment a person's lines to\n// invite them again on the next deploy (imports.ts lists them).",
      plan.expired.flatMap((p) => personLines(p).map((line, i) => `// ${line}${i === 0 ? ` // invitation expired (sent ${day(p.member.invitedAt)})` : ""}`)),
    );
  } else {
    group(`// API keys of people in ${roster}; a line does nothing once its holder has left the roster.`, plan.people.flatMap(personLines));
    group("// Keys of expired invitations (commented out in the roster).", plan.expired.flatMap((p) => personLines(p).map((line) => `// ${line}`)));
  }
  group(
    "// Service keys: owned by the organization, they survive people leaving.",
    plan.serviceKeys.map((key) => {
      const { args, note } = keyArguments(key, undefined, domainVar);
      return `team.serviceKey(${args});${trailing(note)}`;
    }),
  );
  out.push("", "importExisting(team, EXISTING);", "", "app.synth();", "");

  const files: ExportFile[] = [
    { path: "main.ts", content: out.join("\n") },
    { path: "imports.ts", content: renderImports(plan) },
  ];
  if (roster !== undefined) files.push({ path: roster, content: renderRoster(plan) });
  files.push({
    path: "README.md",
    content: renderReadme(plan, { format: "cdktf", codeFile: roster ?? "main.ts", importWiring: "imports.ts and the importExisting(team, EXISTING) line of main.ts" }),
  });
  return files;
}

