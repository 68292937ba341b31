import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { register } from "../../src/cli/check.command";
import { runCommand } from "../helpers/cli";
import { APP, BACKENDS, OWNER_EMAIL, PROD, STAGING, useServer } from "../helpers/server";

/**
 * `postscale check --rules` against a live local server: the organization
 * keeps its access rules, then someone changes access out of band (through
 * the API, as the dashboard does) and the nightly check catches it.
 */
const RULES = {
  version: 1,
  rules: [
    { name: "contractors never write", kind: "never", people: ["*@contractors.example.com"], access: "read_write", message: "Contractors never get read_write." },
    { name: "prod writers", kind: "never", domains: [PROD], access: "read_write", except: ["platform@example.com", "ada@example.com", OWNER_EMAIL] },
    { name: "at most 1 admin", kind: "at_most", role: "admin", max: 1 },
    { name: "keys expire", kind: "keys_expire", within: "90d", except: [`${OWNER_EMAIL}/*`] },
    { name: "owned domains", kind: "every_domain_has_writer" },
    { name: "scoped keys", kind: "no_organization_wide_keys", except: [`${OWNER_EMAIL}/*`] },
  ],
};

describe.each(BACKENDS)("postscale check against a live server (%s)", (backend) => {
  const server = useServer(backend);
  let dir: string;
  let rulesPath: string;
  const saved = { endpoint: process.env.POSTSCALE_ENDPOINT, apiKey: process.env.POSTSCALE_API_KEY };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "check-"));
    rulesPath = join(dir, "access-rules.json");
    writeFileSync(rulesPath, JSON.stringify(RULES));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    process.env.POSTSCALE_ENDPOINT = saved.endpoint;
    process.env.POSTSCALE_API_KEY = saved.apiKey;
    if (saved.endpoint === undefined) delete process.env.POSTSCALE_ENDPOINT;
    if (saved.apiKey === undefined) delete process.env.POSTSCALE_API_KEY;
  });

  const check = (key: string, ...args: string[]) => {
    process.env.POSTSCALE_ENDPOINT = server().url;
    process.env.POSTSCALE_API_KEY = key;
    return runCommand(register, ["check", "--rules", rulesPath, ...args]);
  };

  test("an organization that keeps every rule exits 0; access added out of band exits 2, naming rule, person, domain and fix", async () => {
    const platform = await server().invite("platform@example.com", "member", [
      { domain: PROD, access: "read_write" },
      { domain: APP, access: "read_write" },
      { domain: STAGING, access: "read_write" },
    ]);
    await server().invite("ada@example.com", "admin");
    await server().createKey(server().owner, { name: "deploy", owner: "organization", domains: [PROD], expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString() });
    expect(platform.status).toBe("invited");

    const clean = await check(server().ownerKey);
    expect(clean).toEqual({ stdout: "All 6 access rules hold in Example Inc (3 people, 2 keys, 3 domains).\n", exitCode: 0 });

    // In the dashboard: a contractor gets read_write on prod, and a key that never expires and reaches everything.
    const lee = await server().invite("lee@contractors.example.com", "member", [{ domain: APP, access: "read" }]);
    await server().grant(lee.id, PROD, "read_write");
    await server().createKey(server().owner, { name: "backup", owner: "organization" });

    const caught = await check(server().ownerKey);
    expect(caught.exitCode).toBe(2);
    expect(caught.stdout.split("\n")).toEqual([
      "4 of 6 access rules broken in Example Inc (4 people, 3 keys, 3 domains):",
      `- contractors never write: lee@contractors.example.com has read_write on ${PROD}. Remove lee@contractors.example.com's grant on ${PROD}, or make it read. (Contractors never get read_write.)`,
      `- prod writers: lee@contractors.example.com has read_write on ${PROD}. Remove lee@contractors.example.com's grant on ${PROD}, or make it read. (nobody has read_write on ${PROD}, except platform@example.com, ada@example.com, ${OWNER_EMAIL})`,
      expect.stringMatching(/^- keys expire: organization key "backup" never expires\. Give it an expiry no later than \S+ \(expires_at; expiresAt in the constructs\)\. \(every API key expires within 90d\)$/),
      '- scoped keys: organization key "backup" reaches every domain of the organization. Name the domains it needs (domains = [...]; domains: [...] in the constructs). (no API key reaches the whole organization)',
      "",
    ]);

    const json = JSON.parse((await check(server().ownerKey, "--json")).stdout);
    expect(json).toMatchObject({ organization: "Example Inc", rules: 6 });
    expect(json.violations[0]).toEqual({
      rule: "contractors never write",
      kind: "never",
      message: "Contractors never get read_write.",
      person: "lee@contractors.example.com",
      domain: PROD,
      detail: `lee@contractors.example.com has read_write on ${PROD}`,
      fix: `Remove lee@contractors.example.com's grant on ${PROD}, or make it read.`,
    });
  });

  test("a key that does not see the whole organization is refused (exit 1), so a partial read never passes", async () => {
    const scoped = await server().createKey(server().owner, { name: "app-only", owner: "organization", domains: [APP] });
    await expect(check(scoped.secret)).rejects.toMatchObject({ code: "POSTSCALE_E_FORBIDDEN", message: expect.stringContaining("an organization-owned key, which does not see every member and key") });
    await expect(check("")).rejects.toMatchObject({ code: "POSTSCALE_E_CONFIG", message: expect.stringContaining("POSTSCALE_API_KEY is not set") });
  });

  test("a bad rules file is bad input: it names the field", async () => {
    writeFileSync(rulesPath, JSON.stringify({ version: 1, rules: [{ name: "x", kind: "never", access: "sometimes" }] }));
    await expect(check(server().ownerKey)).rejects.toThrow(`${rulesPath}/rules/0/access: must be one of read_write, any, got "sometimes"`);
  });
});
