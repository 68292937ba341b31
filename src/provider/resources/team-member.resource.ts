import type { Member } from "../../api/types";
import { PostscaleError } from "../../errors";
import { ASSIGNABLE_ROLES, isAssignableRole, isDeclarable, normalizeEmail } from "../../policy";
import { defineResource } from "../framework/resource";
import { defineSchema, present } from "../framework/schema";
import { UNKNOWN, type Diagnostic, type ObjectValue, type Unknown } from "../protocol/types";
import type { ProviderContext } from "./context";
import { apiErrorDiagnostics, attributeError, emailAttributeErrors, isNotFound } from "./diagnostics";

const schema = defineSchema({
  description:
    "A person in the Postscale organization. Creating it sends an invitation; destroying it offboards the person: their sessions end, the API keys they own are revoked and their domain access is deleted. Organization-owned keys survive.",
  attributes: {
    id: { type: "string", computed: true, useStateForUnknown: true, description: "The member's id, assigned by Postscale." },
    email: {
      type: "string",
      required: true,
      requiresReplace: true,
      sameValue: (a: string, b: string) => normalizeEmail(a) === normalizeEmail(b),
      description:
        "The person's email address; the invitation goes there. Compared case-insensitively. Changing it replaces the member (the old address is offboarded, the new one invited).",
    },
    role: { type: "string", required: true, description: 'The role: "admin" (manages users, settings and every domain) or "member" (only the domains granted with postscale_domain_access). Changes in place. The owner role moves only by transfer of ownership.' },
    status: {
      type: "string",
      computed: true,
      useStateForUnknown: true,
      description:
        'Where the person is: "invited" (invitation pending), "active" (joined) or "expired" (the invitation lapsed). A pending invitation never shows as a change. When a refresh finds the invitation expired, the plan shows an update of status from "expired" to "invited": applying it sends a new invitation.',
    },
    name: { type: "string", computed: true, useStateForUnknown: true, description: "The person's name, known once they have accepted the invitation; null before." },
    invited_at: { type: "string", computed: true, useStateForUnknown: true, description: "When the latest invitation was sent (RFC 3339); a re-invitation sets it anew." },
    joined_at: { type: "string", computed: true, useStateForUnknown: true, description: "When the person joined (RFC 3339); null while invited." },
  },
});

/**
 * `postscale_team_member`: one person in the organization. Create invites,
 * delete offboards (their sessions, keys and domain access go with them).
 */
