/**
 * The reference model of the Postscale access rules, written from the API
 * contract (the design's API.md: "Roles and rules" and "Keys and people",
 * whose rules docs/security.md restates) and the Team accounts
 * announcement, independently of src/policy and src/server: nothing here
 * imports them.
 *
 * The model holds the state the server should have (people, grants, keys,
 * domains, credentials and the tokens handed out) and, for one concrete
 * request, says which answers are acceptable and what a success changes.
 * Where the contract leaves a choice open (for instance whether a domain-scoped
 * person key may manage people), the expectation accepts both the success
 * and the refusal and the model follows what the server did; those places
 * are marked "open:" below. Everything else is strict.
 *
 * State is plain data (structuredClone-able) so races can be checked against
 * every serial order.
 */
import type { HttpResponse } from "../helpers/http";

export type Role = "owner" | "admin" | "member";
export type Access = "read" | "read_write";
/** 0: no access (the domain is invisible), 1: read, 2: read/write. */
export type Level = 0 | 1 | 2;

export interface PersonState {
  id: string;
  email: string;
  name: string;
  password: string;
  role: Role;
  /** accepted: the invitation was accepted, the email is not verified yet (the member record still says "invited"). */
  status: "invited" | "accepted" | "active" | "removed";
  grants: Record<string, Access>;
  /** Invitation tokens from the outbox, oldest first; the last one is current. */
  inviteTokens: string[];
  verifyToken: string | null;
}

export interface KeyState {
  id: string;
  name: string;
  secret: string;
  owner: "organization" | "member";
  holder: string | null;
  scope: "organization" | "domains";
  domains: string[];
  createdBy: string | null;
  revoked: boolean;
  /** Epoch ms, or null for keys that never expire. */
  expiresAt: number | null;
  bootstrap: boolean;
}

export interface ItemState {
  id: string;
  domain: string;
  kind: "alias" | "rule";
  /** The alias address or the rule's match: an alias address is unique on its domain. */
  name: string;
  deleted: boolean;
}

export interface DomainState {
  name: string;
  exists: boolean;
  /** Settings the model set through PATCH (undefined: never set, not compared). */
  openTracking?: boolean;
  clickTracking?: boolean;
}

export type Cred =
  | { kind: "session"; person: string; token: string; loggedOut: boolean }
  | { kind: "key"; key: string; token: string }
  | { kind: "bogus"; token: string };

export interface State {
  people: PersonState[];
  keys: KeyState[];
  domains: DomainState[];
  items: ItemState[];
  creds: Cred[];
  orgName: string | null;
  billing: { plan: string; billing_email: string } | null;
  /** Mail a success sent, not yet read from the outbox. */
  pendingMail: Array<{ to: string; kind: "invitation" | "verify_email" }>;
  /** Every secret, token and password handed out: none may be stored or logged in clear. */
  secrets: string[];
  counter: number;
}

/** Who a credential acts as, right now. */
export interface Principal {
  cred: Cred;
  /** The person behind the credential; null for organization-owned keys. */
  person: PersonState | null;
  role: Role | null;
  org: boolean;
  /** Domain names a domain-scoped key is limited to; null when unscoped. */
  scope: string[] | null;
  key: KeyState | null;
}

/** What the server may answer to one request, and what a success changes. */
export interface Expectation {
  /** Applies a success to the model; returns a message when the answer's content is wrong. Null: success is wrong. */
  success: ((res: HttpResponse) => string | void) | null;
  /** Acceptable refusal statuses. */
  refusals: number[];
  /** For a refusal status, the problem's `rule` it must carry (true: any non-empty rule). */
  rules: Record<number, string | true>;
  /** A success must write at least one audit event. */
  audited: boolean;
  why: string;
}

/** How a credential stands at a moment: keys near their expiry are neither valid nor expired. */
export type Standing = Principal | "unauthenticated" | "uncertain";

/** The margin around a key's expiry in which the model does not predict the outcome. */
export const EXPIRY_MARGIN_MS = 3000;

export const MISSING = "never-existed.example.com";

export class Model {
  constructor(public s: State) {}

