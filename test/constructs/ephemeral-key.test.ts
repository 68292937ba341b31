import { TerraformOutput, TerraformStack } from "cdktf";
import { Domain, Duration, PostscaleProvider, Team } from "../../src";
import { ApiKey as L1ApiKey } from "../../src/constructs/generated/api-key";
import { DataPostscaleDomain } from "../../src/constructs/generated/data-postscale-domain";
import { newStack, synthFailure, synthJson } from "./helpers";

const APP = "app.example.com";

/** A member with read_write on app.example.com, and the ephemeral key under test. */
function deployKey(stack: TerraformStack, team = new Team(stack, "team")) {
  const dev = team.addMember("dev@example.com", { domains: { [APP]: "read_write" } });
  return dev.ephemeralKey("deploy", { ttl: Duration.minutes(20), domains: [Domain.fromName(stack, "app", APP)] });
}

describe("TeamMember.ephemeralKey", () => {
  it("writes an ephemeral block into the stack JSON and hands out ${ephemeral...} references", () => {
    const stack = newStack();
    const key = deployKey(stack);
    new PostscaleProvider(stack, "deploy", { alias: "deploy", apiKey: key.secret });
    const json = synthJson(stack);

    const id = "ephemeral_key_dev_at_example_com__deploy";
    expect(key.address).toBe(`ephemeral.postscale_api_key.${id}`);
    expect(key.secret).toBe(`\${ephemeral.postscale_api_key.${id}.secret}`);
    expect(json.ephemeral.postscale_api_key[id]).toEqual({
      owner: "member",
      member_id: "${postscale_team_member.member_dev_at_example_com.id}",
      domains: [APP],
      ttl: "20m",
      name_prefix: "deploy-",
      depends_on: ["postscale_domain_access.access_dev_at_example_com__app_example_com"],
    });
    expect(json.provider.postscale).toContainEqual({ alias: "deploy", api_key: key.secret });
  });

  it("an organization key on Team, with the team's provider and the defaults", () => {
    const stack = newStack();
    const other = new PostscaleProvider(stack, "other", { alias: "other" });
    const key = new Team(stack, "team", { provider: other }).ephemeralServiceKey("ci");
    expect(synthJson(stack).ephemeral.postscale_api_key[key.logicalId]).toEqual({ owner: "organization", ttl: "15m", name_prefix: "ci-", provider: "postscale.other" });
    expect(key.logicalId).toBe("ephemeral_key_organization__ci");
  });

  it("refuses a ttl outside 1m..1h, a duplicate, and a key on a domain the member cannot write", () => {
    expect(() => new Team(newStack(), "team").ephemeralServiceKey("ci", { ttl: Duration.hours(2) })).toThrow(/ttl must be between 1m and 1h, got 2h.*managed key/);
    expect(() => new Team(newStack(), "team").ephemeralServiceKey("ci", { ttl: Duration.seconds(30) })).toThrow(/between 1m and 1h, got 30s/);
    const team = new Team(newStack(), "team");
    team.ephemeralServiceKey("ci");
    expect(() => team.ephemeralServiceKey("ci")).toThrow(/declared twice/);
    expect(
      synthFailure((stack) => {
        const dev = new Team(stack, "team").addMember("dev@example.com", { domains: { [APP]: "read" } });
        dev.ephemeralKey("deploy", { domains: [APP] });
      }),
    ).toMatch(/ephemeral API key "deploy" of dev@example.com: .*\(rule key_domain_not_writable\)/);
  });

  it("fails synth, naming OpenTofu >= 1.11, when the secret would be stored: a plain attribute, a data source, an output without ephemeral, via a local", () => {
    const stored = synthFailure((stack) => {
      const key = deployKey(stack);
      new L1ApiKey(stack, "copy", { name: key.secret, owner: "organization" });
    });
    expect(stored).toMatch(/ephemeral\.postscale_api_key\.ephemeral_key_dev_at_example_com__deploy\.secret is used in resource postscale_api_key\.copy attribute name/);
    expect(stored).toMatch(/OpenTofu >= 1\.11 \(or Terraform >= 1\.10\)/);
    expect(stored).toMatch(/write-only attribute \(named \*_wo/);

    expect(synthFailure((stack) => new TerraformOutput(stack, "leak", { value: deployKey(stack).secret, sensitive: true }))).toMatch(/output leak \(add ephemeral = true\)/);
    expect(
      synthFailure((stack) => {
        const key = deployKey(stack);
        stack.addOverride("locals.token", `Bearer ${key.secret}`);
        new DataPostscaleDomain(stack, "d", { name: "${local.token}" });
      }),
    ).toMatch(/data source postscale_domain\.d/);
  });

  it("accepts the places that take ephemeral values: provider configuration, *_wo attributes, provisioners, ephemeral outputs", () => {
    expect(
      synthFailure((stack) => {
        const key = deployKey(stack);
        new PostscaleProvider(stack, "deploy", { alias: "deploy", apiKey: key.secret });
        const copy = new L1ApiKey(stack, "copy", { name: "copy", owner: "organization" });
        copy.addOverride("secret_wo", key.secret);
        copy.addOverride("provisioner", [{ "local-exec": { command: "true", environment: { KEY: key.secret } } }]);
        const out = new TerraformOutput(stack, "token", { value: key.secret, sensitive: true });
        out.addOverride("ephemeral", true);
      }),
    ).toBe("");
  });
});
