import { AccessSnapshot, InvariantRule, PersonAccess, checkInvariants, formatViolation, matchesPattern, parseRuleSet, ruleSetJson, ruleSetProblems } from "../../src/policy";

/**
 * The invariant engine on hand-made snapshots. Expected values are written
 * out literally here, not computed from the engine's own vocabulary.
 */
const NOW = new Date("2026-07-01T00:00:00Z");

const org = (overrides: Partial<AccessSnapshot> = {}): AccessSnapshot => ({
  domains: ["app.example.com", "prod.example.com"],
  people: [
    { email: "owner@example.com", role: "owner", status: "active", grants: {} },
    { email: "ada@example.com", role: "admin", status: "active", grants: {} },
    { email: "platform@example.com", role: "member", status: "active", grants: { "prod.example.com": "read_write", "app.example.com": "read_write" } },
    { email: "dev@example.com", role: "member", status: "invited", grants: { "app.example.com": "read_write", "prod.example.com": "read" } },
  ],
  keys: [
    { name: "ci", holder: "dev@example.com", reach: { kind: "domains", domains: ["app.example.com"] }, expiresAt: "2026-08-01T00:00:00Z" },
    { name: "deploy", holder: null, reach: { kind: "domains", domains: ["prod.example.com"] }, expiresAt: "2026-09-01T00:00:00Z" },
  ],
  ...overrides,
});

const check = (snapshot: AccessSnapshot, ...rules: InvariantRule[]) => checkInvariants(snapshot, rules, { now: NOW });
const brief = (snapshot: AccessSnapshot, ...rules: InvariantRule[]) => check(snapshot, ...rules).map((v) => [v.rule, v.person ?? v.people?.join(" ") ?? "", v.domain ?? "", v.key ?? ""]);

describe("never", () => {
  const contractors: InvariantRule = { name: "contractors never write", kind: "never", people: ["*@contractors.example.com"], access: "read_write", message: "Contractors never get read_write." };

  test("a contractor with read_write breaks it; with read, or nobody matching, it holds", () => {
    expect(check(org(), contractors)).toEqual([]);
    const withReader = org({ people: [...org().people, { email: "lee@contractors.example.com", role: "member", status: "active", grants: { "app.example.com": "read" } }] });
    expect(check(withReader, contractors)).toEqual([]);
    const withWriter = org({ people: [...org().people, { email: "Lee@Contractors.example.com", role: "member", grants: { "app.example.com": "read_write", "prod.example.com": "read" } }] });
    expect(check(withWriter, contractors)).toEqual([
      {
        rule: "contractors never write",
        kind: "never",
        message: "Contractors never get read_write.",
        person: "Lee@Contractors.example.com",
        domain: "app.example.com",
        detail: "Lee@Contractors.example.com has read_write on app.example.com",
        fix: "Remove Lee@Contractors.example.com's grant on app.example.com, or make it read.",
      },
    ]);
  });

  test("a contractor who is an admin writes every domain", () => {
    const admin = org({ people: [{ email: "sam@contractors.example.com", role: "admin", grants: {} }] });
    expect(check(admin, contractors).map(formatViolation)).toEqual([
      'access rule "contractors never write": sam@contractors.example.com is an admin: read_write on every domain (Contractors never get read_write.). Make sam@contractors.example.com a member (role member) with only the domain access this rule allows, or remove them.',
    ]);
  });

  test("nobody but platform writes prod: admins, the owner and other writers break it, except listed people", () => {
    const prod: InvariantRule = { name: "prod writers", kind: "never", domains: ["prod.example.com"], access: "read_write", except: ["platform@example.com"] };
    expect(brief(org(), prod)).toEqual([
      ["prod writers", "ada@example.com", "prod.example.com", ""],
      ["prod writers", "owner@example.com", "prod.example.com", ""],
    ]);
    const managersExcepted: InvariantRule = { ...prod, except: ["platform@example.com", "ada@example.com", "owner@*"] };
    expect(check(org(), managersExcepted)).toEqual([]);
    const widened = org({ people: [...org().people.slice(1, 3), { email: "dev@example.com", role: "member", grants: { "prod.example.com": "read_write" } }] });
    expect(brief(widened, { ...prod, except: ["platform@example.com", "ada@example.com"] })).toEqual([["prod writers", "dev@example.com", "prod.example.com", ""]]);
  });

  test("access any forbids read too; domain patterns match; an expired invitation gives nothing", () => {
    const rule: InvariantRule = { name: "no contractors on prod", kind: "never", people: ["*@contractors.example.com"], domains: ["prod.*"], access: "any" };
    const people: PersonAccess[] = [
      { email: "lee@contractors.example.com", role: "member", grants: { "prod.example.com": "read", "app.example.com": "read_write" } },
      { email: "old@contractors.example.com", role: "member", status: "expired", grants: { "prod.example.com": "read_write" } },
    ];
    expect(check(org({ people }), rule).map((v) => v.detail)).toEqual(["lee@contractors.example.com has read on prod.example.com"]);
    expect(check(org({ people }), rule)[0].fix).toBe("Remove lee@contractors.example.com's grant on prod.example.com.");
  });
});

