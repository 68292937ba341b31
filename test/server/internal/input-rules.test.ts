/**
 * The one-place input rules behind issue 9 rule 6 and rule 10, as units:
 * what counts as text, a real date-time, a time zone; bad percent-encoding
 * taken literally; 404 bodies that name a kind, never an id.
 */
import { fromViolation, literalPercents, notFound } from "../../../src/server/problem";
import { MemoryWindows, RateLimiter } from "../../../src/server/rate-limit";
import { isTimeZone, isValidDateTime, textErrors, textProblem } from "../../../src/server/schemas";

describe("textProblem", () => {
  it.each(["plain", "Zoë & Søren", "emoji 😀 pair", "tab-free", "ümlaut", "\u00a0no-break"])("accepts %j", (s) => {
    expect(textProblem(s)).toBeUndefined();
  });

  it.each([
    ["NUL", "a\u0000b"],
    ["tab", "a\tb"],
    ["newline", "a\nb"],
    ["escape", "\u001b[31m"],
    ["DEL", "a\u007f"],
    ["C1 NEL", "a\u0085"],
    ["lone high surrogate", "a\ud800"],
    ["lone high surrogate at the end of a pair's place", "\ud83d"],
    ["lone low surrogate", "\ude00x"],
    ["reversed pair", "\ude00\ud83d"],
  ])("refuses %s", (_label, s) => {
    expect(textProblem(s)).toEqual(expect.any(String));
  });

  it("finds every bad string in a body, keys included, with JSON pointers", () => {
    expect(textErrors({ a: ["ok", "x\u0000"], "b/c": { "d\u0001": 1 }, e: "\ud800" }).map((e) => e.path).sort()).toEqual(["/a/1", "/b~1c/d\u0001", "/e"]);
  });

  it("walks deeply nested bodies without overflowing the stack", () => {
    let deep: unknown = "bad\u0000";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(textErrors(deep)).toHaveLength(1);
  });
});

describe("isValidDateTime", () => {
  it.each(["2099-01-31T00:00:00Z", "2096-02-29T23:59:59Z", "2000-02-29T00:00:00+14:00", "2099-12-31T23:59:59.123456789-12:00", "2099-06-30t10:00:00z"])("accepts %s", (s) => {
    expect(isValidDateTime(s)).toBe(true);
  });

  it.each([
    "2099-02-30T00:00:00Z",
    "2099-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2099-04-31T00:00:00Z",
    "2099-13-01T00:00:00Z",
    "2099-00-10T00:00:00Z",
    "2099-01-00T00:00:00Z",
    "2099-01-01T24:00:00Z",
    "2099-01-01T23:60:00Z",
    "2099-01-01T23:59:60Z",
    "2099-01-01T00:00:00+24:00",
    "0000-01-01T00:00:00Z",
    "2099-01-01",
    "2099-01-01T00:00:00",
    "tomorrow",
  ])("refuses %s", (s) => {
    expect(isValidDateTime(s)).toBe(false);
  });
});

describe("isTimeZone", () => {
  it.each(["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "US/Eastern", "Etc/GMT+5"])("accepts %s", (tz) => {
    expect(isTimeZone(tz)).toBe(true);
  });

  it.each(["Mars/Olympus", "+01:00", "", "Europe/Berlin\u0000", "../etc/passwd", "Europe//Berlin", "x".repeat(300)])("refuses %j", (tz) => {
    expect(isTimeZone(tz)).toBe(false);
  });
});

describe("literalPercents", () => {
  it.each([
    ["/v1/domains/%zz", "/v1/domains/%25zz"],
    ["/v1/api-keys/%E0%A4%A?cursor=%zz", "/v1/api-keys/%25E0%25A4%25A?cursor=%zz"],
    ["/v1/team/members/mem_1%00", "/v1/team/members/mem_1%00"],
    ["/v1/domains/app.example.com", "/v1/domains/app.example.com"],
  ])("%s → %s", (input, output) => {
    expect(literalPercents({ url: input })).toBe(output);
  });
});

describe("404 bodies name a kind, never which one", () => {
  it.each([
    ['Member "mem_1"', "Member was not found."],
    ['Alias "als_x"', "Alias was not found."],
    ['Inbound rule "irl_1"', "Inbound rule was not found."],
    ['Domain access of a@example.com to "app.example.com"', "Domain access was not found."],
    ["API key", "API key was not found."],
  ])("%s", (what, detail) => {
    expect(notFound(what).toProblem().detail).toBe(detail);
  });

  it("a policy's 404 for a hidden object is the same body as the absent one's, without its rule", () => {
    const hidden = fromViolation({ allowed: false, status: 404, rule: "domain_not_visible", message: 'Domain "secret.example.com" was not found.' });
    expect(hidden.toProblem()).toEqual(notFound("Domain").toProblem());
    const key = fromViolation({ allowed: false, status: 404, rule: "key_not_visible", message: "API key not found." });
    expect(key.toProblem()).toEqual(notFound("API key").toProblem());
  });
});

describe("RateLimiter.wait", () => {
  it("tells the wait without counting", async () => {
    let now = 0;
    const limiter = new RateLimiter(2, 10_000, new MemoryWindows(() => now));
    expect(await limiter.wait("k")).toBe(0);
    await limiter.hit("k");
    await limiter.hit("k");
    expect(await limiter.wait("k")).toBe(10);
    expect(await limiter.wait("k")).toBe(10);
    now = 10_000;
    expect(await limiter.wait("k")).toBe(0);
  });
});
