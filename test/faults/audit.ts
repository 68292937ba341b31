/**
 * The audit of server against state after a fault run, over the plain HTTP
 * API with the owner's key (not through the client under test):
 *
 * - duplicates: server objects sharing an identity, counted beyond the
 *   first: members with the same email, grants of one member to one domain,
 *   keys with the same name per holder (per organization for organization
 *   keys);
 * - orphans: members, grants and keys on the server that no state entry
 *   points at (the owner and the bootstrap key aside). A duplicate made by
 *   a re-run is usually an orphan too;
 * - lost secrets: state keys whose secret is empty or does not authenticate
 *   as that key (GET /v1/me; the holders of member keys first accept their
 *   invitations from the dev outbox, since an invited member's key does not
 *   work yet);
 * - stuck: replays of the run's Idempotency-Keys (recorded by the proxy)
 *   answered 409 "still being processed".
 *
 * `missing` counts state entries whose object is gone from the server
 * (the plan would create them again; a converged run has none).
 */
import type { ApiKey, MailMessage, Me, Member } from "../../src/api/types";
import type { StateResource } from "./engine";
import { IN_PROGRESS, type IdempotentPost } from "./proxy";

export interface AuditResult {
  duplicates: number;
  orphans: number;
  lost: number;
  stuck: number;
  missing: number;
  /** One line per finding above, naming the object. */
  problems: string[];
  /** How the replays of recorded Idempotency-Keys were answered, by status. */
  replays: Record<string, number>;
}

export interface AuditInput {
  serverUrl: string;
  ownerKey: string;
  state: StateResource[];
  /** POSTs with an Idempotency-Key the proxy saw during the run. */
  posts: Iterable<IdempotentPost>;
}

export async function audit(input: AuditInput): Promise<AuditResult> {
  const api = new Api(input.serverUrl, input.ownerKey);
  const result: AuditResult = { duplicates: 0, orphans: 0, lost: 0, stuck: 0, missing: 0, problems: [], replays: {} };
  const note = (kind: "duplicates" | "orphans" | "lost" | "stuck" | "missing", text: string) => {
    result[kind]++;
    result.problems.push(`${kind === "duplicates" ? "duplicate" : kind === "orphans" ? "orphan" : kind}: ${text}`);
  };

  const me = await api.get<Me>("/v1/me");
  const bootstrapKeyId = me.key?.id;
  const members = (await api.list<Member>("/v1/team/members", { include: "domain_access" })).filter((m) => m.role !== "owner");
  const keys = (await api.list<ApiKey>("/v1/api-keys")).filter((k) => k.id !== bootstrapKeyId);
  const emailOf = new Map(members.map((m) => [m.id, m.email]));

  const byType = (type: string) => input.state.filter((r) => r.type === type);
  const stateMembers = new Map(byType("postscale_team_member").map((r) => [String(r.values.id), r.address]));
  const stateGrants = new Map(byType("postscale_domain_access").map((r) => [`${r.values.member_id}/${r.values.domain}`, r.address]));
  const stateKeys = byType("postscale_api_key");
  const stateKeyIds = new Map(stateKeys.map((r) => [String(r.values.id), r.address]));

  // Duplicates: identities held by more than one server object.
  const groups = new Map<string, string[]>();
  const add = (identity: string, what: string) => groups.set(identity, [...(groups.get(identity) ?? []), what]);
  for (const m of members) add(`member ${m.email.toLowerCase()}`, m.id);
  for (const m of members) for (const g of m.domain_access ?? []) add(`grant ${m.email} on ${g.domain}`, `${m.id}/${g.domain}`);
  for (const k of keys) add(`key "${k.name}" of ${k.owner === "organization" ? "the organization" : (emailOf.get(k.member_id ?? "") ?? k.member_id)}`, k.id);
  for (const [identity, ids] of groups) {
    for (const id of ids.slice(1)) note("duplicates", `${identity}: ${ids.length} objects (${ids.join(", ")}); extra ${id}`);
  }

  // Orphans: server objects no state entry points at.
  const serverGrants = new Set<string>();
  for (const m of members) {
    if (!stateMembers.has(m.id)) note("orphans", `member ${m.email} (${m.id}, ${m.status}, role ${m.role})`);
    for (const g of m.domain_access ?? []) {
      serverGrants.add(`${m.id}/${g.domain}`);
      if (!stateGrants.has(`${m.id}/${g.domain}`)) note("orphans", `grant ${m.email} on ${g.domain} (${g.access})`);
    }
  }
  for (const k of keys) {
    if (!stateKeyIds.has(k.id)) {
      const holder = k.owner === "organization" ? "organization" : `held by ${emailOf.get(k.member_id ?? "") ?? k.member_id}`;
      note("orphans", `key "${k.name}" (${k.id}, ${holder}, scope ${k.scope}${k.domains.length ? ` ${k.domains.join(",")}` : ""})`);
    }
  }

  // Missing: state entries whose object is not on the server.
  const serverMemberIds = new Set(members.map((m) => m.id));
  const serverKeyIds = new Set(keys.map((k) => k.id));
  for (const [id, address] of stateMembers) if (!serverMemberIds.has(id)) note("missing", `${address} (${id}) is not on the server`);
  for (const [id, address] of stateGrants) if (!serverGrants.has(id)) note("missing", `${address} (${id}) is not on the server`);
  for (const [id, address] of stateKeyIds) if (!serverKeyIds.has(id)) note("missing", `${address} (${id}) is not on the server`);

  // Lost secrets: every key in state must hold a secret that authenticates as that key. A member
  // key works once its holder has joined, so invited holders first go through the sign-up flow.
  const holders = new Set(stateKeys.map((r) => r.values.member_id).filter((id): id is string => typeof id === "string"));
  for (const m of members) if (holders.has(m.id) && m.status !== "active") await signUp(api, m);
  for (const r of stateKeys) {
    const secret = r.values.secret;
    if (typeof secret !== "string" || secret === "") {
      note("lost", `${r.address} (${String(r.values.id)}) has no secret in state`);
      continue;
    }
    const answer = await api.raw("GET", "/v1/me", { token: secret });
    if (answer.status !== 200) {
      note("lost", `${r.address} (${String(r.values.id)}): its secret answers GET /v1/me with ${answer.status}`);
      continue;
    }
    const keyId = (JSON.parse(answer.text) as Me).key?.id;
    if (keyId !== r.values.id) note("lost", `${r.address}: its secret authenticates as key ${keyId}, not ${String(r.values.id)}`);
  }

  // Stuck: a replay of each Idempotency-Key the run used must run or answer, never "still being processed".
  for (const post of input.posts) {
    const answer = await api.raw("POST", post.path, {
      token: undefined,
      headers: { ...(post.authorization ? { authorization: post.authorization } : {}), "idempotency-key": post.key, "content-type": "application/json" },
      body: post.body,
    });
    result.replays[answer.status] = (result.replays[answer.status] ?? 0) + 1;
    if (answer.status === 409 && IN_PROGRESS.test(answer.text)) {
      note("stuck", `replay of POST ${post.path} ${post.body.toString("utf8").slice(0, 120)} (sent ${post.attempts}x: ${post.fates.join(", ")}; server answered ${post.statuses.join(", ") || "nothing"}) answers 409: ${problemDetail(answer.text)}`);
    }
  }
  return result;
}

