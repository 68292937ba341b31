import "cdktf/lib/testing/adapters/jest";
import { TerraformOutput, TerraformStack, Testing } from "cdktf";
import { Domain, PostscaleProvider, Team, l1, policy } from "../../src";

Testing.setupJest();

/** The fixed contract from issue 5, verbatim. */
function contract(stack: TerraformStack) {
  new PostscaleProvider(stack, "postscale");
  const team = new Team(stack, "team");
  const app = Domain.fromName(stack, "app", "app.example.com");
  const ops = team.addAdmin("ops@example.com");
  const dev = team.addMember("dev@example.com");
  app.grantReadWrite(dev);
  Domain.fromName(stack, "stg", "staging.example.com").grantRead(dev);
  const ci = dev.apiKey("ci", { domains: [app] });
  const mailer = team.serviceKey("mailer", { domains: [app] });
  new TerraformOutput(stack, "ci", { value: ci.secret, sensitive: true });
  return { team, app, ops, dev, ci, mailer };
}

describe("the package root contract", () => {
  const synthesized = Testing.synthScope((stack) => {
    contract(stack as TerraformStack);
  });

  it("declares the provider by its source address", () => {
    expect(JSON.parse(synthesized).terraform.required_providers.postscale.source).toBe("postscale/postscale");
  });

  it("invites members with their role", () => {
    expect(synthesized).toHaveResourceWithProperties(l1.teamMember.TeamMember, { email: "ops@example.com", role: "admin" });
    expect(synthesized).toHaveResourceWithProperties(l1.teamMember.TeamMember, { email: "dev@example.com", role: "member" });
  });

  it("looks domains up by name", () => {
    expect(synthesized).toHaveDataSourceWithProperties(l1.dataPostscaleDomain.DataPostscaleDomain, { name: "app.example.com" });
    expect(synthesized).toHaveDataSourceWithProperties(l1.dataPostscaleDomain.DataPostscaleDomain, { name: "staging.example.com" });
  });

  it("grants domain access to the member by id", () => {
    expect(synthesized).toHaveResourceWithProperties(l1.domainAccess.DomainAccess, {
      member_id: "${postscale_team_member.member_dev_at_example_com.id}",
      domain: "app.example.com",
      access: "read_write",
    });
    expect(synthesized).toHaveResourceWithProperties(l1.domainAccess.DomainAccess, { domain: "staging.example.com", access: "read" });
  });

  it("creates a member-owned key after the member's grants and an organization-owned key", () => {
    const keys = JSON.parse(synthesized).resource.postscale_api_key;
    expect(keys.key_dev_at_example_com__ci).toEqual({
      name: "ci",
      owner: "member",
      member_id: "${postscale_team_member.member_dev_at_example_com.id}",
      domains: ["app.example.com"],
      depends_on: [
        "postscale_domain_access.access_dev_at_example_com__app_example_com",
        "postscale_domain_access.access_dev_at_example_com__staging_example_com",
      ],
    });
    expect(keys.key_organization__mailer).toEqual({ name: "mailer", owner: "organization", domains: ["app.example.com"] });
  });

  it("outputs the key secret as sensitive", () => {
    expect(JSON.parse(synthesized).output.ci).toEqual({ value: "${postscale_api_key.key_dev_at_example_com__ci.secret}", sensitive: true });
  });

  it("exports the policy namespace", () => {
    expect(policy.checkGrantTarget({ email: "a@b.co", role: "member" }).allowed).toBe(true);
  });
});

