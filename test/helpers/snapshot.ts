/**
 * "Nothing was written": everything a refused request could have changed in
 * the bootstrap organization, read over HTTP as the owner (audit log, team
 * with grants, keys, domains with their aliases, rules and warming,
 * organization, billing, the dev outbox), to compare before and after.
 */
import { HttpResponse, ok } from "./http";
import type { TestServer } from "./server";

/** Everything a refused request could have changed, read as the owner. */
export async function snapshot(s: TestServer): Promise<unknown> {
  const read = async (path: string) => ok(await s.owner.get(path), `GET ${path}`);
  const keys = (await read("/v1/api-keys?limit=1000")).data.map((k: Record<string, unknown>) => ({ ...k, last_used_at: undefined }));
  const domains = await read("/v1/domains?limit=1000");
  const perDomain = [];
  for (const d of domains.data as Array<{ name: string }>) {
    perDomain.push(await read(`/v1/domains/${d.name}/aliases?limit=1000`), await read(`/v1/domains/${d.name}/inbound-rules?limit=1000`), await read(`/v1/domains/${d.name}/warming`));
  }
  return {
    audit: await read("/v1/audit-events?limit=1000"),
    members: await read("/v1/team/members?limit=1000&include=domain_access"),
    keys,
    domains,
    perDomain,
    organization: await read("/v1/organization"),
    billing: await read("/v1/organization/billing"),
    mail: (await s.mail()).length,
  };
}

/** Sends a refused request and proves it wrote nothing. */
export async function refusedWithoutWrites(s: TestServer, send: () => Promise<HttpResponse>): Promise<HttpResponse> {
  const before = await snapshot(s);
  const res = await send();
  expect(res.status).toBeLessThan(500);
  expect(await snapshot(s)).toEqual(before);
  return res;
}

