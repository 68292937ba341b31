import { Access, AssignableRole, ROLE, domainProblem, emailProblem, isAccess, isAssignableRole, normalizeEmail } from "../policy";
import { ValidationError } from "../errors";
import type { Document, LineCounter, Node as YamlNode } from "yaml";

/** One person in a roster file. */
export interface RosterEntry {
  readonly email: string;
  readonly role: AssignableRole;
  readonly domains: Readonly<Record<string, Access>>;
  /** 1-based line of the entry in the file. */
  readonly line: number;
}

/**
 * Parses a roster, the shape HR exports have: a YAML or JSON list (or
 * `{ members: [...] }`) of `{ email, role, domains }`, where `domains` is
 * `{ "app.example.com": "read_write" }` or `[{ domain, access }]` and role
 * defaults to member. Other columns (name, department, ...) are ignored.
 * Every problem names the file, the line, the entry and the fix.
 */
export function parseRoster(text: string, file: string): RosterEntry[] {
  // yaml is only needed here; loading it lazily keeps the package root light.
  const YAML = require("yaml") as typeof import("yaml");
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw rosterError(file, e.linePos?.[0].line ?? 1, `is not valid YAML or JSON: ${e.message.split("\n")[0]}`);
  }
  const lineOf = (node: unknown, fallback: number): number => {
    const range = (node as YamlNode | null)?.range;
    return range ? lineCounter.linePos(range[0]).line : fallback;
  };
  let list = doc.contents as unknown;
  if (YAML.isMap(list)) list = list.get("members", true);
  if (!YAML.isSeq(list)) {
    throw rosterError(file, lineOf(doc.contents, 1), "must be a list of members (or an object with a `members` list) like `- email: dev@example.com`");
  }
  const seen = new Map<string, number>();
  return list.items.map((item, index) => {
    const line = lineOf(item, 1);
    const entry = parseEntry(item, index, line, file, doc, lineCounter);
    const first = seen.get(entry.email);
    if (first !== undefined) {
      throw rosterError(file, line, `entry ${index + 1} lists ${entry.email} again (first on line ${first}). List each person once: merge the two lines.`);
    }
    seen.set(entry.email, line);
    return entry;
  });
}

function parseEntry(item: unknown, index: number, line: number, file: string, doc: Document, lineCounter: LineCounter): RosterEntry {
  const YAML = require("yaml") as typeof import("yaml");
  const where = `entry ${index + 1}`;
  if (!YAML.isMap(item)) throw rosterError(file, line, `${where} must be a mapping with email, role and domains`);
  const raw = item.toJSON(doc) as Record<string, unknown>;
  const email = typeof raw.email === "string" ? normalizeEmail(raw.email) : raw.email;
  const emailWhy = emailProblem(email);
  if (emailWhy !== undefined) throw rosterError(file, line, `${where}: email ${emailWhy}. Fix the address or delete the line.`);
  const who = `${where} (${email as string})`;
  const role = raw.role ?? ROLE.member;
  if (!isAssignableRole(role)) {
    throw rosterError(file, line, `${who}: role must be "admin" or "member", got ${JSON.stringify(role)}. The owner is not managed in a roster.`);
  }
  const domains: Record<string, Access> = {};
  const add = (domain: unknown, access: unknown, at: number): void => {
    const domainWhy = domainProblem(domain);
    if (domainWhy !== undefined) throw rosterError(file, at, `${who}: domain ${domainWhy}.`);
    if (!isAccess(access)) {
      throw rosterError(file, at, `${who}: access to ${domain as string} must be "read" or "read_write", got ${JSON.stringify(access)}.`);
    }
    if ((domain as string) in domains) throw rosterError(file, at, `${who}: ${domain as string} is listed twice; keep one access level.`);
    domains[domain as string] = access;
  };
  const node = item.get("domains", true);
  if (YAML.isMap(node)) {
    for (const pair of node.items) add(YAML.isScalar(pair.key) ? pair.key.value : pair.key, YAML.isScalar(pair.value) ? pair.value.value : pair.value, lineOf(pair.key, lineCounter, line));
  } else if (YAML.isSeq(node)) {
    for (const grant of node.items) {
      const g = (YAML.isMap(grant) ? grant.toJSON(doc) : {}) as Record<string, unknown>;
      add(g.domain, g.access, lineOf(grant, lineCounter, line));
    }
  } else if (node !== undefined && node !== null && !(YAML.isScalar(node) && node.value === null)) {
    throw rosterError(file, line, `${who}: domains must be a mapping like {app.example.com: read_write} or a list of {domain, access}`);
  }
  return { email: email as string, role, domains, line };
}

function lineOf(node: unknown, lineCounter: LineCounter, fallback: number): number {
  const range = (node as YamlNode | null)?.range;
  return range ? lineCounter.linePos(range[0]).line : fallback;
}

function rosterError(file: string, line: number, message: string): ValidationError {
  return new ValidationError([{ path: `${file}:${line}`, message }], `${file} line ${line}: ${message}`);
}