  static initial(): Model {
    return new Model({
      people: [],
      keys: [],
      domains: [],
      items: [],
      creds: [{ kind: "bogus", token: "ps_0000000000000000000000000000000000000000" }],
      orgName: null,
      billing: null,
      pendingMail: [],
      secrets: [],
      counter: 0,
    });
  }

  clone(): Model {
    return new Model(structuredClone(this.s));
  }

  // ---- lookups -----------------------------------------------------------

  person(id: string | null | undefined): PersonState | undefined {
    return id ? this.s.people.find((p) => p.id === id) : undefined;
  }

  /** A person who is still in the organization (invited, accepted or active). */
  member(id: string | null | undefined): PersonState | undefined {
    const p = this.person(id);
    return p && p.status !== "removed" ? p : undefined;
  }

  owner(): PersonState {
    const owners = this.s.people.filter((p) => p.role === "owner" && p.status !== "removed");
    if (owners.length !== 1) throw new Error(`model invariant: ${owners.length} owners`);
    return owners[0];
  }

  key(id: string | null | undefined): KeyState | undefined {
    return id ? this.s.keys.find((k) => k.id === id) : undefined;
  }

  domain(name: string): DomainState | undefined {
    return this.s.domains.find((d) => d.name === name);
  }

  exists(name: string): boolean {
    return this.domain(name)?.exists === true;
  }

  existingDomains(): string[] {
    return this.s.domains.filter((d) => d.exists).map((d) => d.name);
  }

  expiryState(k: KeyState, now: number): "valid" | "expired" | "uncertain" {
    if (k.expiresAt === null) return "valid";
    if (now < k.expiresAt - EXPIRY_MARGIN_MS) return "valid";
    if (now > k.expiresAt + EXPIRY_MARGIN_MS) return "expired";
    return "uncertain";
  }

  /** A key that is live and not near or past its expiry (expired keys are left out of every prediction). */
  liveKey(k: KeyState | undefined, now: number): boolean {
    return !!k && !k.revoked && this.expiryState(k, now) === "valid";
  }

  standing(cred: Cred, now: number): Standing {
    if (cred.kind === "bogus") return "unauthenticated";
    if (cred.kind === "session") {
      const p = this.person(cred.person);
      if (!p || p.status !== "active" || cred.loggedOut) return "unauthenticated";
      return { cred, person: p, role: p.role, org: false, scope: null, key: null };
    }
    const k = this.key(cred.key);
    if (!k || k.revoked) return "unauthenticated";
    const expiry = this.expiryState(k, now);
    if (expiry === "expired") return "unauthenticated";
    if (expiry === "uncertain") return "uncertain";
    const scope = k.scope === "domains" ? [...k.domains] : null;
    if (k.owner === "organization") return { cred, person: null, role: null, org: true, scope, key: k };
    const p = this.person(k.holder);
    // Removing a person revokes the keys they hold; a key of someone not active reaches nothing.
    if (!p || p.status !== "active") return "unauthenticated";
    return { cred, person: p, role: p.role, org: false, scope, key: k };
  }

  /** The access a person has by role and grants (no key involved). */
  personLevel(p: PersonState, domain: string): Level {
    if (!this.exists(domain)) return 0;
    if (p.role === "owner" || p.role === "admin") return 2;
    const g = p.grants[domain];
    return g === "read_write" ? 2 : g === "read" ? 1 : 0;
  }

  /** Effective access of a credential: key scope ∩ the holder's current access. */
  level(P: Principal, domain: string): Level {
    if (!this.exists(domain)) return 0;
    if (P.scope && !P.scope.includes(domain)) return 0;
    if (P.org) return 2;
    return P.person ? this.personLevel(P.person, domain) : 0;
  }

  /** Read/write domains of a person right now. */
  writable(p: PersonState): string[] {
    return this.existingDomains().filter((d) => this.personLevel(p, d) === 2);
  }

  /** Live keys of the same name class: the holder's keys, or the organization's keys. */
  nameTaken(holder: string | null, name: string, exceptKey?: string): boolean {
    return this.s.keys.some((k) => !k.revoked && k.id !== exceptKey && k.name === name && (holder === null ? k.owner === "organization" : k.owner === "member" && k.holder === holder));
  }

