import type { Member } from "../../../src/api/types";
import { UNKNOWN, type ObjectValue, type Value } from "../../../src/provider/protocol/types";
import { apiKeyResource as resource } from "../../../src/provider/resources/api-key.resource";
import type { ProviderContext } from "../../../src/provider/resources/context";
import { domainAccessResource } from "../../../src/provider/resources/domain-access.resource";
import { apply, configOf, converge, isNoOp, plan } from "./engine-rules";
import { uniqueEmail, useLocalServer } from "./local-server";
import { closeContexts, providerContext } from "./provider-context";

const APP = "app.example.com";
const STAGING = "staging.example.com";
const config = (values: Record<string, Value>) => configOf(resource.schema, values);
const none = new Uint8Array();

describe("postscale_api_key", () => {
  const server = useLocalServer();
  let ctx: ProviderContext;
  let dev: Member;
  beforeAll(async () => {
    dev = await server().owner.inviteMember({ email: uniqueEmail("dev"), role: "member", domain_access: [{ domain: STAGING, access: "read_write" }, { domain: APP, access: "read" }] });
    ctx = await providerContext(server().url, server().ownerKey);
  });
  afterAll(closeContexts);

  const fresh = () => providerContext(server().url, server().ownerKey);
  const reread = async (state: ObjectValue) => (await resource.read(await fresh(), { currentState: state, private: none })).newState!;

  it("creates an organization key: scope planned from config, secret known only after apply, kept across refreshes", async () => {
    const cfg = config({ name: "ci", owner: "organization" });
    const step = await plan(resource, ctx, null, cfg);
    expect(step.planned).toEqual({ ...cfg, domains: UNKNOWN, scope: "organization", id: UNKNOWN, prefix: UNKNOWN, created_at: UNKNOWN, created_by: UNKNOWN, secret: UNKNOWN, secret_rotated_at: UNKNOWN });
    const { newState } = await apply(resource, ctx, null, step.planned, cfg);
    expect(newState).toMatchObject({ domains: [], scope: "organization", secret: expect.stringMatching(/^ps_/) });
    expect((newState!.secret as string).startsWith(newState!.prefix as string)).toBe(true);

    const read = await reread(newState!);
    expect(read).toEqual(newState);
    expect(isNoOp(resource.schema, read, await plan(resource, ctx, read, cfg))).toBe(true);
  });

  it("renames and rescopes in place; dropping domains from the configuration keeps the current scope", async () => {
    const created = (await converge(resource, ctx, null, config({ name: "svc", owner: "organization" })))!;
    const rescope = config({ name: "svc-renamed", owner: "organization", domains: [STAGING, APP] });
    const step = await plan(resource, ctx, created, rescope);
    expect(step.requiresReplace).toEqual([]);
    expect(step.planned).toMatchObject({ name: "svc-renamed", scope: "domains", id: created.id, secret: created.secret });
    const { newState } = await apply(resource, ctx, created, step.planned, rescope);
    expect(await server().owner.getApiKey(created.id as string)).toMatchObject({ name: "svc-renamed", scope: "domains", domains: [APP, STAGING] });

    const unset = await plan(resource, ctx, newState, config({ name: "svc-renamed", owner: "organization" }));
    expect(isNoOp(resource.schema, newState!, unset)).toBe(true);
  });

  it("stores the server's auto-scope of a member key created without domains, then shows no diff", async () => {
    const cfg = config({ name: "dev-auto", owner: "member", member_id: dev.id });
    const step = await plan(resource, ctx, null, cfg);
    expect(step.planned).toMatchObject({ domains: UNKNOWN, scope: UNKNOWN });
    expect(step.diagnostics).toEqual([]);
    const { newState } = await apply(resource, ctx, null, step.planned, cfg);
    expect(newState).toMatchObject({ owner: "member", member_id: dev.id, scope: "domains", domains: [STAGING] });
    expect(isNoOp(resource.schema, newState!, await plan(resource, ctx, await reread(newState!), cfg))).toBe(true);
  });

  it("warns at plan about a domain the holder cannot write today; the refusal at apply is the same finding and creates nothing", async () => {
    const cfg = config({ name: "dev-app", owner: "member", member_id: dev.id, domains: [APP] });
    const planCtx = await fresh();
    const step = await plan(resource, planCtx, null, cfg);
    expect(step.diagnostics).toEqual([expect.objectContaining({ severity: "warning", path: ["domains"], summary: "API Key Domain Not Writable By Its Owner" })]);
    expect(step.diagnostics[0].detail).toContain(`The Postscale server says today: ${dev.email} has read-only access to ${APP}`);

    const keysBefore = (await server().owner.listApiKeys()).length;
    const applyCtx = { ...(await fresh()), keyGrantWaitMs: 300 };
    const { newState, diagnostics } = await apply(resource, applyCtx, null, step.planned, cfg);
    expect(newState).toBeNull();
    expect(diagnostics).toEqual([expect.objectContaining({ severity: "error", path: ["domains"], summary: "API Key Domain Not Writable By Its Owner" })]);
    expect(diagnostics![0].detail).toContain(`${dev.email} has read-only access to ${APP}`);
    expect((await server().owner.listApiKeys()).length).toBe(keysBefore);
  });

  it("applies a key and the grant that makes it valid in the same apply, whichever the engine starts first", async () => {
    const holder = await server().owner.inviteMember({ email: uniqueEmail("pair"), role: "member", domain_access: [{ domain: APP, access: "read" }] });
    const keyCfg = config({ name: "pair-app", owner: "member", member_id: holder.id, domains: [APP] });
    const grantCfg = configOf(domainAccessResource.schema, { member_id: holder.id, domain: APP, access: "read_write" });
    const applyPhase = await fresh();
    const grantPrior = (await domainAccessResource.read(applyPhase, { currentState: { ...grantCfg, id: `${holder.id}/${APP}`, email: holder.email, access: "read" }, private: none })).newState!;
    const keyStep = await plan(resource, applyPhase, null, keyCfg);
    const grantStep = await plan(domainAccessResource, applyPhase, grantPrior, grantCfg);

    const started = Date.now();
    const keyApply = apply(resource, applyPhase, null, keyStep.planned, keyCfg);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await apply(domainAccessResource, applyPhase, grantPrior, grantStep.planned, grantCfg);
    const { newState, diagnostics } = await keyApply;
    expect(diagnostics ?? []).toEqual([]);
    expect(newState).toMatchObject({ domains: [APP], scope: "domains", secret: expect.any(String) });
    // Woken by the grant written in this process, not by the end of the wait.
    expect(Date.now() - started).toBeLessThan(applyPhase.keyGrantWaitMs);
  });

  it("imports by id with a null secret, and replaces the key when expires_at names another instant", async () => {
    const cfg = config({ name: "expiring", owner: "organization", expires_at: "2030-01-31T00:00:00Z" });
    const created = (await converge(resource, ctx, null, cfg))!;
    const imported = await resource.importState!(await fresh(), created.id as string);
    expect(imported.imported).toHaveLength(1);
    const state = imported.imported[0].state;
    // The server answers "2030-01-31T00:00:00.000Z"; state spells it as configurations do, so the first plan after an import changes nothing.
    expect(state).toMatchObject({ id: created.id, secret: null, name: "expiring", expires_at: "2030-01-31T00:00:00Z" });
    const refreshed = await reread(state);
    expect(refreshed.secret).toBeNull();

    expect((await plan(resource, ctx, created, config({ ...cfg, expires_at: "2030-01-31T01:00:00+01:00" }))).requiresReplace).toEqual([]);
    expect((await plan(resource, ctx, created, config({ ...cfg, expires_at: "2031-01-31T00:00:00Z" }))).requiresReplace).toEqual([["expires_at"]]);
    expect((await plan(resource, ctx, created, config({ ...cfg, owner: "member", member_id: dev.id }))).requiresReplace).toEqual([["owner"], ["member_id"]]);
    expect((await resource.importState!(ctx, "key_missing")).diagnostics).toEqual([expect.objectContaining({ summary: "API Key Not Found" })]);
  });

  it("created_by: unknown at plan, the creating credential's person after create, kept by refresh, import and updates", async () => {
    const creator = ctx.caller.member!.id;
    const cfg = config({ name: "made-by", owner: "member", member_id: dev.id, domains: [STAGING] });
    const step = await plan(resource, ctx, null, cfg);
    expect(step.planned!.created_by).toBe(UNKNOWN);
    const { newState } = await apply(resource, ctx, null, step.planned, cfg);
    // The person whose credential created it (the owner here), not the key's holder.
    expect(newState).toMatchObject({ member_id: dev.id, created_by: creator });
    expect(await server().owner.getApiKey(newState!.id as string)).toMatchObject({ created_by: creator });

    expect((await reread(newState!)).created_by).toBe(creator);
    expect((await resource.importState!(await fresh(), newState!.id as string)).imported[0].state.created_by).toBe(creator);
    const renamed = config({ ...cfg, name: "made-by-renamed" });
    const rename = await plan(resource, ctx, newState, renamed);
    expect(rename.planned!.created_by).toBe(creator);
    expect((await apply(resource, ctx, newState, rename.planned, renamed)).newState).toMatchObject({ name: "made-by-renamed", created_by: creator });
  });

  it("state written before created_by existed (null after the additive upgrade): refresh fills it; an update without refresh keeps the planned null", async () => {
    const cfg = config({ name: "legacy", owner: "organization" });
    const created = (await converge(resource, ctx, null, cfg))!;
    const legacy = { ...created, created_by: null };
    expect((await reread(legacy)).created_by).toBe(ctx.caller.member!.id);

    const renamed = config({ ...cfg, name: "legacy-renamed" });
    const step = await plan(resource, ctx, legacy, renamed);
    expect(step.requiresReplace).toEqual([]);
    expect(step.planned!.created_by).toBeNull();
    const { newState, diagnostics } = await apply(resource, ctx, legacy, step.planned, renamed);
    expect(diagnostics ?? []).toEqual([]);
    expect(newState).toMatchObject({ name: "legacy-renamed", created_by: null });
  });

  it("a create repeated by a later run (its reply lost) gets the same key and secret back; nothing doubles", async () => {
    const cfg = config({ name: "lost-reply", owner: "organization", domains: [STAGING, APP] });
    const first = await apply(resource, ctx, null, (await plan(resource, ctx, null, cfg)).planned, cfg);
    const laterRun = await fresh();
    const again = await apply(resource, laterRun, null, (await plan(resource, laterRun, null, cfg)).planned, cfg);
    expect(again.diagnostics ?? []).toEqual([]);
    expect(again.newState).toMatchObject({ id: first.newState!.id, secret: first.newState!.secret });
    const named = (await server().owner.listApiKeys()).filter((k) => k.name === "lost-reply");
    expect(named).toHaveLength(1);
  });

  it("a second key of a taken name is refused (key_name_taken) with the existing key's id and how to adopt or revoke it", async () => {
    await converge(resource, ctx, null, config({ name: "taken", owner: "organization" }));
    const cfg = config({ name: "taken", owner: "organization", domains: [APP] });
    const { newState, diagnostics } = await apply(resource, ctx, null, (await plan(resource, ctx, null, cfg)).planned, cfg);
    expect(newState).toBeNull();
    const existing = (await server().owner.listApiKeys()).find((k) => k.name === "taken")!;
    expect(diagnostics).toEqual([expect.objectContaining({ severity: "error", detail: expect.stringContaining(`tofu import <address> ${existing.id}`) })]);
    expect((await server().owner.listApiKeys()).filter((k) => k.name === "taken")).toHaveLength(1);
  });

  it("deletes on destroy (a later run) and reads a key deleted out of band as gone", async () => {
    const created = (await converge(resource, ctx, null, config({ name: "short-lived", owner: "organization" })))!;
    expect((await apply(resource, await fresh(), created, null, null)).newState).toBeNull();
    await expect(server().owner.getApiKey(created.id as string)).rejects.toMatchObject({ code: "POSTSCALE_E_NOT_FOUND" });
    expect((await resource.read(await fresh(), { currentState: created, private: none })).newState).toBeNull();
  });
});
