/**
 * Composition root: configuration → schemas → agents → Redis → bus → worker hosts.
 * The CLI, the benchmark and the integration tests all start the system through this.
 */
import type { Logger } from "pino";
import { AgentbusError, ConfigError } from "./errors/index.ts";
import { RequestService } from "./http/request-service.ts";
import { startHttpServer, type HttpServerHandle } from "./http/server.ts";
import type { RuntimeConfig } from "./config/config.ts";
import { systemClock, type Clock } from "./envelope/clock.ts";
import { SchemaRegistry, schemaRegistry } from "./schemas/registry.ts";
import { loadAgents, type AgentRegistry } from "./agents/loader.ts";
import type { ApprovedRule } from "./agents/handler.ts";
import { Bus } from "./bus/bus.ts";
import type { BusObserver } from "./bus/events.ts";
import { loadTopology, type QueueTopology } from "./bus/topology.ts";
import { AgentHost } from "./bus/worker-host.ts";
import { OutageMonitor, type ResourceStatus } from "./bus/outage.ts";
import { checkEvictionPolicy, resolveRedis, workerConnectionOptions, type RedisHandle } from "./infra/redis.ts";
import { createLogger } from "./log/logger.ts";
import { AuditRecorder } from "./audit/recorder.ts";
import { RetentionJob } from "./audit/retention-job.ts";
import { CheckpointJob } from "./audit/checkpoint-job.ts";
import { AuditWriter } from "./store/audit-writer.ts";
import { openStore } from "./store/index.ts";
import type { Db } from "./store/db.ts";
import { AgentStateStore } from "./store/agent-state.ts";
import { createServices, type ServicesFactory, type ServicesOptions } from "./agents/services.ts";
import type { CapabilityCatalog } from "./capabilities/types.ts";
import { builtinCapabilities } from "./capabilities/builtin/index.ts";
import { createLlmFactory, describeLlmConfig, loadLlmConfig, memoryUsage, type LlmConfig } from "./llm/index.ts";
import { LlmUsageStore } from "./store/llm-usage.ts";
import { Redis } from "ioredis";

export interface RuntimeOptions {
  config: RuntimeConfig;
  logger?: Logger;
  clock?: Clock;
  registry?: SchemaRegistry;
  topology?: QueueTopology;
  observers?: BusObserver[];
  rules?: (agent: string) => readonly ApprovedRule[];
  /** Only servers start a private redis-server when none is reachable. Default false. */
  mayStartEmbeddedRedis?: boolean;
  /**
   * The system of record: on by default (DATABASE_URL, or embedded PGlite under the data folder).
   * `false` runs the bus without an audit log (tests of the bus alone; `agentbus validate`).
   */
  store?: boolean;
  /** Audit writer tuning (tests use small values). */
  audit?: { flushIntervalMs?: number; maxBuffered?: number };
  /** The LLM for a message's handler. Default: built from the environment (OPENAI_API_KEY, …). */
  llm?: ServicesOptions["llm"];
  /** LLM configuration; default loadLlmConfig(process.env); null: no LLM, deterministic agents. */
  llmConfig?: LlmConfig | null;
  /** The capabilities agents see as ctx.capabilities. */
  capabilities?: CapabilityCatalog;
}

/** What `Runtime.health()` reports: whether Postgres and Redis answer, and the audit log's state. */
export interface RuntimeHealth {
  ok: boolean;
  store: ResourceStatus | null;
  redis: ResourceStatus;
  audit: { accepting: boolean; buffered: number; flush_errors: number } | null;
  paused_agents: string[];
}

/** The store side of a runtime: the database and the audit log writer. */
export interface RuntimeStore {
  db: Db;
  audit: AuditWriter;
}

export class Runtime {
  private hosts: AgentHost[] = [];
  private closed = false;
  private retention: RetentionJob | undefined;
  private checkpoints: CheckpointJob | undefined;
  private http: HttpServerHandle | undefined;
  private maintenanceConnection: Redis | undefined;
  /** Outages of Postgres/Redis seen by deliveries; shared by every host of this runtime. */
  readonly outages: OutageMonitor;