  /** A name clash with an expired (but never revoked) key is not predicted: is listing or naming still blocked by it? */
  nameClashIsUncertain(holder: string | null, name: string, now: number, exceptKey?: string): boolean {
    return this.s.keys.some(
      (k) =>
        !k.revoked &&
        k.id !== exceptKey &&
        k.name === name &&
        k.expiresAt !== null &&
        this.expiryState(k, now) !== "valid" &&
        (holder === null ? k.owner === "organization" : k.owner === "member" && k.holder === holder),
    );
  }

  addCred(cred: Cred): void {
    this.s.creds.push(cred);
    this.secret(cred.token);
  }

  secret(value: string | null | undefined): void {
    if (value && !this.s.secrets.includes(value)) this.s.secrets.push(value);
  }

  /** Revokes what a removed person held: sessions and member-held keys; grants go too. */
  private offboard(p: PersonState): void {
    p.status = "removed";
    p.grants = {};
    for (const k of this.s.keys) if (k.owner === "member" && k.holder === p.id) k.revoked = true;
  }

  /** Grants mean nothing outside role member: any change away from member deletes them. */
  private setRole(p: PersonState, role: Role): void {
    p.role = role;
    if (role !== "member") p.grants = {};
  }

  // ---- expectations ------------------------------------------------------
  // Each takes the principal (or its absence) and concrete arguments, and
  // returns what the server may answer. Refusals that several failed checks
  // could each explain are all accepted: the contract fixes the statuses, not the
  // order in which a server checks.

  expect(call: Call, now: number): Expectation {
    const standing = call.cred === null ? null : this.standing(this.s.creds[call.cred], now);
    if (standing === "uncertain") throw new Error("expect() called with a credential near its expiry");
    const P = standing === null || standing === "unauthenticated" ? null : standing;
    const needsAuth = call.cred !== null;
    const e = new Exp(call.label);
    if (needsAuth && !P) {
      // Logging out a session that has just ended (two logouts at once) may also succeed as a no-op.
      if (call.op === "logout") e.ok(() => undefined, false).maybe(401);
      // 401 comes first; a server may validate the body before authenticating.
      else e.refuse(401);
      return e.orInvalid(call.invalid).done();
    }
    const run = (this as unknown as Record<string, (P: Principal | null, a: never, e: Exp, now: number) => Exp>)[`x_${call.op}`];
    if (!run) throw new Error(`no expectation for ${call.op}`);
    run.call(this, P, call.args as never, e, now);
    // A domain named in a people or key request that the caller cannot see (or that does not exist) may be
    // answered 404 or 422 whatever else is wrong: servers check references in any order. That the answer for
    // a hidden domain is the same as for a missing one is checked by sending the request's twin (World).
    if (P && referencedDomains(call).some((d) => this.level(P, d) === 0)) e.refuse(404, 422);
    if (!P && referencedDomains(call).some((d) => !this.exists(d))) e.refuse(404, 422);
    return e.orInvalid(call.invalid).done();
  }

  /** People management (invite, roles, grants, removal, resend): persons with role owner or admin. */
  private peopleGate(P: Principal, e: Exp, missingTarget = false): boolean {
    if (P.org || P.role === "member") {
      e.refuse(403, ...(missingTarget ? [404] : []));
      return false;
    }
    // open: may a domain-scoped key of an owner or admin manage people? the contract does not say.
    if (P.scope) e.maybe(403);
    return true;
  }

  x_invite(P: Principal, a: { email: string; role: string; grants: Array<{ domain: string; access: string }> | null }, e: Exp): Exp {
    if (!this.peopleGate(P, e)) return e;
    if (a.role === "admin" && a.grants && a.grants.length > 0) e.refuse(422);
    if (a.grants) for (const g of a.grants) if (!this.exists(g.domain)) e.refuse(404, 422);
    const email = a.email.toLowerCase();
    if (this.s.people.some((p) => p.status !== "removed" && p.email.toLowerCase() === email)) e.refuse(409);
    return e.ok(
      (res) => {
        const body = res.body;
        if (!body?.id) return "invite answered without an id";
        const grants: Record<string, Access> = {};
        for (const g of a.grants ?? []) grants[g.domain] = g.access as Access;
        this.s.people.push({ id: body.id, email, name: "", password: `pw-${body.id}-${email}`, role: a.role as Role, status: "invited", grants, inviteTokens: [], verifyToken: null });
        this.s.pendingMail.push({ to: email, kind: "invitation" });
        if (body.status !== "invited") return `invited member has status ${body.status}`;
        if (body.role !== a.role) return `invited member has role ${body.role}`;
      },
      true,
    );
  }

