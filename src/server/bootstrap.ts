import { chmod, writeFile } from "node:fs/promises";
import { type KeyHolder, domainProblem, emailProblem, nameProblem, normalizeEmail, resolveKeyScope } from "../policy";
import { ValidationError } from "../errors";
import { recordAudit } from "./audit";
import type { Database } from "./db/adapter";
import { newDkimKey } from "./domain-data";
import { API_KEY_PREFIX, KEY_PREFIX_LENGTH, hashPassword, newId, newSecret, sha256 } from "./security";

/** The first organization, from POSTSCALE_BOOTSTRAP_* or ServerOptions.bootstrap. */
export interface BootstrapSpec {
  organization: string;
  ownerEmail: string;
  ownerPassword: string;
  domains: string[];
  /** Where the owner's organization-wide key is written (mode 0600). */
  keyFile?: string;
}

/** Checks a bootstrap spec with the same rules as the API, naming the variable at fault. */
export function validateBootstrap(spec: BootstrapSpec): void {
  const errors = [];
  const org = nameProblem(spec.organization);
  if (org) errors.push({ path: "POSTSCALE_BOOTSTRAP_ORG", message: org });
  const email = emailProblem(spec.ownerEmail);
  if (email) errors.push({ path: "POSTSCALE_BOOTSTRAP_OWNER_EMAIL", message: email });
  if (typeof spec.ownerPassword !== "string" || spec.ownerPassword.length < 8) errors.push({ path: "POSTSCALE_BOOTSTRAP_OWNER_PASSWORD", message: "must be at least 8 characters" });
  spec.domains.forEach((d, i) => {
    const p = domainProblem(d);
    if (p) errors.push({ path: `POSTSCALE_BOOTSTRAP_DOMAINS[${i}]`, message: p });
  });
  if (errors.length) throw new ValidationError(errors, `invalid bootstrap settings: ${errors.map((e) => `${e.path} ${e.message}`).join("; ")}`);
}

/**
 * Creates the organization, its active owner, the domains and an
 * organization-wide key held by the owner, if and only if the database has
 * no organization yet. Returns the key's secret when it bootstrapped.
 */
export async function bootstrap(db: Database, spec: BootstrapSpec): Promise<string | undefined> {
  validateBootstrap(spec);
  const passwordHash = await hashPassword(spec.ownerPassword);
  const secret = newSecret(API_KEY_PREFIX);
  const created = await db.transaction(async (tx) => {
    if (db.engine === "postgres") await tx.query("SELECT pg_advisory_xact_lock(427202)");
    const [existing] = await tx.query("SELECT id FROM organizations LIMIT 1");
    if (existing) return false;
    const orgId = newId("org");
    const ownerId = newId("mem");
    const email = normalizeEmail(spec.ownerEmail);
    await tx.query("INSERT INTO organizations (id, name) VALUES ($1, $2)", [orgId, spec.organization]);
    await tx.query("INSERT INTO members (id, org_id, email, role, name, password_hash, accepted_at, joined_at) VALUES ($1, $2, $3, 'owner', $4, $5, now(), now())", [
      ownerId,
      orgId,
      email,
      email.split("@")[0],
      passwordHash,
    ]);
    for (const name of [...new Set(spec.domains)].sort()) {
      const dkim = newDkimKey();
      await tx.query("INSERT INTO domains (id, org_id, name, dkim_selector, dkim_public_key) VALUES ($1, $2, $3, $4, $5)", [newId("dom"), orgId, name, dkim.selector, dkim.publicKey]);
    }
    const keyId = newId("key");
    // The owner's own key, decided like any key the owner creates for themselves without domains.
    const owner: KeyHolder = { id: ownerId, email, role: "owner", grants: {} };
    const scope = resolveKeyScope({ role: owner.role, memberId: owner.id, email, grants: {} }, { owner: "member", memberId: ownerId }, owner, spec.domains);
    if (!scope.allowed) throw new Error(`bootstrap key refused by the policy: ${scope.message}`);
    await tx.query(
      "INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, owner, member_id, scope, domains, created_by) VALUES ($1, $2, 'bootstrap', $3, $4, 'member', $5, $6, $7::text[], $5)",
      [keyId, orgId, secret.slice(0, KEY_PREFIX_LENGTH), sha256(secret), ownerId, scope.scope, scope.domains],
    );
    await recordAudit(tx, { orgId, memberId: null, actor: null, credential: "bootstrap" }, "organization.bootstrap", `organization:${orgId}`, null, {
      name: spec.organization,
      owner: email,
      domains: spec.domains,
      api_key: keyId,
    });
    return true;
  });
  if (!created) return undefined;
  if (spec.keyFile) {
    await writeFile(spec.keyFile, `${secret}\n`, { mode: 0o600 });
    await chmod(spec.keyFile, 0o600);
  }
  return secret;
}

/** Reads POSTSCALE_BOOTSTRAP_*; undefined unless at least the organization is named. */
export function bootstrapFromEnv(env: NodeJS.ProcessEnv): BootstrapSpec | undefined {
  const organization = env.POSTSCALE_BOOTSTRAP_ORG;
  if (!organization) return undefined;
  return {
    organization,
    ownerEmail: env.POSTSCALE_BOOTSTRAP_OWNER_EMAIL ?? "",
    ownerPassword: env.POSTSCALE_BOOTSTRAP_OWNER_PASSWORD ?? "",
    domains: (env.POSTSCALE_BOOTSTRAP_DOMAINS ?? "")
      .split(",")
      .map((d) => d.trim())
      .filter((d) => d !== ""),
    keyFile: env.POSTSCALE_BOOTSTRAP_KEY_FILE || undefined,
  };
}
