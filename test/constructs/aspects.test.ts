import { Aspects } from "cdktf";
import { KeysMustExpire, MaxAdmins, NoOrganizationWideKeys, Team } from "../../src";
import { synthFailure } from "./helpers";

describe("organization policy aspects, as rules of the invariant engine", () => {
  it("MaxAdmins fails synth naming the admins, and passes at the limit", () => {
    const team = (stack: Parameters<Parameters<typeof synthFailure>[0]>[0], max: number) => {
      Aspects.of(stack).add(new MaxAdmins(max));
      const t = new Team(stack, "team");
      t.addAdmin("a@example.com");
      t.addAdmin("b@example.com");
      t.addMember("c@example.com");
    };
    expect(synthFailure((stack) => team(stack, 1))).toContain(
      '[test/team] access rule "MaxAdmins": 2 admins (a@example.com, b@example.com), more than 1 (the organization policy allows at most 1 admin per team). Make 1 of them members with domain access instead, or remove one.',
    );
    expect(synthFailure((stack) => team(stack, 2))).toBe("");
    expect(() => new MaxAdmins(-1)).toThrow("MaxAdmins: max must be a whole number >= 0, got -1.");
  });

  it("NoOrganizationWideKeys flags service keys and admin keys without domains, not scoped ones", () => {
    const message = synthFailure((stack) => {
      Aspects.of(stack).add(new NoOrganizationWideKeys());
      const team = new Team(stack, "team");
      team.serviceKey("backend");
      team.serviceKey("mailer", { domains: ["app.example.com"] });
      const ops = team.addAdmin("ops@example.com");
      ops.apiKey("laptop");
      ops.apiKey("ci", { domains: ["app.example.com"] });
      team.addMember("dev@example.com", { domains: { "app.example.com": "read_write" } }).apiKey("auto");
    });
    expect(message).toContain(
      '[test/team/service-key-backend] access rule "NoOrganizationWideKeys": organization key "backend" reaches every domain of the organization (the organization policy forbids keys that reach every domain). Name the domains it needs (domains = [...]; domains: [...] in the constructs).',
    );
    expect(message).toContain('[test/team/ops@example.com/key-laptop] access rule "NoOrganizationWideKeys": API key "laptop" of ops@example.com reaches every domain');
    expect(message).not.toContain("mailer");
    expect(message).not.toContain('"ci"');
    expect(message).not.toContain('"auto"');
  });

  it("KeysMustExpire requires an expiry, within maxDays of now", () => {
    const now = new Date("2026-12-01T00:00:00Z");
    const message = synthFailure((stack) => {
      Aspects.of(stack).add(new KeysMustExpire({ maxDays: 90, now }));
      const team = new Team(stack, "team");
      team.serviceKey("forever", { domains: ["app.example.com"] });
      team.serviceKey("long", { domains: ["app.example.com"], expiresAt: "2027-12-01T00:00:00Z" });
      team.serviceKey("ok", { domains: ["app.example.com"], expiresAt: new Date("2027-01-15T00:00:00Z") });
    });
    expect(message).toContain(
      '[test/team/service-key-forever] access rule "KeysMustExpire": organization key "forever" never expires (the organization policy requires keys to expire within 90 days). Give it an expiry no later than 2027-03-01T00:00:00Z',
    );
    expect(message).toContain(
      '[test/team/service-key-long] access rule "KeysMustExpire": organization key "long" expires at 2027-12-01T00:00:00Z, 365 days from now, later than 90d (the organization policy requires keys to expire within 90 days). Give it an earlier expiry, no later than 2027-03-01T00:00:00Z',
    );
    expect(message).not.toContain('"ok"');
    expect(() => new KeysMustExpire({ maxDays: 0 })).toThrow("KeysMustExpire: maxDays must be > 0, got 0.");
  });
});