describe("at_most", () => {
  test("at most 1 admin: two break it, naming both; the owner is not an admin", () => {
    const rule: InvariantRule = { name: "few admins", kind: "at_most", role: "admin", max: 1 };
    expect(check(org(), rule)).toEqual([]);
    const two = org({ people: [...org().people, { email: "bo@example.com", role: "admin", status: "invited", grants: {} }] });
    expect(check(two, rule)).toEqual([
      {
        rule: "few admins",
        kind: "at_most",
        message: "at most 1 admin",
        people: ["ada@example.com", "bo@example.com"],
        detail: "2 admins (ada@example.com, bo@example.com), more than 1",
        fix: "Make 1 of them members with domain access instead, or remove one.",
      },
    ]);
  });

  test("people of another role: at most 1 member", () => {
    expect(brief(org(), { name: "small team", kind: "at_most", role: "member", max: 1 })).toEqual([["small team", "dev@example.com platform@example.com", "", ""]]);
    expect(check(org(), { name: "small team", kind: "at_most", role: "member", max: 2 })).toEqual([]);
  });
});

describe("keys_expire", () => {
  test("keys within the limit hold; one without expiry and one too late break it", () => {
    const rule: InvariantRule = { name: "short keys", kind: "keys_expire", within: "90d" };
    expect(check(org(), rule)).toEqual([]);
    const keys = org({
      keys: [
        { name: "forever", holder: null, reach: { kind: "organization" }, expiresAt: null },
        { name: "long", holder: "dev@example.com", reach: { kind: "domains", domains: ["app.example.com"] }, expiresAt: "2027-07-01T00:00:00Z" },
        { name: "later", holder: "dev@example.com", reach: { kind: "unknown" } },
      ],
    });
    expect(check(keys, rule)).toEqual([
      {
        rule: "short keys", kind: "keys_expire", message: "every API key expires within 90d", person: "dev@example.com", key: "dev@example.com/long",
        detail: 'API key "long" of dev@example.com expires at 2027-07-01T00:00:00Z, 365 days from now, later than 90d',
        fix: "Give it an earlier expiry, no later than 2026-09-29T00:00:00Z (expires_at; expiresAt in the constructs).",
      },
      {
        rule: "short keys", kind: "keys_expire", message: "every API key expires within 90d", key: "organization/forever",
        detail: 'organization key "forever" never expires',
        fix: "Give it an expiry no later than 2026-09-29T00:00:00Z (expires_at; expiresAt in the constructs).",
      },
    ]);
    expect(brief(keys, { name: "any expiry", kind: "keys_expire", except: ["organization/forever"] })).toEqual([]);
    expect(brief(keys, { name: "any expiry", kind: "keys_expire" })).toEqual([["any expiry", "", "", "organization/forever"]]);
  });
});

describe("every_domain_has_writer", () => {
  test("a domain only admins or readers reach breaks it", () => {
    const rule: InvariantRule = { name: "owned domains", kind: "every_domain_has_writer" };
    expect(check(org(), rule)).toEqual([]);
    const shop = org({ domains: ["app.example.com", "prod.example.com", "shop.example.com"], people: [...org().people, { email: "r@example.com", role: "member", grants: { "shop.example.com": "read" } }] });
    expect(check(shop, rule)).toEqual([
      { rule: "owned domains", kind: "every_domain_has_writer", message: "every domain has a member with read_write", domain: "shop.example.com", detail: "no member has read_write on shop.example.com", fix: "Grant read_write on shop.example.com to the member who answers for it." },
    ]);
    expect(check(shop, { ...rule, domains: ["app.*", "prod.*"] })).toEqual([]);
  });
});

