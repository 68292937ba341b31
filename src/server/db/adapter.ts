/**
 * The database seam: one small interface with a PGlite and a PostgreSQL
 * implementation, so routes never know which engine they run on.
 */

/** Something SQL can be sent to: the database itself or an open transaction. */
export interface Queryable {
  /** Runs one statement with `$1`-style parameters and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  /** "pglite" or "postgres": shown in logs and the benchmark. */
  readonly engine: "pglite" | "postgres";
  /**
   * True when this process is the only writer (PGlite owns its data
   * directory). Only then may reads be cached, see {@link generation}.
   */
  readonly exclusive: boolean;
  /**
   * Bumped after every write (committed transaction or non-SELECT statement).
   * A value cached together with the generation is current while it matches.
   */
  readonly generation: number;
  /**
   * Runs `fn` in one transaction: commits when it resolves, rolls back when it
   * throws. Serialization failures and deadlocks are retried a few times.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A promise-chain mutex: PGlite has one connection, so work on it takes turns. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * Whether a statement only reads (so it leaves cached reads valid).
 * Conservative: any write keyword anywhere counts as a write.
 */
export function isReadOnlyStatement(sql: string): boolean {
  return /^\s*(select|with)\b/i.test(sql) && !/\b(insert|update|delete|merge|truncate|nextval|setval)\b/i.test(sql);
}

/** SQLSTATE of a database error, when it has one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** 23505: a unique constraint said no, i.e. a conflicting concurrent create. */
export function isUniqueViolation(err: unknown): boolean {
  return sqlState(err) === "23505";
}

/**
 * A rejection handler for a write that a unique index guards: its
 * violation becomes `conflict()`, any other error passes through. The index
 * decides, so two concurrent writes cannot both win.
 */
export function onUniqueViolation(conflict: () => Error): (err: unknown) => never {
  return (err) => {
    throw isUniqueViolation(err) ? conflict() : err;
  };
}

/** 40001/40P01: the transaction lost a race and can simply run again. */
export function isRetryableTransactionError(err: unknown): boolean {
  const state = sqlState(err);
  return state === "40001" || state === "40P01";
}
