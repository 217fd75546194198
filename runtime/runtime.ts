/**
 * Composition root: configuration → schemas → agents → store → Redis → transport → gateway →
 * components → worker hosts. The CLI, the benchmark and the integration tests all start the system
 * through this. Everything opened is closed in reverse, also when opening fails half-way.
 */
import type { Logger } from "pino";
import { AgentbusError, ConfigError } from "./errors/index.ts";
import { RequestService } from "./http/request-service.ts";
import type { RuntimeConfig } from "./config/config.ts";
import { systemClock, type Clock } from "./envelope/clock.ts";
import { SchemaRegistry, schemaRegistry } from "./schemas/registry.ts";
import { loadAgents, type AgentRegistry } from "./agents/loader.ts";
import type { ApprovedRule } from "./agents/handler.ts";
import { Gateway } from "./agents/gateway.ts";
import { AgentHost } from "./agents/host.ts";
import type { DeliveryInterceptor } from "./agents/delivery/index.ts";
import { createServices, type ServicesFactory, type ServicesOptions } from "./agents/services.ts";
import { Bus } from "./bus/bus.ts";
import type { BusObserver } from "./bus/events.ts";
import { loadTopology, taskRetryPolicy, type QueueTopology } from "./bus/topology.ts";
import { OutageMonitor, type ResourceStatus } from "./bus/outage.ts";
import { checkEvictionPolicy, resolveRedis, type RedisHandle } from "./infra/redis.ts";
import { createLogger } from "./log/logger.ts";
import { auditRecorderComponent } from "./audit/component.ts";
import { AuditWriter } from "./store/audit-writer.ts";
import { openStore } from "./store/index.ts";
import { AgentStateStore } from "./store/agent-state.ts";
import type { CapabilityCatalog } from "./capabilities/types.ts";
import { builtinCapabilities } from "./capabilities/builtin/index.ts";
import { createLlmFactory, describeLlmConfig, memoryUsage, type LlmConfig } from "./llm/index.ts";
import { LlmUsageStore } from "./store/llm-usage.ts";
import { OpenedStack, type ComponentHost, type RuntimeComponent, type RuntimeStore } from "./component.ts";

export type { RuntimeComponent, RuntimeStore };

export interface RuntimeOptions {
  config: RuntimeConfig;
  logger?: Logger;
  clock?: Clock;
  registry?: SchemaRegistry;
  topology?: QueueTopology;
  observers?: BusObserver[];
  rules?: (agent: string) => readonly ApprovedRule[];
  /** Started in order after the core (store, Redis, bus) is open; closed in reverse. */
  components?: RuntimeComponent[];
  /** Only servers start a private redis-server when none is reachable. Default false. */
  mayStartEmbeddedRedis?: boolean;
  /**
   * The system of record: on by default (DATABASE_URL, or embedded PGlite under the data folder).
   * `false` runs the bus without an audit log (tests of the bus alone; `agentbus validate`).
   */
  store?: boolean;
  /** Audit writer tuning (tests use small values). */
  audit?: { flushIntervalMs?: number; maxBuffered?: number };
  /** The LLM for a message's handler. Default: built from the configuration (config.llm()). */
  llm?: ServicesOptions["llm"];
  /** LLM configuration; default config.llm() (OPENAI_API_KEY, …); null: no LLM, deterministic agents. */
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

interface Core {
  config: RuntimeConfig;
  registry: SchemaRegistry;
  topology: QueueTopology;
  agents: AgentRegistry;
  transport: Bus;
  bus: Gateway;
  redis: RedisHandle;
  logger: Logger;
  clock: Clock;
  store: RuntimeStore | undefined;
  services: ServicesFactory;
  rules: RuntimeOptions["rules"];
  components: RuntimeComponent[];
}

export class Runtime implements ComponentHost {
  readonly config: RuntimeConfig;
  readonly registry: SchemaRegistry;
  readonly agents: AgentRegistry;
  /** The gateway: validate, publish, replay, dead letters, observers (the audit log is one). */
  readonly bus: Gateway;
  /** The transport under the gateway: queues, consumers, claims, dead-letter queue. */
  readonly transport: Bus;
  readonly redis: RedisHandle;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Absent when the runtime was opened with `store: false`. */
  readonly store: RuntimeStore | undefined;
  readonly components: readonly RuntimeComponent[];
  /** Outages of Postgres/Redis seen by deliveries; shared by every host of this runtime. */
  readonly outages: OutageMonitor;
  private readonly topology: QueueTopology;
  private readonly services: ServicesFactory;
  private readonly rules: RuntimeOptions["rules"];
  private readonly interceptors: DeliveryInterceptor[];
  private hosts: AgentHost[] = [];
  /** The core (store, Redis, transport, the audit recorder), closed last. */
  private readonly core = new OpenedStack();
  /** Components started, closed first. */
  private readonly started = new OpenedStack();
  private closed = false;