/**
 * Accepts the invitation of `member` and verifies the address, from the dev
 * outbox (the server runs with --dev). The outbox lives in the server's
 * memory, so after a restart the invitation is sent again first.
 */
async function signUp(api: Api, member: Member): Promise<void> {
  const latest = async (kind: MailMessage["kind"]): Promise<MailMessage | undefined> =>
    (await api.get<MailMessage[]>("/_dev/mail")).filter((m) => m.to === member.email && m.kind === kind).pop();
  const send = async (path: string, body: unknown, token?: string) => {
    const answer = await api.raw("POST", path, { token, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify(body)) });
    if (answer.status >= 300) throw new Error(`audit: signing up ${member.email}: POST ${path.replace(/[^/]{20,}/, "<token>")} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  };
  if (!(await latest("invitation"))) await send(`/v1/team/members/${member.id}/resend-invitation`, {}, api.token);
  const invitation = await latest("invitation");
  if (!invitation) throw new Error(`audit: no invitation mail to ${member.email} in the dev outbox, even after resending it`);
  await send(`/v1/invitations/${invitation.token}/accept`, { name: member.email.split("@")[0], password: `pw-${member.email}-123456` });
  const verify = await latest("verify_email");
  if (!verify) throw new Error(`audit: no verify_email mail to ${member.email} in the dev outbox`);
  await send("/v1/auth/verify-email", { token: verify.token });
}

function problemDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { detail?: string; title?: string };
    return body.detail ?? body.title ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

/** Plain HTTP to the server, without retries. */
class Api {
  constructor(
    private readonly base: string,
    readonly token: string,
  ) {}

  async raw(method: string, path: string, options: { token?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<{ status: number; text: string }> {
    const token = "token" in options ? options.token : this.token;
    const response = await fetch(this.base + path, {
      method,
      headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...options.headers },
      body: options.body,
    });
    return { status: response.status, text: await response.text() };
  }

  async get<T>(path: string): Promise<T> {
    const answer = await this.raw("GET", path);
    if (answer.status !== 200) throw new Error(`audit: GET ${path} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    return JSON.parse(answer.text) as T;
  }

  async list<T>(path: string, query: Record<string, string> = {}): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null | undefined;
    do {
      const params = new URLSearchParams({ ...query, limit: "1000", ...(cursor ? { cursor } : {}) });
      const page = await this.get<{ data: T[]; next_cursor?: string | null } | T[]>(`${path}?${params}`);
      if (Array.isArray(page)) return [...items, ...page];
      items.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    return items;
  }
}
