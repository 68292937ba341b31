import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { emailProblem } from "../../policy";
import { recordAudit } from "../audit";
import { callerOf } from "../context";
import { type RuleAction, type RuleRow, deleteRule, findRule, insertRule, listRules, nextPriority, updateRule } from "../data/inbound-rules";
import { invalid, notFound } from "../problem";
import { decodeCursor, toPage } from "../pagination";
import { iso } from "../records";
import { NOT_BLANK, dateTime, domainParams, listQuery, noContent, object, page, record, responses, ruleParams } from "../schemas";
import { newId } from "../security";
import type { RoutePluginOptions, Services } from "../services";
import type { WriteScope } from "../write";
import { authorizeDomain } from "./domain-guard";

interface RuleInput {
  match?: string;
  action?: RuleAction;
  destination?: string | null;
  priority?: number;
}

const ruleSchema = record({
  id: { type: "string" },
  match: { type: "string" },
  action: { type: "string", enum: ["forward", "webhook", "drop"] },
  destination: { type: ["string", "null"] },
  priority: { type: "integer" },
  created_at: dateTime,
  updated_at: dateTime,
});
const inputProps = {
  match: { type: "string", minLength: 1, maxLength: 200, pattern: NOT_BLANK, description: 'Recipient pattern: "*", "support", "billing-*"' },
  action: { type: "string", enum: ["forward", "webhook", "drop"] },
  destination: { type: ["string", "null"], maxLength: 2048, description: "An email (forward) or an https URL (webhook); null for drop" },
  priority: { type: "integer", minimum: 0, maximum: 10000 },
};

function toRule(row: RuleRow) {
  return { id: row.id, match: row.match, action: row.action, destination: row.destination, priority: row.priority, created_at: iso(row.created_at)!, updated_at: iso(row.updated_at)! };
}

/** The destination must fit the action: an email to forward to, an https URL to post to, nothing to drop. */
function checkDestination(action: RuleAction, destination: string | null | undefined): void {
  if (action === "drop") {
    if (destination != null) throw invalid([{ path: "/destination", message: 'must be null when action is "drop"' }]);
    return;
  }
  if (destination == null) throw invalid([{ path: "/destination", message: `is required when action is "${action}"` }]);
  if (action === "forward") {
    const problem = emailProblem(destination);
    if (problem) throw invalid([{ path: "/destination", message: problem }]);
    return;
  }
  let url: URL | undefined;
  try {
    url = new URL(destination);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== "https:") throw invalid([{ path: "/destination", message: `must be an https:// URL for a webhook, got "${destination}"` }]);
}

type DomainRoute = { Params: { domain: string } };
type RuleRoute = { Params: { domain: string; id: string } };
type ListRoute = DomainRoute & { Querystring: { limit: number; cursor?: string } };
type CreateBody = Required<Pick<RuleInput, "match" | "action">> & RuleInput;

const listOptions = { schema: { summary: "Inbound rules of a domain, by priority (read)", params: domainParams, querystring: listQuery(), response: responses({ 200: page(ruleSchema) }) } } as const;
const createOptions = { schema: { summary: "Create an inbound rule (read_write)", params: domainParams, body: object(inputProps, ["match", "action"]), response: responses({ 201: ruleSchema }) } } as const;
const readOptions = { schema: { summary: "One inbound rule (read)", params: ruleParams, response: responses({ 200: ruleSchema }) } } as const;
const changeOptions = { schema: { summary: "Change an inbound rule (read_write)", params: ruleParams, body: object(inputProps, [], { minProperties: 1 }), response: responses({ 200: ruleSchema }) } } as const;
const deleteOptions = { schema: { summary: "Delete an inbound rule (read_write)", params: ruleParams, response: responses({ 204: noContent }) } } as const;

const ruleNotFound = (id: string) => notFound(`Inbound rule "${id}"`);

/** Inbound rules: read with read access, create/change/delete with read_write. */
export const inboundRuleRoutes: FastifyPluginAsync<RoutePluginOptions> = async (app, { services }) => {
  const { writer } = services;
  app.get<ListRoute>("/v1/domains/:domain/inbound-rules", listOptions, (request) => list(services, request));
  app.post<DomainRoute & { Body: CreateBody }>("/v1/domains/:domain/inbound-rules", createOptions, async (request, reply) => {
    checkDestination(request.body.action, request.body.destination);
    return writer.run(request, reply, 201, (scope) => create(scope, request.params.domain, request.body));
  });
  app.get<RuleRoute>("/v1/domains/:domain/inbound-rules/:id", readOptions, (request) => read(services, request));
  app.patch<RuleRoute & { Body: RuleInput }>("/v1/domains/:domain/inbound-rules/:id", changeOptions, (request, reply) =>
    writer.run(request, reply, 200, (scope) => change(scope, request.params, request.body)),
  );
  app.delete<RuleRoute>("/v1/domains/:domain/inbound-rules/:id", deleteOptions, (request, reply) => writer.runNoContent(request, reply, (scope) => remove(scope, request.params)));
};

async function list(services: Services, request: FastifyRequest<ListRoute>) {
  const { db } = services.deps;
  const d = await authorizeDomain(db, callerOf(request), request.params.domain, "domain.inbound_rules.read");
  const rows = await listRules(db, d.id, decodeCursor(request.query.cursor), request.query.limit);
  return toPage(rows, request.query.limit, (r) => r.sort_key, toRule);
}

async function read(services: Services, request: FastifyRequest<RuleRoute>) {
  const { db } = services.deps;
  const d = await authorizeDomain(db, callerOf(request), request.params.domain, "domain.inbound_rules.read");
  const row = await findRule(db, d.id, request.params.id);
  if (!row) throw ruleNotFound(request.params.id);
  return toRule(row);
}

async function create({ tx, caller }: WriteScope, domain: string, b: CreateBody) {
  const d = await authorizeDomain(tx, caller, domain, "domain.inbound_rules.write", { lock: true });
  const priority = Math.min(b.priority ?? (await nextPriority(tx, d.id)), 10000);
  const rule = toRule(await insertRule(tx, { id: newId("irl"), domainId: d.id, match: b.match, action: b.action, destination: b.destination ?? null, priority }));
  await recordAudit(tx, caller, "domain.inbound_rule.create", `domain:${d.name}/inbound_rule:${rule.id}`, null, rule);
  return rule;
}

async function change({ tx, caller }: WriteScope, params: RuleRoute["Params"], body: RuleInput) {
  const d = await authorizeDomain(tx, caller, params.domain, "domain.inbound_rules.write");
  const before = await findRule(tx, d.id, params.id, true);
  if (!before) throw ruleNotFound(params.id);
  const merged = { ...before, ...body };
  if (body.action === "drop" && !("destination" in body)) merged.destination = null;
  checkDestination(merged.action, merged.destination);
  const after = toRule(await updateRule(tx, before.id, { match: merged.match, action: merged.action, destination: merged.destination ?? null, priority: merged.priority }));
  await recordAudit(tx, caller, "domain.inbound_rule.update", `domain:${d.name}/inbound_rule:${after.id}`, toRule(before), after);
  return after;
}

async function remove({ tx, caller }: WriteScope, params: RuleRoute["Params"]): Promise<void> {
  const d = await authorizeDomain(tx, caller, params.domain, "domain.inbound_rules.write");
  const row = await deleteRule(tx, d.id, params.id);
  if (!row) throw ruleNotFound(params.id);
  await recordAudit(tx, caller, "domain.inbound_rule.delete", `domain:${d.name}/inbound_rule:${row.id}`, toRule(row), null);
}
