import { ALL_DOMAINS, NEVER, NOTHING, ORGANIZATION, type AccessReview, type InvariantsReport, type ReviewRow, type ReviewSummary } from "./review-model";

/** The whole output when a plan touches no access: one line, so a PR comment stays quiet. */
export const NO_ACCESS_CHANGES = "No access changes.";

/**
 * Escapes text for a GitHub-flavoured markdown table cell or list item:
 * inline markup (emphasis, code, links, HTML, strikethrough) is
 * backslash-escaped, `|` cannot end the cell, and a newline cannot end the
 * row. Parentheses stay as they are so placeholders read naturally.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r?\n|\r/g, " ")
    .replace(/[\\`*_[\]<>|~]/g, (c) => `\\${c}`);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function parts(entries: [number, string][]): string[] {
  return entries.filter(([n]) => n > 0).map(([n, text]) => `${n} ${text}`);
}

/** `people: 1 added, 1 removed · grants: ... · keys: ...`, naming only what happened. */
export function summaryLine(summary: ReviewSummary): string {
  const groups: [string, string[]][] = [
    ["people", parts([[summary.peopleAdded, "added"], [summary.peopleRemoved, "removed"], [summary.rolesChanged, summary.rolesChanged === 1 ? "role change" : "role changes"]])],
    ["grants", parts([[summary.grantsAdded, "added"], [summary.grantsWidened, "widened"], [summary.grantsNarrowed, "narrowed"], [summary.grantsRemoved, "removed"]])],
    ["keys", parts([[summary.keysCreated, "created"], [summary.keysRescoped, "rescoped"], [summary.keysRotated, "rotated"], [summary.keysRevoked, "revoked"]])],
    ["outside the code", parts([[summary.drifted, "changed"], [summary.undeclaredRemoved, "to remove"]])],
    ["imports", summary.imported > 0 ? [String(summary.imported)] : []],
  ];
  const flag = summary.broadening > 0 ? `**${plural(summary.broadening, "broadening change")}**` : "no broadening changes";
  return [flag, ...groups.filter(([, p]) => p.length > 0).map(([name, p]) => `${name}: ${p.join(", ")}`)].join(" · ");
}

/** The risk, its reason, then the key's expiry (never expiring in bold) and the row's notes. */
function riskCell(row: ReviewRow): string {
  const level = row.risk === "none" ? "" : `${row.risk === "high" ? "**high**" : row.risk}: `;
  const expiry = row.expires === undefined ? [] : [row.expires === NEVER ? "**never expires**" : `expires ${escapeMarkdown(row.expires)}`];
  return [`${level}${escapeMarkdown(row.reason)}`, ...expiry, ...(row.notes ?? []).map(escapeMarkdown)].join(" · ");
}

function tableRow(row: ReviewRow): string {
  const cells = [row.sign, escapeMarkdown(row.who), escapeMarkdown(row.change), escapeMarkdown(row.domain), `${escapeMarkdown(row.before)} → ${escapeMarkdown(row.after)}`, riskCell(row)];
  return `| ${cells.join(" | ")} |`;
}

/** ` on <domain>` when the domain says more than the values do (not for people's rows or a key's own reach). */
function onDomain(domain: string, ...values: string[]): string {
  return domain === NOTHING || domain === ALL_DOMAINS || values.includes(domain) ? "" : ` on ${escapeMarkdown(domain)}`;
}

function holderText(holder: string): string {
  return holder === ORGANIZATION ? "held by the organization" : `held by ${escapeMarkdown(holder)}`;
}

/** The access rules section: each broken rule with what breaks it and the fix, or that all of them hold. */
function invariantLines(report: InvariantsReport): string[] {
  const rules = plural(report.rules, "access rule");
  if (report.violations.length === 0) return ["#### Access rules", "", `${report.rules === 1 ? "The" : "All"} ${rules} ${report.rules === 1 ? "holds" : "hold"} after this plan.`, ""];
  const broken = new Set(report.violations.map((v) => v.rule)).size;
  const items = report.violations.map((v) => {
    const isNew = v.introduced ? " (new in this plan)" : "";
    const why = v.message === v.rule ? "" : ` _${escapeMarkdown(v.message)}_`;
    return `- **${escapeMarkdown(v.rule)}**${isNew}: ${escapeMarkdown(v.detail)}. ${escapeMarkdown(v.fix)}${why}`;
  });
  return [`#### Access rules broken`, "", `**${broken} of ${rules} broken** by the access after this plan:`, "", ...items, ""];
}

