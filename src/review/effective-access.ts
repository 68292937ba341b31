import type { PlannedAccess, PlannedPerson } from "./plan-access";
import { ALL_DOMAINS, NOTHING, ORGANIZATION, type EffectiveAccess, type EffectiveAccessLine } from "./review-model";
import { ACCESS, KeyAccess, isManager, personAccess } from "../policy";

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** What a key reaches, as the review's key rows write it. */
function reachText(key: KeyAccess | undefined): string {
  if (key === undefined) return NOTHING;
  if (key.reach.kind === "organization") return "organization-wide";
  if (key.reach.kind === "unknown") return "(known after apply)";
  return key.reach.domains.length > 0 ? key.reach.domains.join(", ") : "no domain";
}

/** A person's access to one domain on one side: their grant, or read_write for a manager. */
function domainText(person: PlannedPerson | undefined, domain: string): string {
  return person === undefined ? NOTHING : personAccess(person.role, person.grants, domain) ?? NOTHING;
}

/**
 * Everyone whose effective access the plan changes, before → after: their
 * role, then each domain they reach on either side (`all domains` for an
 * owner or admin), then their keys with the domains they resolve to; the
 * organization's keys last, as `organization`. Every line of such a person
 * is shown, changed or not, so the reader sees what they hold after the
 * plan; people whose access stays the same are left out, and of the
 * organization's keys only those that change are listed.
 */
export function effectiveAccess(before: PlannedAccess, after: PlannedAccess): EffectiveAccess[] {
  const peopleBefore = new Map(before.people.map((p) => [p.email, p]));
  const peopleAfter = new Map(after.people.map((p) => [p.email, p]));
  const keysOf = (side: PlannedAccess, holder: string | null): Map<string, KeyAccess> => new Map(side.keys.filter((k) => k.holder === holder).map((k) => [k.name, k]));
  const out: EffectiveAccess[] = [];
  const holders = [...new Set([...peopleBefore.keys(), ...peopleAfter.keys(), ...[...before.keys, ...after.keys].flatMap((k) => (k.holder === null ? [] : [k.holder]))])].sort(compareText);
  for (const who of [...holders, null]) {
    const lines: EffectiveAccessLine[] = [];
    if (who !== null) {
      const b = peopleBefore.get(who);
      const a = peopleAfter.get(who);
      lines.push({ what: "role", before: b?.role ?? NOTHING, after: a?.role ?? NOTHING });
      if ((b && isManager(b.role)) || (a && isManager(a.role))) {
        const all = (p: PlannedPerson | undefined): string => (p && isManager(p.role) ? ACCESS.read_write : NOTHING);
        lines.push({ what: ALL_DOMAINS, before: all(b), after: all(a) });
      }
      const domains = [...new Set([...Object.keys(b?.grants ?? {}), ...Object.keys(a?.grants ?? {})])].sort(compareText);
      for (const domain of domains) lines.push({ what: domain, before: domainText(b, domain), after: domainText(a, domain) });
    }
    const keysBefore = keysOf(before, who);
    const keysAfter = keysOf(after, who);
    for (const name of [...new Set([...keysBefore.keys(), ...keysAfter.keys()])].sort(compareText)) {
      lines.push({ what: `key ${name}`, before: reachText(keysBefore.get(name)), after: reachText(keysAfter.get(name)) });
    }
    // The organization is no person to picture whole: only its keys that change.
    const shown = who === null ? lines.filter((l) => l.before !== l.after) : lines;
    if (shown.some((l) => l.before !== l.after)) out.push({ who: who ?? ORGANIZATION, lines: shown });
  }
  return out;
}
