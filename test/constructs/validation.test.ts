import { Testing } from "cdktf";
import { Domain, PostscaleError, PostscaleProvider, Team, ValidationError } from "../../src";
import { newStack, synthFailure } from "./helpers";

/** The error a declaration throws at once (validate early), or fails the test. */
function thrown(build: () => unknown): PostscaleError {
  try {
    build();
  } catch (err) {
    expect(err).toBeInstanceOf(PostscaleError);
    return err as PostscaleError;
  }
  throw new Error("expected the declaration to throw");
}

describe("synth fails on what Postscale would reject", () => {
  it("a key for a domain the member can only read: names person, domain, rule and fix", () => {
    const message = synthFailure((stack) => {
      const dev = new Team(stack, "team").addMember("dev@example.com");
      Domain.fromName(stack, "stg", "staging.example.com").grantRead(dev);
      dev.apiKey("ci", { domains: ["staging.example.com"] });
    });
    expect(message).toContain(
      'API key "ci" of dev@example.com: dev@example.com has read-only access to staging.example.com; an API key can only include domains its owner can write (read_write). ' +
        "Grant dev@example.com read_write on staging.example.com, or remove staging.example.com from the key. (rule key_domain_not_writable)",
    );
  });

  it("a key for a domain the member has no access to", () => {
    const message = synthFailure((stack) => {
      const dev = new Team(stack, "team").addMember("dev@example.com", { domains: { "app.example.com": "read_write" } });
      dev.apiKey("ci", { domains: [Domain.fromName(stack, "prod", "prod.example.com")] });
    });
    expect(message).toContain("dev@example.com has no access to prod.example.com");
    expect(message).toContain("(rule key_domain_not_writable)");
  });

  it("checks keys against grants declared after them (order does not matter)", () => {
    expect(
      synthFailure((stack) => {
        const dev = new Team(stack, "team").addMember("dev@example.com");
        dev.apiKey("ci", { domains: ["app.example.com"] });
        Domain.fromName(stack, "app", "app.example.com").grantReadWrite(dev);
      }),
    ).toBe("");
  });

  it("a key without domains for a member with no read/write domain reaches nothing", () => {
    const message = synthFailure((stack) => {
      new Team(stack, "team").addMember("dev@example.com", { domains: { "app.example.com": "read" } }).apiKey("ci");
    });
    expect(message).toContain('API key "ci" of dev@example.com: dev@example.com has no read_write domains');
    expect(message).toContain("Grant dev@example.com read_write on a domain");
    expect(message).toContain("(rule no_writable_domains)");
  });

  it("an organization-wide key owned by a member", () => {
    const message = synthFailure((stack) => {
      new Team(stack, "team").addMember("dev@example.com", { domains: { "app.example.com": "read_write" } }).apiKey("all", { organizationWide: true });
    });
    expect(message).toContain('API key "all" of dev@example.com: Only owners and admins');
    expect(message).toContain('team.serviceKey("all")');
    expect(message).toContain("(rule organization_key_requires_admin)");
  });

  it("lets an admin hold an organization-wide key", () => {
    expect(synthFailure((stack) => void new Team(stack, "team").addAdmin("ops@example.com").apiKey("all", { organizationWide: true }))).toBe("");
  });

  it("domain access for an admin fails at once, naming person, domain and rule", () => {
    Testing.synthScope((scope) => {
      const ops = new Team(scope, "team").addAdmin("ops@example.com");
      const err = thrown(() => Domain.fromName(scope, "app", "app.example.com").grantReadWrite(ops));
      // The code this refusal has over HTTP (a 422), and the policy's rule.
      expect(err.code).toBe("POSTSCALE_E_VALIDATION");
      expect(err.rule).toBe("grants_only_for_members");
      expect(err.message).toBe(
        "Cannot grant read_write on app.example.com to ops@example.com: ops@example.com is an admin; domain access applies only to role member (admins already reach every domain). " +
          "Remove the grant or make them a member. (rule grants_only_for_members)",
      );
    });
  });

  it("a duplicate email, in any spelling", () => {
    Testing.synthScope((scope) => {
      const team = new Team(scope, "team");
      team.addMember("dev@example.com");
      const err = thrown(() => team.addAdmin(" DEV@example.com"));
      expect(err.code).toBe("POSTSCALE_E_CONFLICT");
      expect(err.message).toBe("dev@example.com is declared twice in team team (as member and as admin). A person has one role: keep one declaration.");
    });
  });

  it("the same person in two teams of one stack", () => {
    Testing.synthScope((scope) => {
      new Team(scope, "a").addMember("dev@example.com");
      const err = thrown(() => new Team(scope, "b").addMember("dev@example.com"));
      expect(err.message).toContain('member dev@example.com would get the logical id "member_dev_at_example_com", already used by member dev@example.com');
    });
  });

  it("an invalid email", () => {
    Testing.synthScope((scope) => {
      const err = thrown(() => new Team(scope, "team").addMember("dev.example.com"));
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.message).toBe('Team team: email must be a valid email address like "dev@example.com", got "dev.example.com". Fix the address.');
    });
  });

  it("an invalid domain name, in a lookup, a grant map or a key", () => {
    Testing.synthScope((scope) => {
      expect(thrown(() => Domain.fromName(scope, "app", "App.Example.com")).message).toBe(
        'Domain.fromName("app"): domain name must be a lower-case domain name like "mail.example.com", got "App.Example.com". Write the domain as Postscale lists it (lower case, no trailing dot).',
      );
      const team = new Team(scope, "team");
      expect(thrown(() => team.addMember("dev@example.com", { domains: { "app example": "read" } })).message).toContain(
        'grant to dev@example.com: domain name must be a lower-case domain name like "mail.example.com", got "app example"',
      );
      expect(thrown(() => team.serviceKey("mailer", { domains: ["localhost"] })).message).toContain('service key "mailer": domain name must be a lower-case domain name');
    });
  });

  it("an unknown access level and conflicting grants", () => {
    Testing.synthScope((scope) => {
      const dev = new Team(scope, "team").addMember("dev@example.com");
      expect(thrown(() => dev.grant("app.example.com", "write" as never)).message).toBe(
        'Cannot grant app.example.com to dev@example.com: access must be "read" or "read_write", got "write".',
      );
      dev.grant("app.example.com", "read");
      expect(thrown(() => dev.grant("app.example.com", "read_write")).message).toBe(
        "dev@example.com is granted both read and read_write on app.example.com. A member has one access level per domain: keep one of the two grants.",
      );
    });
  });

  it("duplicate key names, bad expiry, domains with organizationWide, empty names", () => {
    Testing.synthScope((scope) => {
      const team = new Team(scope, "team");
      const ops = team.addAdmin("ops@example.com");
      ops.apiKey("ci", { domains: ["app.example.com"] });
      expect(thrown(() => ops.apiKey("ci")).message).toBe('ops@example.com already has an API key named "ci". Key names are unique per owner: rename one.');
      team.serviceKey("mailer", { domains: ["app.example.com"] });
      expect(thrown(() => team.serviceKey("mailer")).message).toContain('already has a service key named "mailer"');
      expect(thrown(() => ops.apiKey("x", { expiresAt: "next tuesday" })).message).toBe(
        'API key "x" of ops@example.com: expiresAt must be a Date or an ISO 8601 timestamp like "2027-01-31T00:00:00Z", got "next tuesday".',
      );
      expect(thrown(() => ops.apiKey("y", { organizationWide: true, domains: ["app.example.com"] })).message).toContain(
        "asks for organizationWide and for domains [app.example.com]. Choose one",
      );
      expect(thrown(() => ops.apiKey(" ")).message).toBe('API key " " of ops@example.com: the key name must not be empty. Give the key a short name like "ci".');
    });
  });

  it("a provider endpoint that is not a URL", () => {
    Testing.synthScope((scope) => {
      expect(thrown(() => new PostscaleProvider(scope, "p", { endpoint: "127.0.0.1:4000" })).message).toBe(
        'PostscaleProvider endpoint must be an http(s) URL like "http://127.0.0.1:4000", got "127.0.0.1:4000". Fix the URL or leave it unset to use POSTSCALE_ENDPOINT.',
      );
    });
  });

  it("fails Testing.synth with validations too, with the construct path", () => {
    const stack = newStack();
    new Team(stack, "team").addMember("dev@example.com").apiKey("ci", { domains: ["app.example.com"] });
    expect(() => Testing.synth(stack, true)).toThrow(/\[test\/team\/dev@example\.com\/key-ci\] API key "ci" of dev@example\.com: dev@example\.com has no access to app\.example\.com/);
  });
});
