import type { Command } from "commander";
import type { ApiKey, Domain, Member } from "../api/types";
import type { AccessSnapshot, InvariantViolation } from "../policy";

/** Where the provider talks to when POSTSCALE_ENDPOINT is unset; the check reads the same server. */
const DEFAULT_ENDPOINT = "http://127.0.0.1:4000";

/** The exit code when a rule is broken; 1 stays reserved for bad input and errors. */
const VIOLATIONS_EXIT_CODE = 2;

/**
 * The organization's access as the invariant engine reads it, from the
 * API's records: every member with their status and grants, every key
 * with its holder's email and its scope, every domain.
 */
export function liveAccess(members: readonly Member[], keys: readonly ApiKey[], domains: readonly Domain[]): AccessSnapshot {
  const emails = new Map(members.map((m) => [m.id, m.email]));
  return {
    domains: domains.map((d) => d.name).sort(),
    people: members.map((m) => ({ email: m.email, role: m.role, status: m.status, grants: Object.fromEntries((m.domain_access ?? []).map((g) => [g.domain, g.access])) })),
    keys: keys.map((k) => ({
      name: k.name,
      holder: k.owner === "organization" ? null : emails.get(k.member_id ?? "") ?? k.member_id,
      reach: k.scope === "organization" ? { kind: "organization" as const } : { kind: "domains" as const, domains: [...k.domains].sort() },
      expiresAt: k.expires_at,
    })),
  };
}

function report(organization: string, rules: number, violations: readonly InvariantViolation[], counts: string): string {
  const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? "" : "s"}`;
  if (violations.length === 0) return `All ${plural(rules, "access rule")} hold in ${organization} (${counts}).\n`;
  const broken = new Set(violations.map((v) => v.rule)).size;
  const lines = violations.map((v) => `- ${v.rule}: ${v.detail}. ${v.fix}${v.message === v.rule ? "" : ` (${v.message})`}`);
  return `${broken} of ${plural(rules, "access rule")} broken in ${organization} (${counts}):\n${lines.join("\n")}\n`;
}

/**
 * Registers `postscale check --rules <file>`: the live organization,
 * read through the API, checked against access rules (the file
 * AccessRules writes at synth), for a nightly job that catches access
 * added in the dashboard. Exit codes: 0 every rule holds, 2 a rule is
 * broken, 1 bad input or the organization cannot be read.
 */
export function register(program: Command): void {
  program
    .command("check")
    .description("Check the live organization against access rules (access-rules.json): who has what, read through the API.")
    .requiredOption("--rules <file>", "the access rules (access-rules.json, which AccessRules writes at synth)")
    .option("--json", "print the violations as JSON for tools")
    .addHelpText(
      "after",
      "\nReads POSTSCALE_ENDPOINT (default http://127.0.0.1:4000) and POSTSCALE_API_KEY: your own owner or admin key, organization-wide (it must see every member and key).\n\nExit codes: 0 every rule holds, 2 a rule is broken, 1 bad input or the organization cannot be read.\n\nExample:\n  npx postscale check --rules cdktf.out/stacks/access/access-rules.json",
    )
    .action(async (options: { rules: string; json?: boolean }) => {
      const { PostscaleError } = await import("../errors");
      const { readRulesFile } = await import("./rules-file");
      const { checkInvariants, isManager } = await import("../policy");
      const rules = await readRulesFile(options.rules);
      const apiKey = process.env.POSTSCALE_API_KEY?.trim();
      if (!apiKey) {
        throw new PostscaleError("POSTSCALE_E_CONFIG", "check: POSTSCALE_API_KEY is not set. Check reads the whole organization with your own owner or admin key: export POSTSCALE_API_KEY=ps_... (and POSTSCALE_ENDPOINT).");
      }
      const endpoint = process.env.POSTSCALE_ENDPOINT?.trim() || DEFAULT_ENDPOINT;
      const { PostscaleClient } = await import("../api/client");
      const client = new PostscaleClient({ endpoint, apiKey });
      try {
        const me = await client.me();
        // Anything less than a manager's own organization-wide key sees part of the organization: a check on part would pass falsely.
        if (me.member === null || !isManager(me.role) || me.key?.scope === "domains") {
          const whose = me.member === null ? "an organization-owned key" : me.key?.scope === "domains" ? `a key of ${me.member.email} scoped to ${me.key.domains.join(", ")}` : `the key of ${me.member.email}, a ${me.role}`;
          throw new PostscaleError("POSTSCALE_E_FORBIDDEN", `check: POSTSCALE_API_KEY is ${whose}, which does not see every member and key. Use the owner's or an admin's own organization-wide key.`);
        }
        const [members, keys, domains] = await Promise.all([client.listMembers({ includeDomainAccess: true }), client.listApiKeys(), client.listDomains()]);
        const violations = checkInvariants(liveAccess(members, keys, domains), rules);
        const organization = me.organization.name;
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ organization, endpoint, rules: rules.length, violations }, null, 2)}\n`);
        } else {
          process.stdout.write(report(organization, rules.length, violations, `${members.length} people, ${keys.length} keys, ${domains.length} domains`));
        }
        if (violations.length > 0) process.exitCode = VIOLATIONS_EXIT_CODE;
      } finally {
        await client.close();
      }
    });
}
