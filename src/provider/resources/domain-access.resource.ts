import type { Member } from "../../api/types";
import { ACCESS_LEVELS, checkGrantTarget, isAccess } from "../../policy";
import { defineResource } from "../framework/resource";
import { defineSchema, type PlannedOf } from "../framework/schema";
import { UNKNOWN, type ApplyResponse, type Diagnostic, type ObjectValue, type Value } from "../protocol/types";
import type { ProviderContext } from "./context";
import { apiErrorDiagnostics, attributeError, domainAttributeErrors, isNotFound, violationDiagnostic } from "./diagnostics";

const schema = defineSchema({
  description:
    "One team member's access to one domain: read (view the domain, DNS, DKIM, stats, DMARC, warming, aliases, rules) or read_write (also change settings, verify DNS, manage DKIM, aliases, inbound rules and warming). Only for members with role \"member\": owners and admins already reach every domain. Grants may be set while the member is still invited; they apply when the member joins.",
  attributes: {
    id: { type: "string", computed: true, useStateForUnknown: true, description: "`<member_id>/<domain>`." },
    member_id: { type: "string", required: true, requiresReplace: true, description: "The id of the member (e.g. `postscale_team_member.dev.id`). Changing it replaces the grant." },
    domain: { type: "string", required: true, requiresReplace: true, description: "The domain name, lower case (e.g. `staging.example.com`). Changing it replaces the grant." },
    access: { type: "string", required: true, description: '"read" or "read_write". Changes in place.' },
    email: { type: "string", computed: true, useStateForUnknown: true, description: "The member's email, for review and import (`<email>/<domain>`)." },
  },
});
type Planned = PlannedOf<typeof schema>;

/**
 * `postscale_domain_access`: one member's access to one domain. Only
 * meaningful for role member: owners and admins reach every domain.
 */
export const domainAccessResource = defineResource<ProviderContext, typeof schema.attributes>({
  name: "postscale_domain_access",
  schema,

  validate(config) {
    const diagnostics: Diagnostic[] = [];
    if (config.member_id === "") diagnostics.push(attributeError(["member_id"], "Invalid Member Id", "member_id must not be empty; use the id of a postscale_team_member."));
    diagnostics.push(...domainAttributeErrors(config.domain, "domain"));
    const access = config.access;
    if (typeof access === "string" && !isAccess(access)) {
      diagnostics.push(attributeError(["access"], "Invalid Access Level", `access must be one of ${ACCESS_LEVELS.map((a) => `"${a}"`).join(", ")}, got "${access}".`));
    }
    return diagnostics;
  },

  async plan(ctx, { config: { member_id: memberId, domain }, prior }) {
    const member = typeof memberId === "string" ? await memberToday(ctx, memberId) : undefined;
    const diagnostics = member ? grantTargetWarnings(member) : [];
    if (prior !== null) return { diagnostics };
    const id = typeof memberId === "string" && typeof domain === "string" ? grantId(memberId, domain) : UNKNOWN;
    return { planned: { id, email: member?.email ?? UNKNOWN }, diagnostics };
  },

  // Create and update are the same idempotent PUT of the access level.
  create: (ctx, { planned }) => put(ctx, null, planned),

  async read(ctx, { state, currentState }) {
    try {
      const member = await ctx.snapshot.member(state.member_id);
      const domain = state.domain;
      const grant = member?.domain_access?.find((g) => g.domain === domain);
      if (member === undefined || grant === undefined) return { newState: null };
      return { newState: grantState(member.id, member.email, domain, grant.access) };
    } catch (err) {
      return { newState: currentState, diagnostics: await ctx.readFailures.report(err, describe(currentState), schema.names) };
    }
  },

  update: (ctx, { priorState, planned }) => put(ctx, priorState, planned),

  /** Remove the grant. */
  async delete(ctx, { prior: { member_id: memberId, domain }, priorState }) {
    try {
      await ctx.client.removeDomainAccess(memberId, domain);
    } catch (err) {
      if (!isNotFound(err)) return { newState: priorState, diagnostics: apiErrorDiagnostics(err, `Removing ${describe(priorState)}`, schema.names) };
    }
    ctx.snapshot.putGrant(memberId, domain, null);
    return { newState: null };
  },

  async importState(ctx, id) {
    const slash = id.lastIndexOf("/");
    const who = id.slice(0, slash);
    const domain = id.slice(slash + 1);
    const notFound = (why: string) => ({
      imported: [],
      diagnostics: [{ severity: "error" as const, summary: "Domain Access Not Found", detail: `Cannot import "${id}": ${why} Use \`<email>/<domain>\` (e.g. dev@example.com/staging.example.com) or \`<member_id>/<domain>\`.` }],
    });
    if (slash <= 0 || domain === "") return notFound("the id has no `/` between the member and the domain.");
    try {
      const member = who.includes("@") ? await ctx.snapshot.memberByEmail(who) : await ctx.snapshot.member(who);
      if (member === undefined) return notFound(`there is no member "${who}" in the organization.`);
      const grant = member.domain_access?.find((g) => g.domain === domain);
      if (grant === undefined) return notFound(`${member.email} has no access to ${domain}.`);
      return { imported: [{ state: grantState(member.id, member.email, domain, grant.access) }] };
    } catch (err) {
      return { imported: [], diagnostics: apiErrorDiagnostics(err, `Importing domain access "${id}"`, schema.names) };
    }
  },
});

