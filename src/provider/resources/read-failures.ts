import { setTimeout as sleep } from "node:timers/promises";
import { PostscaleError } from "../../errors";
import type { Diagnostic } from "../protocol/types";
import { apiErrorDiagnostics } from "./diagnostics";

/** How long without another read failing the same way before the one report goes out. */
const QUIET_MS = 150;
/** The longest a report waits for the rest of its group. */
const MAX_WAIT_MS = 3000;

/**
 * One diagnostic per cause when the refresh fails: when the API is down,
 * every resource's read fails the same way, and the engine would print the
 * same error once per resource. The first read to fail with a cause
 * reports it, after the others have had a moment to fail too, naming how
 * many resources it stopped; the others return their prior state without
 * a diagnostic. That is safe: the one error stops the engine's operation
 * before anything is planned or applied.
 */
export class ReadFailures {
  private readonly causes = new Map<string, { count: number; lastAt: number }>();

  constructor(private readonly quietMs = QUIET_MS) {}

  async report(err: unknown, what: string, attributes: readonly string[]): Promise<Diagnostic[]> {
    const key = causeOf(err);
    const seen = this.causes.get(key);
    if (seen) {
      seen.count++;
      seen.lastAt = Date.now();
      return [];
    }
    const cause = { count: 1, lastAt: Date.now() };
    this.causes.set(key, cause);
    const started = Date.now();
    while (Date.now() - cause.lastAt < this.quietMs && Date.now() - started < MAX_WAIT_MS) await sleep(this.quietMs / 3);
    const others = cause.count - 1;
    const action = others === 0 ? `Reading ${what}` : `Reading ${what} and ${others} other Postscale resource${others === 1 ? "" : "s"} (all failed the same way; reported once)`;
    return apiErrorDiagnostics(err, action, attributes);
  }
}

/**
 * What makes two failures the same cause: for an answer, its code, status
 * and words; for no answer (network), the code alone, since the words carry
 * each request's own attempts and timings.
 */
function causeOf(err: unknown): string {
  if (err instanceof PostscaleError) return err.problem ? `${err.code}|${err.status}|${err.problem.detail ?? ""}` : err.code;
  return `unexpected|${err instanceof Error ? err.message : String(err)}`;
}
