/**
 * The notes an export writes next to the code (README.md) and prints: what
 * the first plan does, what is recorded but not managed, which keys have no
 * secret in state and how to rotate them, and what became of expired
 * invitations. Pure: the plan in, markdown out.
 */
import { keyLogicalId } from "../constructs/ids";
import { day, declaredKeys, describeKey, importCount, type ExportPlan } from "./model";

/** What differs between the formats in the notes. */
export interface ReadmeFormat {
  readonly format: "cdktf" | "hcl";
  /** Where the expired invitations are written commented out, e.g. "main.ts". */
  readonly codeFile: string;
  /** The import wiring to delete after the first deploy, e.g. "imports.ts and the importExisting(...) line of main.ts". */
  readonly importWiring: string;
}

/** The address of a declared key, as both formats name it. */
export function keyAddress(holder: string | undefined, name: string): string {
  return `postscale_api_key.${keyLogicalId(holder, name)}`;
}

/** README.md of an export. */
export function renderReadme(plan: ExportPlan, how: ReadmeFormat): string {
  const s = plan.snapshot;
  const n = importCount(plan);
  const cdktf = how.format === "cdktf";
  const lines: string[] = [
    "# Postscale access, exported",
    "",
    `Exported by \`postscale export\` from ${s.organization.name} (${s.organization.id}) at ${s.endpoint} on ${s.readAt}, ` +
      `read with the key of ${s.exportedBy.email ?? "an organization key"} (${s.exportedBy.role}).`,
    "",
    "## First deploy",
    "",
    cdktf
      ? "```sh\nnpm install\nnpx postscale provider install\nnpm run plan\nnpm run deploy\n```"
      : "```sh\ntofu init   # or terraform init (1.5 or newer)\ntofu plan\ntofu apply\n```",
    "",
    `The first plan imports everything and changes nothing: \`Plan: ${n} to import, 0 to add, 0 to change, 0 to destroy.\` ` +
      `Once it is applied, delete ${how.importWiring}: from then on the code is what the plans compare against.`,
    "",
    "## Recorded, not managed",
    "",
  ];
  lines.push(
    plan.owner === undefined
      ? "- No owner was visible to the exporting key."
      : `- The owner, ${plan.owner.email}: never managed as code (ownership moves only by transfer).`,
  );
  for (const u of plan.unmanagedKeys) lines.push(`- The ${describeKey(u.holder, u.key)}: ${u.reason}.`);
  const keys = declaredKeys(plan);
  lines.push("", "## Keys without a secret in state", "");
  if (keys.length === 0) {
    lines.push("No key is declared.");
  } else {
    lines.push(
      "Postscale keeps only a hash of each secret, so an imported key has a null `secret` in state. The keys keep working for whoever holds " +
        "their secrets today. To have a secret in state (to output it or store it in a secret manager), rotate the key in place: give it a " +
        "rotation trigger and deploy. It keeps its id, name and scope and gets a new secret; the old one stops working at once, or after the " +
        "overlap you set, so hand the new one over first.",
      "",
      cdktf
        ? '```ts\nteam.serviceKey("deploy", { rotationTrigger: "1", rotationOverlap: Duration.minutes(10) }); // or member.apiKey(...)\n```'
        : '```hcl\nrotation_trigger = "1"      # in the key\'s resource block; change it again to rotate again\nrotation_overlap = "10m"\n```',
      "",
      "| key | holds it | address |",
      "|---|---|---|",
      ...keys.map(({ holder, key }) => `| ${key.name} (${key.prefix}…) | ${holder ?? "the organization"} | \`${keyAddress(holder, key.name)}\` |`),
    );
  }
  lines.push("", "## Expired invitations", "");
  if (plan.expired.length === 0) {
    lines.push("None.");
  } else {
    lines.push(
      `Written commented out in ${how.codeFile}, with their domain access and keys: declared, they would plan a re-invitation, and the first plan ` +
        "changes nothing. To invite someone again, uncomment their lines: the next deploy imports them and sends a new invitation (one update). " +
        "To drop them, delete the lines and remove them in the dashboard.",
      "",
      ...plan.expired.map((p) => `- ${p.member.email} (${p.member.role}), invited ${day(p.member.invitedAt)}`),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The lines the CLI prints after writing an export. */
export function summaryLines(plan: ExportPlan): string[] {
  const pending = plan.people.filter((p) => p.member.status === "invited").length;
  const keys = declaredKeys(plan);
  const lines = [
    `${plan.people.length} people (${pending} with an invitation pending), ${keys.length} keys: ${importCount(plan)} to import.`,
  ];
  if (plan.owner !== undefined) lines.push(`The owner ${plan.owner.email} is recorded, never managed.`);
  if (plan.expired.length > 0) lines.push(`${plan.expired.length} expired invitation(s) written commented out: ${plan.expired.map((p) => p.member.email).join(", ")}.`);
  for (const u of plan.unmanagedKeys) lines.push(`Not managed: ${describeKey(u.holder, u.key)}: ${u.reason}.`);
  if (keys.length > 0) {
    lines.push(`Keys with no secret in state after import (rotate one in place, with a rotation trigger, to get one; see README.md):`);
    for (const { holder, key } of keys) lines.push(`  ${keyAddress(holder, key.name)}  ${describeKey(holder, key)}`);
  }
  return lines;
}
