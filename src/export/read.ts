/**
 * Reads an organization for `postscale export`: the caller, the
 * organization, every member with their domain access, the domains and
 * every API key, through the API, a few lists at a time, page by page.
 * The result is plain data (see ./model); nothing here decides what is
 * written.
 */
import type { PostscaleClient } from "../api/client";
import type { ApiKey, Domain, Me, Member, Organization } from "../api/types";
import { PostscaleError } from "../errors";
import { isManager, type Access } from "../policy";
import type { OrganizationSnapshot, SnapshotKey, SnapshotMember } from "./model";

/** What is being read, for a progress line. */
export type ReadItem = "members" | "keys" | "domains";

/** Options of {@link readOrganization}. */
export interface ReadOptions {
  /** Called for every item read and once more when a list is complete (throttle what you print). */
  onProgress?: (item: ReadItem, count: number, done: boolean) => void;
  /** Lists read at the same time. @default 3 */
  concurrency?: number;
  /** The time recorded as the export's (tests pin it). @default - now */
  now?: () => Date;
}

/** Runs `tasks` with at most `limit` in flight; resolves in task order. */
async function inParallel<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/**
 * Why the caller cannot export, or undefined. People manage people: only an
 * owner's or admin's own credential lists the team and every key.
 */
function callerProblem(me: Me): string | undefined {
  if (me.member === null) return "it is an organization-owned key, and organization keys do domain work only (rule organization_key_not_allowed)";
  if (!isManager(me.role)) return `it belongs to ${me.member.email}, a ${me.role}; listing the team and every key needs the owner or an admin (rule role_not_allowed)`;
  if (me.key !== undefined && me.key.scope === "domains") return `it is scoped to ${me.key.domains.join(", ")}; listing the team needs an organization-wide key (rule key_scope_excludes_action)`;
  return undefined;
}

/** The API's refusal as the export's error: what was refused, the rule, and the fix. */
function exportError(err: unknown, what: string): unknown {
  if (!(err instanceof PostscaleError)) return err;
  const detail = err.problem?.detail ?? err.message;
  const rule = err.rule === undefined ? "" : ` (rule ${err.rule})`;
  if (err.status === 401) {
    return new PostscaleError(err.code, `export: the API key in POSTSCALE_API_KEY was not accepted while reading ${what}: ${detail}. Set your own current owner or admin key.`, { status: err.status, problem: err.problem, cause: err });
  }
  if (err.status === 403) {
    return new PostscaleError(
      err.code,
      `export: reading ${what} was refused${rule}: ${detail} Export needs the owner's or an admin's own organization-wide key in POSTSCALE_API_KEY.`,
      { status: err.status, problem: err.problem, rule: err.rule, cause: err },
    );
  }
  return new PostscaleError(err.code, `export: reading ${what} failed: ${err.message}`, { status: err.status, problem: err.problem, rule: err.rule, failure: err.failure, cause: err });
}

async function readAll<T>(client: PostscaleClient, path: string, query: Record<string, string>, item: ReadItem, options: ReadOptions): Promise<T[]> {
  const items: T[] = [];
  try {
    for await (const x of client.paginate<T>(path, query)) {
      items.push(x);
      options.onProgress?.(item, items.length, false);
    }
  } catch (err) {
    throw exportError(err, item);
  }
  options.onProgress?.(item, items.length, true);
  return items;
}

function snapshotMember(m: Member): SnapshotMember {
  const grants: Record<string, Access> = {};
  for (const g of [...(m.domain_access ?? [])].sort((a, b) => (a.domain < b.domain ? -1 : 1))) grants[g.domain] = g.access;
  return { id: m.id, email: m.email, role: m.role, status: m.status, invitedAt: m.invited_at, joinedAt: m.joined_at, grants };
}

function snapshotKey(k: ApiKey): SnapshotKey {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    owner: k.owner,
    memberId: k.member_id,
    scope: k.scope,
    domains: [...k.domains].sort(),
    expiresAt: k.expires_at,
  };
}

/**
 * Reads the organization `client` is authorized for. Fails before reading
 * the lists when the credential cannot list the team (a member's key, an
 * organization key, a domain-scoped key), naming the rule and the fix.
 */
export async function readOrganization(client: PostscaleClient, endpoint: string, options: ReadOptions = {}): Promise<OrganizationSnapshot> {
  let me: Me;
  try {
    me = await client.me();
  } catch (err) {
    throw exportError(err, "the caller (GET /v1/me)");
  }
  const problem = callerProblem(me);
  if (problem !== undefined) {
    throw new PostscaleError("POSTSCALE_E_FORBIDDEN", `export: the key in POSTSCALE_API_KEY cannot export the organization: ${problem}. Use the owner's or an admin's own organization-wide key.`);
  }
  const readAt = (options.now ?? (() => new Date()))().toISOString().replace(/\.\d{3}Z$/, "Z");
  const [organization, members, domains, keys] = (await inParallel<unknown>(
    [
      () => client.getOrganization().catch((err: unknown) => Promise.reject(exportError(err, "the organization"))),
      () => readAll<Member>(client, "/v1/team/members", { include: "domain_access" }, "members", options),
      () => readAll<Domain>(client, "/v1/domains", {}, "domains", options),
      () => readAll<ApiKey>(client, "/v1/api-keys", {}, "keys", options),
    ],
    options.concurrency ?? 3,
  )) as [Organization, Member[], Domain[], ApiKey[]];
  return {
    organization: { id: organization.id, name: organization.name },
    endpoint,
    exportedBy: { email: me.member?.email ?? null, role: me.role },
    readAt,
    domains: domains.map((d) => d.name).sort(),
    members: members.map(snapshotMember),
    keys: keys.map(snapshotKey),
  };
}