export const teamMemberResource = defineResource<ProviderContext, typeof schema.attributes>({
  name: "postscale_team_member",
  schema,

  validate(config) {
    const diagnostics = emailAttributeErrors(config.email, "email");
    const role = config.role;
    if (typeof role === "string" && !isAssignableRole(role)) {
      diagnostics.push(
        attributeError(
          ["role"],
          "Invalid Role",
          `role must be one of ${ASSIGNABLE_ROLES.map((r) => `"${r}"`).join(", ")}, got "${role}".${role === "owner" ? " Ownership cannot be given by invitation or role change; it moves only by transfer of ownership." : ""}`,
        ),
      );
    }
    return diagnostics;
  },

  async plan(ctx, { config, prior }) {
    if (prior === null) {
      // Declaring the owner would plan an invitation the server refuses at apply: say so now.
      const owner = typeof config.email === "string" ? await ownerWithEmail(ctx, config.email) : undefined;
      if (owner) return { diagnostics: [ownerDeclared(owner.email)] };
      // The server creates every member as "invited"; the rest is decided by the server.
      return { planned: { status: "invited" } };
    }
    // Re-invitation: apply resends the invitation, which makes the member
    // "invited" again (a known value, so the plan says so) with a new invited_at.
    if (prior.status === "expired") return { planned: { status: "invited", invited_at: UNKNOWN } };
    return {};
  },

  /**
   * Invite. The Idempotency-Key is the same in every run, so a run that
   * lost the reply (or was killed) gets the original answer back from the
   * next one. Past the server's replay window, an invitation this
   * credential's person sent for the same email and role, still pending, is
   * the one this resource made: it is taken over instead of refused.
   */
  async create(ctx, { planned: { email, role } }) {
    if (!isAssignableRole(role)) throw new Error(`role "${role}" reached apply although validation refuses it`);
    try {
      const member = await ctx.client.inviteMember({ email, role }, { idempotencyKey: ctx.createKey("team_member", { email: normalizeEmail(email), role }) });
      ctx.snapshot.putMember(member);
      return { newState: memberState(member, email) };
    } catch (err) {
      if (err instanceof PostscaleError && err.code === "POSTSCALE_E_CONFLICT") {
        const mine = await ownPendingInvitation(ctx, email, role).catch(() => undefined);
        if (mine) {
          ctx.snapshot.putMember(mine);
          return { newState: memberState(mine, email) };
        }
      }
      const diagnostics = apiErrorDiagnostics(err, `Inviting ${email} as ${role}`, schema.names);
      if (err instanceof PostscaleError && err.code === "POSTSCALE_E_CONFLICT") {
        diagnostics.forEach((d) => (d.detail += ` ${email} is already in the organization: import it instead, e.g. \`tofu import <address> ${email}\`.`));
      }
      return { newState: null, diagnostics };
    }
  },

  async read(ctx, { state, currentState }) {
    try {
      const member = await ctx.snapshot.member(present(state.id, "id"));
      if (member === undefined) return { newState: null };
      return { newState: memberState(member, keepEmail(schema.config(currentState).email, member)) };
    } catch (err) {
      return { newState: currentState, diagnostics: await ctx.readFailures.report(err, describe(currentState), schema.names) };
    }
  },

  /** Role change and, for an expired invitation, a re-invitation. */
  async update(ctx, { prior, priorState, planned, plannedState }) {
    const { email, role } = planned;
    if (!isAssignableRole(role)) throw new Error(`role "${role}" reached apply although validation refuses it`);
    const id = present(prior.id, "id");
    let member: Member | undefined;
    try {
      if (role !== prior.role) member = await ctx.client.updateMember(id, { role });
      if (prior.status === "expired" && planned.status === "invited") member = await ctx.client.resendInvitation(id);
    } catch (err) {
      return { newState: member ? memberState(member, email) : priorState, diagnostics: apiErrorDiagnostics(err, `Updating ${describe(priorState)}`, schema.names) };
    }
    if (member === undefined) return { newState: plannedState };
    ctx.snapshot.putMember(member);
    return { newState: memberState(member, email) };
  },

  /** Offboard. */

  async delete(ctx, { prior, priorState }) {
    const id = present(prior.id, "id");
    try {
      await ctx.client.removeMember(id);
    } catch (err) {
      if (!isNotFound(err)) return { newState: priorState, diagnostics: apiErrorDiagnostics(err, `Offboarding ${describe(priorState)}`, schema.names) };
    }
    ctx.snapshot.dropMember(id);
    return { newState: null };
  },

  async importState(ctx, id) {
    try {
      const member = id.includes("@") ? await ctx.snapshot.memberByEmail(id) : await ctx.snapshot.member(id);
      if (member === undefined) {
        return {
          imported: [],
          diagnostics: [
            {
              severity: "error",
              summary: "Team Member Not Found",
              detail: `No member ${id.includes("@") ? "with email" : "with id"} "${id}" in the organization. Import by the member's email (e.g. dev@example.com) or by its id.`,
            },
          ],
        };
      }
      if (!isDeclarable(member.role)) return { imported: [], diagnostics: [ownerDeclared(member.email)] };
      return { imported: [{ state: memberState(member, member.email) }] };
    } catch (err) {
      return { imported: [], diagnostics: apiErrorDiagnostics(err, `Importing team member "${id}"`, schema.names) };
    }
  },
});

/** The organization's owner when `email` is theirs; undefined otherwise, and when the lookup fails (apply will tell). */
async function ownerWithEmail(ctx: ProviderContext, email: string): Promise<Member | undefined> {
  const member = await ctx.snapshot.memberByEmail(email).catch(() => undefined);
  return member !== undefined && !isDeclarable(member.role) ? member : undefined;
}

function ownerDeclared(email: string): Diagnostic {
  return attributeError(
    ["email"],
    "The Owner Is Not Managed",
    `${email} is the organization's owner. The owner is never declared as a team member (no role can be given to them, and removing the declaration must not offboard them): ` +
      "remove this resource (in cdktf, the addMember/addAdmin call or the roster entry). Ownership moves only by a transfer of ownership.",
  );
}

/** The member with this email when it is a pending invitation for `role` sent by the provider's own person. */
async function ownPendingInvitation(ctx: ProviderContext, email: string, role: string): Promise<Member | undefined> {
  const inviter = ctx.caller.member?.id;
  if (!inviter) return undefined;
  const member = (await ctx.client.listMembers()).find((m) => normalizeEmail(m.email) === normalizeEmail(email));
  return member && member.role === role && member.status === "invited" && member.invited_by === inviter ? member : undefined;
}

function memberState(m: Member, email: string): ObjectValue {
  return { id: m.id, email, role: m.role, status: m.status, name: m.name, invited_at: m.invited_at, joined_at: m.joined_at };
}

/** The email as written in state when it still names the same address (the server stores it lower-cased). */
function keepEmail(current: string | null | Unknown, member: Member): string {
  return typeof current === "string" && normalizeEmail(current) === normalizeEmail(member.email) ? current : member.email;
}

function describe(state: ObjectValue): string {
  const { email } = schema.config(state);
  return typeof email === "string" ? `team member ${email}` : "team member";
}