  private constructor(core: Core) {
    this.config = core.config;
    this.registry = core.registry;
    this.topology = core.topology;
    this.agents = core.agents;
    this.transport = core.transport;
    this.bus = core.bus;
    this.redis = core.redis;
    this.logger = core.logger;
    this.clock = core.clock;
    this.store = core.store;
    this.services = core.services;
    this.rules = core.rules;
    this.components = core.components;
    this.interceptors = core.components.flatMap((c) => c.interceptors?.() ?? []);
    const db = core.store?.db;
    const connection = core.transport.connection;
    this.outages = new OutageMonitor({
      logger: core.logger,
      clock: core.clock,
      probes: { redis: () => connection.ping(), ...(db ? { store: () => db.query("SELECT 1") } : {}) },
    });
  }

  static async open(options: RuntimeOptions): Promise<Runtime> {
    const { config } = options;
    const logger = options.logger ?? createLogger(config.logLevel, "agentbus", { format: config.logFormat });
    const clock = options.clock ?? systemClock;
    const registry = options.registry ?? schemaRegistry();
    const topology = options.topology ?? loadTopology(registry, config.topologyFile);
    const agents = await loadAgents({ agentsDir: config.agentsDir, root: config.root, registry, externalSources: config.externalSources });
    for (const b of agents.broken) logger.error({ folder: b.folder, file: b.file }, `agent not loaded: ${b.file}: ${b.error}`);
    const opened = new OpenedStack();
    let runtime: Runtime | undefined;
    try {
      const store = options.store === false ? undefined : await openRuntimeStore(config, logger, clock, options.audit);
      if (store) opened.push("store", () => closeStore(store));
      const redis = await resolveRedis({ redisUrl: config.redisUrl, dataDir: config.dataDir, logger, mayStartEmbedded: options.mayStartEmbeddedRedis ?? false, binary: config.redisServerBinary });
      opened.push("redis", () => redis.stop());
      const transport = new Bus({ redisUrl: redis.url, prefix: config.queuePrefix, topology, spec: (name) => agents.spec(name), logger });
      opened.push("bus", () => transport.close());
      const warning = await checkEvictionPolicy(transport.connection);
      if (warning) logger.warn(warning);
      const llmConfig = options.llmConfig !== undefined ? options.llmConfig : config.llm();
      const llm = options.llm ?? createLlmFactory(llmConfig, { usage: store ? new LlmUsageStore(store.db) : memoryUsage(), registry, logger });
      if (!options.llm) logger.info(describeLlmConfig(llmConfig));
      const services = createServices({
        ...(store ? { store: { db: store.db, state: new AgentStateStore(store.db) } } : {}),
        llm,
        capabilities: options.capabilities ?? builtinCapabilities({ fetch: { allow: config.fetchAllow } }),
        settings: { memoryBatchRecords: config.memoryBatchRecords },
      });
      const bus = new Gateway({ transport, registry, routes: agents, clock, logger, maxEnvelopeBytes: config.maxEnvelopeBytes });
      runtime = new Runtime({ config, registry, topology, agents, transport, bus, redis, logger, clock, store, services, rules: options.rules, components: options.components ?? [] });
      runtime.adoptCore(opened);
      // The audit log is told of every event first: its veto (buffer full) stops an action before anyone else records it.
      if (store) await runtime.startCore(auditRecorderComponent());
      for (const o of options.observers ?? []) bus.addObserver(o);
      for (const component of runtime.components) {
        await component.start(runtime);
        runtime.started.push(component.name, () => component.close());
      }
      return runtime;
    } catch (err) {
      const onError = (name: string, closeErr: unknown): void => logger.error({ err: errorText(closeErr), component: name }, `could not close ${name} after a failed start`);
      if (runtime) await runtime.teardown(onError);
      else await opened.closeAll(onError);
      throw err;
    }
  }

