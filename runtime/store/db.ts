/**
 * The query interface the rest of the runtime uses, implemented once over `pg.Pool`. The same
 * implementation serves a real Postgres (`DATABASE_URL`) and the embedded PGlite, which is reached
 * through its socket server (see embedded.ts), so there is one store code path.
 */
import pg from "pg";
import type { QueryResult, QueryResultRow } from "pg";
import { AgentbusError, ConfigError, InfrastructureError } from "../errors/index.ts";

export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface Db extends Queryable {
  /** Postgres schema that holds every agentbus table of this instance. */
  readonly schema: string;
  readonly backend: "postgres" | "pglite";
  /**
   * Runs `fn` in one transaction on one connection; commits if it resolves, rolls back if it throws.
   * Inside `fn` use only `tx`: on the embedded backend, transactions are serialised, so a query on
   * the Db itself would wait for this transaction to end.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const DEFAULT_SCHEMA = "agentbus";

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`schema name ${JSON.stringify(schema)} must match ${String(SCHEMA_NAME)}`);
  }
  return schema;
}

/** `"schema"."name"`, for building SQL; schema names are validated, table names are ours. */
export function table(db: Pick<Db, "schema">, name: string): string {
  return `"${db.schema}"."${name}"`;
}

export interface PoolDbOptions {
  pool: pg.PoolConfig;
  schema: string;
  backend: Db["backend"];
  logger: Logger;
  /**
   * Run every parameterised statement inside BEGIN/COMMIT. Needed for PGlite's socket multiplexer:
   * outside a transaction it interleaves the Parse/Bind/Execute messages of different connections
   * when one of them spans several TCP reads (large parameters), so a statement can run with another
   * connection's parameters. Inside a transaction it serves only the connection that opened it.
   */
  wrapParameterised?: boolean;
  /**
   * The server's address may change (the embedded server was taken over by another process): when
   * a connection cannot be made, find the server again and retry on the new address. Only the
   * connecting step is retried, so nothing that reached a server runs twice.
   */
  reconnect?: () => Promise<{ host: string; port: number }>;
  onClose?: () => Promise<void>;
}

export class PoolDb implements Db {
  readonly schema: string;
  readonly backend: Db["backend"];
  private pool: pg.Pool;
  private readonly poolConfig: pg.PoolConfig;
  private readonly logger: Logger;
  private readonly reconnect: PoolDbOptions["reconnect"];
  private recovering: Promise<void> | undefined;
  private readonly wrap: boolean;
  private readonly onClose: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(options: PoolDbOptions) {
    this.schema = assertSchemaName(options.schema);
    this.backend = options.backend;
    this.wrap = options.wrapParameterised ?? false;
    this.onClose = options.onClose;
    this.poolConfig = options.pool;
    this.logger = options.logger;
    this.reconnect = options.reconnect;
    this.pool = this.newPool(options.pool);
  }

  private newPool(config: pg.PoolConfig): pg.Pool {
    const pool = new pg.Pool(config);
    // An idle client whose server went away emits 'error'; unhandled, that would kill the process.
    // pg hangs the whole client object on that error: log the cause alone, on one line.
    pool.on("error", (err) => this.logger.warn(connectionCause(err), `postgres connection lost: ${connectionCause(err).cause}`));
    return pool;
  }

  /** A connection from the pool; with `reconnect`, a refused connection finds the server again first. */
  private async acquire(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      const translated = translate(err);
      if (!this.reconnect || !(translated instanceof InfrastructureError)) throw translated;
      await this.recover(translated);
      try {
        return await this.pool.connect();
      } catch (again) {
        throw translate(again);
      }
    }
  }

  private recover(cause: InfrastructureError): Promise<void> {
    const reconnect = this.reconnect;
    if (!reconnect) return Promise.resolve();
    this.recovering ??= (async () => {
      try {
        const { host, port } = await reconnect();
        if (host === this.poolConfig.host && port === this.poolConfig.port) return;
        this.logger.warn({ host, port, cause: cause.message }, `database server moved to ${host}:${port}; reconnecting`);
        const old = this.pool;
        Object.assign(this.poolConfig, { host, port });
        this.pool = this.newPool(this.poolConfig);
        old.end().catch(() => undefined);
      } catch (err) {
        throw translate(err);
      } finally {
        this.recovering = undefined;
      }
    })();
    return this.recovering;
  }

  async query<R extends QueryResultRow = QueryResultRow>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    this.assertOpen();
    if (this.wrap && params !== undefined && params.length > 0) {
      return this.transaction((tx) => tx.query<R>(text, params));
    }
    if (this.reconnect) return this.onClient((client) => client.query<R>(text, params === undefined ? undefined : [...params]));
    try {
      return await this.pool.query<R>(text, params === undefined ? undefined : [...params]);
    } catch (err) {
      throw translate(err);
    }
  }

  /** One statement on one checked-out client; a client whose connection broke is destroyed. */
  private async onClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.acquire();
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on("error", onError);
    try {
      return await fn(client);
    } catch (err) {
      if (translate(err) instanceof InfrastructureError) broken ??= err instanceof Error ? err : new Error(String(err));
      throw translate(err);
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.assertOpen();
    const client = await this.acquire();
    const tx: Queryable = {
      query: async <R extends QueryResultRow = QueryResultRow>(text: string, params?: readonly unknown[]) => {
        try {
          return await client.query<R>(text, params === undefined ? undefined : [...params]);
        } catch (err) {
          throw translate(err);
        }
      },
    };
    // A checked-out client whose connection drops between queries emits 'error'; without a
    // listener that is an uncaught exception. Keep it, and destroy the client on release.
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const result = await fn(tx);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
      } catch (rollbackErr) {
        // The connection is unusable; destroy it instead of returning it to the pool.
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      }
      throw translate(err);
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
    if (this.onClose) await this.onClose();
  }

  private assertOpen(): void {
    if (this.closed) throw new AgentbusError("STORE_CLOSED", "the store has been closed");
  }
}

/** `{code, cause}` of a connection error, without the client object pg attaches to it. */
export function connectionCause(err: unknown): { code: string; cause: string } {
  const code = (err as { code?: unknown } | null)?.code;
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").slice(0, 300);
  return { code: typeof code === "string" ? code : "CONNECTION_LOST", cause: message };
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "57P01", "57P03", "08000", "08001", "08003", "08006"]);

/**
 * Connection failures become a recoverable STORE_UNAVAILABLE; SQL errors pass through untouched.
 * That includes the pool's own wait for a free connection timing out ("timeout exceeded when trying
 * to connect"): with every connection stuck on a server that stopped answering, that is the first
 * error a new query sees, and it is an outage, not a bug (HTTP maps it to 503).
 */
export function translate(err: unknown): unknown {
  if (err instanceof AgentbusError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const lost = (typeof code === "string" && CONNECTION_CODES.has(code)) || /Connection terminated|connection timeout|Query read timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message);
  return lost ? new InfrastructureError("STORE_UNAVAILABLE", `postgres unreachable: ${message}`, { cause: err }) : err;
}
