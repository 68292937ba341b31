import type { FastifyInstance } from "fastify";
import { emailProblem } from "../../policy";
import { recordAudit } from "../audit";
import { callerOf, type Services } from "../context";
import { invalid, notFound } from "../problem";
import { decodeCursor, toPage } from "../pagination";
import { iso } from "../records";
import { NOT_BLANK, dateTime, domainParams, listQuery, noContent, object, page, record, responses, ruleParams } from "../schemas";
import { newId } from "../security";
import { authorizeDomain } from "./domain-guard";

type RuleAction = "forward" | "webhook" | "drop";

interface RuleRow {
  id: string;
  match: string;
  action: RuleAction;
  destination: string | null;
  priority: number;
  created_at: Date;
  updated_at: Date;
}

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

/** Inbound rules: read with read access, create/change/delete with read_write. */
export function registerInboundRuleRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services.deps;

  app.get<{ Params: { domain: string }; Querystring: { limit: number; cursor?: string } }>(
    "/v1/domains/:domain/inbound-rules",
    { schema: { summary: "Inbound rules of a domain, by priority (read)", params: domainParams, querystring: listQuery(), response: responses({ 200: page(ruleSchema) }) } },
    async (request) => {
      const d = await authorizeDomain(db, callerOf(request), request.params.domain, "domain.inbound_rules.read");
      const after = decodeCursor(request.query.cursor);
      // Keyset on (priority, id), encoded as one sortable string.
      const rows = await db.query<RuleRow & { sort_key: string }>(
        "SELECT *, lpad(priority::text, 5, '0') || ':' || id AS sort_key FROM inbound_rules WHERE domain_id = $1 AND ($2::text IS NULL OR lpad(priority::text, 5, '0') || ':' || id > $2) ORDER BY priority, id LIMIT $3",
        [d.id, after, request.query.limit + 1],
      );
      return toPage(rows, request.query.limit, (r) => r.sort_key, toRule);
    },
  );

  app.post<{ Params: { domain: string }; Body: Required<Pick<RuleInput, "match" | "action">> & RuleInput }>(
    "/v1/domains/:domain/inbound-rules",
    { schema: { summary: "Create an inbound rule (read_write)", params: domainParams, body: object(inputProps, ["match", "action"]), response: responses({ 201: ruleSchema }) } },
    async (request, reply) => {
      const b = request.body;
      checkDestination(b.action, b.destination);
      return services.writer.run(request, reply, 201, async ({ tx, caller }) => {
        const d = await authorizeDomain(tx, caller, request.params.domain, "domain.inbound_rules.write", { lock: true });
        const [{ next }] = await tx.query<{ next: number }>("SELECT COALESCE(MAX(priority) + 10, 10)::int AS next FROM inbound_rules WHERE domain_id = $1", [d.id]);
        const [row] = await tx.query<RuleRow>("INSERT INTO inbound_rules (id, domain_id, match, action, destination, priority) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *", [
          newId("irl"),
          d.id,
          b.match,
          b.action,
          b.destination ?? null,
          Math.min(b.priority ?? Number(next), 10000),
        ]);
        const rule = toRule(row);
        await recordAudit(tx, caller, "domain.inbound_rule.create", `domain:${d.name}/inbound_rule:${row.id}`, null, rule);
        return rule;
      });
    },
  );

  app.get<{ Params: { domain: string; id: string } }>(
    "/v1/domains/:domain/inbound-rules/:id",
    { schema: { summary: "One inbound rule (read)", params: ruleParams, response: responses({ 200: ruleSchema }) } },
    async (request) => {
      const d = await authorizeDomain(db, callerOf(request), request.params.domain, "domain.inbound_rules.read");
      const [row] = await db.query<RuleRow>("SELECT * FROM inbound_rules WHERE domain_id = $1 AND id = $2", [d.id, request.params.id]);
      if (!row) throw notFound(`Inbound rule "${request.params.id}"`);
      return toRule(row);
    },
  );

  app.patch<{ Params: { domain: string; id: string }; Body: RuleInput }>(
    "/v1/domains/:domain/inbound-rules/:id",
    { schema: { summary: "Change an inbound rule (read_write)", params: ruleParams, body: object(inputProps, [], { minProperties: 1 }), response: responses({ 200: ruleSchema }) } },
    async (request, reply) => {
      return services.writer.run(request, reply, 200, async ({ tx, caller }) => {
        const d = await authorizeDomain(tx, caller, request.params.domain, "domain.inbound_rules.write");
        const [before] = await tx.query<RuleRow>("SELECT * FROM inbound_rules WHERE domain_id = $1 AND id = $2 FOR UPDATE", [d.id, request.params.id]);
        if (!before) throw notFound(`Inbound rule "${request.params.id}"`);
        const merged = { ...before, ...request.body };
        if (request.body.action === "drop" && !("destination" in request.body)) merged.destination = null;
        checkDestination(merged.action, merged.destination);
        const [row] = await tx.query<RuleRow>("UPDATE inbound_rules SET match = $2, action = $3, destination = $4, priority = $5, updated_at = now() WHERE id = $1 RETURNING *", [
          before.id,
          merged.match,
          merged.action,
          merged.destination ?? null,
          merged.priority,
        ]);
        const after = toRule(row);
        await recordAudit(tx, caller, "domain.inbound_rule.update", `domain:${d.name}/inbound_rule:${row.id}`, toRule(before), after);
        return after;
      });
    },
  );

  app.delete<{ Params: { domain: string; id: string } }>(
    "/v1/domains/:domain/inbound-rules/:id",
    { schema: { summary: "Delete an inbound rule (read_write)", params: ruleParams, response: responses({ 204: noContent }) } },
    async (request, reply) => {
      await services.writer.run(request, reply, 204, async ({ tx, caller }) => {
        const d = await authorizeDomain(tx, caller, request.params.domain, "domain.inbound_rules.write");
        const [row] = await tx.query<RuleRow>("DELETE FROM inbound_rules WHERE domain_id = $1 AND id = $2 RETURNING *", [d.id, request.params.id]);
        if (!row) throw notFound(`Inbound rule "${request.params.id}"`);
        await recordAudit(tx, caller, "domain.inbound_rule.delete", `domain:${d.name}/inbound_rule:${row.id}`, toRule(row), null);
      });
      return reply.send();
    },
  );
}
