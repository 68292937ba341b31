import type { FastifyInstance } from "fastify";
import { PREVIOUS_OWNER_ROLE, Violation, canHoldGrants, decideTransferOwnership, effectiveAccess } from "../../policy";
import { recordAudit } from "../audit";
import { Caller, callerOf, type Services } from "../context";
import type { Queryable } from "../db/adapter";
import { fromViolation, invalid } from "../problem";
import { MEMBER_COLUMNS, MemberRow, grantList, iso, memberStatus, toApiKey, toMember } from "../records";
import { apiKeySchema, emailSchema, grantSchema, idSchema, memberSchema, nameSchema, noContent, object, organizationSchema, record, responses, timeZoneSchema } from "../schemas";

interface OrgRow {
  id: string;
  name: string;
  settings: { timezone?: string; require_two_factor?: boolean };
  plan: string;
  billing_email: string | null;
  created_at: Date;
  updated_at: Date;
}

const DEFAULT_SETTINGS = { timezone: "UTC", require_two_factor: false };
export const PLANS = ["free", "starter", "pro", "scale", "enterprise"] as const;

function toOrganization(row: OrgRow) {
  return { id: row.id, name: row.name, settings: { ...DEFAULT_SETTINGS, ...(row.settings ?? {}) }, created_at: iso(row.created_at)!, updated_at: iso(row.updated_at)! };
}

async function loadOrg(q: Queryable, orgId: string, lock = false): Promise<OrgRow> {
  const [row] = await q.query<OrgRow>(`SELECT * FROM organizations WHERE id = $1${lock ? " FOR UPDATE" : ""}`, [orgId]);
  return row;
}

const settingsInput = object({ timezone: timeZoneSchema, require_two_factor: { type: "boolean" } }, [], { minProperties: 1 });
const billingSchema = record({ plan: { type: "string", enum: [...PLANS] }, billing_email: { type: ["string", "null"] } });

const meSchema = record(
  {
    id: { type: ["string", "null"] },
    email: { type: ["string", "null"] },
    name: { type: ["string", "null"] },
    status: { type: ["string", "null"] },
    role: { type: "string" },
    member: { anyOf: [memberSchema, { type: "null" }] },
    domain_access: { type: "array", items: grantSchema },
    organization: organizationSchema,
    credential: { type: "string", enum: ["session", "api_key"] },
    key: apiKeySchema,
    scope: { type: "string", enum: ["organization", "domains"] },
    domains: { type: "array", items: { type: "string" } },
  },
  ["key", "scope", "domains"],
);

/** GET /v1/me: what the caller is and can reach right now. */
async function describeCaller(services: Services, caller: Caller) {
  const q = services.deps.db;
  const org = await loadOrg(q, caller.orgId);
  const names = await services.cache.get(`domain-names:${caller.orgId}`, async () =>
    (await q.query<{ name: string }>("SELECT name FROM domains WHERE org_id = $1 ORDER BY name", [caller.orgId])).map((r) => r.name),
  );
  const reach: Record<string, "read" | "read_write"> = {};
  for (const d of names) {
    const a = effectiveAccess(caller.principal, d);
    if (a) reach[d] = a;
  }
  const m = caller.member;
  const me: Record<string, unknown> = {
    id: m?.id ?? null,
    email: m?.email ?? null,
    name: m?.name ?? null,
    status: m ? memberStatus(m) : null,
    role: caller.principal.role,
    member: m ? toMember(m, caller.principal.grants) : null,
    domain_access: grantList(reach),
    organization: toOrganization(org),
    credential: caller.credential.kind,
  };
  if (caller.credential.kind === "api_key") {
    const key = toApiKey(caller.credential.key);
    me.key = key;
    me.scope = key.scope;
    me.domains = key.domains;
  }
  return me;
}

