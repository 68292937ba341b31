import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UNKNOWN, type ObjectValue } from "../../../src/provider/protocol/types";
import { configureProvider, postscaleProvider } from "../../../src/provider/provider";
import { apiKeyResource } from "../../../src/provider/resources/api-key.resource";
import { domainAccessResource } from "../../../src/provider/resources/domain-access.resource";
import { RequestStats } from "../../../src/provider/resources/request-stats";
import { teamMemberResource } from "../../../src/provider/resources/team-member.resource";
import { DOMAINS, uniqueEmail, useLocalServer } from "./local-server";
import { closeContexts, providerContext } from "./provider-context";

const none = new Uint8Array();
const dataSource = (name: string) => postscaleProvider.dataSources.find((d) => d.name === name)!;

/** A local port with nothing listening. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const server = useLocalServer();
afterAll(closeContexts);

describe("provider configuration", () => {
  it("explains a missing key, a rejected key and an unreachable endpoint, each with how to fix it", async () => {
    const missing = await configureProvider({ endpoint: server().url, api_key: null }, {});
    expect(missing.diagnostics).toEqual([expect.objectContaining({ severity: "error", summary: "Missing Postscale API Key", path: ["api_key"], detail: expect.stringContaining("POSTSCALE_API_KEY") })]);

    const rejected = await configureProvider({ endpoint: server().url, api_key: "ps_not_a_real_key" }, {});
    expect(rejected.diagnostics).toEqual([expect.objectContaining({ summary: "Invalid Postscale API Key", path: ["api_key"], detail: expect.stringContaining("POSTSCALE_API_KEY") })]);

    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = await configureProvider({ endpoint: null, api_key: "ps_x" }, { POSTSCALE_ENDPOINT: endpoint });
    expect(unreachable.diagnostics).toEqual([expect.objectContaining({ summary: "Cannot Reach Postscale API", path: ["endpoint"], detail: expect.stringContaining(endpoint) })]);
  });

  it("reports unknown settings instead of connecting, and falls back to the environment", async () => {
    const unknown = await configureProvider({ endpoint: UNKNOWN, api_key: UNKNOWN }, {});
    expect(unknown.ctx).toBeUndefined();
    expect(unknown.diagnostics?.map((d) => d.summary)).toEqual(["Unknown Postscale Endpoint", "Unknown Postscale API Key"]);

    const fromEnv = await configureProvider({ endpoint: null, api_key: null }, { POSTSCALE_ENDPOINT: server().url, POSTSCALE_API_KEY: server().ownerKey });
    expect(fromEnv.diagnostics ?? []).toEqual([]);
    expect(fromEnv.ctx?.caller.role).toBe("owner");
    await (fromEnv.ctx!.client as unknown as { close(): Promise<void> }).close();
  });
});

describe("data sources", () => {
  it("read the organization, the domains, and members by email, from one snapshot", async () => {
    const dev = await server().owner.inviteMember({ email: uniqueEmail("dev"), role: "member", domain_access: [{ domain: "staging.example.com", access: "read" }] });
    const ctx = await providerContext(server().url, server().ownerKey);
    const read = (name: string, config: ObjectValue = {}) => dataSource(name).read(ctx, { config });

    expect((await read("postscale_organization")).state).toEqual({ id: expect.any(String), name: ctx.caller.organization.name, created_at: expect.any(String) });
    expect((await read("postscale_domains")).state).toMatchObject({ names: DOMAINS });
    expect((await read("postscale_domain", { name: DOMAINS[0] })).state).toMatchObject({ name: DOMAINS[0], status: expect.any(String) });
    const missing = await read("postscale_domain", { name: "missing.example.com" });
    expect(missing.diagnostics).toEqual([expect.objectContaining({ severity: "error", summary: "Domain Not Found", path: ["name"] })]);

    const member = (await read("postscale_team_member", { email: dev.email.toUpperCase() })).state;
    expect(member).toMatchObject({ id: dev.id, email: dev.email.toUpperCase(), role: "member", status: "invited", domain_access: [{ domain: "staging.example.com", access: "read" }] });
    const members = (await read("postscale_team_members")).state!.members as ObjectValue[];
    expect(members.map((m) => m.email)).toEqual([...members.map((m) => m.email as string)].sort());
    expect(members.map((m) => m.role)).toContain("owner");
    expect(ctx.stats.requests).toBe(3); // GET /v1/me, /v1/domains, /v1/team/members
  });
});

describe("reads that scale", () => {
  it("refreshes every member, grant and key with one list request each, however many there are", async () => {
    const owner = server().owner;
    const members = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        owner.inviteMember({ email: uniqueEmail(`m${i}`), role: "member", domain_access: DOMAINS.slice(0, 2).map((domain) => ({ domain, access: "read_write" as const })) }),
      ),
    );
    const keys = await Promise.all(members.slice(0, 10).map((m) => owner.createApiKey({ name: `key ${m.email}`, owner: "member", member_id: m.id })));

    const ctx = await providerContext(server().url, server().ownerKey);
    const states = await Promise.all([
      ...members.map((m) =>
        teamMemberResource.read(ctx, { currentState: { id: m.id, email: m.email, role: "member", status: "invited", name: null, invited_at: m.invited_at, joined_at: null }, private: none }),
      ),
      ...members.flatMap((m) =>
        DOMAINS.slice(0, 2).map((domain) =>
          domainAccessResource.read(ctx, { currentState: { id: `${m.id}/${domain}`, member_id: m.id, domain, access: "read", email: m.email }, private: none }),
        ),
      ),
      ...keys.map((k) =>
        apiKeyResource.read(ctx, {
          currentState: { id: k.id, name: "", owner: "member", member_id: k.member_id, domains: [], expires_at: null, scope: "domains", prefix: k.prefix, created_at: k.created_at, secret: k.secret },
          private: none,
        }),
      ),
    ]);
    expect(states.every((s) => s.newState !== null && (s.diagnostics ?? []).length === 0)).toBe(true);
    expect(states.filter((s) => s.newState?.access === "read_write")).toHaveLength(60);
    expect(JSON.parse(ctx.stats.toJsonLine())).toMatchObject({ requests: 3, routes: { "GET /v1/me": 1, "GET /v1/team/members": 1, "GET /v1/api-keys": 1 } });
  });
});

describe("request stats", () => {
  it("append one JSON line per report to the stats file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "postscale-stats-"));
    const file = join(dir, "stats.jsonl");
    const stats = new RequestStats();
    stats.record({ method: "GET", path: "/v1/me" });
    stats.record({ method: "GET", path: "/v1/team/members" });
    stats.record({ method: "GET", path: "/v1/team/members" });
    stats.report(file);
    stats.report(file);
    const lines = (await readFile(file, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { pid: process.pid, requests: 3, routes: { "GET /v1/me": 1, "GET /v1/team/members": 2 } },
      { pid: process.pid, requests: 3, routes: { "GET /v1/me": 1, "GET /v1/team/members": 2 } },
    ]);
    await rm(dir, { recursive: true, force: true });
  });
});