  x_accept(_P: null, a: { person: string | null; token: string; stale: boolean; name: string; password: string }, e: Exp): Exp {
    const p = this.person(a.person);
    if (!p) return e.refuse(404, 410);
    if (p.status === "removed") return e.refuse(403, 404, 409, 410, 422);
    if (p.status !== "invited") return e.refuse(404, 409, 410);
    // open: does resending an invitation retire the earlier token? Either is fine.
    if (a.stale) e.maybe(404, 409, 410);
    return e.ok((res) => {
      p.status = "accepted";
      p.name = a.name;
      p.password = a.password;
      this.secret(a.password);
      this.s.pendingMail.push({ to: p.email, kind: "verify_email" });
      void res;
    }, true);
  }

  x_verify(_P: null, a: { person: string | null; token: string }, e: Exp): Exp {
    const p = this.person(a.person);
    if (!p) return e.refuse(404, 410, 422);
    if (p.status === "removed") return e.refuse(401, 403, 404, 409, 410, 422);
    if (p.status !== "accepted") return e.refuse(404, 409, 410, 422);
    return e.ok((res) => {
      p.status = "active";
      const token = res.body?.token;
      if (typeof token !== "string" || token.length === 0) return "verify-email answered without a session token";
      this.addCred({ kind: "session", person: p.id, token, loggedOut: false });
      if (res.body.redirect_to !== "/dashboard") return `verify-email redirect_to is ${JSON.stringify(res.body.redirect_to)}`;
    }, true);
  }

  x_login(_P: null, a: { person: string | null; email: string; password: string; right: boolean }, e: Exp): Exp {
    const p = this.member(a.person);
    if (!p || p.status !== "active" || !a.right) return e.refuse(401);
    return e.ok((res) => {
      const token = res.body?.token;
      if (typeof token !== "string" || token.length === 0) return "login answered without a token";
      this.addCred({ kind: "session", person: p.id, token, loggedOut: false });
    }, false);
  }

  x_logout(P: Principal, _a: unknown, e: Exp): Exp {
    const cred = P.cred;
    return e.ok(() => {
      if (cred.kind === "session") cred.loggedOut = true;
    }, false);
  }

  x_resend(P: Principal, a: { person: string | null }, e: Exp): Exp {
    const t = this.member(a.person);
    if (!this.peopleGate(P, e, !t)) return e;
    if (!t) return e.refuse(404);
    if (t.role === "owner") return e.refuse(403, 409, 422);
    if (t.status === "active") return e.refuse(409, 422);
    return e.ok(() => {
      this.s.pendingMail.push({ to: t.email, kind: "invitation" });
    }, true);
  }

  x_role(P: Principal, a: { person: string | null; role: string }, e: Exp): Exp {
    const t = this.member(a.person);
    if (!this.peopleGate(P, e, !t)) return e;
    if (!t) return e.refuse(404);
    if (t.id === P.person?.id) e.refuse(403);
    if (t.role === "owner") e.refuse(403);
    return e.ok((res) => {
      this.setRole(t, a.role as Role);
      if (res.body?.role !== a.role) return `role change answered role ${res.body?.role}`;
    }, true);
  }

  x_grant(P: Principal, a: { person: string | null; domain: string; access: string }, e: Exp): Exp {
    const t = this.member(a.person);
    if (!this.peopleGate(P, e, !t)) return e;
    if (!t) return e.refuse(404);
    if (t.role !== "member") {
      // Grants are for role member only (422); the owner and one's own record are also out of reach (403).
      if (t.role === "owner" || t.id === P.person?.id) e.refuse(403, 422);
      else e.refuse(422);
    }
    if (!this.exists(a.domain)) e.refuse(404, 422);
    return e.ok(() => {
      t.grants[a.domain] = a.access as Access;
    }, true);
  }

