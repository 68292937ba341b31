import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database, isReadOnlyStatement } from "../../../src/server/db/adapter";
import { MIGRATIONS } from "../../../src/server/db/migrations";
import { openDatabase } from "../../../src/server/db/open";

describe("PGlite database adapter", () => {
  let dir: string;
  let db: Database;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "postscale-db-"));
    db = await openDatabase({ dataDir: dir });
    await db.query("CREATE TABLE counters (id text PRIMARY KEY, n integer NOT NULL)");
    await db.query("INSERT INTO counters VALUES ('c', 0)");
  }, 120_000);

  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies every migration once", async () => {
    const rows = await db.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
    expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it("rolls a transaction back when it throws", async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query("UPDATE counters SET n = 100 WHERE id = 'c'");
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    const [row] = await db.query<{ n: number }>("SELECT n FROM counters WHERE id = 'c'");
    expect(row.n).toBe(0);
  });

  it("serializes concurrent read-modify-write transactions so no update is lost", async () => {
    await Promise.all(
      Array.from({ length: 25 }, () =>
        db.transaction(async (tx) => {
          const [row] = await tx.query<{ n: number }>("SELECT n FROM counters WHERE id = 'c' FOR UPDATE");
          await new Promise((r) => setImmediate(r));
          await tx.query("UPDATE counters SET n = $1 WHERE id = 'c'", [row.n + 1]);
        }),
      ),
    );
    const [row] = await db.query<{ n: number }>("SELECT n FROM counters WHERE id = 'c'");
    expect(row.n).toBe(25);
  });

  it("keeps statements outside a transaction out of a running one", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = db.transaction(async (t) => {
      await t.query("UPDATE counters SET n = -1 WHERE id = 'c'");
      await gate;
      throw new Error("rollback");
    });
    const read = db.query<{ n: number }>("SELECT n FROM counters WHERE id = 'c'");
    release();
    await expect(tx).rejects.toThrow("rollback");
    expect((await read)[0].n).toBe(25);
  });

  it("bumps the generation on writes and not on reads", async () => {
    const before = db.generation;
    await db.query("SELECT 1");
    expect(db.generation).toBe(before);
    await db.query("UPDATE counters SET n = n WHERE id = 'c'");
    expect(db.generation).toBeGreaterThan(before);
  });

  it("classifies statements", () => {
    expect(isReadOnlyStatement("SELECT * FROM x")).toBe(true);
    expect(isReadOnlyStatement("  select 1")).toBe(true);
    expect(isReadOnlyStatement("SELECT * FROM x FOR UPDATE")).toBe(false);
    expect(isReadOnlyStatement("INSERT INTO x VALUES (1)")).toBe(false);
    expect(isReadOnlyStatement("WITH d AS (DELETE FROM x RETURNING *) SELECT * FROM d")).toBe(false);
  });
});