describe("TeamMember", () => {
  it("exposes email (lower-cased), role, id token and declared grants", () => {
    Testing.synthScope((stack) => {
      const team = new Team(stack, "team");
      const dev = team.addMember("Dev@Example.com", { domains: { "app.example.com": "read_write", "staging.example.com": "read" } });
      expect(dev.email).toBe("dev@example.com");
      expect(dev.role).toBe("member");
      expect(dev.id).toMatch(/^\$\{TfToken\[/);
      expect(JSON.stringify(TerraformStack.of(stack).toTerraform())).toContain("${postscale_team_member.member_dev_at_example_com.id}");
      expect(dev.grants).toEqual({ "app.example.com": "read_write", "staging.example.com": "read" });
      expect(team.member("DEV@example.com")).toBe(dev);
    });
  });

  it("accepts grants as a list of {domain, access} with Domain objects or names", () => {
    const out = Testing.synthScope((stack) => {
      const prod = Domain.fromName(stack, "prod", "prod.example.com");
      new Team(stack, "team").addMember("dev@example.com", {
        domains: [
          { domain: prod, access: "read" },
          { domain: "app.example.com", access: "read_write" },
        ],
      });
    });
    expect(out).toHaveResourceWithProperties(l1.domainAccess.DomainAccess, { domain: "prod.example.com", access: "read" });
    expect(out).toHaveResourceWithProperties(l1.domainAccess.DomainAccess, { domain: "app.example.com", access: "read_write" });
    // A domain named by string is still looked up, so a plan fails early when it does not exist.
    expect(out).toHaveDataSourceWithProperties(l1.dataPostscaleDomain.DataPostscaleDomain, { name: "app.example.com" });
  });

  it("returns the same grant for a repeated identical grant and one lookup per domain name", () => {
    Testing.synthScope((stack) => {
      const dev = new Team(stack, "team").addMember("dev@example.com");
      const a = Domain.fromName(stack, "a", "app.example.com");
      expect(Domain.fromName(stack, "again", "app.example.com")).toBe(a);
      expect(a.grantRead(dev)).toBe(a.grantRead(dev));
    });
  });

  it("leaves a key without domains unscoped so Postscale auto-scopes it to the member's read/write domains", () => {
    const out = JSON.parse(
      Testing.synthScope((stack) => {
        const dev = new Team(stack, "team").addMember("dev@example.com", { domains: { "app.example.com": "read_write" } });
        dev.apiKey("deploy", { expiresAt: "2027-01-31" });
      }),
    );
    const key = out.resource.postscale_api_key.key_dev_at_example_com__deploy;
    expect(key.domains).toBeUndefined();
    expect(key.expires_at).toBe("2027-01-31T00:00:00Z");
    expect(key.depends_on).toEqual(["postscale_domain_access.access_dev_at_example_com__app_example_com"]);
  });

  it("an organization-wide service key has no domains", () => {
    const out = Testing.synthScope((stack) => {
      new Team(stack, "team").serviceKey("backend");
    });
    expect(JSON.parse(out).resource.postscale_api_key.key_organization__backend).toEqual({ name: "backend", owner: "organization" });
  });
});

describe("PostscaleProvider", () => {
  it("passes endpoint and apiKey, and leaves them to the environment otherwise", () => {
    const out = JSON.parse(
      Testing.synthScope((stack) => {
        new PostscaleProvider(stack, "explicit", { endpoint: "http://127.0.0.1:4000", apiKey: "ps_test", alias: "other" });
        new PostscaleProvider(stack, "env");
      }),
    );
    expect(out.provider.postscale).toEqual([{ alias: "other", api_key: "ps_test", endpoint: "http://127.0.0.1:4000" }, {}]);
  });

  it("routes a team's resources through its provider", () => {
    const out = JSON.parse(
      Testing.synthScope((stack) => {
        const other = new PostscaleProvider(stack, "other", { alias: "other" });
        new Team(stack, "team", { provider: other }).addAdmin("ops@example.com");
      }),
    );
    expect(out.resource.postscale_team_member.member_ops_at_example_com.provider).toBe("postscale.other");
  });
});

describe("logical ids", () => {
  function declare(stack: TerraformStack, order: "forward" | "reverse") {
    new PostscaleProvider(stack, "postscale");
    const team = new Team(stack, "team");
    const steps = [
      () => team.addAdmin("ops@example.com"),
      () => team.addMember("dev@example.com", { domains: { "app.example.com": "read_write", "staging.example.com": "read" } }).apiKey("ci"),
      () => team.addMember("qa@example.com", { domains: [{ domain: "staging.example.com", access: "read_write" }] }),
      () => team.serviceKey("mailer", { domains: ["app.example.com"] }),
    ];
    (order === "forward" ? steps : [...steps].reverse()).forEach((step) => step());
  }

  it("derive from emails, domains and key names", () => {
    const out = JSON.parse(Testing.synthScope((stack) => declare(stack as TerraformStack, "forward")));
    expect(Object.keys(out.resource.postscale_team_member)).toEqual(["member_dev_at_example_com", "member_ops_at_example_com", "member_qa_at_example_com"]);
    expect(Object.keys(out.resource.postscale_domain_access).sort()).toEqual([
      "access_dev_at_example_com__app_example_com",
      "access_dev_at_example_com__staging_example_com",
      "access_qa_at_example_com__staging_example_com",
    ]);
    expect(Object.keys(out.resource.postscale_api_key).sort()).toEqual(["key_dev_at_example_com__ci", "key_organization__mailer"]);
  });

  it("do not change when the code is reordered: identical synth output", () => {
    const forward = Testing.synthScope((stack) => declare(stack as TerraformStack, "forward"));
    const reverse = Testing.synthScope((stack) => declare(stack as TerraformStack, "reverse"));
    expect(reverse).toBe(forward);
  });

  it("do not depend on the construct ids of the team or the domain lookups", () => {
    const a = Testing.synthScope((stack) => {
      new Team(stack, "team").addMember("dev@example.com").grant(Domain.fromName(stack, "app", "app.example.com"), "read");
    });
    const b = Testing.synthScope((stack) => {
      new Team(stack, "people").addMember("dev@example.com").grant(Domain.fromName(stack, "application", "app.example.com"), "read");
    });
    expect(b).toBe(a);
  });
});