  x_ungrant(P: Principal, a: { person: string | null; domain: string }, e: Exp): Exp {
    const t = this.member(a.person);
    if (!this.peopleGate(P, e, !t)) return e;
    if (!t) return e.refuse(404);
    if (t.role !== "member") {
      if (t.role === "owner" || t.id === P.person?.id) e.refuse(403, 404, 422);
      else e.refuse(404, 422);
      return e;
    }
    if (!this.exists(a.domain)) return e.refuse(404, 422);
    if (!t.grants[a.domain]) {
      // open: removing a grant that is not there: 404, or a no-op success.
      e.maybe(404);
      return e.ok(() => undefined, false);
    }
    return e.ok(() => {
      delete t.grants[a.domain];
    }, true);
  }

  x_offboard(P: Principal, a: { person: string | null }, e: Exp): Exp {
    const t = this.member(a.person);
    if (!this.peopleGate(P, e, !t)) return e;
    if (!t) return e.refuse(404);
    if (t.role === "owner") return e.refuse(403);
    if (t.id === P.person?.id) return e.refuse(403);
    return e.ok(() => this.offboard(t), true);
  }

  x_transfer(P: Principal, a: { person: string | null }, e: Exp): Exp {
    const t = this.member(a.person);
    if (P.org || P.role !== "owner") return e.refuse(403, ...(t ? [] : [404, 422]));
    // open: a domain-scoped key of the owner moving ownership.
    if (P.scope) e.maybe(403);
    if (!t) return e.refuse(404, 422);
    if (t.id === P.person?.id) {
      // open: transferring to oneself: a refusal, or a no-op.
      e.maybe(403, 409, 422);
      return e.ok(() => undefined, false);
    }
    if (t.status !== "active") return e.refuse(409, 422);
    const from = P.person as PersonState;
    return e.ok(() => {
      this.setRole(from, "admin");
      this.setRole(t, "owner");
    }, true);
  }

  /** Who may act on an existing key (rename, rescope, revoke): the no-escalation rule. */
  private keyGate(P: Principal, k: KeyState | undefined, e: Exp, now: number): k is KeyState {
    if (!k || !this.liveKey(k, now)) {
      e.refuse(...(P.org ? [403, 404] : [404]));
      return false;
    }
    if (P.org) {
      e.refuse(403);
      return false;
    }
    const self = P.person as PersonState;
    if (P.role === "member" && (k.owner !== "member" || k.holder !== self.id)) {
      e.refuse(404);
      return false;
    }
    if (P.role === "admin" && k.owner === "member" && k.holder !== self.id) {
      const holder = this.member(k.holder);
      if (holder && holder.role !== "member") {
        // A domain-scoped credential may not even see the key: 404 is fine then.
        e.refuse(403, ...(P.scope ? [404] : [])).rule(403, true);
        return false;
      }
    }
    // open: may a domain-scoped key manage keys at all (and see keys outside its scope)? Never beyond the rules above.
    if (P.scope) e.maybe(403, 404);
    return true;
  }

  /** Domains a credential hands to a key: each must be visible (else 404/422), writable by the credential, and by a member holder. */
  private keyDomains(P: Principal, holder: PersonState | null, domains: string[], e: Exp): void {
    for (const d of domains) {
      const l = this.level(P, d);
      if (l === 0) e.refuse(404, 422);
      else if (l === 1) e.refuse(403);
      else if (holder && this.personLevel(holder, d) < 2) e.refuse(403);
    }
  }