/** PUT the access level. */
async function put(ctx: ProviderContext, prior: ObjectValue | null, planned: Planned): Promise<ApplyResponse> {
  const { member_id: memberId, domain, access } = planned;
  if (!isAccess(access)) throw new Error(`access "${access}" reached apply although validation refuses it`);
  try {
    const grant = await ctx.client.setDomainAccess(memberId, domain, access);
    ctx.snapshot.putGrant(memberId, domain, grant.access);
    const email = typeof planned.email === "string" ? planned.email : await memberEmail(ctx, memberId);
    return { newState: grantState(memberId, email, domain, grant.access) };
  } catch (err) {
    return { newState: prior, diagnostics: apiErrorDiagnostics(err, `Setting ${describeValues(planned)} to ${access}`, schema.names) };
  }
}

function grantId(memberId: string, domain: string): string {
  return `${memberId}/${domain}`;
}

function grantState(memberId: string, email: string, domain: string, access: string): ObjectValue {
  return { id: grantId(memberId, domain), member_id: memberId, domain, access, email };
}

/**
 * The member as the server has it today, for plan-time checks. Checks are
 * advisory, so a failed lookup skips them: the refresh or the apply
 * reports the failure with its cause.
 */
async function memberToday(ctx: ProviderContext, memberId: string): Promise<Member | undefined> {
  try {
    return await ctx.snapshot.member(memberId);
  } catch {
    return undefined;
  }
}

/**
 * Domain access on an owner or admin is refused by the server. The member's
 * role is server state that another resource in the same plan may change
 * (a role change to member), so this is a warning naming what the server
 * says today; the server's refusal at apply is the error.
 */
function grantTargetWarnings(member: Member): Diagnostic[] {
  const decision = checkGrantTarget(member);
  if (decision.allowed) return [];
  return [
    violationDiagnostic("warning", decision, ["member_id"], {
      before: `The Postscale server says today: ${member.email} has role ${member.role}. `,
      after: "Unless this plan also makes them a member, the apply will be refused and nothing created.",
    }),
  ];
}

async function memberEmail(ctx: ProviderContext, memberId: string): Promise<string> {
  return (await ctx.snapshot.member(memberId))?.email ?? (await ctx.client.getMember(memberId)).email;
}

function describe(state: ObjectValue): string {
  return describeValues(schema.config(state));
}

function describeValues({ email: who, domain }: { email: Value; domain: Value }): string {
  return `domain access of ${typeof who === "string" ? who : "the member"} to ${typeof domain === "string" ? domain : "the domain"}`;
}
