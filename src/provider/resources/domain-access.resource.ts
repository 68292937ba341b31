import type { Member } from "../../api/types";
import { ACCESS_LEVELS, checkGrantTarget, isAccess } from "../../policy";
import { UNKNOWN, type ApplyResponse, type AttributePath, type Diagnostic, type ObjectValue, type ResourceType } from "../protocol/types";
import type { ProviderContext } from "./context";
import { apiErrorDiagnostics, attributeError, domainAttributeErrors, isNotFound, violationDiagnostic } from "./diagnostics";
import { requireString, stringAttr } from "./values";

const ATTRIBUTES = ["id", "member_id", "domain", "access", "email"] as const;

/**
 * `postscale_domain_access`: one member's access to one domain. Only
 * meaningful for role member: owners and admins reach every domain.
 */
export const domainAccessResource: ResourceType<ProviderContext> = {
  name: "postscale_domain_access",

  schema: {
    version: 0,
    block: {
      description:
        "One team member's access to one domain: read (view the domain, DNS, DKIM, stats, DMARC, warming, aliases, rules) or read_write (also change settings, verify DNS, manage DKIM, aliases, inbound rules and warming). Only for members with role \"member\": owners and admins already reach every domain. Grants may be set while the member is still invited; they apply when the member joins.",
      attributes: {
        id: { type: "string", computed: true, description: "`<member_id>/<domain>`." },
        member_id: { type: "string", required: true, description: "The id of the member (e.g. `postscale_team_member.dev.id`). Changing it replaces the grant." },
        domain: { type: "string", required: true, description: "The domain name, lower case (e.g. `staging.example.com`). Changing it replaces the grant." },
        access: { type: "string", required: true, description: '"read" or "read_write". Changes in place.' },
        email: { type: "string", computed: true, description: "The member's email, for review and import (`<email>/<domain>`)." },
      },
    },
  },

  validate({ config }) {
    const diagnostics: Diagnostic[] = [];
    const memberId = stringAttr(config, "member_id");
    if (memberId === "") diagnostics.push(attributeError(["member_id"], "Invalid Member Id", "member_id must not be empty; use the id of a postscale_team_member."));
    diagnostics.push(...domainAttributeErrors(config, "domain"));
    const access = stringAttr(config, "access");
    if (typeof access === "string" && !isAccess(access)) {
      diagnostics.push(attributeError(["access"], "Invalid Access Level", `access must be one of ${ACCESS_LEVELS.map((a) => `"${a}"`).join(", ")}, got "${access}".`));
    }
    return diagnostics;
  },

  async plan(ctx, { priorState: prior, proposedNewState: proposed, config }) {
    if (proposed === null || config === null) return { plannedState: null };
    const memberId = stringAttr(config, "member_id");
    const domain = stringAttr(config, "domain");
    const member = typeof memberId === "string" ? await memberToday(ctx, memberId) : undefined;
    const diagnostics = member ? grantTargetWarnings(member) : [];

    if (prior === null) {
      const id = typeof memberId === "string" && typeof domain === "string" ? grantId(memberId, domain) : UNKNOWN;
      return { plannedState: { ...proposed, id, email: member?.email ?? UNKNOWN }, diagnostics };
    }
    const requiresReplace: AttributePath[] = [];
    if (memberId !== prior.member_id) requiresReplace.push(["member_id"]);
    if (domain !== prior.domain) requiresReplace.push(["domain"]);
    return { plannedState: proposed, requiresReplace, diagnostics };
  },

  async apply(ctx, { priorState: prior, plannedState: planned }) {
    // Create and update are the same idempotent PUT of the access level.
    if (planned !== null) return put(ctx, prior, planned);
    return destroy(ctx, prior as ObjectValue);
  },

  async read(ctx, { currentState }) {
    try {
      const member = await ctx.snapshot.member(requireString(currentState, "member_id"));
      const domain = requireString(currentState, "domain");
      const grant = member?.domain_access?.find((g) => g.domain === domain);
      if (member === undefined || grant === undefined) return { newState: null };
      return { newState: grantState(member.id, member.email, domain, grant.access) };
    } catch (err) {
      return { newState: currentState, diagnostics: await ctx.readFailures.report(err, describe(currentState), ATTRIBUTES) };
    }
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
      return { imported: [], diagnostics: apiErrorDiagnostics(err, `Importing domain access "${id}"`, ATTRIBUTES) };
    }
  },
};

/** Create or update: PUT the access level. */
async function put(ctx: ProviderContext, prior: ObjectValue | null, planned: ObjectValue): Promise<ApplyResponse> {
  const memberId = requireString(planned, "member_id");
  const domain = requireString(planned, "domain");
  const access = requireString(planned, "access");
  if (!isAccess(access)) throw new Error(`access "${access}" reached apply although validation refuses it`);
  try {
    const grant = await ctx.client.setDomainAccess(memberId, domain, access);
    ctx.snapshot.putGrant(memberId, domain, grant.access);
    const plannedEmail = stringAttr(planned, "email");
    const email = typeof plannedEmail === "string" ? plannedEmail : await memberEmail(ctx, memberId);
    return { newState: grantState(memberId, email, domain, grant.access) };
  } catch (err) {
    return { newState: prior, diagnostics: apiErrorDiagnostics(err, `Setting ${describe(planned)} to ${access}`, ATTRIBUTES) };
  }
}

/** Delete: remove the grant. */
async function destroy(ctx: ProviderContext, prior: ObjectValue): Promise<ApplyResponse> {
  const memberId = requireString(prior, "member_id");
  const domain = requireString(prior, "domain");
  try {
    await ctx.client.removeDomainAccess(memberId, domain);
  } catch (err) {
    if (!isNotFound(err)) return { newState: prior, diagnostics: apiErrorDiagnostics(err, `Removing ${describe(prior)}`, ATTRIBUTES) };
  }
  ctx.snapshot.putGrant(memberId, domain, null);
  return { newState: null };
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

function describe(state: ObjectValue | null): string {
  const who = stringAttr(state, "email");
  const domain = stringAttr(state, "domain");
  return `domain access of ${typeof who === "string" ? who : "the member"} to ${typeof domain === "string" ? domain : "the domain"}`;
}