  x_keyCreate(
    P: Principal,
    a: { owner: "organization" | "member"; holder: string | null | undefined; domains: string[] | null; name: string; expiresAt: number | null },
    e: Exp,
  ): Exp {
    if (P.org) return e.refuse(403);
    const self = P.person as PersonState;
    if (a.owner === "organization") {
      if (P.role === "member") return e.refuse(403);
      if (a.domains) for (const d of a.domains) if (!this.exists(d)) e.refuse(404, 422);
      if (P.scope) {
        // A domain-scoped credential never mints an organization-wide key; one within its own scope is open.
        if (!a.domains || a.domains.some((d) => !P.scope?.includes(d))) e.refuse(403, ...(a.domains ? [404, 422] : []));
        else e.maybe(403);
      }
      if (this.nameTaken(null, a.name)) e.refuse(409).rule(409, "key_name_taken");
      const created = self.id;
      return e.ok((res) => {
        const domains = a.domains ? [...new Set(a.domains)].sort() : [];
        return this.learnKey(res, { owner: "organization", holder: null, scope: a.domains ? "domains" : "organization", domains, createdBy: created, expiresAt: a.expiresAt, name: a.name }, [domains]);
      }, true);
    }
    // A key held by a person.
    const holderId = a.holder === undefined ? self.id : a.holder;
    const holder = this.member(holderId);
    if (holderId !== self.id) {
      // Members mint keys only for themselves. 403 by the contract's conventions; 422 is accepted too, since a
      // member cannot see the team and the same answer for real and unknown ids hides who is a member.
      if (P.role === "member") return e.refuse(403, 422, ...(holder ? [] : [404]));
      if (!holder) return e.refuse(404, 422);
      // A domain-scoped credential may not even see the team: 404/422 (an unknown holder) is fine then.
      if (P.role === "admin" && holder.role !== "member") return e.refuse(403, ...(P.scope ? [404, 422] : [])).rule(403, true);
    }
    const h = holder as PersonState;
    // open: a domain-scoped key minting keys (for someone else, it may not even see the team: 404/422).
    if (P.scope) e.maybe(403, ...(h.id !== self.id ? [404, 422] : []));
    let candidates: string[][];
    let scope: "organization" | "domains" = "domains";
    if (a.domains) {
      this.keyDomains(P, h.role === "member" ? h : null, a.domains, e);
      candidates = [[...new Set(a.domains)].sort()];
    } else if (h.role === "member") {
      const rw = this.writable(h).sort();
      const inScope = P.scope ? rw.filter((d) => P.scope?.includes(d)) : rw;
      // open: auto-scoping through a domain-scoped key: the member's writable domains, or those within the key.
      candidates = [inScope, rw].filter((c, i, all) => c.length > 0 && all.findIndex((o) => o.join() === c.join()) === i);
      if (candidates.length === 0) e.refuse(422);
      else if (inScope.length === 0) e.maybe(403, 422);
    } else {
      scope = "organization";
      candidates = [[]];
      // open: an owner's or admin's domain-scoped key minting an unscoped key for a person.
      if (P.scope) e.maybe(403, 422);
    }
    if (this.nameTaken(h.id, a.name)) e.refuse(409).rule(409, "key_name_taken");
    return e.ok((res) => this.learnKey(res, { owner: "member", holder: h.id, scope, domains: [], createdBy: self.id, expiresAt: a.expiresAt, name: a.name }, candidates), true);
  }

  private learnKey(res: HttpResponse, k: Omit<KeyState, "id" | "secret" | "revoked" | "bootstrap">, domainCandidates: string[][]): string | void {
    const b = res.body ?? {};
    if (typeof b.id !== "string" || typeof b.secret !== "string") return "key creation answered without id or secret";
    const domains = Array.isArray(b.domains) ? [...b.domains].sort() : [];
    const match = domainCandidates.find((c) => c.join() === domains.join());
    const key: KeyState = { ...k, id: b.id, secret: b.secret, revoked: false, bootstrap: false, domains: match ?? domainCandidates[0] };
    this.s.keys.push(key);
    this.addCred({ kind: "key", key: b.id, token: b.secret });
    const problems: string[] = [];
    if (!match) problems.push(`domains ${JSON.stringify(domains)}, expected one of ${JSON.stringify(domainCandidates)}`);
    if (b.owner !== k.owner) problems.push(`owner ${b.owner}`);
    if ((b.member_id ?? null) !== k.holder) problems.push(`member_id ${b.member_id}`);
    if (b.scope !== k.scope) problems.push(`scope ${b.scope}`);
    if (b.created_by !== k.createdBy) problems.push(`created_by ${b.created_by}, expected ${k.createdBy}`);
    if (b.name !== k.name) problems.push(`name ${b.name}`);
    if (problems.length > 0) return `created key: ${problems.join("; ")}`;
  }

  x_keyRename(P: Principal, a: { key: string | null; name: string }, e: Exp, now: number): Exp {
    const k = this.key(a.key);
    if (!this.keyGate(P, k, e, now)) return e;
    const holder = k.owner === "organization" ? null : k.holder;
    if (this.nameTaken(holder, a.name, k.id)) e.refuse(409).rule(409, "key_name_taken");
    return e.ok((res) => {
      k.name = a.name;
      if (res.body?.name !== a.name) return `renamed key answered name ${res.body?.name}`;
    }, true);
  }

