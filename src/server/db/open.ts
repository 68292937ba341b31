import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { PostscaleError } from "../../errors";
import { Database } from "./adapter";
import { migrate } from "./migrations";

/** A startup failure the CLI turns into a clear message and exit code 1. */
export class StartupError extends PostscaleError {
  constructor(message: string, cause?: unknown) {
    super("POSTSCALE_E_CONFIG", message, { cause });
    this.name = "StartupError";
  }
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir never returns on
 * some pseudo file systems (e.g. under /proc), which would hang startup.
 */
function ensureDirectory(dir: string): void {
  const full = resolve(dir);
  if (existsSync(full)) return;
  ensureDirectory(dirname(full));
  mkdirSync(full);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+)(:[^@]*)?@/, "//$1:***@");
}

/**
 * Opens the database the options ask for and migrates it. PostgreSQL when
 * `databaseUrl` is set, else PGlite on `dataDir`. Failures become
 * {@link StartupError}s that say what to fix (never echoing a password).
 */
export async function openDatabase(options: { dataDir: string; databaseUrl?: string }): Promise<Database> {
  let db: Database;
  if (options.databaseUrl !== undefined && options.databaseUrl !== "") {
    let parsed: URL;
    try {
      parsed = new URL(options.databaseUrl);
    } catch {
      throw new StartupError(`DATABASE_URL is not a valid URL (expected postgres://user:password@host:5432/database).`);
    }
    if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
      throw new StartupError(`DATABASE_URL must start with postgres:// or postgresql://, got ${parsed.protocol}//.`);
    }
    const { PostgresDatabase } = await import("./postgres");
    try {
      db = await PostgresDatabase.open(options.databaseUrl);
    } catch (err) {
      throw new StartupError(`cannot connect to PostgreSQL at ${redact(options.databaseUrl)}: ${(err as Error).message || String(err)}`, err);
    }
  } else {
    try {
      ensureDirectory(options.dataDir);
      accessSync(options.dataDir, constants.W_OK | constants.R_OK);
    } catch (err) {
      throw new StartupError(`data directory ${options.dataDir} is not writable: ${(err as Error).message}. Choose another with --data-dir.`, err);
    }
    const { PgliteDatabase } = await import("./pglite");
    try {
      db = await PgliteDatabase.open(options.dataDir);
    } catch (err) {
      throw new StartupError(`cannot open the PGlite data directory ${options.dataDir}: ${(err as Error).message || String(err)}`, err);
    }
  }
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw new StartupError(`database migration failed: ${(err as Error).message}`, err);
  }
  return db;
}
