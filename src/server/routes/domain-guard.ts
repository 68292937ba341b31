import { type DomainAction, type Principal, type Violation, decideDomainAction } from "../../policy";
import type { Queryable } from "../db/adapter";
import type { Caller } from "../context";
import { findDomain } from "../data/domains";
import { fromViolation } from "../problem";
import type { ReadCache } from "../read-cache";
import type { DomainRow } from "../records";

// Someone who can see no domain: asking the policy about them yields the
// not-found answer, so a missing domain and a hidden one read the same.
const NOBODY: Principal = { role: "member", memberId: null, grants: {} };

/** The 404 for a domain that does not exist, identical to the one for a hidden domain. */
export function domainNotFound(name: string) {
  return fromViolation(decideDomainAction(NOBODY, "domain.read", name) as Violation);
}

/**
 * Loads a domain the caller may act on, or throws: 404 when it is hidden
 * or missing (same body), 403 when visible but the access is too low.
 * The policy is asked first so a hidden domain costs no query.
 */
export async function authorizeDomain(
  q: Queryable,
  caller: Caller,
  name: string,
  action: DomainAction,
  options: { lock?: boolean; cache?: ReadCache } = {},
): Promise<DomainRow> {
  const decision = decideDomainAction(caller.principal, action, name);
  if (!decision.allowed && decision.rule === "domain_not_visible") throw fromViolation(decision);
  const load = () => findDomain(q, caller.orgId, name, options.lock);
  // Only the row is cached, never the decision: that is taken above for this caller.
  const row = options.cache && !options.lock ? await options.cache.get(`domain:${caller.orgId}:${name}`, load) : await load();
  if (!row) throw domainNotFound(name);
  if (!decision.allowed) throw fromViolation(decision);
  return row;
}
