import type { FastifyPluginAsync } from "fastify";
import { callerOf } from "../context";
import { type EventRow, listAuditEvents } from "../data/audit";
import { decodeCursor, toPage } from "../pagination";
import { iso } from "../records";
import { dateTime, listQuery, page, record, responses } from "../schemas";
import type { RoutePluginOptions } from "../services";

const eventSchema = record({
  id: { type: "string" },
  actor: { type: ["string", "null"], description: "Email of the person, null for an organization key" },
  actor_member_id: { type: ["string", "null"] },
  credential: { type: "string", description: "session:<id>, api_key:<id>, password, invitation_token or verify_email_token" },
  key_holder: { type: ["string", "null"], description: 'For a key: the member id of its holder, or "organization" for an organization-owned key' },
  action: { type: "string" },
  target: { type: ["string", "null"] },
  before: {},
  after: {},
  time: dateTime,
});

const listOptions = {
  config: { orgAction: "audit.read" },
  schema: { summary: "Audit events, newest first (owner, admin)", querystring: listQuery(), response: responses({ 200: page(eventSchema) }) },
} as const;

function toEvent(r: EventRow) {
  return {
    id: r.id,
    actor: r.actor,
    actor_member_id: r.actor_member_id,
    credential: r.credential,
    key_holder: r.key_holder,
    action: r.action,
    target: r.target,
    before: r.before,
    after: r.after,
    time: iso(r.time)!,
  };
}

/** The audit log, newest first. */
export const auditRoutes: FastifyPluginAsync<RoutePluginOptions> = async (app, { services }) => {
  app.get<{ Querystring: { limit: number; cursor?: string } }>("/v1/audit-events", listOptions, async (request) => {
    const after = decodeCursor(request.query.cursor);
    // The cursor is a sequence number; any other text names no page.
    if (after !== null && !/^\d{1,18}$/.test(after)) return { data: [], next_cursor: null };
    const rows = await listAuditEvents(services.deps.db, callerOf(request).orgId, after, request.query.limit);
    return toPage(rows, request.query.limit, (r) => r.cursor_seq, toEvent);
  });
};