  x_keyRescope(P: Principal, a: { key: string | null; domains: string[] }, e: Exp, now: number): Exp {
    const k = this.key(a.key);
    if (!this.keyGate(P, k, e, now)) return e;
    const holder = k.owner === "member" ? (this.member(k.holder) ?? null) : null;
    this.keyDomains(P, holder && holder.role === "member" ? holder : null, a.domains, e);
    return e.ok((res) => {
      k.scope = "domains";
      k.domains = [...new Set(a.domains)].sort();
      const got = Array.isArray(res.body?.domains) ? [...res.body.domains].sort() : null;
      if (JSON.stringify(got) !== JSON.stringify(k.domains)) return `rescoped key answered domains ${JSON.stringify(got)}`;
    }, true);
  }

  x_keyRevoke(P: Principal, a: { key: string | null }, e: Exp, now: number): Exp {
    const k = this.key(a.key);
    if (!this.keyGate(P, k, e, now)) return e;
    return e.ok(() => {
      k.revoked = true;
    }, true);
  }

  x_domainCreate(P: Principal, a: { name: string }, e: Exp): Exp {
    if (!P.org && P.role === "member") return e.refuse(403);
    // open: domain-scoped keys (person or organization) creating a domain.
    if (P.scope) e.maybe(403);
    if (this.exists(a.name)) e.refuse(409);
    return e.ok(() => {
      const d = this.domain(a.name);
      if (d) Object.assign(d, { exists: true, openTracking: undefined, clickTracking: undefined });
      else this.s.domains.push({ name: a.name, exists: true });
    }, true);
  }

  x_domainDelete(P: Principal, a: { domain: string }, e: Exp): Exp {
    if (this.level(P, a.domain) === 0) return e.refuse(404);
    if (!P.org && P.role === "member") return e.refuse(403);
    // open: organization-owned keys and domain-scoped keys deleting a domain they reach.
    if (P.org || P.scope) e.maybe(403);
    return e.ok(() => {
      const d = this.domain(a.domain) as DomainState;
      d.exists = false;
      for (const p of this.s.people) delete p.grants[a.domain];
      for (const item of this.s.items) if (item.domain === a.domain) item.deleted = true;
      // A domain created again later with the same name is a new domain: no grant or key scope carries over.
      for (const k of this.s.keys) k.domains = k.domains.filter((x) => x !== a.domain);
    }, true);
  }

  /** A write on a domain: 404 when invisible (exactly as missing), 403 when read-only. */
  private domainWrite(P: Principal, domain: string, e: Exp): boolean {
    const l = this.level(P, domain);
    if (l === 0) {
      e.refuse(404);
      return false;
    }
    if (l === 1) {
      e.refuse(403);
      return false;
    }
    return true;
  }

  x_domainPatch(P: Principal, a: { domain: string; open: boolean; click: boolean }, e: Exp): Exp {
    if (!this.domainWrite(P, a.domain, e)) return e;
    return e.ok((res) => {
      const d = this.domain(a.domain) as DomainState;
      d.openTracking = a.open;
      d.clickTracking = a.click;
      if (res.body?.open_tracking !== a.open || res.body?.click_tracking !== a.click) return `domain PATCH answered ${res.text.slice(0, 200)}`;
    }, true);
  }

  x_domainAction(P: Principal, a: { domain: string; action: string }, e: Exp): Exp {
    if (!this.domainWrite(P, a.domain, e)) return e;
    // open: verify and warming transitions may be refused as conflicts by the domain's state (not modelled).
    if (a.action !== "dkim") e.maybe(409, 422);
    return e.ok(() => undefined, a.action === "dkim");
  }

