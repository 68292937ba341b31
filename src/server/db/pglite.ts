import { resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { Database, Mutex, Queryable, isReadOnlyStatement, isRetryableTransactionError } from "./adapter";

/**
 * The PGlite side, run in a worker thread. Two reasons: PGlite's WASM
 * work then runs beside the HTTP event loop instead of blocking it, and
 * PGlite's internal dynamic imports work in any host (a jest VM context
 * cannot run them). Kept as source text so no separate file must ship.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { PGlite } = require(workerData.pglite);
const ready = PGlite.create(workerData.dataDir);
parentPort.on("message", async (m) => {
  try {
    const db = await ready;
    let result = null;
    if (m.op === "query") result = (await db.query(m.sql, m.params)).rows;
    else if (m.op === "exec") await db.exec(m.sql);
    else if (m.op === "close") await db.close();
    parentPort.postMessage({ id: m.id, result });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: { message: (e && e.message) || String(e), code: e && e.code, detail: e && e.detail } });
  }
});
`;

type Op = { op: "ready" | "close" } | { op: "exec"; sql: string } | { op: "query"; sql: string; params: readonly unknown[] };

/** A database error from the worker, with its SQLSTATE as `code` like the pg driver's. */
class PgliteError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = "PgliteError";
  }
}

/**
 * PGlite: Postgres compiled to WASM, on a data directory. It has a single
 * connection, so every statement and transaction takes turns through one
 * mutex: a statement never lands inside someone else's transaction, and
 * transactions are serial (so they never lose updates).
 */
export class PgliteDatabase implements Database {
  readonly engine = "pglite" as const;
  readonly exclusive = true;
  private gen = 0;
  private readonly lock = new Mutex();
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private closing: Promise<void> | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (m: { id: number; result?: unknown; error?: { message: string; code?: string; detail?: string } }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new PgliteError(m.error.message, m.error.code, m.error.detail));
      else p.resolve(m.result);
    });
    const failAll = (err: Error) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on("error", failAll);
    worker.on("exit", (code) => failAll(new Error(`the PGlite worker exited (code ${code})`)));
  }

  /** Opens (creating when empty) the data directory; resolves once PGlite is ready. */
  static async open(dataDir: string): Promise<PgliteDatabase> {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pglite: require.resolve("@electric-sql/pglite"), dataDir: resolve(dataDir) } });
    const db = new PgliteDatabase(worker);
    try {
      await db.call({ op: "ready" });
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    return db;
  }

  get generation(): number {
    return this.gen;
  }

  private call<T>(op: Op): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...op, id });
    });
  }

  private raw: Queryable = {
    query: <T>(sql: string, params: readonly unknown[] = []) => this.call<T[]>({ op: "query", sql, params }),
    exec: (sql: string) => this.call<void>({ op: "exec", sql }),
  };

  query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.lock.run(async () => {
      const rows = await this.raw.query<T>(sql, params);
      if (!isReadOnlyStatement(sql)) this.gen++;
      return rows;
    });
  }

  exec(sql: string): Promise<void> {
    return this.lock.run(async () => {
      await this.raw.exec(sql);
      this.gen++;
    });
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.lock.run(async () => {
          await this.raw.exec("BEGIN");
          try {
            const value = await fn(this.raw);
            await this.raw.exec("COMMIT");
            return value;
          } catch (err) {
            await this.raw.exec("ROLLBACK").catch(() => undefined);
            throw err;
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

  /** Waits for queued work, closes PGlite cleanly (the data directory stays consistent), stops the worker. */
  close(): Promise<void> {
    this.closing ??= this.lock.run(async () => {
      try {
        await this.call({ op: "close" });
      } finally {
        await this.worker.terminate();
      }
    });
    return this.closing;
  }
}
