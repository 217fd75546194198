/**
 * Runtime configuration from the environment, with embedded defaults: nothing set means one machine,
 * the project's own folders, UTC unless AGENTBUS_TIMEZONE says otherwise. This is the one place the
 * runtime reads process.env (the LLM's variables through their own loader, called from here).
 */
import { join, resolve } from "node:path";
import { Duration, IANAZone } from "luxon";
import { ConfigError } from "../errors/index.ts";
import { parseFetchAllow, type FetchAllowEntry } from "../capabilities/builtin/fetch-guard.ts";
import { loadLlmConfig, type LlmConfig } from "../llm/config.ts";
import { logFormat, type LogFormat } from "../log/logger.ts";
import { QUEUES_DIR } from "../paths.ts";

export interface RuntimeConfig {
  /** Deployment root: agents/, context/, governance/ are resolved against it. */
  root: string;
  agentsDir: string;
  dataDir: string;
  /** IANA zone that timestamps are rendered in. */
  timezone: string;
  /** Unset: use 127.0.0.1:6379 if it answers, otherwise start a private redis-server. */
  redisUrl: string | undefined;
  /** Unset: embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  /** BullMQ key prefix; separate deployments (and test files) on one Redis use different prefixes. */
  queuePrefix: string;
  /** Senders that are not agents but may start conversations (listed in agents' accepts.sources). */
  externalSources: string[];
  maxEnvelopeBytes: number;
  logLevel: string;
  /** LOG_LEVEL as client commands (submit, trace, demo …) use it: quiet (warn) unless set. */
  clientLogLevel: string;
  /** AGENTBUS_LOG_FORMAT / LOG_FORMAT: json or pretty; undefined guesses from whether stderr is a terminal. */
  logFormat: LogFormat | undefined;
  /** AGENTBUS_TOPOLOGY: the queue topology file (default queues/topology.json). */
  topologyFile: string;
  /** AGENTBUS_API_TOKEN: the HTTP API's token; unset, one is generated and kept under dataDir. */
  apiToken: string | undefined;
  /** AGENTBUS_REDIS_SERVER: the redis-server binary an embedded Redis is started with. */
  redisServerBinary: string;
  /**
   * The LLM configuration (OPENAI_API_KEY, ANTHROPIC_API_KEY, AGENTBUS_LLM_* …), read when asked:
   * commands that never call an LLM do not fail on its variables. Null: none configured.
   */
  llm: () => LlmConfig | null;
  /** Postgres schema holding agentbus's tables. */
  dbSchema: string;
  /** ISO-8601 duration: delivered-message audit rows older than this are pruned. */
  auditRetention: string;
  /** When the retention job runs (cron, in `timezone`). */
  retentionCron: string;
  /** Audit rows buffered while Postgres is away before new requests are refused. */
  auditMaxBuffered: number;
  /** Ed25519 key that signs audit checkpoints; kept outside the database, created on first use. */
  auditKeyFile: string;
  /** Folder (outside the database) that signed checkpoints are exported to. */
  auditCheckpointDir: string;
  /** Minutes between scheduled checkpoints (`agentbus start`). */
  auditCheckpointMinutes: number;
  /** The log's name in checkpoints (C2SP origin line) and the signing key's name. */
  auditOrigin: string;
  /** The agent that receives new requests (CLI submit, HTTP API). */
  entryAgent: string;
  httpHost: string;
  httpPort: number;
  /**
   * AGENTBUS_FETCH_ALLOW: what fetch may reach of the loopback, private, link-local and metadata
   * addresses it refuses by default (host, host:port, host:port-port, CIDR; comma-separated).
   */
  fetchAllow: FetchAllowEntry[];
  /** AGENTBUS_MEMORY_DIR: where approved rule files live (default <root>/context/memory). */
  memoryDir: string;
  /** AGENTBUS_REVIEW_SECURE_COOKIES=1: Secure cookies for the review UI even on loopback http. */
  reviewSecureCookies: boolean;
  /**
   * AGENTBUS_MEMORY_BATCH_RECORDS: unbatched workflow records that make the memory agent ask for a
   * batch (threshold trigger) besides its schedule; 0 disables it. Default 1000.
   */
  memoryBatchRecords: number;
  /**
   * The rollout guardrail (`agentbus start`): AGENTBUS_GUARDRAIL_INTERVAL_S seconds between runs
   * (default 300; 0: off), and its margins: AGENTBUS_GUARDRAIL_FAILURE_MARGIN (absolute, 0..1,
   * default 0.10), AGENTBUS_GUARDRAIL_DURATION_MARGIN (relative, default 0.25),
   * AGENTBUS_GUARDRAIL_MIN_SESSIONS (each side, default 20).
   */
  guardrail: GuardrailConfig;
}