  private constructor(
    readonly config: RuntimeConfig,
    readonly registry: SchemaRegistry,
    readonly agents: AgentRegistry,
    readonly bus: Bus,
    readonly redis: RedisHandle,
    readonly logger: Logger,
    readonly clock: Clock,
    private readonly rules: RuntimeOptions["rules"],
    /** Absent when the runtime was opened with `store: false`. */
    readonly store: RuntimeStore | undefined,
    private readonly services: ServicesFactory,
  ) {
    const db = store?.db;
    this.outages = new OutageMonitor({
      logger,
      clock,
      probes: { redis: () => bus.connection.ping(), ...(db ? { store: () => db.query("SELECT 1") } : {}) },
    });
    // Backpressure: while the audit log cannot take rows, workers stop taking jobs (they wait,
    // durable, in Redis) and publishes are refused; both resume when the buffer drains.
    store?.audit.on("refusing", () => this.pauseAgents());
    store?.audit.on("accepting", () => this.resumeAgents());
  }

  static async open(options: RuntimeOptions): Promise<Runtime> {
    const { config } = options;
    const logger = options.logger ?? createLogger(config.logLevel);
    const clock = options.clock ?? systemClock;
    const registry = options.registry ?? schemaRegistry();
    const topology = options.topology ?? loadTopology(registry);
    const agents = await loadAgents({ agentsDir: config.agentsDir, root: config.root, registry, externalSources: config.externalSources });
    for (const b of agents.broken) logger.error({ folder: b.folder, file: b.file }, `agent not loaded: ${b.file}: ${b.error}`);
    const store = options.store === false ? undefined : await openRuntimeStore(config, logger, options.audit);
    let redis: RedisHandle;
    try {
      redis = await resolveRedis({ redisUrl: config.redisUrl, dataDir: config.dataDir, logger, mayStartEmbedded: options.mayStartEmbeddedRedis ?? false });
    } catch (err) {
      await closeStore(store);
      throw err;
    }
    const recorder = store ? new AuditRecorder(store.audit) : undefined;
    const bus = new Bus({
      redisUrl: redis.url,
      prefix: config.queuePrefix,
      registry,
      routes: agents,
      topology,
      clock,
      logger,
      maxEnvelopeBytes: config.maxEnvelopeBytes,
      observers: [...(recorder ? [recorder] : []), ...(options.observers ?? [])],
      ...(recorder ? { gate: recorder } : {}),
    });
    const warning = await checkEvictionPolicy(bus.connection);
    if (warning) logger.warn(warning);
    const llmConfig = options.llmConfig !== undefined ? options.llmConfig : loadLlmConfig();
    const llm = options.llm ?? createLlmFactory(llmConfig, { usage: store ? new LlmUsageStore(store.db) : memoryUsage(), registry, logger });
    if (!options.llm) logger.info(describeLlmConfig(llmConfig));
    const services = createServices({
      ...(store ? { store: { db: store.db, state: new AgentStateStore(store.db) } } : {}),
      llm,
      capabilities: options.capabilities ?? builtinCapabilities({ fetch: { allow: config.fetchAllow } }),
    });
    return new Runtime(config, registry, agents, bus, redis, logger, clock, options.rules, store, services);
  }

  /**
   * Start a worker for each named agent (all loaded agents by default) and return the new hosts.
   * `concurrency` overrides the specs' (benchmarks compare like with like through it).
   */
  startAgents(names: readonly string[] = this.agents.names(), overrides: { concurrency?: number } = {}): AgentHost[] {
    const unknown = names.filter((n) => !this.agents.get(n));
    if (unknown.length > 0) {
      throw new ConfigError(`cannot start unknown agent(s): ${unknown.join(", ")} (loaded: ${this.agents.names().join(", ") || "none"})`);
    }
    const started: AgentHost[] = [];
    for (const name of names) {
      const loaded = this.agents.get(name);
      if (!loaded) continue;
      const agent = overrides.concurrency ? { ...loaded, spec: { ...loaded.spec, concurrency: overrides.concurrency } } : loaded;
      const host = new AgentHost({
        bus: this.bus,
        agent,
        redisUrl: this.redis.url,
        clock: this.clock,
        timezone: this.config.timezone,
        logger: this.logger,
        services: this.services,
        outages: this.outages,
        ...(this.rules ? { rules: this.rules } : {}),
      });
      host.start();
      this.hosts.push(host);
      started.push(host);
    }
    return started;
  }

