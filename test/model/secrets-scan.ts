/**
 * After a run: no secret handed out (API key secrets, session, invitation and
 * verification tokens, passwords) may be stored in clear or logged.
 *
 * - PGlite: every file under the data dir, read as bytes, and every table
 *   read back as text through PGlite in a child process (values PostgreSQL
 *   compresses on disk would escape a byte scan).
 * - PostgreSQL: every table of every non-system schema, each row as text.
 * - The server's stdout/stderr (request logs are on).
 */
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";
import type { ModelServer } from "./server";

export interface Finding {
  secret: string;
  where: string;
}

/** What to look for: the value, and for long random values their last 16 characters (a stored tail is as bad). */
function needles(secret: string): string[] {
  return secret.length >= 24 ? [secret, secret.slice(-16)] : [secret];
}

function search(haystack: Buffer | string, where: string, secrets: string[], found: Finding[]): void {
  const buf = typeof haystack === "string" ? Buffer.from(haystack, "utf8") : haystack;
  for (const secret of secrets) {
    if (found.some((f) => f.secret === secret && f.where === where)) continue;
    if (needles(secret).some((n) => buf.indexOf(n, 0, "utf8") >= 0)) found.push({ secret, where });
  }
}

async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

const DUMP_SQL = `SELECT table_schema, table_name FROM information_schema.tables
  WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`;

/** Reads every table of a closed PGlite data dir as text, in a child process (Jest's sandbox cannot load PGlite). */
const PGLITE_DUMP = `
const { PGlite } = await import("@electric-sql/pglite");
const db = new PGlite(process.argv[1]);
const out = {};
const tables = (await db.query(${JSON.stringify(DUMP_SQL)})).rows;
for (const t of tables) {
  const name = '"' + t.table_schema + '"."' + t.table_name + '"';
  const rows = (await db.query("SELECT t::text AS row FROM " + name + " t")).rows;
  out[t.table_schema + "." + t.table_name] = rows.map((r) => r.row).join("\\n");
}
await db.close();
process.stdout.write(JSON.stringify(out));
`;

async function dumpPglite(dataDir: string): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", PGLITE_DUMP, dataDir], {
    cwd: join(__dirname, "..", ".."),
    maxBuffer: 512 * 1024 * 1024,
  });
  return JSON.parse(stdout);
}

async function dumpPostgres(url: string): Promise<Record<string, string>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const out: Record<string, string> = {};
    for (const t of (await client.query(DUMP_SQL)).rows) {
      const name = `"${t.table_schema}"."${t.table_name}"`;
      const rows = (await client.query(`SELECT t::text AS row FROM ${name} t`)).rows;
      out[`${t.table_schema}.${t.table_name}`] = rows.map((r: { row: string }) => r.row).join("\n");
    }
    return out;
  } finally {
    await client.end();
  }
}

/**
 * Scans the storage and the log of a server whose process has stopped.
 * Returns every place a secret was found (empty when clean), and `blind`:
 * reasons the scan itself cannot be trusted (no tables read, the canaries
 * (values that must be stored, such as member emails) not found in the dump
 * or, for PGlite, in the raw files, or no request log).
 */
export async function scanForSecrets(server: ModelServer, secrets: string[], canaries: string[]): Promise<{ findings: Finding[]; blind: string[] }> {
  const found: Finding[] = [];
  const blind: string[] = [];
  const log = server.log();
  search(log, "server log (stdout/stderr)", secrets, found);
  if (!log.includes("/v1/")) blind.push("the server log holds no request lines (is request logging on and captured?)");
  let dump: Record<string, string>;
  if (server.databaseUrl) {
    dump = await dumpPostgres(server.databaseUrl);
  } else {
    const rawCanaries = new Set<string>();
    for await (const file of files(server.dataDir)) {
      const bytes = await readFile(file);
      search(bytes, `file ${file.slice(server.dataDir.length + 1)}`, secrets, found);
      for (const c of canaries) if (bytes.indexOf(c, 0, "utf8") >= 0) rawCanaries.add(c);
    }
    if (canaries.length > 0 && rawCanaries.size === 0) blind.push(`none of ${canaries.length} stored values was found in the raw files of ${server.dataDir}`);
    dump = await dumpPglite(server.dataDir);
  }
  for (const [table, text] of Object.entries(dump)) search(text, `table ${table}`, secrets, found);
  if (Object.keys(dump).length === 0) blind.push("no tables were read");
  const all = Object.values(dump).join("\n");
  const missing = canaries.filter((c) => !all.includes(c));
  if (missing.length > 0) blind.push(`stored values missing from the table dump: ${missing.join(", ")}`);
  return { findings: found, blind };
}
