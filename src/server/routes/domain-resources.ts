import type { FastifyInstance } from "fastify";
import { recordAudit } from "../audit";
import { callerOf, type Services } from "../context";
import { dmarcReports, dnsRecords, domainStats, newDkimKey, warmingLimit } from "../domain-data";
import { conflict } from "../problem";
import { DomainRow, iso, toDomain } from "../records";
import { dateTime, domainParams, domainSchema, object, record, responses } from "../schemas";
import { authorizeDomain } from "./domain-guard";
import { effectiveAccess } from "../../policy";

const dnsSchema = record({
  domain: { type: "string" },
  records: {
    type: "array",
    items: record({
      type: { type: "string" },
      host: { type: "string" },
      value: { type: "string" },
      priority: { type: ["integer", "null"] },
      purpose: { type: "string", enum: ["inbound", "spf", "dkim", "dmarc"] },
      status: { type: "string", enum: ["pending", "verified"] },
    }),
  },
});

const dkimSchema = record({
  domain: { type: "string" },
  selector: { type: "string" },
  algorithm: { type: "string" },
  public_key: { type: "string" },
  dns_host: { type: "string" },
  dns_value: { type: "string" },
  created_at: dateTime,
});

const counts = { sent: { type: "integer" }, delivered: { type: "integer" }, bounced: { type: "integer" }, complained: { type: "integer" }, opened: { type: "integer" } };
const statsSchema = record({
  domain: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  totals: record(counts),
  daily: { type: "array", items: record({ date: { type: "string" }, ...counts }) },
});

const dmarcSchema = record({
  domain: { type: "string" },
  policy: { type: "string" },
  totals: record({ pass: { type: "integer" }, fail: { type: "integer" } }),
  reports: {
    type: "array",
    items: record({
      id: { type: "string" },
      reporter: { type: "string" },
      begin: dateTime,
      end: dateTime,
      records: {
        type: "array",
        items: record({ source_ip: { type: "string" }, count: { type: "integer" }, spf: { type: "string" }, dkim: { type: "string" }, disposition: { type: "string" } }),
      },
    }),
  },
});

const warmingSchema = record({
  domain: { type: "string" },
  status: { type: "string", enum: ["not_started", "active", "paused"] },
  day: { type: "integer" },
  daily_limit: { type: "integer" },
  started_at: { type: ["string", "null"], format: "date-time" },
  updated_at: { type: ["string", "null"], format: "date-time" },
});

function dkimOf(row: DomainRow) {
  return {
    domain: row.name,
    selector: row.dkim_selector,
    algorithm: "ed25519-sha256",
    public_key: row.dkim_public_key,
    dns_host: `${row.dkim_selector}._domainkey.${row.name}`,
    dns_value: `v=DKIM1; k=ed25519; p=${row.dkim_public_key}`,
    created_at: iso(row.dkim_created_at)!,
  };
}

/** The warming day advances by itself while active: stored day + whole days since the last change. */
function warmingOf(row: DomainRow, now = Date.now()) {
  const since = row.warming_updated_at ? Math.floor((now - new Date(row.warming_updated_at).getTime()) / 86_400_000) : 0;
  const day = row.warming_status === "active" ? row.warming_day + since : row.warming_day;
  return { domain: row.name, status: row.warming_status, day, daily_limit: warmingLimit(day), started_at: iso(row.warming_started_at), updated_at: iso(row.warming_updated_at) };
}

type DomainParams = { Params: { domain: string } };

