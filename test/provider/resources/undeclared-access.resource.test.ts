import { OWNER_EMAIL } from "../../helpers/server";
import { UNKNOWN, type ObjectValue } from "../../../src/provider/protocol/types";
import type { ProviderContext } from "../../../src/provider/resources/context";
import { undeclaredAccessResource as resource } from "../../../src/provider/resources/undeclared-access.resource";
import { apply, configOf, isNoOp, plan } from "./engine-rules";
import { DOMAINS, uniqueEmail, useLocalServer } from "./local-server";
import { closeContexts, providerContext } from "./provider-context";

const none = new Uint8Array();
const [APP, PROD, STAGING] = DOMAINS;

describe("postscale_undeclared_access", () => {
  const server = useLocalServer();
  afterAll(closeContexts);

  const alice = uniqueEmail("alice");
  const newbie = uniqueEmail("newbie");
  const robot = uniqueEmail("robot");
  const mallory = uniqueEmail("mallory");
  const config = (remove: boolean) =>
    configOf(resource.schema, {
      // Spelled in capitals: references compare like the server compares emails.
      declared_members: [alice.toUpperCase(), newbie],
      declared_grants: [`${alice}/${APP}`, `${newbie}/${APP}`],
      declared_keys: [`${alice}/ci`, "organization/mailer"],
      exempt: [robot],
      remove,
    });
  const fresh = () => providerContext(server().url, server().ownerKey);
  const read = async (ctx: ProviderContext, state: ObjectValue) => (await resource.read(ctx, { currentState: state, private: none })).newState!;

  let aliceId: string;
  let malloryId: string;
  let state: ObjectValue;

  beforeAll(async () => {
    const owner = server().owner;
    aliceId = (await owner.inviteMember({ email: alice, role: "member", domain_access: [{ domain: APP, access: "read_write" }] })).id;
    await owner.createApiKey({ name: "ci", owner: "member", member_id: aliceId, domains: [APP] });
    await owner.createApiKey({ name: "mailer", owner: "organization", domains: [APP] });
    const robotId = (await owner.inviteMember({ email: robot, role: "member", domain_access: [{ domain: PROD, access: "read_write" }] })).id;
    await owner.createApiKey({ name: "robot-key", owner: "member", member_id: robotId });
    // Added outside the code: a person with a grant, a grant for a declared member, and a service key.
    malloryId = (await owner.inviteMember({ email: mallory, role: "member", domain_access: [{ domain: STAGING, access: "read" }] })).id;
    await owner.setDomainAccess(aliceId, STAGING, "read");
    await owner.createApiKey({ name: "stray", owner: "organization" });
  });

  it("rejects references that are not emails, <email>/<domain> or keys", () => {
    const diagnostics = resource.validate!({
      config: configOf(resource.schema, { declared_members: ["not-an-email"], declared_grants: [`${alice}`], declared_keys: ["ci"], exempt: ["nobody"] }),
    });
    expect(diagnostics.map((d) => [d.summary, d.path])).toEqual([
      ["Invalid Access Reference", ["declared_members"]],
      ["Invalid Access Reference", ["declared_grants"]],
      ["Invalid Access Reference", ["declared_keys"]],
      ["Invalid Access Reference", ["exempt"]],
    ]);
    expect(resource.validate!({ config: config(true) })).toEqual([]);
  });

  it("on create warns about what it found and about the owner and the running key, and records without removing", async () => {
    const ctx = await fresh();
    const step = await plan(resource, ctx, null, config(true));
    expect(step.planned).toMatchObject({ members: UNKNOWN, grants: UNKNOWN, keys: UNKNOWN });
    expect(step.diagnostics.map((d) => [d.severity, d.summary])).toEqual([
      ["warning", "Undeclared Access Never Removed"],
      ["warning", "Undeclared Access Never Removed"],
      ["warning", "Undeclared Access Found"],
    ]);
    const never = step.diagnostics.filter((d) => d.summary === "Undeclared Access Never Removed").map((d) => d.detail).join("\n");
    expect(never).toContain(`member ${OWNER_EMAIL} is not declared`);
    expect(never).toContain(`API key "bootstrap" of ${OWNER_EMAIL}`);
    expect(step.diagnostics[2].detail).toContain(`member ${mallory}`);

    state = (await apply(resource, ctx, null, step.planned, config(true))).newState!;
    expect(state).toMatchObject({ members: [mallory], grants: [`${alice}/${STAGING}`, `${mallory}/${STAGING}`], keys: ["organization/stray"] });
    expect((await server().owner.listMembers()).map((m) => m.email)).toContain(mallory);
  });

  it("reports only without remove: the plan keeps the lists, nothing changes", async () => {
    const ctx = await fresh();
    const prior = { ...(await read(ctx, state)), remove: false };
    const step = await plan(resource, ctx, prior, config(false));
    expect(isNoOp(resource.schema, prior, step)).toBe(true);
  });

  it("plans the removal of what the refresh lists, and removes it at apply, keeping what is declared (even created in this apply) or exempt", async () => {
    const planPhase = await fresh();
    const prior = await read(planPhase, state);
    expect(prior).toEqual(state);
    const step = await plan(resource, planPhase, prior, config(true));
    expect(step.planned).toMatchObject({ members: [], grants: [], keys: [] });

    // The apply phase: a declared member (with a declared grant) is created by an earlier resource of the same apply.
    await server().owner.inviteMember({ email: newbie, role: "member", domain_access: [{ domain: APP, access: "read" }] });
    const applyPhase = await fresh();
    const replan = await plan(resource, applyPhase, prior, config(true));
    const { newState, diagnostics } = await apply(resource, applyPhase, prior, replan.planned, config(true));
    expect(diagnostics ?? []).toEqual([]);
    expect(newState).toMatchObject({ members: [], grants: [], keys: [] });

    const owner = server().owner;
    const members = await owner.listMembers({ includeDomainAccess: true });
    expect(members.map((m) => m.email).sort()).toEqual([OWNER_EMAIL, alice, newbie, robot].sort());
    expect(members.find((m) => m.id === malloryId)).toBeUndefined();
    expect(members.find((m) => m.id === aliceId)?.domain_access).toEqual([{ domain: APP, access: "read_write" }]);
    const keys = (await owner.listApiKeys()).map((k) => k.name).sort();
    expect(keys).toEqual(["bootstrap", "ci", "mailer", "robot-key"]);

    const after = await read(await fresh(), newState!);
    expect(after).toEqual(newState);
    expect(isNoOp(resource.schema, after, await plan(resource, await fresh(), after, config(true)))).toBe(true);
    state = after;
  });

  it("removes only what the plan showed: access added between plan and apply waits for the next plan", async () => {
    const prior = await read(await fresh(), state);
    const step = await plan(resource, await fresh(), prior, config(true));
    const late = await server().owner.createApiKey({ name: "late", owner: "organization" });
    const { newState } = await apply(resource, await fresh(), prior, step.planned, config(true));
    expect(newState).toMatchObject({ keys: [] });
    expect((await server().owner.listApiKeys()).map((k) => k.id)).toContain(late.id);
    expect((await read(await fresh(), newState!)).keys).toEqual(["organization/late"]);
  });

  it("removes nothing when destroyed", async () => {
    const before = await server().owner.listApiKeys();
    expect((await apply(resource, await fresh(), state, null, null)).newState).toBeNull();
    expect(await server().owner.listApiKeys()).toEqual(before);
  });
});
