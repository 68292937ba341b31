import { domainProblem, emailProblem, nameProblem, normalizeDomain, normalizeEmail } from "../../src/policy";

describe("names", () => {
  it.each(["dev@example.com", "a.b+tag@mail.example.co.uk", "x_y@sub.example.io"])("accepts email %s", (e) => {
    expect(emailProblem(e)).toBeUndefined();
  });
  it.each([["", /empty/], ["dev", /valid email/], ["dev@localhost", /valid email/], ["a b@example.com", /valid email/], [`${"a".repeat(250)}@example.com`, /at most 254/], [42, /string/]] as const)(
    "rejects email %p",
    (e, why) => {
      expect(emailProblem(e)).toMatch(why);
    },
  );
  it.each(["example.com", "mail.example.com", "a-b.example.io"])("accepts domain %s", (d) => {
    expect(domainProblem(d)).toBeUndefined();
  });
  it("rejects an empty domain", () => {
    expect(domainProblem("")).toBe("must not be empty");
  });
  it.each(["example", "Example.com", "-bad.example.com", "bad-.example.com", "exa mple.com", "example.123", `${"a".repeat(64)}.com`])("rejects domain %p", (d) => {
    expect(domainProblem(d)).toBe(`must be a lower-case domain name like "mail.example.com", got "${d}"`);
  });
  it("normalizes case and trailing dots", () => {
    expect(normalizeEmail(" Dev@Example.COM ")).toBe("dev@example.com");
    expect(normalizeDomain("App.Example.com.")).toBe("app.example.com");
  });
  it("limits names", () => {
    expect(nameProblem("ci")).toBeUndefined();
    expect(nameProblem("   ")).toMatch(/empty/);
    expect(nameProblem("x".repeat(101))).toMatch(/at most 100/);
  });
});
