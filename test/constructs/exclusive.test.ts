import { TerraformStack, Testing } from "cdktf";
import { Domain, Team } from "../../src";
import { newStack, synthJson } from "./helpers";

function declare(stack: TerraformStack, props: ConstructorParameters<typeof Team>[2]): Team {
  const team = new Team(stack, "team", props);
  const app = Domain.fromName(stack, "app", "app.example.com");
  team.addAdmin("ops@example.com");
  const dev = team.addMember("Dev@Example.com", { domains: { "staging.example.com": "read" } });
  dev.apiKey("ci", { domains: [app] });
  team.serviceKey("mailer");
  // Declared after the team: the declarations are computed at synth.
  app.grantReadWrite(dev);
  return team;
}

describe("Team exclusive: the code is the whole truth", () => {
  it("emits one postscale_undeclared_access declaring every member, grant and key, applied after them", () => {
    const stack = newStack();
    declare(stack, { exclusive: true, exempt: ["robot@example.com", "organization/terraform"] });
    const json = synthJson(stack);
    expect(json.resource.postscale_undeclared_access).toEqual({
      undeclared_access: {
        declared_members: ["dev@example.com", "ops@example.com"],
        declared_grants: ["dev@example.com/app.example.com", "dev@example.com/staging.example.com"],
        declared_keys: ["dev@example.com/ci", "organization/mailer"],
        exempt: ["organization/terraform", "robot@example.com"],
        remove: true,
        depends_on: [
          "postscale_team_member.member_dev_at_example_com",
          "postscale_domain_access.access_dev_at_example_com__app_example_com",
          "postscale_domain_access.access_dev_at_example_com__staging_example_com",
          "postscale_api_key.key_dev_at_example_com__ci",
          "postscale_team_member.member_ops_at_example_com",
          "postscale_api_key.key_organization__mailer",
        ],
      },
    });
  });

  it('"report" only lists; without exclusive nothing new is emitted', () => {
    const report = newStack();
    declare(report, { exclusive: "report" });
    expect(synthJson(report).resource.postscale_undeclared_access.undeclared_access).toMatchObject({ remove: false });
    expect(synthJson(report).resource.postscale_undeclared_access.undeclared_access.exempt).toBeUndefined();

    const plain = newStack();
    declare(plain, {});
    expect(synthJson(plain).resource.postscale_undeclared_access).toBeUndefined();
  });

  it("refuses exempt without exclusive, exempt entries that name nothing, and two exclusive teams in one stack", () => {
    expect(() => new Team(newStack(), "team", { exempt: ["robot@example.com"] })).toThrow("exempt applies only to an exclusive team");
    expect(() => new Team(newStack(), "team", { exclusive: true, exempt: ["robot"] })).toThrow('exempt "robot" is neither an email nor a key');
    const stack = newStack();
    new Team(stack, "a", { exclusive: true });
    expect(() => new Team(stack, "b", { exclusive: "report" })).toThrow("each would remove the other's people");
    expect(() => Testing.synthScope((stack) => new Team(stack, "team", { exclusive: true }))).not.toThrow();
  });
});
