import { chmod, writeFile } from "node:fs/promises";
import { type KeyHolder, domainProblem, emailProblem, nameProblem, normalizeEmail, resolveKeyScope } from "../policy";
import { ValidationError } from "../errors";
import { recordAudit } from "./audit";
import type { Database } from "./db/adapter";
import { insertDomain } from "./data/domains";
import { insertKey } from "./data/keys";
import { insertOwner } from "./data/members";
import { anyOrganization, insertOrganization } from "./data/organization";
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
    if (await anyOrganization(tx)) return false;
    const orgId = newId("org");
    const ownerId = newId("mem");
    const email = normalizeEmail(spec.ownerEmail);
    await insertOrganization(tx, orgId, spec.organization);
    await insertOwner(tx, { id: ownerId, orgId, email, name: email.split("@")[0], passwordHash });
    for (const name of [...new Set(spec.domains)].sort()) await insertDomain(tx, { id: newId("dom"), orgId, name, dkim: newDkimKey() });
    const keyId = newId("key");
    // The owner's own key, decided like any key the owner creates for themselves without domains.
    const owner: KeyHolder = { id: ownerId, email, role: "owner", grants: {} };
    const scope = resolveKeyScope({ role: owner.role, memberId: owner.id, email, grants: {} }, { owner: "member", memberId: ownerId }, owner, spec.domains);
    if (!scope.allowed) throw new Error(`bootstrap key refused by the policy: ${scope.message}`);
    await insertKey(tx, {
      id: keyId,
      orgId,
      name: "bootstrap",
      prefix: secret.slice(0, KEY_PREFIX_LENGTH),
      secretHash: sha256(secret),
      owner: "member",
      memberId: ownerId,
      scope: scope.scope,
      domains: scope.domains,
      expiresAt: null,
      createdBy: ownerId,
    });
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
