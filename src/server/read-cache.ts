import type { Database } from "./db/adapter";

const LIMIT = 10_000;

/**
 * Reuses a read until the next write to the database. Only active when the
 * database is exclusive to this process (PGlite), where "no write since"
 * means the answer is exactly what a fresh query would return. Callers
 * must treat cached values as read-only.
 */
export class ReadCache {
  private entries = new Map<string, { generation: number; value: unknown }>();

  constructor(private readonly db: Database) {}

  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (!this.db.exclusive) return load();
    const generation = this.db.generation;
    const hit = this.entries.get(key);
    if (hit && hit.generation === generation) return hit.value as T;
    const value = await load();
    if (this.entries.size >= LIMIT) this.entries.clear();
    this.entries.set(key, { generation, value });
    return value;
  }
}
