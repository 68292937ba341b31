import { Violation } from "./decision";
import { KEY_OWNER, KeyOwner, Principal } from "./principal";
import { ROLE } from "./roles";
import { TargetMember, decideGrantRemoval, decideRemove } from "./team";
import { decideKeyChange } from "./keys";

/**
 * Access found in the organization that the code does not declare, as an
 * authoritative run ("the code is the whole truth") sees it: a person, one
 * of their grants, or a key (with its holder, null for an
 * organization-owned key).
 */
export type UndeclaredAccess =
  | { kind: "member"; member: TargetMember }
  | { kind: "grant"; member: TargetMember; domain: string }
  | { kind: "key"; key: { id: string; owner: KeyOwner; memberId: string | null }; holder: TargetMember | null };

/** Why an authoritative run leaves undeclared access alone whatever the code says. */
export type ProtectedReason = "owner" | "caller" | "credential";

/**
 * What an authoritative run does with one piece of undeclared access:
 * removes it; never touches it (`protected`: removing it could lock the
 * organization or the run itself out); or cannot remove it, because the
 * credential running it may not (`refused`, the rule that says so).
 */
export type UndeclaredRemoval =
  | { verdict: "remove" }
  | { verdict: "protected"; reason: ProtectedReason; message: string }
  | { verdict: "refused"; violation: Violation };

/**
 * Decides what an authoritative run by `actor` (authenticated with the key
 * `credentialKeyId`, null for a session) does with undeclared access.
 *
 * Never lock yourself out: the owner (their membership and the keys they
 * hold), the person running the apply (likewise) and the key it runs with
 * are never touched, whatever the code declares. Everything else is
 * removed when the actor may remove it by the usual rules: offboarding
 * (`decideRemove`), removing a grant (`decideGrantRemoval`), revoking a key
 * (`decideKeyChange`).
 */
export function decideUndeclaredRemoval(actor: Principal, credentialKeyId: string | null, access: UndeclaredAccess): UndeclaredRemoval {
  if (access.kind === "key" && credentialKeyId !== null && access.key.id === credentialKeyId) {
    return protect("credential", "is the key this run authenticates with; removing it would stop the run midway.");
  }
  const person = access.kind === "key" ? access.holder : access.member;
  if (person !== null && person.role === ROLE.owner) {
    return protect("owner", `belongs to ${person.email}, the owner; ownership moves only by transfer, and the owner is never removed.`);
  }
  if (person !== null && actor.memberId !== null && person.id === actor.memberId) {
    return protect("caller", `belongs to ${person.email}, whose credential runs this; removing it would lock them out.`);
  }
  const decision =
    access.kind === "member"
      ? decideRemove(actor, access.member)
      : access.kind === "grant"
        ? decideGrantRemoval(actor)
        : decideKeyChange(actor, { owner: access.key.owner, memberId: access.key.memberId }, access.key.owner === KEY_OWNER.member ? access.holder : null);
  return decision.allowed ? { verdict: "remove" } : { verdict: "refused", violation: decision };
}

function protect(reason: ProtectedReason, message: string): UndeclaredRemoval {
  return { verdict: "protected", reason, message };
}
