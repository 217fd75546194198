/**
 * Numbered `.sql` migrations (`NNNN_name.sql` in ./migrations), applied in order, each recorded
 * with a checksum in `<schema>.schema_migrations`.
 *
 * All pending migrations run in one transaction that first takes a transaction-level advisory lock
 * keyed by the schema: a second process blocks until the first commits and then finds nothing to do.
 * A transaction-level lock (not the session-level pg_advisory_lock) because on the embedded backend
 * every connection shares PGlite's one session, where session locks are re-entrant and would not
 * exclude anybody; transactions, on the other hand, are serialised by the socket multiplexer.
 */
import { readdir, readFile } from "node:fs/promises";
import { AgentbusError } from "../errors/index.ts";
import { sha256Hex } from "./canonical.ts";
import { table, type Db } from "./db.ts";

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: Migration[];
  /** Versions recorded in the database that this build does not know (a newer build migrated it). */
  unknown: number[];
}

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of names) {
    const match = FILE_NAME.exec(file);
    if (!match?.[1] || !match[2]) {
      throw new AgentbusError("MIGRATION_INVALID", `migration file ${file} must be named NNNN_name.sql`);
    }
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) {
      throw new AgentbusError("MIGRATION_INVALID", `two migrations are numbered ${match[1]}`);
    }
    const sql = await readFile(new URL(file, dir), "utf8");
    migrations.push({ version, name: match[2], sql, checksum: sha256Hex(sql) });
  }
  return migrations;
}

export async function migrate(db: Db, options: { migrations?: Migration[] } = {}): Promise<MigrateResult> {
  const migrations = options.migrations ?? (await loadMigrations());
  const ledger = table(db, "schema_migrations");
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('agentbus.migrate'), hashtext($1))", [db.schema]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS "${db.schema}"`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${ledger} (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         checksum   text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = await tx.query<{ version: number; checksum: string }>(`SELECT version, checksum FROM ${ledger} ORDER BY version`);
    const recorded = new Map(done.rows.map((r) => [r.version, r.checksum]));
    for (const m of migrations) {
      const checksum = recorded.get(m.version);
      if (checksum !== undefined && checksum !== m.checksum) {
        throw new AgentbusError("MIGRATION_CHECKSUM_MISMATCH", `migration ${m.version}_${m.name} was changed after it was applied to schema ${db.schema}; add a new migration instead`);
      }
    }
    const applied: Migration[] = [];
    // Migrations name their objects unqualified; the schema comes from search_path, local to this transaction.
    await tx.query(`SET LOCAL search_path TO "${db.schema}"`);
    for (const m of migrations) {
      if (recorded.has(m.version)) continue;
      await tx.query(m.sql);
      await tx.query(`INSERT INTO ${ledger} (version, name, checksum) VALUES ($1, $2, $3)`, [m.version, m.name, m.checksum]);
      applied.push(m);
    }
    const known = new Set(migrations.map((m) => m.version));
    return { applied, unknown: [...recorded.keys()].filter((v) => !known.has(v)) };
  });
}
