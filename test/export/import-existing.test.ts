import { App, TerraformStack, Testing } from "cdktf";
import { PostscaleProvider, Team, importExisting } from "../../src";
import { newStack, synthJson } from "../constructs/helpers";

function team(stack: TerraformStack, provider?: PostscaleProvider): Team {
  const t = new Team(stack, "team", { provider });
  t.addAdmin("ops@example.com").apiKey("deploy");
  const dev = t.addMember("dev@example.com", { domains: { "app.example.com": "read_write", "staging.example.com": "read" } });
  dev.apiKey("ci", { domains: ["app.example.com"] });
  t.serviceKey("mailer");
  return t;
}

describe("importExisting", () => {
  test("writes one import block per declared member, grant and key it lists, sorted by address", () => {
    const stack = newStack();
    const t = team(stack);
    importExisting(t, {
      members: ["Dev@Example.com", "ops@example.com", "gone@example.com"],
      grants: ["dev@example.com/app.example.com", "gone@example.com/app.example.com"],
      keys: { "dev@example.com/ci": "key_1", "organization/mailer": "key_2", "ops@example.com/other": "key_3" },
    });
    expect(synthJson(stack).import).toEqual([
      { id: "key_1", to: "postscale_api_key.key_dev_at_example_com__ci" },
      { id: "key_2", to: "postscale_api_key.key_organization__mailer" },
      { id: "dev@example.com/app.example.com", to: "postscale_domain_access.access_dev_at_example_com__app_example_com" },
      { id: "dev@example.com", to: "postscale_team_member.member_dev_at_example_com" },
      { id: "ops@example.com", to: "postscale_team_member.member_ops_at_example_com" },
    ]);
  });

  test("sees what is declared after the call", () => {
    const stack = newStack();
    const t = new Team(stack, "team");
    importExisting(t, { members: ["late@example.com"] });
    t.addAdmin("late@example.com");
    expect(synthJson(stack).import).toEqual([{ id: "late@example.com", to: "postscale_team_member.member_late_at_example_com" }]);
  });

  test("names the team's provider when it is not the default", () => {
    const stack = new TerraformStack(Testing.app(), "test");
    const provider = new PostscaleProvider(stack, "other", { alias: "other" });
    const t = team(stack, provider);
    importExisting(t, { members: ["ops@example.com"] });
    expect(synthJson(stack).import).toEqual([{ id: "ops@example.com", provider: "postscale.other", to: "postscale_team_member.member_ops_at_example_com" }]);
  });

  test("leaves the synth output unchanged without it, and with nothing to import", () => {
    const plain = newStack(new App({ outdir: Testing.app().outdir }));
    team(plain);
    const withEmpty = newStack(new App({ outdir: Testing.app().outdir }));
    importExisting(team(withEmpty), { members: ["nobody@example.com"] });
    const a = synthJson(plain);
    const b = synthJson(withEmpty);
    expect(b).toEqual(a);
    expect(a.import).toBeUndefined();
  });

  test("renders import blocks in HCL synth too", () => {
    const app = Testing.app({ hclOutput: true } as never);
    const stack = newStack(app);
    importExisting(team(stack), { members: ["ops@example.com"] });
    const hcl = Testing.synthHcl(stack);
    expect(hcl).toContain("import {");
    expect(hcl).toContain("postscale_team_member.member_ops_at_example_com");
  });
});
