import { UNKNOWN, type ResourceType, type Value } from "../../../src/provider/protocol/types";
import { postscaleProvider } from "../../../src/provider/provider";
import { apiKeyResource } from "../../../src/provider/resources/api-key.resource";
import type { ProviderContext } from "../../../src/provider/resources/context";
import { domainAccessResource } from "../../../src/provider/resources/domain-access.resource";
import { teamMemberResource } from "../../../src/provider/resources/team-member.resource";
import { configOf } from "./engine-rules";

function validate(resource: ResourceType<ProviderContext>, values: Record<string, Value>) {
  return resource.validate!({ config: configOf(resource.schema, values) });
}

const ME = "m_123";

describe("ValidateResourceConfig", () => {
  it.each<[string, ResourceType<ProviderContext>, Record<string, Value>]>([
    ["a team member", teamMemberResource, { email: "dev@example.com", role: "member" }],
    ["a team member whose email and role are not yet known", teamMemberResource, { email: UNKNOWN, role: UNKNOWN }],
    ["a grant", domainAccessResource, { member_id: ME, domain: "staging.example.com", access: "read_write" }],
    ["a grant whose member, domain and access are not yet known", domainAccessResource, { member_id: UNKNOWN, domain: UNKNOWN, access: UNKNOWN }],
    ["an organization key", apiKeyResource, { name: "ci", owner: "organization" }],
    ["an organization key whose member_id is not yet known", apiKeyResource, { name: "ci", owner: "organization", member_id: UNKNOWN }],
    ["a member key with domains and an expiry", apiKeyResource, { name: "app", owner: "member", member_id: ME, domains: ["app.example.com"], expires_at: "2027-01-31T00:00:00Z" }],
    ["a member key whose holder and domains are not yet known", apiKeyResource, { name: "app", owner: "member", member_id: UNKNOWN, domains: [UNKNOWN] }],
  ])("accepts %s", (_name, resource, values) => {
    expect(validate(resource, values)).toEqual([]);
  });

  it.each<[string, ResourceType<ProviderContext>, Record<string, Value>, string[], string, RegExp]>([
    ['team_member email "not-an-email"', teamMemberResource, { email: "not-an-email", role: "member" }, ["email"], "Invalid Email Address", /valid email address/],
    ['team_member role "owner"', teamMemberResource, { email: "dev@example.com", role: "owner" }, ["role"], "Invalid Role", /transfer of ownership/],
    ['team_member role "viewer"', teamMemberResource, { email: "dev@example.com", role: "viewer" }, ["role"], "Invalid Role", /"admin", "member", got "viewer"/],
    ['domain_access domain "Staging.Example.com"', domainAccessResource, { member_id: ME, domain: "Staging.Example.com", access: "read" }, ["domain"], "Invalid Domain Name", /lower-case domain name/],
    ['domain_access access "write"', domainAccessResource, { member_id: ME, domain: "staging.example.com", access: "write" }, ["access"], "Invalid Access Level", /"read", "read_write", got "write"/],
    ['api_key owner "team"', apiKeyResource, { name: "ci", owner: "team" }, ["owner"], "Invalid Key Owner", /"organization", "member", got "team"/],
    ["api_key member_id on an organization key", apiKeyResource, { name: "ci", owner: "organization", member_id: ME }, ["member_id"], "Organization Key Cannot Have A Member", /organization_key_has_no_member/],
    ['api_key owner "member" without member_id', apiKeyResource, { name: "ci", owner: "member" }, ["member_id"], "Missing Key Holder", /member_id is required when owner is "member"/],
    ['api_key domains naming "bad_domain"', apiKeyResource, { name: "ci", owner: "organization", domains: ["app.example.com", "bad_domain"] }, ["domains"], "Invalid Domain Name", /bad_domain/],
    ['api_key expires_at "tomorrow"', apiKeyResource, { name: "ci", owner: "organization", expires_at: "tomorrow" }, ["expires_at"], "Invalid Expiry Time", /RFC 3339/],
    ['api_key name " "', apiKeyResource, { name: " ", owner: "organization" }, ["name"], "Invalid API Key Name", /must not be empty/],
  ])("rejects %s on its attribute path", (_name, resource, values, path, summary, detail) => {
    const diagnostics = validate(resource, values);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: "error", path, summary });
    expect(diagnostics[0].detail).toMatch(detail);
  });

  it("rejects a provider endpoint that is not an http URL, and accepts an unknown one", () => {
    const config = (endpoint: Value) => ({ config: { endpoint, api_key: null } as Record<string, Value> });
    expect(postscaleProvider.validateConfig!(config("ftp://example.com"))).toEqual([
      expect.objectContaining({ severity: "error", path: ["endpoint"], summary: "Invalid Postscale Endpoint" }),
    ]);
    expect(postscaleProvider.validateConfig!(config(UNKNOWN))).toEqual([]);
  });
});

describe("schemas", () => {
  const all = [...postscaleProvider.resources, ...postscaleProvider.dataSources];

  it("describe every attribute and use one of required, optional, computed, optional+computed", () => {
    for (const { name, schema } of [...all, { name: "provider", schema: postscaleProvider.schema }]) {
      expect(schema.block.description.length).toBeGreaterThan(20);
      for (const [attribute, a] of Object.entries(schema.block.attributes)) {
        expect(`${name}.${attribute}`).toMatch(/^[a-z0-9_]+\.[a-z0-9_]+$/);
        expect({ [attribute]: a.description.length > 10 }).toEqual({ [attribute]: true });
        expect(a.required && (a.optional || a.computed)).toBeFalsy();
        expect(a.required || a.optional || a.computed).toBe(true);
      }
    }
  });

  it("mark the API key secret and the provider's api_key sensitive", () => {
    expect(apiKeyResource.schema.block.attributes.secret).toMatchObject({ computed: true, sensitive: true });
    expect(postscaleProvider.schema.block.attributes.api_key).toMatchObject({ optional: true, sensitive: true });
  });

  it("name the resources and data sources of the design", () => {
    expect(postscaleProvider.resources.map((r) => r.name)).toEqual(["postscale_team_member", "postscale_domain_access", "postscale_api_key", "postscale_undeclared_access"]);
    expect(postscaleProvider.dataSources.map((d) => d.name).sort()).toEqual([
      "postscale_domain",
      "postscale_domains",
      "postscale_organization",
      "postscale_team_member",
      "postscale_team_members",
    ]);
  });
});
