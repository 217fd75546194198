/**
 * The store: Postgres as the system of record. `openStore()` picks the backend (DATABASE_URL →
 * that server; none → embedded PGlite under the data folder), connects and migrates.
 */
import { join } from "node:path";
import pino from "pino";
import { ConfigError } from "../errors/index.ts";
import { DEFAULT_SCHEMA, PoolDb, type Db, type Logger } from "./db.ts";
import { startEmbedded } from "./embedded.ts";
import { migrate } from "./migrate.ts";

export { DEFAULT_SCHEMA, PoolDb, assertSchemaName, table, translate, type Db, type Logger, type Queryable } from "./db.ts";
export { startEmbedded, type EmbeddedEndpoint, type EmbeddedOptions } from "./embedded.ts";
export { loadMigrations, migrate, type MigrateResult, type Migration } from "./migrate.ts";
export { canonicalJson, sha256Hex } from "./canonical.ts";
export { AUDIT_OUTCOMES, GENESIS_HASH, UNSESSIONED, type AuditOutcome } from "./audit-hash.ts";
export { AuditWriter, type AuditEvent, type AuditWriterEvents, type AuditWriterOptions, type AuditWriterStats } from "./audit-writer.ts";
export { verifyAudit, type BrokenRow, type ChainProblem, type VerifyOptions, type VerifyResult } from "./verify.ts";
export { getSession, getTrace, upsertSession, type Session, type SessionPatch, type SessionStatus, type TraceEntry } from "./sessions.ts";
export {
  insertWorkflowRecord,
  listWorkflowRecords,
  streamWindow,
  type StoredWorkflowRecord,
  type WindowQuery,
  type WorkflowRecordInput,
} from "./workflow-records.ts";
export { applyRetention, retentionCutoff, type RetentionOptions } from "./retention.ts";

export interface OpenDbOptions {
  /** A postgres:// URL. Absent: the embedded database under `dataDir`. From the configuration (DATABASE_URL). */
  databaseUrl?: string | undefined;
  /** The project's data folder; the embedded database lives in `<dataDir>/pglite`. */
  dataDir?: string;
  /** Postgres schema for every table (default "agentbus"). */
  schema?: string;
  logger?: Logger;
  /** Connections in this process's pool (default 10; 8 against the embedded server). */
  poolSize?: number;
  connectionTimeoutMs?: number;
  /**
   * Client-side limit per statement (default 120 s). Without it a server that stops answering
   * without closing the connection (paused, partitioned) would hang a flush until TCP gives up.
   */
  queryTimeoutMs?: number;
}

export async function openDb(options: OpenDbOptions = {}): Promise<Db> {
  const logger = options.logger ?? pino({ name: "agentbus.store" });
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const common = {
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    query_timeout: options.queryTimeoutMs ?? 120_000,
    keepAlive: true,
    application_name: "agentbus",
  };
  const url = options.databaseUrl?.trim();
  if (url) {
    return new PoolDb({ pool: { ...common, connectionString: url, max: options.poolSize ?? 10 }, schema, backend: "postgres", logger });
  }
  if (!options.dataDir) throw new ConfigError("no DATABASE_URL and no data folder for the embedded database");
  const endpoint = await startEmbedded({
    dataDir: options.dataDir,
    onTakeOver: ({ deadPid, port }) =>
      logger.warn({ dead_pid: deadPid, port }, `the process serving the embedded database (pid ${deadPid}) is gone: this process serves it now, on port ${port}`),
  });
  logger.info({ dir: join(options.dataDir, "pglite"), port: endpoint.port, owner: endpoint.owner }, "using the embedded database (set DATABASE_URL for a Postgres server)");
  return new PoolDb({
    pool: { ...common, host: endpoint.host, port: endpoint.port, user: "postgres", database: "postgres", max: options.poolSize ?? 8 },
    schema,
    backend: "pglite",
    logger,
    wrapParameterised: true,
    // The serving process may die: then this pool finds (or becomes) the new server.
    reconnect: () => endpoint.recover(),
    onClose: () => endpoint.stop(),
  });
}

/** openDb, then apply pending migrations. */
export async function openStore(options: OpenDbOptions = {}): Promise<Db> {
  const db = await openDb(options);
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
