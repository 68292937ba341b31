import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { type DomainAction, effectiveAccess } from "../../policy";
import { recordAudit } from "../audit";
import { callerOf } from "../context";
import { markVerified, replaceDkimKey, updateWarming } from "../data/domains";
import { dmarcReports, dnsRecords, domainStats, newDkimKey, warmingLimit } from "../domain-data";
import { conflict } from "../problem";
import { type DomainRow, iso, toDomain } from "../records";
import { dateTime, domainParams, domainSchema, object, record, responses } from "../schemas";
import type { RoutePluginOptions } from "../services";
import type { WriteScope } from "../write";
import { authorizeDomain } from "./domain-guard";

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

type DomainRoute = { Params: { domain: string } };

const dnsOptions = { schema: { summary: "DNS records to publish (read)", params: domainParams, response: responses({ 200: dnsSchema }) } } as const;
const verifyOptions = {
  config: { emptyBody: true },
  schema: { summary: "Check DNS and mark the domain verified (read_write)", params: domainParams, body: object({}), response: responses({ 200: domainSchema }) },
} as const;
const dkimOptions = { schema: { summary: "Current DKIM key (read)", params: domainParams, response: responses({ 200: dkimSchema }) } } as const;
const rotateOptions = {
  config: { emptyBody: true },
  schema: { summary: "Rotate to a new DKIM selector and key (read_write)", params: domainParams, body: object({}), response: responses({ 200: dkimSchema }) },
} as const;
const statsOptions = {
  schema: {
    summary: "Delivery stats per day (read)",
    params: domainParams,
    querystring: object({ days: { type: "integer", minimum: 1, maximum: 90, default: 14 } }),
    response: responses({ 200: statsSchema }),
  },
} as const;
const dmarcOptions = { schema: { summary: "Aggregate DMARC reports (read)", params: domainParams, response: responses({ 200: dmarcSchema }) } } as const;
const warmingOptions = { schema: { summary: "Warming status (read)", params: domainParams, response: responses({ 200: warmingSchema }) } } as const;
const warmingActionOptions = {
  schema: {
    summary: "Start or pause warming (read_write)",
    params: domainParams,
    body: object({ action: { type: "string", enum: ["start", "pause"] } }, ["action"]),
    response: responses({ 200: warmingSchema }),
  },
} as const;

/** DNS setup, verification, DKIM, stats, DMARC and warming: read vs read/write per the policy. */
export const domainResourceRoutes: FastifyPluginAsync<RoutePluginOptions> = async (app, { services }) => {
  const { writer } = services;
  const readable = (request: FastifyRequest<DomainRoute>, action: DomainAction) =>
    authorizeDomain(services.deps.db, callerOf(request), request.params.domain, action, { cache: services.cache });
  app.get<DomainRoute>("/v1/domains/:domain/dns", dnsOptions, async (request) => dnsOf(await readable(request, "domain.dns.read")));
  app.post<DomainRoute>("/v1/domains/:domain/verify", verifyOptions, (request, reply) => writer.run(request, reply, 200, (scope) => verify(scope, request.params.domain)));
  app.get<DomainRoute>("/v1/domains/:domain/dkim", dkimOptions, async (request) => dkimOf(await readable(request, "domain.dkim.read")));
  app.post<DomainRoute>("/v1/domains/:domain/dkim/rotate", rotateOptions, async (request, reply) => {
    const key = newDkimKey();
    return writer.run(request, reply, 200, (scope) => rotateDkim(scope, request.params.domain, key));
  });
  app.get<DomainRoute & { Querystring: { days: number } }>("/v1/domains/:domain/stats", statsOptions, async (request) =>
    domainStats((await readable(request, "domain.stats.read")).name, request.query.days),
  );
  app.get<DomainRoute>("/v1/domains/:domain/dmarc", dmarcOptions, async (request) => dmarcReports((await readable(request, "domain.dmarc.read")).name));
  app.get<DomainRoute>("/v1/domains/:domain/warming", warmingOptions, async (request) => warmingOf(await readable(request, "domain.warming.read")));
  app.post<DomainRoute & { Body: { action: "start" | "pause" } }>("/v1/domains/:domain/warming", warmingActionOptions, (request, reply) =>
    writer.run(request, reply, 200, (scope) => actOnWarming(scope, request.params.domain, request.body.action)),
  );
};

function dnsOf(row: DomainRow) {
  return { domain: row.name, records: dnsRecords(row) };
}

async function verify({ tx, caller }: WriteScope, name: string) {
  const before = await authorizeDomain(tx, caller, name, "domain.verify", { lock: true });
  const row = await markVerified(tx, before.id);
  const access = effectiveAccess(caller.principal, row.name)!;
  await recordAudit(tx, caller, "domain.verify", `domain:${row.name}`, { status: before.status }, { status: row.status });
  return toDomain(row, access);
}

async function rotateDkim({ tx, caller }: WriteScope, name: string, key: { selector: string; publicKey: string }) {
  const before = await authorizeDomain(tx, caller, name, "domain.dkim.rotate", { lock: true });
  const after = dkimOf(await replaceDkimKey(tx, before.id, key));
  await recordAudit(tx, caller, "domain.dkim.rotate", `domain:${before.name}`, dkimOf(before), after);
  return after;
}

async function actOnWarming({ tx, caller }: WriteScope, name: string, action: "start" | "pause") {
  const row = await authorizeDomain(tx, caller, name, "domain.warming.act", { lock: true });
  const before = warmingOf(row);
  let status = before.status;
  if (action === "start") status = "active";
  else if (before.status === "active") status = "paused";
  else throw conflict(`Warming of ${row.name} is ${before.status.replace("_", " ")}; only active warming can be paused.`);
  if (status === before.status) return before;
  const after = warmingOf(await updateWarming(tx, row.id, status, Math.max(before.day, 1)));
  await recordAudit(tx, caller, `domain.warming.${action}`, `domain:${row.name}`, before, after);
  return after;
}