  x_itemCreate(P: Principal, a: { domain: string; kind: "alias" | "rule"; name: string }, e: Exp): Exp {
    if (!this.domainWrite(P, a.domain, e)) return e;
    const same = this.s.items.some((i) => !i.deleted && i.domain === a.domain && i.kind === a.kind && i.name === a.name);
    // An alias address exists once per domain (409); whether two identical rules may coexist is open.
    if (same && a.kind === "alias") e.refuse(409);
    if (same && a.kind === "rule") e.maybe(409);
    return e.ok((res) => {
      if (typeof res.body?.id !== "string") return `${a.kind} create answered without an id`;
      this.s.items.push({ id: res.body.id, domain: a.domain, kind: a.kind, name: a.name, deleted: false });
    }, true);
  }

  x_itemChange(P: Principal, a: { domain: string; kind: "alias" | "rule"; id: string; del: boolean }, e: Exp): Exp {
    const l = this.level(P, a.domain);
    const item = this.s.items.find((i) => i.id === a.id && i.kind === a.kind && i.domain === a.domain && !i.deleted);
    if (l === 0) return e.refuse(404);
    if (l === 1) return e.refuse(...(item ? [403] : [403, 404]));
    if (!item) return e.refuse(404);
    return e.ok(() => {
      if (a.del) item.deleted = true;
    }, true);
  }

  x_orgPatch(P: Principal, a: { name: string }, e: Exp): Exp {
    if (P.org || P.role === "member") return e.refuse(403);
    if (P.scope) e.maybe(403);
    return e.ok((res) => {
      this.s.orgName = a.name;
      if (res.body?.name !== a.name) return `organization PATCH answered name ${res.body?.name}`;
    }, true);
  }

  x_billing(P: Principal, a: { plan: string; email: string }, e: Exp): Exp {
    if (P.org || P.role !== "owner") return e.refuse(403);
    if (P.scope) e.maybe(403);
    return e.ok(() => {
      this.s.billing = { plan: a.plan, billing_email: a.email };
    }, true);
  }

  x_orgDelete(P: Principal, _a: unknown, e: Exp): Exp {
    if (P.org || P.role !== "owner") return e.refuse(403);
    throw new Error("the generator never deletes the organization as its owner");
  }
}

/** Domain names a people or key request refers to (not the domain routes, whose path domain is the resource). */
export function referencedDomains(call: Call): string[] {
  const a = call.args as { domain?: string; domains?: string[] | null; grants?: Array<{ domain: string }> | null };
  if (call.op === "grant" || call.op === "ungrant") return a.domain ? [a.domain] : [];
  if (call.op === "keyCreate" || call.op === "keyRescope") return a.domains ?? [];
  if (call.op === "invite") return (a.grants ?? []).map((g) => g.domain);
  return [];
}

/** One concrete request the model judges: the operation, its credential (null: no auth) and resolved arguments. */
export interface Call {
  op: string;
  label: string;
  /** Index into State.creds; null: sent without a credential. */
  cred: number | null;
  args: unknown;
  /** The body is invalid on its own (a 422 is acceptable whatever else holds). */
  invalid: boolean;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
}

/** Builds an Expectation: hard refusals exclude success, "maybe" refusals do not. */
export class Exp {
  private hard = new Set<number>();
  private soft = new Set<number>();
  private apply: ((res: HttpResponse) => string | void) | null = null;
  private audited = false;
  private rules: Record<number, string | true> = {};

  constructor(private readonly why: string) {}

  refuse(...statuses: number[]): this {
    for (const s of statuses) this.hard.add(s);
    return this;
  }

  maybe(...statuses: number[]): this {
    for (const s of statuses) this.soft.add(s);
    return this;
  }

  /** A body that is invalid by itself: 422 is always acceptable and success never is. */
  orInvalid(invalid: boolean): this {
    if (invalid) this.hard.add(422);
    return this;
  }

  rule(status: number, rule: string | true): this {
    this.rules[status] = rule;
    return this;
  }

  ok(apply: (res: HttpResponse) => string | void, audited: boolean): this {
    this.apply = apply;
    this.audited = audited;
    return this;
  }

  done(): Expectation {
    const refusals = [...new Set([...this.hard, ...this.soft])].sort();
    // A rule applies only when its status is the one hard reason.
    const rules = Object.fromEntries(Object.entries(this.rules).filter(([s]) => this.hard.size === 1 && this.hard.has(Number(s)))) as Record<number, string | true>;
    return { success: this.hard.size > 0 ? null : this.apply, refusals, rules, audited: this.audited, why: this.why };
  }
}