export function registerOrganizationRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services.deps;

  app.get("/v1/me", { config: { orgAction: "me.read" }, schema: { summary: "The caller: member record, role, domain access, and for a key its scope", response: responses({ 200: meSchema }) } }, async (request) =>
    describeCaller(services, callerOf(request)),
  );

  app.get("/v1/organization", { config: { orgAction: "organization.read" }, schema: { summary: "The organization", response: responses({ 200: organizationSchema }) } }, async (request) =>
    toOrganization(await loadOrg(db, callerOf(request).orgId)),
  );

  app.patch<{ Body: { name?: string; settings?: OrgRow["settings"] } }>(
    "/v1/organization",
    {
      config: { orgAction: "organization.update" },
      schema: { summary: "Update name and settings (owner, admin)", body: object({ name: nameSchema, settings: settingsInput }, [], { minProperties: 1 }), response: responses({ 200: organizationSchema }) },
    },
    async (request, reply) => {
      return services.writer.run(request, reply, 200, async ({ tx, caller }) => {
        const before = toOrganization(await loadOrg(tx, caller.orgId, true));
        const [row] = await tx.query<OrgRow>(
          "UPDATE organizations SET name = COALESCE($2, name), settings = settings || $3::text::jsonb, updated_at = now() WHERE id = $1 RETURNING *",
          [caller.orgId, request.body.name ?? null, JSON.stringify(request.body.settings ?? {})],
        );
        const after = toOrganization(row);
        await recordAudit(tx, caller, "organization.update", `organization:${caller.orgId}`, before, after);
        return after;
      });
    },
  );

  app.delete(
    "/v1/organization",
    { config: { orgAction: "organization.delete" }, schema: { summary: "Delete the organization and everything in it (owner)", response: responses({ 204: noContent }) } },
    async (request, reply) => {
      await services.writer.run(request, reply, 204, async ({ tx, caller }) => {
        // Everything hangs off the organization with ON DELETE CASCADE, so credentials stop working at once.
        await tx.query("DELETE FROM organizations WHERE id = $1", [caller.orgId]);
      });
      return reply.send();
    },
  );

  app.get("/v1/organization/billing", { config: { orgAction: "billing.read" }, schema: { summary: "Plan and billing contact (owner)", response: responses({ 200: billingSchema }) } }, async (request) => {
    const org = await loadOrg(db, callerOf(request).orgId);
    return { plan: org.plan, billing_email: org.billing_email };
  });

  app.put<{ Body: { plan: string; billing_email: string } }>(
    "/v1/organization/billing",
    {
      config: { orgAction: "billing.update" },
      schema: { summary: "Change plan and billing contact (owner)", body: object({ plan: { type: "string", enum: [...PLANS] }, billing_email: emailSchema }, ["plan", "billing_email"]), response: responses({ 200: billingSchema }) },
    },
    async (request, reply) => {
      return services.writer.run(request, reply, 200, async ({ tx, caller }) => {
        const before = await loadOrg(tx, caller.orgId, true);
        const [row] = await tx.query<OrgRow>("UPDATE organizations SET plan = $2, billing_email = $3, updated_at = now() WHERE id = $1 RETURNING *", [
          caller.orgId,
          request.body.plan,
          request.body.billing_email.toLowerCase(),
        ]);
        const after = { plan: row.plan, billing_email: row.billing_email };
        await recordAudit(tx, caller, "billing.update", `organization:${caller.orgId}`, { plan: before.plan, billing_email: before.billing_email }, after);
        return after;
      });
    },
  );

  app.post<{ Body: { member_id: string } }>(
    "/v1/organization/transfer-ownership",
    {
      config: { orgAction: "organization.transfer_ownership" },
      schema: {
        summary: "Make another active member the owner; the old owner becomes an admin (owner)",
        body: object({ member_id: idSchema }, ["member_id"]),
        response: responses({ 200: record({ owner: memberSchema, previous_owner: memberSchema }) }),
      },
    },
    async (request, reply) => {
      // The writer locks the organization and re-reads the caller, so of concurrent transfers only the first finds its caller still the owner.
      return services.writer.run(request, reply, 200, async ({ tx, caller }) => {
        const [target] = await tx.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM members m WHERE m.org_id = $1 AND m.id = $2 FOR UPDATE`, [caller.orgId, request.body.member_id]);
        if (!target) throw invalid([{ path: "/member_id", message: `no member with id "${request.body.member_id}" in this organization` }]);
        const decision = decideTransferOwnership(caller.principal, { id: target.id, email: target.email, role: target.role, status: memberStatus(target) });
        if (!decision.allowed) throw fromViolation(decision as Violation);
        const [owner] = await tx.query<MemberRow>(`UPDATE members m SET role = $2 WHERE m.org_id = $1 AND m.role = 'owner' RETURNING ${MEMBER_COLUMNS}`, [caller.orgId, PREVIOUS_OWNER_ROLE]);
        const [newOwner] = await tx.query<MemberRow>(`UPDATE members m SET role = 'owner' WHERE m.id = $1 RETURNING ${MEMBER_COLUMNS}`, [target.id]);
        if (!canHoldGrants("owner")) await tx.query("DELETE FROM grants WHERE member_id = $1", [target.id]);
        const result = { owner: toMember(newOwner), previous_owner: toMember(owner) };
        await recordAudit(tx, caller, "organization.transfer_ownership", `member:${target.id}`, { owner: owner.id }, { owner: target.id, previous_owner_role: PREVIOUS_OWNER_ROLE });
        return result;
      });
    },
  );
}
