import type { FastifyPluginAsync } from "fastify";
import { PREVIOUS_OWNER_ROLE, canHoldGrants, decideTransferOwnership, effectiveAccess } from "../../policy";
import { recordAudit } from "../audit";
import { type Caller, callerOf } from "../context";
import { domainNames } from "../data/domains";
import { deleteGrantsOf } from "../data/grants";
import { lockMember, moveOwnership } from "../data/members";
import { type OrgRow, deleteOrganization, findOrganization, updateBilling, updateOrganization } from "../data/organization";
import { fromViolation, invalid } from "../problem";
import { grantList, iso, memberStatus, toApiKey, toMember } from "../records";
import { apiKeySchema, emailSchema, grantSchema, idSchema, memberSchema, nameSchema, noContent, object, organizationSchema, record, responses, timeZoneSchema } from "../schemas";
import type { RoutePluginOptions, Services } from "../services";
import type { WriteScope } from "../write";

const DEFAULT_SETTINGS = { timezone: "UTC", require_two_factor: false };
export const PLANS = ["free", "starter", "pro", "scale", "enterprise"] as const;

function toOrganization(row: OrgRow) {
  return { id: row.id, name: row.name, settings: { ...DEFAULT_SETTINGS, ...(row.settings ?? {}) }, created_at: iso(row.created_at)!, updated_at: iso(row.updated_at)! };
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
  const org = await findOrganization(q, caller.orgId);
  const names = await services.cache.get(`domain-names:${caller.orgId}`, () => domainNames(q, caller.orgId));
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

type SettingsBody = { name?: string; settings?: OrgRow["settings"] };
type BillingBody = { plan: string; billing_email: string };

const meOptions = { config: { orgAction: "me.read" }, schema: { summary: "The caller: member record, role, domain access, and for a key its scope", response: responses({ 200: meSchema }) } } as const;
const readOptions = { config: { orgAction: "organization.read" }, schema: { summary: "The organization", response: responses({ 200: organizationSchema }) } } as const;
const updateOptions = {
  config: { orgAction: "organization.update" },
  schema: { summary: "Update name and settings (owner, admin)", body: object({ name: nameSchema, settings: settingsInput }, [], { minProperties: 1 }), response: responses({ 200: organizationSchema }) },
} as const;
const deleteOptions = { config: { orgAction: "organization.delete" }, schema: { summary: "Delete the organization and everything in it (owner)", response: responses({ 204: noContent }) } } as const;
const billingReadOptions = { config: { orgAction: "billing.read" }, schema: { summary: "Plan and billing contact (owner)", response: responses({ 200: billingSchema }) } } as const;
const billingOptions = {
  config: { orgAction: "billing.update" },
  schema: { summary: "Change plan and billing contact (owner)", body: object({ plan: { type: "string", enum: [...PLANS] }, billing_email: emailSchema }, ["plan", "billing_email"]), response: responses({ 200: billingSchema }) },
} as const;
const transferOptions = {
  config: { orgAction: "organization.transfer_ownership" },
  schema: {
    summary: "Make another active member the owner; the old owner becomes an admin (owner)",
    body: object({ member_id: idSchema }, ["member_id"]),
    response: responses({ 200: record({ owner: memberSchema, previous_owner: memberSchema }) }),
  },
} as const;

/** The caller (/v1/me), the organization, its billing and its ownership. */
export const organizationRoutes: FastifyPluginAsync<RoutePluginOptions> = async (app, { services }) => {
  const { db } = services.deps;
  const { writer } = services;
  app.get("/v1/me", meOptions, (request) => describeCaller(services, callerOf(request)));
  app.get("/v1/organization", readOptions, async (request) => toOrganization(await findOrganization(db, callerOf(request).orgId)));
  app.patch<{ Body: SettingsBody }>("/v1/organization", updateOptions, (request, reply) => writer.run(request, reply, 200, (scope) => update(scope, request.body)));
  // Everything hangs off the organization, so its credentials stop working at once.
  app.delete("/v1/organization", deleteOptions, (request, reply) => writer.runNoContent(request, reply, ({ tx, caller }) => deleteOrganization(tx, caller.orgId)));
  app.get("/v1/organization/billing", billingReadOptions, async (request) => billingOf(await findOrganization(db, callerOf(request).orgId)));
  app.put<{ Body: BillingBody }>("/v1/organization/billing", billingOptions, (request, reply) => writer.run(request, reply, 200, (scope) => changeBilling(scope, request.body)));
  // The writer locks the organization and re-reads the caller, so of concurrent transfers only the first finds its caller still the owner.
  app.post<{ Body: { member_id: string } }>("/v1/organization/transfer-ownership", transferOptions, (request, reply) =>
    writer.run(request, reply, 200, (scope) => transferOwnership(scope, request.body.member_id)),
  );
};

function billingOf(org: OrgRow) {
  return { plan: org.plan, billing_email: org.billing_email };
}

async function update({ tx, caller }: WriteScope, body: SettingsBody) {
  const before = toOrganization(await findOrganization(tx, caller.orgId, true));
  const after = toOrganization(await updateOrganization(tx, caller.orgId, body.name ?? null, body.settings ?? {}));
  await recordAudit(tx, caller, "organization.update", `organization:${caller.orgId}`, before, after);
  return after;
}

async function changeBilling({ tx, caller }: WriteScope, body: BillingBody) {
  const before = billingOf(await findOrganization(tx, caller.orgId, true));
  const after = billingOf(await updateBilling(tx, caller.orgId, body.plan, body.billing_email.toLowerCase()));
  await recordAudit(tx, caller, "billing.update", `organization:${caller.orgId}`, before, after);
  return after;
}

async function transferOwnership({ tx, caller }: WriteScope, memberId: string) {
  const target = await lockMember(tx, caller.orgId, memberId);
  if (!target) throw invalid([{ path: "/member_id", message: `no member with id "${memberId}" in this organization` }]);
  const decision = decideTransferOwnership(caller.principal, { id: target.id, email: target.email, role: target.role, status: memberStatus(target) });
  if (!decision.allowed) throw fromViolation(decision);
  const { owner, previousOwner } = await moveOwnership(tx, caller.orgId, target.id, PREVIOUS_OWNER_ROLE);
  if (!canHoldGrants("owner")) await deleteGrantsOf(tx, target.id);
  const result = { owner: toMember(owner), previous_owner: toMember(previousOwner) };
  await recordAudit(tx, caller, "organization.transfer_ownership", `member:${target.id}`, { owner: previousOwner.id }, { owner: target.id, previous_owner_role: PREVIOUS_OWNER_ROLE });
  return result;
}
