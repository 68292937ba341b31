import { Database, Mutex, Queryable, isReadOnlyStatement, isRetryableTransactionError } from "./adapter";

type PGliteInstance = import("@electric-sql/pglite").PGlite;
type PGliteTransaction = import("@electric-sql/pglite").Transaction;

/**
 * PGlite: Postgres compiled to WASM, in this process, on a data directory.
 * It has a single connection, so every statement and transaction goes
 * through one mutex; a statement never lands inside someone else's
 * transaction, and transactions are serial (hence never lose updates).
 */
export class PgliteDatabase implements Database {
  readonly engine = "pglite" as const;
  readonly exclusive = true;
  private gen = 0;
  private readonly lock = new Mutex();
  private closed = false;

  private constructor(private readonly db: PGliteInstance) {}

  /** Opens (creating when empty) the data directory; resolves once ready. */
  static async open(dataDir: string): Promise<PgliteDatabase> {
    const { PGlite } = await import("@electric-sql/pglite");
    const db = await PGlite.create(dataDir);
    return new PgliteDatabase(db);
  }

  get generation(): number {
    return this.gen;
  }

  query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.lock.run(async () => {
      const result = await this.db.query<T>(sql, params as unknown[]);
      if (!isReadOnlyStatement(sql)) this.gen++;
      return result.rows;
    });
  }

  exec(sql: string): Promise<void> {
    return this.lock.run(async () => {
      await this.db.exec(sql);
      this.gen++;
    });
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.lock.run(async () => {
          try {
            return await this.db.transaction(async (raw: PGliteTransaction) => {
              const tx: Queryable = {
                query: async <R>(sql: string, params: readonly unknown[] = []) => (await raw.query<R>(sql, params as unknown[])).rows,
                exec: async (sql: string) => {
                  await raw.exec(sql);
                },
              };
              return fn(tx);
            });
          } finally {
            this.gen++;
          }
        });
      } catch (err) {
        if (attempt < 3 && isRetryableTransactionError(err)) continue;
        throw err;
      }
    }
  }

  /** Waits for queued work, then closes cleanly so the data directory stays consistent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lock.run(() => this.db.close());
  }
}
