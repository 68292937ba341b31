import { Aspects } from "cdktf";
import { KeysMustExpire, MaxAdmins, NoOrganizationWideKeys, Team } from "../../src";
import { synthFailure } from "./helpers";

describe("organization policy aspects", () => {
  it("MaxAdmins fails synth naming the admins, and passes at the limit", () => {
    const team = (stack: Parameters<Parameters<typeof synthFailure>[0]>[0], max: number) => {
      Aspects.of(stack).add(new MaxAdmins(max));
      const t = new Team(stack, "team");
      t.addAdmin("a@example.com");
      t.addAdmin("b@example.com");
      t.addMember("c@example.com");
    };
    expect(synthFailure((stack) => team(stack, 1))).toContain(
      "[test/team] team team declares 2 admins (a@example.com, b@example.com), more than the organization policy allows (MaxAdmins 1). Make 1 of them members with domain access instead.",
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
    expect(message).toContain('service key "backend" would reach every domain of the organization, which the organization policy forbids (NoOrganizationWideKeys). Pass domains: [...] to scope it.');
    expect(message).toContain('API key "laptop" of ops@example.com (an admin) would reach every domain');
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
    expect(message).toContain('service key "forever" never expires, which the organization policy forbids (KeysMustExpire). Pass expiresAt.');
    expect(message).toContain(
      'service key "long" expires at 2027-12-01T00:00:00Z, later than the organization policy allows (KeysMustExpire maxDays 90: by 2027-03-01T00:00:00.000Z). Pass an earlier expiresAt.',
    );
    expect(message).not.toContain('"ok"');
    expect(() => new KeysMustExpire({ maxDays: 0 })).toThrow("KeysMustExpire: maxDays must be > 0, got 0.");
  });
});
