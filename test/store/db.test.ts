import { spawnSync } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAgentbusError } from "../../runtime/errors/index.ts";
import { PoolDb, loadMigrations, migrate, openDb, openStore, table, type Db } from "../../runtime/store/index.ts";
import { BACKENDS, pgliteDataDir, recordingLogger, startBackend, type Harness } from "../helpers/pg.ts";

describe.each(BACKENDS)("query interface and migrations on %s", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBackend(backend, "db");
    await h.db.query(`CREATE TABLE ${table(h.db, "counter")} (id int PRIMARY KEY, n int NOT NULL)`);
    await h.db.query(`INSERT INTO ${table(h.db, "counter")} VALUES (1, 0)`);
  });
  afterAll(async () => {
    await h?.teardown();
  });

  it("runs concurrent transactions from several pools without lost updates", async () => {
    const other = await h.open();
    const counter = table(h.db, "counter");
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 ? other : h.db).transaction(async (tx) => {
          const r = await tx.query<{ n: number }>(`SELECT n FROM ${counter} WHERE id = $1 FOR UPDATE`, [1]);
          await new Promise((resolve) => setTimeout(resolve, 1)); // hold the row across an await
          await tx.query(`UPDATE ${counter} SET n = $1 WHERE id = 1`, [r.rows[0]!.n + 1]);
        }),
      ),
    );
    expect((await h.db.query<{ n: number }>(`SELECT n FROM ${counter}`)).rows[0]!.n).toBe(24);
  });

  it("rolls back a transaction whose function throws", async () => {
    const counter = table(h.db, "counter");
    const before = (await h.db.query<{ n: number }>(`SELECT n FROM ${counter}`)).rows[0]!.n;
    await expect(
      h.db.transaction(async (tx) => {
        await tx.query(`UPDATE ${counter} SET n = n + 100`);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect((await h.db.query<{ n: number }>(`SELECT n FROM ${counter}`)).rows[0]!.n).toBe(before);
  });

  it("never mixes up the parameters of concurrent statements, even large ones", async () => {
    // Regression: PGlite's multiplexer interleaves extended-protocol messages of different
    // connections when a message spans several TCP reads (see PoolDb wrapParameterised).
    const big = "y".repeat(1_000_000);
    const results = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        if (i % 10 === 0) {
          const r = await h.db.query<{ n: number; i: number }>("SELECT length($1::text) AS n, $2::int AS i", [big, i]);
          return r.rows[0]!.n === big.length && r.rows[0]!.i === i;
        }
        const r = await h.db.query<{ w: string; z: number }>("SELECT $1::text AS w, $2::int AS z", [`x${i}`, i]);
        return r.rows[0]!.w === `x${i}` && r.rows[0]!.z === i;
      }),
    );
    expect(results.every(Boolean)).toBe(true);
  });

  it("reports an unreachable server as a recoverable STORE_UNAVAILABLE", async () => {
    const db = new PoolDb({ pool: { host: "127.0.0.1", port: 1, connectionTimeoutMillis: 500 }, schema: "nowhere", backend, logger: recordingLogger() });
    for (const attempt of [() => db.query("SELECT 1"), () => db.transaction((tx) => tx.query("SELECT 1"))]) {
      const err: unknown = await attempt().catch((e: unknown) => e);
      expect(isAgentbusError(err) && [err.code, err.recoverable]).toEqual(["STORE_UNAVAILABLE", true]);
    }
    await db.close();
    await expect(db.query("SELECT 1")).rejects.toThrow(/closed/);
  });

  function onFreshSchema(tag: string): { a: Db; b: Db } {
    const schema = h.freshSchema(tag);
    const { host, port } = h.endpoint;
    return { a: h.openAt(host, port, { schema }), b: h.openAt(host, port, { schema }) };
  }

  it("applies every migration once, records checksums, and is a no-op the second time", async () => {
    const { a, b } = onFreshSchema("m1");
    try {
      const files = await loadMigrations();
      expect(files.length).toBeGreaterThan(0);
      const first = await migrate(a);
      expect(first.applied.map((m) => m.version)).toEqual(files.map((m) => m.version));
      const second = await migrate(a);
      expect(second.applied).toEqual([]);
      const ledger = await a.query<{ version: number; checksum: string }>(`SELECT version, checksum FROM "${a.schema}".schema_migrations ORDER BY version`);
      expect(ledger.rows).toEqual(files.map((m) => ({ version: m.version, checksum: m.checksum })));
      const third = await migrate(b);
      expect(third.applied).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("two concurrent migrate() calls apply each migration exactly once", async () => {
    const { a, b } = onFreshSchema("m2");
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      const files = await loadMigrations();
      expect(ra.applied.length + rb.applied.length).toBe(files.length);
      expect(Math.min(ra.applied.length, rb.applied.length)).toBe(0);
      const count = await a.query<{ n: string }>(`SELECT count(*) AS n FROM "${a.schema}".schema_migrations`);
      expect(Number(count.rows[0]!.n)).toBe(files.length);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("refuses to run when an applied migration was edited", async () => {
    const { a, b } = onFreshSchema("m3");
    try {
      const files = await loadMigrations();
      await migrate(a, { migrations: files });
      const edited = files.map((m, i) => (i === 0 ? { ...m, checksum: "0".repeat(64) } : m));
      const err: unknown = await migrate(b, { migrations: edited }).catch((e: unknown) => e);
      expect(isAgentbusError(err) && err.code).toBe("MIGRATION_CHECKSUM_MISMATCH");
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("embedded database folder", () => {
  it("takes over a dead owner's lock, and lets a second opener use the owner's server", async () => {
    const dataDir = await pgliteDataDir("lock");
    const logger = recordingLogger();
    const lockPath = join(dataDir, "pglite.lock.json");
    try {
      const deadPid = spawnSync(process.execPath, ["-e", "0"]).pid;
      await writeFile(lockPath, JSON.stringify({ pid: deadPid, host: "127.0.0.1", port: 1 }));
      const owner = await openStore({ dataDir, schema: "agentbus", logger });
      const lock = JSON.parse(await readFile(lockPath, "utf8")) as { pid: number; port: number };
      expect(lock.pid).toBe(process.pid);

      const second = await openDb({ dataDir, schema: "agentbus", logger }); // would corrupt the folder if it opened it too
      await owner.query(`INSERT INTO ${table(owner, "sessions")} (session_id) VALUES ('s-shared')`);
      expect((await second.query(`SELECT 1 FROM ${table(second, "sessions")} WHERE session_id = 's-shared'`)).rowCount).toBe(1);
      await second.close(); // not the owner: the server keeps running
      expect((await owner.query("SELECT 1")).rowCount).toBe(1);
      await owner.close(); // the owner: stops the server and removes the lock
      await expect(readFile(lockPath, "utf8")).rejects.toThrow();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("needs a data folder when there is no DATABASE_URL", async () => {
    const err: unknown = await openDb({ logger: recordingLogger() }).catch((e: unknown) => e);
    expect(isAgentbusError(err) && err.code).toBe("CONFIG_INVALID");
  });
});
