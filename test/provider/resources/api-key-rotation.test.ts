/**
 * postscale_api_key rotation in place and write-only key material, driven
 * like the engine drives it (engine-rules.ts): rotation_trigger, rotate_every
 * and secret_wo_version plan an in-place update that rotates (same id, new
 * secret, the old one working for rotation_overlap); secret_wo never leaves
 * the configuration; engines without write-only support are refused; and a
 * create-before-destroy replacement that gets the same key back never
 * revokes it.
 */
import { randomBytes } from "node:crypto";
import { PostscaleClient } from "../../../src/api/client";
import { UNKNOWN, type ObjectValue, type Value } from "../../../src/provider/protocol/types";
import { schemaToProto } from "../../../src/provider/protocol/wire-schema";
import { apiKeyResource as resource } from "../../../src/provider/resources/api-key.resource";
import type { ProviderContext } from "../../../src/provider/resources/context";
import { apply, configOf, converge, isNoOp, plan } from "./engine-rules";
import { sleep, useLocalServer } from "./local-server";
import { closeContexts, providerContext } from "./provider-context";

const config = (values: Record<string, Value>) => configOf(resource.schema, values);
const material = () => randomBytes(36).toString("base64url");
const WRITE_ONLY = { deferralAllowed: false, writeOnlyAttributesAllowed: true };

