/**
 * Composition root: configuration → schemas → agents → Redis → bus → worker hosts.
 * The CLI, the benchmark and the integration tests all start the system through this.
 */
import type { Logger } from "pino";
import { ConfigError } from "./errors/index.ts";
import type { RuntimeConfig } from "./config/config.ts";
import { systemClock, type Clock } from "./envelope/clock.ts";
import { SchemaRegistry, schemaRegistry } from "./schemas/registry.ts";
import { loadAgents, type AgentRegistry } from "./agents/loader.ts";
import type { ApprovedRule } from "./agents/handler.ts";
import { Bus } from "./bus/bus.ts";
import type { BusObserver } from "./bus/events.ts";
import { loadTopology, type QueueTopology } from "./bus/topology.ts";
import { AgentHost } from "./bus/worker-host.ts";
import { checkEvictionPolicy, resolveRedis, type RedisHandle } from "./infra/redis.ts";
import { createLogger } from "./log/logger.ts";

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
}

export class Runtime {
  private hosts: AgentHost[] = [];
  private closed = false;

  private constructor(
    readonly config: RuntimeConfig,
    readonly registry: SchemaRegistry,
    readonly agents: AgentRegistry,
    readonly bus: Bus,
    readonly redis: RedisHandle,
    readonly logger: Logger,
    readonly clock: Clock,
    private readonly rules: RuntimeOptions["rules"],
  ) {}

  static async open(options: RuntimeOptions): Promise<Runtime> {
    const { config } = options;
    const logger = options.logger ?? createLogger(config.logLevel);
    const clock = options.clock ?? systemClock;
    const registry = options.registry ?? schemaRegistry();
    const topology = options.topology ?? loadTopology(registry);
    const agents = await loadAgents({ agentsDir: config.agentsDir, root: config.root, registry, externalSources: config.externalSources });
    for (const b of agents.broken) logger.error({ folder: b.folder, file: b.file }, `agent not loaded: ${b.file}: ${b.error}`);
    const redis = await resolveRedis({ redisUrl: config.redisUrl, dataDir: config.dataDir, logger, mayStartEmbedded: options.mayStartEmbeddedRedis ?? false });
    const bus = new Bus({
      redisUrl: redis.url,
      prefix: config.queuePrefix,
      registry,
      routes: agents,
      topology,
      clock,
      logger,
      maxEnvelopeBytes: config.maxEnvelopeBytes,
      observers: options.observers ?? [],
    });
    const warning = await checkEvictionPolicy(bus.connection);
    if (warning) logger.warn(warning);
    return new Runtime(config, registry, agents, bus, redis, logger, clock, options.rules);
  }

  /** Start a worker for each named agent (all loaded agents by default). */
  startAgents(names: readonly string[] = this.agents.names()): AgentHost[] {
    const unknown = names.filter((n) => !this.agents.get(n));
    if (unknown.length > 0) {
      throw new ConfigError(`cannot start unknown agent(s): ${unknown.join(", ")} (loaded: ${this.agents.names().join(", ") || "none"})`);
    }
    for (const name of names) {
      const agent = this.agents.get(name);
      if (!agent) continue;
      const host = new AgentHost({
        bus: this.bus,
        agent,
        redisUrl: this.redis.url,
        clock: this.clock,
        timezone: this.config.timezone,
        logger: this.logger,
        ...(this.rules ? { rules: this.rules } : {}),
      });
      host.start();
      this.hosts.push(host);
    }
    return this.hosts;
  }

  /** Graceful: workers finish their current jobs, then connections and any embedded Redis stop. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.hosts.map((h) => h.close()));
    await this.bus.close();
    await this.redis.stop();
  }
}
