import { appendFileSync } from "node:fs";

/**
 * Counts the HTTP requests a provider process makes (every attempt,
 * retries included), so benchmarks can check that reads scale.
 */
export class RequestStats {
  private total = 0;
  private readonly byRoute = new Map<string, number>();

  /** Records one attempt; wire it to the client's `onRequest`. */
  record(info: { method: string; path: string }): void {
    this.total += 1;
    const route = `${info.method} ${info.path}`;
    this.byRoute.set(route, (this.byRoute.get(route) ?? 0) + 1);
  }

  get requests(): number {
    return this.total;
  }

  /** One JSON line: pid, total and per-route counts (routes sorted). */
  toJsonLine(): string {
    const routes = Object.fromEntries([...this.byRoute.entries()].sort(([a], [b]) => a.localeCompare(b)));
    return `${JSON.stringify({ pid: process.pid, requests: this.total, routes })}\n`;
  }

  /**
   * At process exit: logs the count at debug (the engine shows it under
   * TF_LOG=debug) and appends the JSON line to `statsFile` when given. The
   * engine starts several provider processes per command, so the file
   * gets one line per process; readers sum them.
   */
  reportAtExit(statsFile: string | undefined): void {
    if (reporting.size === 0) process.once("exit", reportAll);
    reporting.set(this, statsFile);
  }

  report(statsFile: string | undefined): void {
    process.stderr.write(`${JSON.stringify({ "@level": "debug", "@message": `postscale provider made ${this.total} HTTP requests`, "@module": "provider.postscale", requests: this.total })}\n`);
    if (statsFile) appendFileSync(statsFile, this.toJsonLine());
  }
}

/** Stats to report at exit; one exit listener serves them all. */
const reporting = new Map<RequestStats, string | undefined>();

function reportAll(): void {
  for (const [stats, file] of reporting) stats.report(file);
}