describe("postscale_api_key rotation and write-only material", () => {
  const server = useLocalServer();
  let ctx: ProviderContext;
  const clients: PostscaleClient[] = [];
  beforeAll(async () => {
    ctx = await providerContext(server().url, server().ownerKey);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await closeContexts();
  });

  const fresh = () => providerContext(server().url, server().ownerKey);
  /** Whether a secret authenticates. */
  const works = async (secret: string): Promise<boolean> => {
    const client = new PostscaleClient({ endpoint: server().url, apiKey: secret, retries: 0 });
    clients.push(client);
    return client.me().then(
      () => true,
      (err: { status?: number }) => {
        if (err.status !== 401) throw err;
        return false;
      },
    );
  };

  it("rotation_trigger: first set changes nothing, a change rotates in place (same id, new secret and prefix), the old secret answers 401", async () => {
    const created = (await converge(resource, ctx, null, config({ name: "trigger", owner: "organization" })))!;
    const set = config({ name: "trigger", owner: "organization", rotation_trigger: "2026-01" });
    const first = await plan(resource, ctx, created, set);
    expect(first.planned).toMatchObject({ secret: created.secret, prefix: created.prefix, secret_rotated_at: created.secret_rotated_at });
    const withTrigger = (await apply(resource, ctx, created, first.planned, set)).newState!;
    expect(withTrigger.secret).toBe(created.secret);

    const changed = config({ name: "trigger", owner: "organization", rotation_trigger: "2026-02" });
    const step = await plan(resource, ctx, withTrigger, changed);
    expect(step.requiresReplace).toEqual([]);
    expect(step.planned).toMatchObject({ id: created.id, secret: UNKNOWN, prefix: UNKNOWN, secret_rotated_at: UNKNOWN });
    const rotated = (await apply(resource, ctx, withTrigger, step.planned, changed)).newState!;
    expect(rotated).toMatchObject({ id: created.id, rotation_trigger: "2026-02", secret: expect.stringMatching(/^ps_/) });
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.prefix).not.toBe(created.prefix);
    expect(await works(created.secret as string)).toBe(false);
    expect(await works(rotated.secret as string)).toBe(true);

    const read = (await resource.read(await fresh(), { currentState: rotated, private: new Uint8Array() })).newState!;
    expect(read).toEqual(rotated);
    expect(isNoOp(resource.schema, read, await plan(resource, ctx, read, changed))).toBe(true);
  });

  it("rotation_overlap: the old secret keeps working after the rotation", async () => {
    const cfg = (trigger: string) => config({ name: "overlap", owner: "organization", rotation_trigger: trigger, rotation_overlap: "10m" });
    const created = (await converge(resource, ctx, null, cfg("a")))!;
    const rotated = (await converge(resource, ctx, created, cfg("b")))!;
    expect(await works(created.secret as string)).toBe(true);
    expect(await works(rotated.secret as string)).toBe(true);
    expect((await server().owner.getApiKey(created.id as string)).previous_valid_until).toEqual(expect.any(String));
  });

  it("rotate_every: an in-place rotation once secret_rotated_at + rotate_every has passed, none before", async () => {
    const long = config({ name: "every", owner: "organization", rotate_every: "90d" });
    const created = (await converge(resource, ctx, null, long))!;
    expect(isNoOp(resource.schema, created, await plan(resource, ctx, created, long))).toBe(true);
    await sleep(1100);
    const short = config({ name: "every", owner: "organization", rotate_every: "1s" });
    const step = await plan(resource, ctx, created, short);
    expect(step.planned).toMatchObject({ id: created.id, secret: UNKNOWN, secret_rotated_at: UNKNOWN });
    const rotated = (await apply(resource, ctx, created, step.planned, short)).newState!;
    expect(Date.parse(rotated.secret_rotated_at as string)).toBeGreaterThan(Date.parse(created.secret_rotated_at as string));
    expect(await works(rotated.secret as string)).toBe(true);
  });

  it("validates durations", () => {
    const diagnostics = resource.validate!({ config: config({ name: "x", owner: "organization", rotate_every: "soon", rotation_overlap: "2d" }), clientCapabilities: WRITE_ONLY });
    expect(diagnostics.map((d) => d.path)).toEqual([["rotate_every"], ["rotation_overlap"]]);
    expect(diagnostics[1].detail).toMatch(/at most 24h/);
  });

  describe("secret_wo", () => {
    it("is write-only and sensitive in the schema the engine gets", () => {
      const attribute = schemaToProto(resource.schema).block.attributes.find((a) => a.name === "secret_wo")!;
      expect(attribute).toMatchObject({ write_only: true, sensitive: true, optional: true, computed: false });
    });

    it("creates with the material (secret null in plan and state, never the material), authenticates, rotates on a version bump", async () => {
      const mine = material();
      const cfg = config({ name: "wo", owner: "organization", secret_wo: mine, secret_wo_version: 1 });
      expect(resource.validate!({ config: cfg, clientCapabilities: WRITE_ONLY })).toEqual([]);
      const step = await plan(resource, ctx, null, cfg);
      expect(step.planned).toMatchObject({ secret: null, secret_wo: null, secret_wo_version: 1 });
      const created = (await apply(resource, ctx, null, step.planned, cfg)).newState!;
      expect(created).toMatchObject({ secret: null, secret_wo: null, prefix: expect.stringMatching(/^sha256:/) });
      expect(JSON.stringify(created)).not.toContain(mine);
      expect(await works(mine)).toBe(true);
      expect(isNoOp(resource.schema, created, await plan(resource, ctx, created, cfg))).toBe(true);

      const next = material();
      const bumped = config({ name: "wo", owner: "organization", secret_wo: next, secret_wo_version: 2 });
      const rotation = await plan(resource, ctx, created, bumped);
      expect(rotation.requiresReplace).toEqual([]);
      expect(rotation.planned).toMatchObject({ id: created.id, secret: null, secret_wo: null, prefix: UNKNOWN });
      const rotated = (await apply(resource, ctx, created, rotation.planned, bumped)).newState!;
      expect(JSON.stringify(rotated)).not.toContain(next);
      expect(rotated).toMatchObject({ id: created.id, secret: null, secret_wo_version: 2 });
      expect(await works(mine)).toBe(false);
      expect(await works(next)).toBe(true);
    });

    it("a version bump with the same material is refused with the fix, and the key keeps working", async () => {
      const mine = material();
      const created = (await converge(resource, ctx, null, config({ name: "wo-same", owner: "organization", secret_wo: mine, secret_wo_version: 1 })))!;
      const same = config({ name: "wo-same", owner: "organization", secret_wo: mine, secret_wo_version: 2 });
      const { diagnostics } = await apply(resource, ctx, created, (await plan(resource, ctx, created, same)).planned, same);
      expect(diagnostics).toEqual([expect.objectContaining({ severity: "error", detail: expect.stringContaining("bump secret_wo_version together with new material") })]);
      expect(JSON.stringify(diagnostics)).not.toContain(mine);
      expect(await works(mine)).toBe(true);
    });

    it("engines without write-only support get a clean refusal naming the attribute and the engines that support it", () => {
      const mine = material();
      for (const capabilities of [undefined, { deferralAllowed: false, writeOnlyAttributesAllowed: false }]) {
        const diagnostics = resource.validate!({ config: config({ name: "old", owner: "organization", secret_wo: mine, secret_wo_version: 1 }), clientCapabilities: capabilities });
        expect(diagnostics).toEqual([
          expect.objectContaining({ severity: "error", path: ["secret_wo"], summary: "Write-Only Attribute Not Supported By This Engine", detail: expect.stringMatching(/OpenTofu 1\.11 or later, or Terraform 1\.11 or later/) }),
        ]);
        expect(JSON.stringify(diagnostics)).not.toContain(mine);
      }
      expect(resource.validate!({ config: config({ name: "old", owner: "organization" }), clientCapabilities: undefined })).toEqual([]);
      expect(resource.validate!({ config: config({ name: "old", owner: "organization", secret_wo: UNKNOWN }), clientCapabilities: undefined })).toHaveLength(1);
    });

    it("material that breaks the rule is refused at validation without repeating it", () => {
      const weak = "Qwerty12".repeat(5);
      const diagnostics = resource.validate!({ config: config({ name: "weak", owner: "organization", secret_wo: weak, secret_wo_version: 1 }), clientCapabilities: WRITE_ONLY });
      expect(diagnostics).toEqual([expect.objectContaining({ summary: "Invalid Key Material", path: ["secret_wo"] })]);
      expect(JSON.stringify(diagnostics)).not.toContain("Qwerty12");
    });
  });

  describe("create_before_destroy replacement of an organization key", () => {
    it("the replacement gets the same key back (names are unique per holder); deleting the deposed copy keeps it, with a warning to rotate in place", async () => {
      const cfg = config({ name: "cbd", owner: "organization" });
      const old: ObjectValue = (await converge(resource, await fresh(), null, cfg))!;
      const run = await fresh();
      const replacement = (await apply(resource, run, null, (await plan(resource, run, null, cfg)).planned, cfg)).newState!;
      expect(replacement.id).toBe(old.id);
      const deposed = await apply(resource, run, old, null, null);
      expect(deposed.newState).toBeNull();
      expect(deposed.diagnostics).toEqual([expect.objectContaining({ severity: "warning", detail: expect.stringContaining("rotation_trigger") })]);
      expect(await works(replacement.secret as string)).toBe(true);
      expect((await server().owner.listApiKeys()).filter((k) => k.name === "cbd")).toHaveLength(1);
    });

    it("a create repeated after the key was rotated is not answered with the dead secret", async () => {
      const cfg = config({ name: "replay-after-rotation", owner: "organization", rotation_trigger: "1" });
      const created = (await converge(resource, await fresh(), null, cfg))!;
      await converge(resource, await fresh(), created, config({ name: "replay-after-rotation", owner: "organization", rotation_trigger: "2" }));
      const run = await fresh();
      const again = await apply(resource, run, null, (await plan(resource, run, null, cfg)).planned, cfg);
      expect(again.newState).toBeNull();
      expect(again.diagnostics).toEqual([expect.objectContaining({ severity: "error", detail: expect.stringContaining("unique per holder") })]);
    });
  });
});