export interface GuardrailConfig {
  intervalS: number;
  failureMargin: number;
  durationMargin: number;
  minSessions: number;
}

export type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
  // The deployment root is where agentbus is run from, unless said otherwise.
  const root = resolve(overrides.root ?? env.AGENTBUS_ROOT ?? process.cwd());
  const timezone = overrides.timezone ?? env.AGENTBUS_TIMEZONE ?? "UTC";
  if (!IANAZone.isValidZone(timezone)) {
    throw new ConfigError(`AGENTBUS_TIMEZONE=${timezone} is not an IANA time zone (e.g. UTC, Europe/Paris)`);
  }
  const maxEnvelopeBytes = overrides.maxEnvelopeBytes ?? positiveInt(env, "AGENTBUS_MAX_ENVELOPE_BYTES", 1024 * 1024);
  const prefix = overrides.queuePrefix ?? env.AGENTBUS_QUEUE_PREFIX ?? "agentbus";
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) {
    throw new ConfigError(`AGENTBUS_QUEUE_PREFIX=${prefix} may only use letters, digits, '_', '.', '-' (max 64)`);
  }
  const dataDir = resolve(root, overrides.dataDir ?? env.AGENTBUS_DATA_DIR ?? join("data"));
  const dbSchema = overrides.dbSchema ?? env.AGENTBUS_DB_SCHEMA ?? "agentbus";
  const auditOrigin = overrides.auditOrigin ?? env.AGENTBUS_AUDIT_ORIGIN ?? `agentbus/${dbSchema}`;
  if (!/^[^\s+]{1,200}$/u.test(auditOrigin)) throw new ConfigError(`AGENTBUS_AUDIT_ORIGIN=${auditOrigin} must be one word without spaces or '+' (it names the signing key)`);
  return {
    root,
    agentsDir: resolve(root, overrides.agentsDir ?? env.AGENTBUS_AGENTS_DIR ?? "agents"),
    dataDir,
    timezone,
    redisUrl: overrides.redisUrl ?? emptyToUndefined(env.REDIS_URL),
    databaseUrl: overrides.databaseUrl ?? emptyToUndefined(env.DATABASE_URL),
    queuePrefix: prefix,
    externalSources: overrides.externalSources ?? (env.AGENTBUS_EXTERNAL_SOURCES ?? "user,batch_scheduler").split(",").map((s) => s.trim()).filter(Boolean),
    maxEnvelopeBytes,
    logLevel: overrides.logLevel ?? env.LOG_LEVEL ?? "info",
    clientLogLevel: overrides.clientLogLevel ?? env.LOG_LEVEL ?? "warn",
    logFormat: overrides.logFormat ?? explicitLogFormat(env),
    topologyFile: resolve(root, overrides.topologyFile ?? env.AGENTBUS_TOPOLOGY ?? join(QUEUES_DIR, "topology.json")),
    apiToken: overrides.apiToken ?? emptyToUndefined(env.AGENTBUS_API_TOKEN),
    redisServerBinary: overrides.redisServerBinary ?? emptyToUndefined(env.AGENTBUS_REDIS_SERVER) ?? "redis-server",
    llm: overrides.llm ?? once(() => loadLlmConfig(env)),
    dbSchema,
    auditRetention: overrides.auditRetention ?? isoDuration(env, "AGENTBUS_AUDIT_RETENTION", "P30D"),
    retentionCron: overrides.retentionCron ?? env.AGENTBUS_RETENTION_CRON ?? "30 3 * * *",
    auditMaxBuffered: overrides.auditMaxBuffered ?? positiveInt(env, "AGENTBUS_AUDIT_MAX_BUFFERED", 100_000),
    auditKeyFile: resolve(root, overrides.auditKeyFile ?? env.AGENTBUS_AUDIT_KEY_FILE ?? join(dataDir, "keys", "audit-ed25519.pem")),
    auditCheckpointDir: resolve(root, overrides.auditCheckpointDir ?? env.AGENTBUS_AUDIT_CHECKPOINT_DIR ?? join(dataDir, "checkpoints")),
    auditCheckpointMinutes: overrides.auditCheckpointMinutes ?? positiveInt(env, "AGENTBUS_AUDIT_CHECKPOINT_MINUTES", 10),
    auditOrigin,
    entryAgent: overrides.entryAgent ?? env.AGENTBUS_ENTRY_AGENT ?? "planning_agent",
    httpHost: overrides.httpHost ?? env.AGENTBUS_HTTP_HOST ?? "127.0.0.1",
    httpPort: overrides.httpPort ?? (env.AGENTBUS_HTTP_PORT === "0" ? 0 : positiveInt(env, "AGENTBUS_HTTP_PORT", 8080)),
    fetchAllow: overrides.fetchAllow ?? parseFetchAllow(env.AGENTBUS_FETCH_ALLOW),
    memoryDir: resolve(root, overrides.memoryDir ?? env.AGENTBUS_MEMORY_DIR ?? join("context", "memory")),
    reviewSecureCookies: overrides.reviewSecureCookies ?? env.AGENTBUS_REVIEW_SECURE_COOKIES === "1",
    memoryBatchRecords: overrides.memoryBatchRecords ?? nonNegativeInt(env, "AGENTBUS_MEMORY_BATCH_RECORDS", 1000),
    guardrail: overrides.guardrail ?? {
      intervalS: nonNegativeInt(env, "AGENTBUS_GUARDRAIL_INTERVAL_S", 300),
      failureMargin: fraction(env, "AGENTBUS_GUARDRAIL_FAILURE_MARGIN", 0.1, 1),
      durationMargin: fraction(env, "AGENTBUS_GUARDRAIL_DURATION_MARGIN", 0.25, 100),
      minSessions: positiveInt(env, "AGENTBUS_GUARDRAIL_MIN_SESSIONS", 20),
    },
  };
}

/** The format the environment asks for, or undefined when it leaves it to the terminal guess. */
function explicitLogFormat(env: Env): LogFormat | undefined {
  const given = (env.AGENTBUS_LOG_FORMAT ?? env.LOG_FORMAT)?.trim().toLowerCase();
  if (given === undefined || given === "" || given === "auto") return undefined;
  return logFormat(env, false);
}

function once<T>(fn: () => T): () => T {
  let done = false;
  let value: T | undefined;
  return () => {
    if (!done) {
      value = fn();
      done = true;
    }
    return value as T;
  };
}

function isoDuration(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const d = Duration.fromISO(raw);
  if (!d.isValid || d.toMillis() <= 0) throw new ConfigError(`${name}=${raw} must be a positive ISO-8601 duration such as P30D or PT12H`);
  return raw;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${name}=${raw} must be a positive integer`);
  return n;
}

/** A decimal number from 0 to `max` (a share or a margin). */
function fraction(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(n) || n > max) throw new ConfigError(`${name}=${raw} must be a decimal number from 0 to ${max} (e.g. 0.1)`);
  return n;
}

function nonNegativeInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name}=${raw} must be a whole number (0 disables)`);
  return n;
}
