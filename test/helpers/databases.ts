/**
 * PostgreSQL databases made for one test server and dropped afterwards,
 * through the role in POSTSCALE_TEST_DATABASE_URL.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "pg";

/** Creates a fresh database (optionally from a template) and returns its URL. */
export async function createTestDatabase(adminUrl: string, template?: string): Promise<string> {
  const name = `postscale_test_${randomBytes(6).toString("hex")}`;
  // Copying a template fails while anything (an autovacuum worker) is on it.
  await retried(() => adminQuery(adminUrl, `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ""}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Drops a test database. WITH (FORCE) must signal every backend still on
 * it, and an autovacuum worker that just started on the fresh database is
 * one the test role may not signal (unless it holds pg_signal_backend): that
 * refusal is transient, so retry; a database that still cannot be dropped
 * is left behind with a warning rather than failing the suite that used it.
 */
export async function dropTestDatabase(adminUrl: string, databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  try {
    await retried(() => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  } catch (error) {
    process.stderr.write(`test database ${name} was left behind: ${(error as Error).message}\n`);
  }
}

async function retried(run: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt === 8) throw error;
      await sleep(100 * 2 ** Math.min(attempt, 4));
    }
  }
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
