/**
 * Test backends for the store suite: the machine's real Postgres and an embedded PGlite in a temp
 * folder. Each harness owns a unique schema (dropped in teardown) so test files can run in parallel.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, rename, rm, stat, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { PoolDb, migrate, openDb, type Db, type Logger } from "../../runtime/store/index.ts";

const run = promisify(execFile);

export type BackendName = "postgres" | "pglite";
export const BACKENDS: BackendName[] = ["postgres", "pglite"];

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface LogEntry {
  level: "info" | "warn" | "error";
  obj: object;
  msg: string | undefined;
}

/** A logger that keeps what it is told, so tests can check that something was said loudly. */
export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    info: (obj, msg) => entries.push({ level: "info", obj, msg }),
    warn: (obj, msg) => entries.push({ level: "warn", obj, msg }),
    error: (obj, msg) => entries.push({ level: "error", obj, msg }),
  };
}

export interface Harness {
  backend: BackendName;
  schema: string;
  /** Migrated store on the backend; closed by teardown. */
  db: Db;
  /** Where the database server listens (for putting a proxy in front of it). */
  endpoint: { host: string; port: number };
  /** Another, independent connection pool on the same schema, as a second process would have. */
  open(): Promise<Db>;
  /** A pool on the same schema that connects to host:port instead (a proxy in front of the server). */
  openAt(host: string, port: number, options?: { logger?: Logger; connectionTimeoutMs?: number; queryTimeoutMs?: number; schema?: string }): Db;
  /** A fresh schema name on the same backend, dropped in teardown. */
  freshSchema(tag: string): string;
  teardown(): Promise<void>;
}

export async function startBackend(backend: BackendName, tag: string): Promise<Harness> {
  const schema = uniqueSchema(tag);
  const logger = recordingLogger();
  const extra: Db[] = [];
  const schemas = [schema];
  let dataDir: string | undefined;
  let db: Db;
  let endpoint: { host: string; port: number };
  let conn: { user: string; database: string; password?: string };
  if (backend === "postgres") {
    const url = new URL(DATABASE_URL);
    endpoint = { host: url.hostname, port: Number(url.port || 5432) };
    conn = { user: decodeURIComponent(url.username || "postgres"), database: url.pathname.slice(1) || "postgres", ...(url.password ? { password: decodeURIComponent(url.password) } : {}) };
    db = await openDb({ databaseUrl: DATABASE_URL, schema, logger });
  } else {
    dataDir = await pgliteDataDir(tag);
    db = await openDb({ dataDir, schema, logger });
    const lock = JSON.parse(await readFile(join(dataDir, "pglite.lock.json"), "utf8")) as { host: string; port: number };
    endpoint = { host: lock.host, port: lock.port };
    conn = { user: "postgres", database: "postgres" };
  }
  await migrate(db);
  return {
    backend,
    schema,
    db,
    endpoint,
    async open() {
      const other = backend === "postgres" ? await openDb({ databaseUrl: DATABASE_URL, schema, logger }) : await openDb({ dataDir: dataDir!, schema, logger });
      extra.push(other);
      return other;
    },
    openAt(host, port, options = {}) {
      const other = new PoolDb({
        pool: { host, port, ...conn, max: 4, connectionTimeoutMillis: options.connectionTimeoutMs ?? 2000, query_timeout: options.queryTimeoutMs ?? 10_000 },
        schema: options.schema ?? schema,
        backend,
        logger: options.logger ?? logger,
        wrapParameterised: backend === "pglite",
      });
      extra.push(other);
      return other;
    },
    freshSchema(t) {
      const s = uniqueSchema(t);
      schemas.push(s);
      return s;
    },
    async teardown() {
      for (const other of extra) await other.close().catch(() => undefined);
      if (backend === "postgres") {
        for (const s of schemas) await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      }
      await db.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function uniqueSchema(tag: string): string {
  return `t_${tag}_${randomBytes(4).toString("hex")}`.toLowerCase();
}

/** A temp data folder holding a fresh embedded database in `pglite/` (the caller removes it). */
export async function pgliteDataDir(tag: string): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), `agentbus-${tag}-`));
  const template = await pgliteTemplate();
  try {
    await run("cp", ["-R", template, join(dataDir, "pglite")]); // ~15x faster than fs.cp on its ~1000 files
  } catch {
    await cp(template, join(dataDir, "pglite"), { recursive: true });
  }
  return dataDir;
}

/**
 * A freshly initialised PGlite data folder, made once per machine and copied per test file:
 * initdb takes seconds, a copy and reopen well under one.
 */
async function pgliteTemplate(): Promise<string> {
  const version = (JSON.parse(await readFile(new URL("../../node_modules/@electric-sql/pglite/package.json", import.meta.url), "utf8")) as { version: string }).version;
  const dir = join(tmpdir(), `agentbus-pglite-template-${version}`);
  if (await exists(join(dir, "PG_VERSION"))) return dir;
  const building = await mkdtemp(join(tmpdir(), "agentbus-pglite-build-"));
  const pg = await PGlite.create(building);
  await pg.close();
  try {
    await rename(building, dir); // atomic: a parallel worker either wins or finds it done
  } catch {
    await rm(building, { recursive: true, force: true });
  }
  return dir;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