  private adoptCore(opened: OpenedStack): void {
    this.core.push("opened", () => opened.closeAll((name, err) => this.logger.error({ err: errorText(err), component: name }, `could not close ${name}`)));
    this.core.push("outages", () => this.outages.close());
  }

  private async startCore(component: RuntimeComponent): Promise<void> {
    await component.start(this);
    this.core.push(component.name, () => component.close());
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
    const retryPolicy = taskRetryPolicy(this.topology);
    const started: AgentHost[] = [];
    for (const name of names) {
      const loaded = this.agents.get(name);
      if (!loaded) continue;
      const agent = overrides.concurrency ? { ...loaded, spec: { ...loaded.spec, concurrency: overrides.concurrency } } : loaded;
      const host = new AgentHost({
        gateway: this.bus,
        agent,
        clock: this.clock,
        timezone: this.config.timezone,
        logger: this.logger,
        registry: this.registry,
        retryPolicy,
        services: this.services,
        outages: this.outages,
        interceptors: this.interceptors,
        ...(this.rules ? { rules: this.rules } : {}),
      });
      host.start();
      this.hosts.push(host);
      started.push(host);
    }
    return started;
  }

  /** The agents this runtime has started workers for (startAgents), each named once. */
  runningAgents(): string[] {
    return [...new Set(this.hosts.map((h) => h.agentName))].sort();
  }

  /** The request API over this runtime's bus and store (CLI submit, HTTP). */
  requestService(): RequestService {
    if (!this.store) throw new AgentbusError("STORE_REQUIRED", "taking requests needs the system of record; open the runtime with a store");
    return new RequestService({ bus: this.bus, db: this.store.db, registry: this.registry, clock: this.clock, timezone: this.config.timezone, entryAgent: this.config.entryAgent });
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

  holdAgents(reason: string): void {
    for (const h of this.hosts) h.hold(reason);
  }

  releaseAgents(reason: string): void {
    for (const h of this.hosts) h.release(reason);
  }

  /**
   * Graceful: components stop (the HTTP API, maintenance jobs), workers finish their current jobs,
   * then the audit log is flushed, then connections, the database and any embedded Redis stop.
   */
  async close(): Promise<void> {
    await this.teardown((name, err) => this.logger.error({ err: errorText(err), component: name }, `could not close ${name}`));
  }

  private async teardown(onError: (name: string, err: unknown) => void): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.started.closeAll(onError);
    const hosts = this.hosts;
    this.hosts = [];
    await Promise.all(hosts.map((h) => h.close().catch((err: unknown) => onError(`${h.worker.name} worker`, err))));
    await this.core.closeAll(onError);
  }
}

async function openRuntimeStore(config: RuntimeConfig, logger: Logger, clock: Clock, tuning: RuntimeOptions["audit"] = {}): Promise<RuntimeStore> {
  const db = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.dbSchema, logger });
  const audit = new AuditWriter(db, { logger, clock, maxBuffered: tuning.maxBuffered ?? config.auditMaxBuffered, ...(tuning.flushIntervalMs ? { flushIntervalMs: tuning.flushIntervalMs } : {}) });
  return { db, audit };
}

async function closeStore(store: RuntimeStore): Promise<void> {
  try {
    await store.audit.close();
  } finally {
    await store.db.close();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