/**
 * The review as a PR comment: summary, offboarding first (who leaves, what
 * they lose, and the keys they created that stay, to rotate), then the
 * table of every change. A plan with no access changes renders as the
 * single line {@link NO_ACCESS_CHANGES}.
 */
export function renderMarkdown(review: AccessReview): string {
  const broken = review.invariants?.violations ?? [];
  const told = review.changes || review.drift.length + review.imports.length + review.undeclared.length + review.ephemeralKeys.length + broken.length > 0;
  if (!told) return `${NO_ACCESS_CHANGES}\n`;
  const lines = ["### Postscale access review", "", summaryLine(review.summary), ""];
  const section = (title: string, items: string[]): void => {
    if (items.length > 0) lines.push(`#### ${title}`, "", ...items, "");
  };
  if (review.invariants !== undefined) lines.push(...invariantLines(review.invariants));
  section("Check these emails", review.hints.map((h) => `- **${escapeMarkdown(h.email)}**: ${escapeMarkdown(h.message)}`));
  if (review.offboarding.length > 0) {
    lines.push("#### Offboarding", "");
    for (const person of review.offboarding) {
      const role = person.role ? ` (${escapeMarkdown(person.role)})` : "";
      const losses = [
        ...person.grants.map((g) => `${escapeMarkdown(g.access)} on ${escapeMarkdown(g.domain)}`),
        ...person.keys.map((k) => `API key ${escapeMarkdown(k.name)} (${escapeMarkdown(k.domains)})`),
      ];
      lines.push(`- **${escapeMarkdown(person.email)}**${role} leaves${losses.length > 0 ? " and loses:" : "; no grants or keys of theirs change in this plan."}`);
      for (const loss of losses) lines.push(`  - ${loss}`);
      for (const key of person.rotate) lines.push(`  - rotate: API key ${escapeMarkdown(key.name)} (${holderText(key.holder)}, ${escapeMarkdown(key.domains)}): created by the person leaving`);
    }
    lines.push("");
  }
  if (review.rows.length > 0) {
    lines.push("#### Changes", "", "| ± | who | change | domain | before → after | risk |", "| --- | --- | --- | --- | --- | --- |");
    for (const row of review.rows) lines.push(tableRow(row));
    lines.push("");
  }
  if (review.effectiveAccess.length > 0) {
    lines.push("#### Effective access", "", "| who | access | before → after |", "| --- | --- | --- |");
    for (const person of review.effectiveAccess) {
      for (const line of person.lines) {
        const value = line.before === line.after ? escapeMarkdown(line.after) : `${escapeMarkdown(line.before)} → **${escapeMarkdown(line.after)}**`;
        lines.push(`| ${escapeMarkdown(person.who)} | ${escapeMarkdown(line.what)} | ${value} |`);
      }
    }
    lines.push("");
  }
  section(
    "Changed outside the code",
    review.drift.map(
      (d) => `- ${escapeMarkdown(d.who)}: ${escapeMarkdown(d.change)}${onDomain(d.domain, d.before, d.after)} (${escapeMarkdown(d.before)} → ${escapeMarkdown(d.after)}); ${d.reverted ? "this plan puts it back" : "the code already says so"}`,
    ),
  );
  section("Added outside the code — not managed", review.undeclared.map((u) => `- ${escapeMarkdown(u.who)}: ${escapeMarkdown(u.what)} (${escapeMarkdown(u.value)})${onDomain(u.domain, u.value)}`));
  section("Imported", review.imports.map((i) => `- ${escapeMarkdown(i.who)}: ${escapeMarkdown(i.change)} (${escapeMarkdown(i.value)})${onDomain(i.domain, i.value)}`));
  section("Short-lived keys for this run", review.ephemeralKeys.map((k) => `- ${escapeMarkdown(k.name)} (${holderText(k.who)}): revoked when the run ends, never in state`));
  if (review.rows.length > 0) lines.push("`+` broadens access · `-` narrows it · `~` other change");
  else lines.pop();
  return `${lines.join("\n")}\n`;
}

/** The review for tools: the {@link AccessReview} object as stable, indented JSON. */
export function renderJson(review: AccessReview): string {
  return `${JSON.stringify(review, null, 2)}\n`;
}
