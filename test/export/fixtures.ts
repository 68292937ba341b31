import type { OrganizationSnapshot, SnapshotKey, SnapshotMember } from "../../src/export/model";

const member = (id: string, email: string, role: SnapshotMember["role"], status: SnapshotMember["status"], grants: SnapshotMember["grants"] = {}): SnapshotMember => ({
  id,
  email,
  role,
  status,
  invitedAt: "2025-03-01T09:00:00Z",
  joinedAt: status === "active" ? "2025-03-02T09:00:00Z" : null,
  grants,
});

const key = (id: string, name: string, memberId: string | null, domains: string[] = [], expiresAt: string | null = null): SnapshotKey => ({
  id,
  name,
  prefix: `ps_${id.slice(-4)}`,
  owner: memberId === null ? "organization" : "member",
  memberId,
  scope: domains.length === 0 ? "organization" : "domains",
  domains,
  expiresAt,
});

/** An organization with every role and status, grants, member and organization keys (listed out of order on purpose). */
export const SNAPSHOT: OrganizationSnapshot = {
  organization: { id: "org_1", name: "Acme" },
  endpoint: "http://127.0.0.1:4000",
  exportedBy: { email: "owner@acme.test", role: "owner" },
  readAt: "2025-04-01T12:00:00Z",
  domains: ["acme.com", "acme.dev", "shop.acme.com"],
  members: [
    member("m_dev", "dev@acme.test", "member", "active", { "acme.dev": "read", "acme.com": "read_write" }),
    member("m_owner", "owner@acme.test", "owner", "active"),
    member("m_new", "new@acme.test", "member", "invited", { "shop.acme.com": "read" }),
    member("m_ops", "ops@acme.test", "admin", "active"),
    member("m_late", "late@acme.test", "member", "expired", { "acme.com": "read" }),
    member("m_lead", "lead@acme.test", "admin", "invited"),
  ],
  keys: [
    key("key_ci00", "ci", "m_dev", ["acme.com"], "2027-01-31T00:00:00Z"),
    key("key_boot", "bootstrap", "m_owner"),
    key("key_mail", "mailer", null, ["acme.com", "shop.acme.com"]),
    key("key_depl", "deploy", "m_ops"),
    key("key_mon0", "monitoring", null),
  ],
};
