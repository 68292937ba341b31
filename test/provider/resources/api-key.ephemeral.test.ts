import { PostscaleClient } from "../../../src/api/client";
import type { Member } from "../../../src/api/types";
import type { ClientCapabilities, Diagnostic, ObjectValue, Value } from "../../../src/provider/protocol/types";
import { apiKeyEphemeral as ephemeral } from "../../../src/provider/resources/api-key.ephemeral";
import type { ProviderContext } from "../../../src/provider/resources/context";
import { configOf } from "./engine-rules";
import { uniqueEmail, useLocalServer } from "./local-server";
import { closeContexts, providerContext } from "./provider-context";

const APP = "app.example.com";
const STAGING = "staging.example.com";
const caps: ClientCapabilities = { deferralAllowed: false, writeOnlyAttributesAllowed: true };
const config = (values: Record<string, Value>) => configOf(ephemeral.schema, values);
const validate = (values: Record<string, Value>) => ephemeral.validate!({ config: config(values) });
const summaries = (diagnostics: Diagnostic[]) => diagnostics.map((d) => `${d.summary} @ ${(d.path ?? []).join(".")}`);
const handleOf = (bytes: Uint8Array | undefined) => JSON.parse(Buffer.from(bytes!).toString("utf8")) as Record<string, unknown>;

describe("postscale_api_key (ephemeral): validation", () => {
  it("accepts an organization key and a member key with the defaults", () => {
    expect(validate({ owner: "organization" })).toEqual([]);
    expect(validate({ owner: "member", member_id: "m1", domains: [APP], ttl: "1h", name_prefix: "ci-" })).toEqual([]);
  });

  it("applies the managed key's rules to owner, member_id and domains", () => {
    expect(summaries(validate({ owner: "team" }))).toEqual(["Invalid Key Owner @ owner"]);
    expect(summaries(validate({ owner: "member" }))).toEqual(["Missing Key Holder @ member_id"]);
    expect(summaries(validate({ owner: "organization", member_id: "m1" }))).toEqual(["Organization Key Cannot Have A Member @ member_id"]);
    expect(summaries(validate({ owner: "organization", domains: ["not a domain"] }))).toEqual(["Invalid Domain Name @ domains"]);
  });

  it("caps ttl at 1h with a diagnostic that says what to use instead, and refuses less than 1m", () => {
    const [tooLong] = validate({ owner: "organization", ttl: "2h" });
    expect(tooLong).toMatchObject({ summary: "Ephemeral Key Lifetime Too Long", path: ["ttl"] });
    expect(tooLong.detail).toMatch(/at most "1h", got "2h".*managed postscale_api_key/);
    expect(summaries(validate({ owner: "organization", ttl: "1h1s" }))).toEqual(["Ephemeral Key Lifetime Too Long @ ttl"]);
    expect(summaries(validate({ owner: "organization", ttl: "30s" }))).toEqual(["Ephemeral Key Lifetime Too Short @ ttl"]);
    expect(summaries(validate({ owner: "organization", ttl: "15 minutes" }))).toEqual(["Invalid Duration @ ttl"]);
  });

  it("checks that the prefix leaves room for the random suffix", () => {
    expect(summaries(validate({ owner: "organization", name_prefix: "x".repeat(95) }))).toEqual(["Invalid API Key Name @ name_prefix"]);
  });
});

describe("postscale_api_key (ephemeral) against the server", () => {
  const server = useLocalServer();
  let ctx: ProviderContext;
  let dev: Member;
  const clients: PostscaleClient[] = [];
  const as = (secret: string) => {
    const client = new PostscaleClient({ endpoint: server().url, apiKey: secret, retries: 0 });
    clients.push(client);
    return client;
  };
  const open = (values: Record<string, Value>) => ephemeral.open(ctx, { config: config(values), clientCapabilities: caps });

  beforeAll(async () => {
    dev = await server().owner.inviteMember({ email: uniqueEmail("dev"), role: "member", domain_access: [{ domain: STAGING, access: "read_write" }, { domain: APP, access: "read" }] });
    ctx = await providerContext(server().url, server().ownerKey);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await closeContexts();
  });

  it("opens a key that expires after ttl on the server and authenticates; private holds id and expiry, not the secret", async () => {
    const before = Date.now();
    const opened = await open({ owner: "organization" });
    expect(opened.diagnostics).toEqual([]);
    const result = opened.result as ObjectValue;
    expect(result).toMatchObject({ owner: "organization", member_id: null, ttl: "15m", name_prefix: "ephemeral-", domains: [], secret: expect.stringMatching(/^ps_/) });
    expect(result.name).toMatch(/^ephemeral-[0-9a-f]{12}$/);
    const expiresAt = Date.parse(result.expires_at as string);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 15 * 60_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 15 * 60_000);

    const key = await server().owner.getApiKey(result.id as string);
    expect(Date.parse(key.expires_at!)).toBe(expiresAt);
    expect(handleOf(opened.private)).toEqual({ id: result.id, expires_at: result.expires_at });
    expect(Buffer.from(opened.private!).toString()).not.toContain(result.secret as string);
    expect(opened.renewAt).toBeUndefined();

    expect((await as(result.secret as string).me()).key).toMatchObject({ id: result.id });
  });

  it("mints a new key with a new name on every open", async () => {
    const [a, b] = await Promise.all([open({ owner: "organization", ttl: "1m" }), open({ owner: "organization", ttl: "1m" })]);
    expect(a.result!.id).not.toBe(b.result!.id);
    expect(a.result!.name).not.toBe(b.result!.name);
  });

  it("auto-scopes a member key to the member's read_write domains, as for managed keys", async () => {
    const opened = await open({ owner: "member", member_id: dev.id, ttl: "5m", name_prefix: "deploy-" });
    expect(opened.result).toMatchObject({ member_id: dev.id, domains: [STAGING], ttl: "5m" });
    expect(opened.result!.name).toMatch(/^deploy-/);
  });

  it("reports the server's refusal on the attribute and leaves no key", async () => {
    const keysBefore = (await server().owner.listApiKeys()).length;
    const opened = await open({ owner: "member", member_id: dev.id, domains: [APP] });
    expect(opened.result).toBeNull();
    expect(opened.private).toBeUndefined();
    expect(opened.diagnostics).toEqual([expect.objectContaining({ severity: "error", summary: "API Key Domain Not Writable By Its Owner", path: ["domains"] })]);
    expect((await server().owner.listApiKeys()).length).toBe(keysBefore);
  });

  it("close revokes the key (401 afterwards); closing it again counts as done", async () => {
    const opened = await open({ owner: "organization", domains: [APP] });
    const secret = opened.result!.secret as string;
    await expect(as(secret).me()).resolves.toMatchObject({ key: { id: opened.result!.id } });
    expect(await ephemeral.close!(ctx, { private: opened.private! })).toEqual({});
    await expect(as(secret).me()).rejects.toMatchObject({ code: "POSTSCALE_E_UNAUTHENTICATED" });
    expect(await ephemeral.close!(ctx, { private: opened.private! })).toEqual({});
  });
});
