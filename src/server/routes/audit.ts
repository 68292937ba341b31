import type { FastifyInstance } from "fastify";
import { callerOf, type Services } from "../context";
import { decodeCursor, toPage } from "../pagination";
import { iso } from "../records";
import { dateTime, listQuery, page, record, responses } from "../schemas";

interface EventRow {
  cursor_seq: string;
  id: string;
  actor: string | null;
  actor_member_id: string | null;
  credential: string;
  key_holder: string | null;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  time: Date;
}

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

export function registerAuditRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services.deps;
  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    "/v1/audit-events",
    { config: { orgAction: "audit.read" }, schema: { summary: "Audit events, newest first (owner, admin)", querystring: listQuery(), response: responses({ 200: page(eventSchema) }) } },
    async (request) => {
      const { orgId } = callerOf(request);
      const after = decodeCursor(request.query.cursor);
      if (after !== null && !/^\d{1,18}$/.test(after)) return { data: [], next_cursor: null };
      const rows = await db.query<EventRow>(
        "SELECT seq::text AS cursor_seq, id, actor, actor_member_id, credential, key_holder, action, target, before, after, time FROM audit_events WHERE org_id = $1 AND ($2::bigint IS NULL OR seq < $2::bigint) ORDER BY seq DESC LIMIT $3",
        [orgId, after, request.query.limit + 1],
      );
      return toPage(rows, request.query.limit, (r) => r.cursor_seq, (r) => ({
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
      }));
    },
  );
}