  /** Schedules the audit retention and checkpoint jobs (servers only: `agentbus start`). */
  async startMaintenance(): Promise<void> {
    if (!this.store || this.retention) return;
    this.maintenanceConnection = new Redis(workerConnectionOptions(this.redis.url));
    this.retention = new RetentionJob({
      db: this.store.db,
      connection: this.bus.connection,
      workerConnection: this.maintenanceConnection,
      prefix: this.config.queuePrefix,
      cron: this.config.retentionCron,
      timezone: this.config.timezone,
      period: this.config.auditRetention,
      clock: this.clock,
      logger: this.logger,
    });
    await this.retention.start();
    this.checkpoints = new CheckpointJob({
      db: this.store.db,
      connection: this.bus.connection,
      workerConnection: this.maintenanceConnection,
      prefix: this.config.queuePrefix,
      everyMinutes: this.config.auditCheckpointMinutes,
      keyFile: this.config.auditKeyFile,
      origin: this.config.auditOrigin,
      dir: this.config.auditCheckpointDir,
      logger: this.logger,
    });
    await this.checkpoints.start();
  }

  /** The request API over this runtime's bus and store (CLI submit, HTTP). */
  requestService(): RequestService {
    if (!this.store) throw new AgentbusError("STORE_REQUIRED", "taking requests needs the system of record; open the runtime with a store");
    return new RequestService({ bus: this.bus, db: this.store.db, registry: this.registry, clock: this.clock, timezone: this.config.timezone, entryAgent: this.config.entryAgent });
  }

  /** Serves the HTTP API until close(). */
  async startHttp(options: { host?: string; port?: number; token: string; mount?: (app: import("express").Express) => void }): Promise<string> {
    this.http = await startHttpServer(this.requestService(), { host: options.host ?? this.config.httpHost, port: options.port ?? this.config.httpPort, token: options.token, logger: this.logger, health: () => this.health(), ...(options.mount ? { mount: options.mount } : {}) });
    return this.http.url;
  }

  /** Whether Postgres and Redis answer (as the deliveries found them) and how the audit log is doing. */
  health(): RuntimeHealth {
    const outages = this.outages.status();
    const audit = this.store?.audit.stats();
    const paused = this.hosts.filter((h) => h.worker.isPaused()).map((h) => h.worker.name);
    const store = this.store ? outages.store : null;
    return {
      ok: (store?.available ?? true) && outages.redis.available && (audit?.accepting ?? true),
      store,
      redis: outages.redis,
      audit: audit ? { accepting: audit.accepting, buffered: audit.buffered, flush_errors: audit.flushErrors } : null,
      paused_agents: paused,
    };
  }

  private pauseAgents(): void {
    this.logger.error("audit log cannot keep up or is unreachable: pausing agent workers and refusing new requests");
    for (const h of this.hosts) h.hold("audit");
  }

  private resumeAgents(): void {
    this.logger.warn("audit log caught up: resuming agent workers");
    for (const h of this.hosts) h.release("audit");
  }

  /**
   * Graceful: workers finish their current jobs, then the audit log is flushed, then connections,
   * the database and any embedded Redis stop.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.http?.close();
    this.outages.close();
    await Promise.all(this.hosts.map((h) => h.close()));
    await this.retention?.close();
    await this.checkpoints?.close();
    await this.bus.close();
    this.maintenanceConnection?.disconnect();
    await closeStore(this.store);
    await this.redis.stop();
  }
}

async function openRuntimeStore(config: RuntimeConfig, logger: Logger, tuning: RuntimeOptions["audit"] = {}): Promise<RuntimeStore> {
  const db = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.dbSchema, logger });
  const audit = new AuditWriter(db, { logger, maxBuffered: tuning.maxBuffered ?? config.auditMaxBuffered, ...(tuning.flushIntervalMs ? { flushIntervalMs: tuning.flushIntervalMs } : {}) });
  return { db, audit };
}

async function closeStore(store: RuntimeStore | undefined): Promise<void> {
  if (!store) return;
  try {
    await store.audit.close();
  } finally {
    await store.db.close();
  }
}
