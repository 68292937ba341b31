/**
 * The table of the fault runs (runs, converged, duplicates, orphans, lost,
 * stuck, time) per mode and backend, and what went wrong in the runs that
 * did not come out clean.
 */
import { isClean, type RunReport } from "./runs";

interface Row {
  label: string;
  runs: number;
  converged: number;
  clean: number;
  duplicates: number;
  orphans: number;
  lost: number;
  stuck: number;
  missing: number;
  ms: number;
}

const MODE_LABELS: Record<string, string> = {
  kill: "server SIGKILL",
  proxy: "fault proxy",
  "tofu-sigint": "engine SIGINT",
  "tofu-sigkill": "engine SIGKILL",
};

function labelOf(report: RunReport): string {
  return `${MODE_LABELS[report.mode] ?? report.mode} (${report.engine}, ${report.backend === "pglite" ? "PGlite" : "PostgreSQL"})`;
}

function rows(reports: RunReport[]): Row[] {
  const byLabel = new Map<string, Row>();
  for (const r of reports) {
    const label = labelOf(r);
    let row = byLabel.get(label);
    if (!row) {
      row = { label, runs: 0, converged: 0, clean: 0, duplicates: 0, orphans: 0, lost: 0, stuck: 0, missing: 0, ms: 0 };
      byLabel.set(label, row);
    }
    row.runs++;
    if (r.converged) row.converged++;
    if (isClean(r)) row.clean++;
    row.duplicates += r.audit?.duplicates ?? 0;
    row.orphans += r.audit?.orphans ?? 0;
    row.lost += r.audit?.lost ?? 0;
    row.stuck += r.audit?.stuck ?? 0;
    row.missing += r.audit?.missing ?? 0;
    row.ms += r.durationMs;
  }
  return [...byLabel.values()];
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s` : `${s} s`;
}

/** The table in Markdown, one row per mode and backend (plus a total). */
export function markdownTable(reports: RunReport[]): string {
  const all = rows(reports);
  if (all.length > 1) {
    all.push(
      all.reduce(
        (t, r) => ({ ...t, runs: t.runs + r.runs, converged: t.converged + r.converged, clean: t.clean + r.clean, duplicates: t.duplicates + r.duplicates, orphans: t.orphans + r.orphans, lost: t.lost + r.lost, stuck: t.stuck + r.stuck, missing: t.missing + r.missing, ms: t.ms + r.ms }),
        { label: "total", runs: 0, converged: 0, clean: 0, duplicates: 0, orphans: 0, lost: 0, stuck: 0, missing: 0, ms: 0 },
      ),
    );
  }
  const lines = [
    "| fault | runs | converged in one re-apply | duplicates | orphans | lost secrets | stuck replays | time (per run) |",
    "|---|---:|---:|---:|---:|---:|---:|---|",
    ...all.map((r) => `| ${r.label} | ${r.runs} | ${r.converged} | ${r.duplicates} | ${r.orphans} | ${r.lost} | ${r.stuck} | ${duration(r.ms)} (${duration(r.ms / r.runs)}) |`),
  ];
  return lines.join("\n");
}

/** One line per run, as it finishes. */
export function runLine(report: RunReport): string {
  const a = report.audit;
  const state = report.harnessError ? "HARNESS ERROR" : isClean(report) ? "clean" : report.converged ? "converged, audit failed" : "NOT CONVERGED";
  const counts = a ? `dup ${a.duplicates}, orphans ${a.orphans}, lost ${a.lost}, stuck ${a.stuck}, missing ${a.missing}` : "no audit";
  return `${report.mode} ${report.backend} seed ${report.seed}: ${state} (${counts}); apply ${report.firstApply}, re-apply ${report.reapply}, plan ${report.plan}; ${(report.durationMs / 1000).toFixed(1)} s; ${report.fault}`;
}

/** What went wrong in each run that is not clean, and the re-apply errors grouped across runs. */
export function failureDetails(reports: RunReport[], limit = 12): string {
  const out: string[] = [];
  const bad = reports.filter((r) => !isClean(r));
  for (const r of bad) {
    out.push(`- ${runLine(r)}`);
    if (r.harnessError) out.push(`  harness error: ${r.harnessError.split("\n").slice(0, 30).join("\n    ")}`);
    for (const e of r.reapplyErrors.slice(0, limit)) out.push(`  re-apply error: ${e.address ?? "(no resource)"}: ${e.summary}: ${e.detail}`);
    if (r.reapplyErrors.length > limit) out.push(`  ... ${r.reapplyErrors.length - limit} more re-apply errors`);
    for (const c of r.planChanges.slice(0, limit)) out.push(`  plan after re-apply: ${c}`);
    if (r.planChanges.length > limit) out.push(`  ... ${r.planChanges.length - limit} more planned changes`);
    for (const p of r.audit?.problems.slice(0, limit) ?? []) out.push(`  audit: ${p}`);
    if ((r.audit?.problems.length ?? 0) > limit) out.push(`  ... ${(r.audit?.problems.length ?? 0) - limit} more audit findings`);
    for (const c of r.consistencyErrors) out.push(`  engine consistency check: ${c}`);
    if (r.providerLingerMs !== undefined) out.push(`  provider outlived the engine by ${r.providerLingerMs} ms`);
  }
  const grouped = new Map<string, { count: number; addresses: Set<string> }>();
  for (const r of reports) {
    for (const e of r.reapplyErrors) {
      const g = grouped.get(e.summary) ?? { count: 0, addresses: new Set<string>() };
      g.count++;
      if (e.address) g.addresses.add(e.address.replace(/\[.*\]$/, "[...]"));
      grouped.set(e.summary, g);
    }
  }
  if (grouped.size > 0) {
    out.push("", "Re-apply errors over all runs:");
    for (const [summary, g] of grouped) out.push(`- ${g.count}x "${summary}" on ${[...g.addresses].join(", ") || "no resource"}`);
  }
  const lingering = reports.filter((r) => r.providerLingerMs !== undefined).map((r) => r.providerLingerMs!);
  if (lingering.length > 0) out.push("", `Provider processes outlived a SIGKILLed engine by: ${lingering.map((ms) => `${ms} ms`).join(", ")}`);
  return out.join("\n");
}