describe("no_organization_wide_keys", () => {
  test("an organization-wide key breaks it; scoped keys and excepted ones hold", () => {
    const rule: InvariantRule = { name: "scoped keys", kind: "no_organization_wide_keys" };
    expect(check(org(), rule)).toEqual([]);
    const wide = org({ keys: [...org().keys, { name: "laptop", holder: "ada@example.com", reach: { kind: "organization" }, expiresAt: null }] });
    expect(brief(wide, rule)).toEqual([["scoped keys", "ada@example.com", "", "ada@example.com/laptop"]]);
    expect(check(wide, rule)[0].detail).toBe('API key "laptop" of ada@example.com reaches every domain of the organization');
    expect(check(wide, { ...rule, except: ["ada@example.com/laptop"] })).toEqual([]);
  });
});

test("violations come rule by rule, in the order the rules are given", () => {
  const snapshot = org({ keys: [{ name: "wide", holder: null, reach: { kind: "organization" }, expiresAt: null }] });
  const rules: InvariantRule[] = [
    { name: "B", kind: "no_organization_wide_keys" },
    { name: "A", kind: "keys_expire" },
  ];
  expect(check(snapshot, ...rules).map((v) => v.rule)).toEqual(["B", "A"]);
});

test("patterns: * is any run of characters, case does not matter, dots are literal", () => {
  expect(matchesPattern("*@contractors.example.com", "x@CONTRACTORS.example.com")).toBe(true);
  expect(matchesPattern("*@contractors.example.com", "x@contractorsXexample.com")).toBe(false);
  expect(matchesPattern("owner@*", "owner@example.com")).toBe(true);
  expect(matchesPattern("app.example.com", "shop.app.example.com")).toBe(false);
});

describe("the rules file", () => {
  const rules: InvariantRule[] = [
    { kind: "never", access: "read_write", people: ["*@contractors.example.com"], name: "contractors" },
    { name: "admins", kind: "at_most", role: "admin", max: 3, message: "Few admins." },
    { name: "expiry", kind: "keys_expire", within: "90d" },
  ];

  test("written with version 1 and a stable field order, read back the same", () => {
    const text = ruleSetJson(rules);
    expect(JSON.parse(text)).toEqual({
      version: 1,
      rules: [
        { name: "contractors", kind: "never", people: ["*@contractors.example.com"], access: "read_write" },
        { name: "admins", kind: "at_most", role: "admin", max: 3, message: "Few admins." },
        { name: "expiry", kind: "keys_expire", within: "90d" },
      ],
    });
    expect(Object.keys(JSON.parse(text).rules[0])).toEqual(["name", "kind", "people", "access"]);
    expect(parseRuleSet(text)).toEqual({ ruleSet: JSON.parse(text) });
  });

  test("every problem names its field", () => {
    expect(parseRuleSet("{")).toEqual({ problems: [{ path: "", message: expect.stringMatching(/^is not JSON: /) }] });
    expect(ruleSetProblems({ version: 2, rules: {} })).toEqual([
      { path: "/version", message: "must be 1, got 2" },
      { path: "/rules", message: "must be an array of rules, got {}" },
    ]);
    expect(
      ruleSetProblems({
        version: 1,
        rules: [
          { name: "a", kind: "never", access: "write", people: [] },
          { name: "a", kind: "at_most", role: "admins", max: -1 },
          { name: "", kind: "keys_expire", within: "90 days", domains: ["x"] },
          { name: "d", kind: "sometimes" },
          { name: "e", kind: "never", access: "any", except: ["not an email"] },
        ],
      }),
    ).toEqual([
      { path: "/rules/0/people", message: "must be a non-empty array of email patterns like *@contractors.example.com, got []" },
      { path: "/rules/0/access", message: 'must be one of read_write, any, got "write"' },
      { path: "/rules/1/role", message: 'must be one of owner, admin, member, got "admins"' },
      { path: "/rules/1/max", message: "must be a whole number >= 0, got -1" },
      { path: "/rules/1/name", message: '"a" is already the name of /rules/0; rule names are unique' },
      { path: "/rules/2/name", message: 'must be a non-empty string, got ""' },
      { path: "/rules/2/domains", message: "is not a field of a keys_expire rule (its fields: within, except)" },
      { path: "/rules/2/within", message: 'must be a duration such as "90d", "12h", "15m" or "1h30m" (whole numbers with d, h, m or s), got "90 days"' },
      { path: "/rules/3/kind", message: 'must be one of never, at_most, keys_expire, every_domain_has_writer, no_organization_wide_keys, got "sometimes"' },
      { path: "/rules/4/except/0", message: 'must be an email or an email pattern, got "not an email"' },
    ]);
  });
});
