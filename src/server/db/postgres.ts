import type { Pool, PoolClient } from "pg";
import { Database, Queryable, isReadOnlyStatement, isRetryableTransactionError } from "./adapter";

/**
 * PostgreSQL through a `pg` pool. Other processes may write the same
 * database, so `exclusive` is false and nothing read may be cached.
 */
export class PostgresDatabase implements Database {
  readonly engine = "postgres" as const;
  readonly exclusive = false;
  private gen = 0;

  private constructor(private readonly pool: Pool) {}

  /** Connects and checks the server answers; throws the driver's error when not. */
  static async open(connectionString: string): Promise<PostgresDatabase> {
    const { Pool } = await import("pg");
    const pool = new Pool({ connectionString, max: 10, connectionTimeoutMillis: 5000 });
    pool.on("error", () => {
      // An idle client died (e.g. the server restarted); the pool replaces it on next use.
    });
    try {
      await pool.query("SELECT 1");
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return new PostgresDatabase(pool);
  }

  get generation(): number {
    return this.gen;
  }

  async query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.pool.query(sql, params as unknown[]);
    if (!isReadOnlyStatement(sql)) this.gen++;
    return result.rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
    this.gen++;
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client: PoolClient = await this.pool.connect();
      try {
        await client.query("BEGIN");
        const tx: Queryable = {
          query: async <R>(sql: string, params: readonly unknown[] = []) => (await client.query(sql, params as unknown[])).rows as R[],
          exec: async (sql: string) => {
            await client.query(sql);
          },
        };
        const value = await fn(tx);
        await client.query("COMMIT");
        return value;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        if (attempt < 3 && isRetryableTransactionError(err)) continue;
        throw err;
      } finally {
        this.gen++;
        client.release();
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
