import type { ApiKey, Domain, DomainGrant, Member } from "../../api/types";
import type { PostscaleClient } from "../../api/client";
import { normalizeEmail, revokedWithMember } from "../../policy";

/** The API calls the snapshot loads from; a subset of PostscaleClient. */
export type SnapshotSource = Pick<PostscaleClient, "listMembers" | "listApiKeys" | "listDomains">;

interface MemberIndex {
  byId: Map<string, Member>;
  byEmail: Map<string, Member>;
}

/**
 * A value loaded once on first use and shared by concurrent callers. A
 * failed load does not stick: the next caller tries again.
 */
class Lazy<T> {
  private promise?: Promise<T>;

  constructor(private readonly load: () => Promise<T>) {}

  get(): Promise<T> {
    return this.promise ?? this.hold(this.load());
  }

  /** Applies `change` to the loaded value (after any load in flight); does nothing when nothing was loaded. */
  patch(change: (value: T) => void): void {
    if (this.promise) this.hold(this.promise.then((value) => (change(value), value)));
  }

  private hold(promise: Promise<T>): Promise<T> {
    this.promise = promise;
    // Also keeps a failure of a held promise from surfacing as an unhandled rejection.
    promise.catch(() => {
      if (this.promise === promise) this.promise = undefined;
    });
    return promise;
  }
}

/**
 * What the server holds, loaded with one list call per kind and shared by
 * every read in this provider process, so a refresh of thousands of
 * resources costs a handful of requests instead of one per resource.
 *
 * A provider process lives for one validate, plan or apply phase, so the
 * snapshot is fresh per phase. Loads are single-flight (concurrent readers
 * share the promise). Writes made through this process are applied to the
 * snapshot rather than dropping it: during apply the engine re-plans every
 * resource just before applying it, and a reload after every write would
 * cost one list call per resource. Patches are idempotent and chained after
 * any load in flight, so a load that raced a write still ends up current.
 */
export class ServerSnapshot {
  private readonly members: Lazy<MemberIndex>;
  private readonly keys: Lazy<Map<string, ApiKey>>;
  private readonly domains: Lazy<Domain[]>;
  private readonly grantWaiters = new Map<string, Set<() => void>>();

  constructor(source: SnapshotSource) {
    this.members = new Lazy(async () => {
      const index: MemberIndex = { byId: new Map(), byEmail: new Map() };
      for (const m of await source.listMembers({ includeDomainAccess: true })) {
        index.byId.set(m.id, m);
        index.byEmail.set(normalizeEmail(m.email), m);
      }
      return index;
    });
    this.keys = new Lazy(async () => new Map((await source.listApiKeys()).map((k) => [k.id, k])));
    this.domains = new Lazy(async () => [...(await source.listDomains())].sort((a, b) => a.name.localeCompare(b.name)));
  }

  /** The member with this id, or undefined when the server has none. */
  async member(id: string): Promise<Member | undefined> {
    return (await this.members.get()).byId.get(id);
  }

  /** The member with this email (compared normalized), or undefined. */
  async memberByEmail(email: string): Promise<Member | undefined> {
    return (await this.members.get()).byEmail.get(normalizeEmail(email));
  }

  /** Every member, ordered by email. */
  async allMembers(): Promise<Member[]> {
    return [...(await this.members.get()).byId.values()].sort((a, b) => a.email.localeCompare(b.email));
  }

  /** The API key with this id, or undefined. */
  async key(id: string): Promise<ApiKey | undefined> {
    return (await this.keys.get()).get(id);
  }

  /** Every domain of the organization, ordered by name. */
  async allDomains(): Promise<Domain[]> {
    return this.domains.get();
  }

  /** Records a member as the server returned it after a write. */
  putMember(member: Member): void {
    this.members.patch((index) => {
      const previous = index.byId.get(member.id);
      const next: Member = { ...member, domain_access: member.domain_access ?? previous?.domain_access ?? [] };
      if (previous) index.byEmail.delete(normalizeEmail(previous.email));
      index.byId.set(member.id, next);
      index.byEmail.set(normalizeEmail(next.email), next);
    });
  }

  /** Records an offboarding: the member, their grants and the keys they held are gone. */
  dropMember(id: string): void {
    this.members.patch((index) => {
      const previous = index.byId.get(id);
      if (!previous) return;
      index.byId.delete(id);
      index.byEmail.delete(normalizeEmail(previous.email));
    });
    this.keys.patch((keys) => {
      for (const [keyId, key] of keys) if (revokedWithMember({ owner: key.owner, memberId: key.member_id }, id)) keys.delete(keyId);
    });
  }

  /** Records a grant write (`access` null: removed) and wakes anyone waiting for one on this member. */
  putGrant(memberId: string, domain: string, access: DomainGrant["access"] | null): void {
    this.members.patch((index) => {
      const member = index.byId.get(memberId);
      if (!member) return;
      const others = (member.domain_access ?? []).filter((g) => g.domain !== domain);
      const grants = access === null ? others : [...others, { domain, access }];
      const next = { ...member, domain_access: grants };
      index.byId.set(memberId, next);
      index.byEmail.set(normalizeEmail(member.email), next);
    });
    const waiters = this.grantWaiters.get(memberId);
    this.grantWaiters.delete(memberId);
    waiters?.forEach((wake) => wake());
  }

  /**
   * Resolves at the next grant write for this member made through this
   * process, or after `ms`, whichever comes first.
   */
  grantChangeOrTimeout(memberId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.grantWaiters.get(memberId) ?? new Set<() => void>();
      this.grantWaiters.set(memberId, waiters);
      const wake = (): void => {
        clearTimeout(timer);
        waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
    });
  }

  /** Records a key as the server returned it after a write. */
  putKey(key: ApiKey): void {
    const { id, name, prefix, owner, member_id, scope, domains, created_at, created_by, expires_at, last_used_at, rotated_at, previous_valid_until, origin } = key;
    this.keys.patch((keys) =>
      keys.set(id, { id, name, prefix, owner, member_id, scope, domains, created_at, created_by: created_by ?? null, expires_at, last_used_at, rotated_at, previous_valid_until, origin }),
    );
  }

  /** Records a key deletion. */
  dropKey(id: string): void {
    this.keys.patch((keys) => keys.delete(id));
  }

}
