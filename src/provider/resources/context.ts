import type { PostscaleClient } from "../../api/client";
import type { Me } from "../../api/types";
import type { Access, Principal } from "../../policy";
import { createIdempotencyKey } from "./create-keys";
import { ReadFailures } from "./read-failures";
import { RequestStats } from "./request-stats";
import { ServerSnapshot } from "./snapshot";

/** The client calls resources make: a subset of PostscaleClient. */
export type PostscaleApi = Pick<
  PostscaleClient,
  | "listMembers"
  | "getMember"
  | "inviteMember"
  | "updateMember"
  | "removeMember"
  | "resendInvitation"
  | "setDomainAccess"
  | "removeDomainAccess"
  | "listDomains"
  | "listApiKeys"
  | "createApiKey"
  | "rotateApiKeySecret"
  | "updateApiKey"
  | "deleteApiKey"
>;

/** What configure hands every resource and data source of one provider process. */
export interface ProviderContext {
  client: PostscaleApi;
  /** Server state shared by all reads of this process (see ServerSnapshot). */
  snapshot: ServerSnapshot;
  /** The credential's identity, from GET /v1/me at configure. */
  caller: Me;
  /**
   * How long an API key write refused for a domain its owner cannot write
   * keeps retrying, waiting for a grant applied concurrently (see
   * api-key.resource.ts).
   */
  keyGrantWaitMs: number;
  /** HTTP requests made by this context's client. */
  stats: RequestStats;
  /** Read failures, reported once per cause (see read-failures.ts). */
  readFailures: ReadFailures;
  /** The Idempotency-Key of a create, the same in every run (see create-keys.ts). */
  createKey(kind: string, request: Readonly<Record<string, unknown>>): string;
  /**
   * The ids of the API keys this process's creates returned. A create that
   * repeats an earlier one answers with the key that one made, so a delete
   * of such an id in the same run would revoke what the create just handed
   * back (see api-key.resource.ts).
   */
  keysCreatedHere: Set<string>;
}

/** Default of ProviderContext.keyGrantWaitMs. */
export const KEY_GRANT_WAIT_MS = 20_000;

/** A context for a client, the caller it authenticated as, and that caller's credential (which keys its creates). */
export function createContext(client: PostscaleApi, caller: Me, stats: RequestStats, credential: string): ProviderContext {
  return {
    client,
    snapshot: new ServerSnapshot(client),
    caller,
    keyGrantWaitMs: KEY_GRANT_WAIT_MS,
    stats,
    readFailures: new ReadFailures(),
    createKey: (kind, request) => createIdempotencyKey(credential, kind, request),
    keysCreatedHere: new Set(),
  };
}

/** The caller as the policy sees it: its role, its grants, and for a key its scope. */
export function callerPrincipal(me: Me): Principal {
  const grants: Record<string, Access> = {};
  for (const g of me.domain_access) grants[g.domain] = g.access;
  const key = me.key ? { owner: me.key.owner, scope: me.key.scope, domains: me.key.domains } : undefined;
  return { role: me.role, memberId: me.member?.id ?? null, email: me.member?.email, grants, key };
}
