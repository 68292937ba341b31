/**
 * Durations as the provider's attributes spell them (`ttl`, `rotate_every`,
 * `rotation_overlap`): a whole number and a unit, or several in a row, as in
 * Go and OpenTofu ("90d", "36h", "15m", "1h30m", "45s"). One parser for the
 * provider and one formatter for the constructs, so both agree.
 */

const UNIT_SECONDS: Readonly<Record<string, number>> = { d: 86_400, h: 3_600, m: 60, s: 1 };
const DURATION = /^(?:\d+[dhms])+$/;

/**
 * Seconds in `text`, or a message that says what is wrong (for a diagnostic
 * naming the attribute).
 */
export function parseDuration(text: string): { seconds: number } | { problem: string } {
  if (!DURATION.test(text)) {
    return { problem: `must be a duration such as "90d", "12h", "15m" or "1h30m" (whole numbers with d, h, m or s), got "${text}"` };
  }
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([dhms])/g)) seconds += Number(amount) * UNIT_SECONDS[unit];
  return { seconds };
}

/** A length of time for construct props; renders as the provider's duration strings. */
export class Duration {
  static seconds(amount: number): Duration {
    return new Duration(amount, "s");
  }
  static minutes(amount: number): Duration {
    return new Duration(amount * 60, "m");
  }
  static hours(amount: number): Duration {
    return new Duration(amount * 3_600, "h");
  }
  static days(amount: number): Duration {
    return new Duration(amount * 86_400, "d");
  }

  private constructor(
    private readonly totalSeconds: number,
    unit: string,
  ) {
    if (!Number.isInteger(totalSeconds) || totalSeconds < 0) {
      throw new RangeError(`Duration: must be a whole, non-negative number of seconds, got ${totalSeconds} s (from ${unit})`);
    }
  }

  toSeconds(): number {
    return this.totalSeconds;
  }

  /** The provider's spelling in the largest whole unit: "90d", "36h", "15m", "45s". */
  toString(): string {
    for (const unit of ["d", "h", "m"] as const) {
      if (this.totalSeconds > 0 && this.totalSeconds % UNIT_SECONDS[unit] === 0) return `${this.totalSeconds / UNIT_SECONDS[unit]}${unit}`;
    }
    return `${this.totalSeconds}s`;
  }
}