/** DNS setup, verification, DKIM, stats, DMARC and warming: read vs read/write per the policy. */
export function registerDomainResourceRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services.deps;
  const cache = services.cache;

  app.get<DomainParams>("/v1/domains/:domain/dns", { schema: { summary: "DNS records to publish (read)", params: domainParams, response: responses({ 200: dnsSchema }) } }, async (request) => {
    const row = await authorizeDomain(db, callerOf(request), request.params.domain, "domain.dns.read", { cache });
    return { domain: row.name, records: dnsRecords(row) };
  });

  app.post<DomainParams>(
    "/v1/domains/:domain/verify",
    { config: { emptyBody: true }, schema: { summary: "Check DNS and mark the domain verified (read_write)", params: domainParams, body: object({}), response: responses({ 200: domainSchema }) } },
    async (request, reply) => {
      return services.writer.run(request, reply, 200, async ({ tx, caller }) => {
        const before = await authorizeDomain(tx, caller, request.params.domain, "domain.verify", { lock: true });
        const [row] = await tx.query<DomainRow>(
          "UPDATE domains SET status = 'verified', verified_at = COALESCE(verified_at, now()), updated_at = now() WHERE id = $1 RETURNING *",
          [before.id],
        );
        const access = effectiveAccess(caller.principal, row.name)!;
        await recordAudit(tx, caller, "domain.verify", `domain:${row.name}`, { status: before.status }, { status: row.status });
        return toDomain(row, access);
      });
    },
  );

  app.get<DomainParams>("/v1/domains/:domain/dkim", { schema: { summary: "Current DKIM key (read)", params: domainParams, response: responses({ 200: dkimSchema }) } }, async (request) =>
    dkimOf(await authorizeDomain(db, callerOf(request), request.params.domain, "domain.dkim.read", { cache })),
  );

  app.post<DomainParams>(
    "/v1/domains/:domain/dkim/rotate",
    { config: { emptyBody: true }, schema: { summary: "Rotate to a new DKIM selector and key (read_write)", params: domainParams, body: object({}), response: responses({ 200: dkimSchema }) } },
    async (request, reply) => {
      const key = newDkimKey();
      return services.writer.run(request, reply, 200, async ({ tx, caller }) => {
        const before = await authorizeDomain(tx, caller, request.params.domain, "domain.dkim.rotate", { lock: true });
        const [row] = await tx.query<DomainRow>(
          "UPDATE domains SET dkim_selector = $2, dkim_public_key = $3, dkim_created_at = now(), updated_at = now() WHERE id = $1 RETURNING *",
          [before.id, key.selector, key.publicKey],
        );
        const after = dkimOf(row);
        await recordAudit(tx, caller, "domain.dkim.rotate", `domain:${row.name}`, dkimOf(before), after);
        return after;
      });
    },
  );

  app.get<DomainParams & { Querystring: { days: number } }>(
    "/v1/domains/:domain/stats",
    {
      schema: {
        summary: "Delivery stats per day (read)",
        params: domainParams,
        querystring: object({ days: { type: "integer", minimum: 1, maximum: 90, default: 14 } }),
        response: responses({ 200: statsSchema }),
      },
    },
    async (request) => {
      const row = await authorizeDomain(db, callerOf(request), request.params.domain, "domain.stats.read", { cache });
      return domainStats(row.name, request.query.days);
    },
  );

  app.get<DomainParams>("/v1/domains/:domain/dmarc", { schema: { summary: "Aggregate DMARC reports (read)", params: domainParams, response: responses({ 200: dmarcSchema }) } }, async (request) => {
    const row = await authorizeDomain(db, callerOf(request), request.params.domain, "domain.dmarc.read", { cache });
    return dmarcReports(row.name);
  });

  app.get<DomainParams>("/v1/domains/:domain/warming", { schema: { summary: "Warming status (read)", params: domainParams, response: responses({ 200: warmingSchema }) } }, async (request) =>
    warmingOf(await authorizeDomain(db, callerOf(request), request.params.domain, "domain.warming.read", { cache })),
  );

  app.post<DomainParams & { Body: { action: "start" | "pause" } }>(
    "/v1/domains/:domain/warming",
    {
      schema: {
        summary: "Start or pause warming (read_write)",
        params: domainParams,
        body: object({ action: { type: "string", enum: ["start", "pause"] } }, ["action"]),
        response: responses({ 200: warmingSchema }),
      },
    },
    async (request, reply) => {
      return services.writer.run(request, reply, 200, async ({ tx, caller }) => {
        const row = await authorizeDomain(tx, caller, request.params.domain, "domain.warming.act", { lock: true });
        const before = warmingOf(row);
        let status = before.status;
        if (request.body.action === "start") status = "active";
        else if (before.status === "active") status = "paused";
        else throw conflict(`Warming of ${row.name} is ${before.status.replace("_", " ")}; only active warming can be paused.`);
        if (status === before.status) return before;
        const [updated] = await tx.query<DomainRow>(
          "UPDATE domains SET warming_status = $2, warming_day = $3, warming_started_at = COALESCE(warming_started_at, now()), warming_updated_at = now(), updated_at = now() WHERE id = $1 RETURNING *",
          [row.id, status, Math.max(before.day, 1)],
        );
        const after = warmingOf(updated);
        await recordAudit(tx, caller, `domain.warming.${request.body.action}`, `domain:${row.name}`, before, after);
        return after;
      });
    },
  );
}
