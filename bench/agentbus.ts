/**
 * agentbus doing the same work: envelopes go through bus.publish (full validation, routing,
 * dead-letter checks) to plugin agents from bench/agents, hosted by the runtime's AgentHost
 * (validation on receive, the handler, reply build, sequence claim, validation on send, enqueue).
 */
import { join } from "node:path";
import { summarize } from "../runtime/errors/index.ts";
import { loadConfig } from "../runtime/config/config.ts";
import type { LoadedAgent } from "../runtime/agents/loader.ts";
import { AgentHost } from "../runtime/bus/worker-host.ts";
import type { QueueTopology } from "../runtime/bus/topology.ts";
import { silentLogger } from "../runtime/log/logger.ts";
import { PROJECT_ROOT } from "../runtime/paths.ts";
import { Runtime } from "../runtime/runtime.ts";
import type { BenchSystem, Target } from "./scenarios.ts";

export const BENCH_AGENTS = join(PROJECT_ROOT, "bench", "agents");
export const SINK_AGENT = "sink_agent";
export const HOP_AGENTS = ["hop1_agent", "hop2_agent", "hop3_agent", "hop4_agent"];

/** Lets the profiler wrap each host as it is created. */
export type HostHook = (host: AgentHost, agent: LoadedAgent) => void;

export class Agentbus implements BenchSystem {
  readonly label = "agentbus";
  readonly sink: Target;
  readonly chain: Target;
  hostHook: HostHook | null = null;

  private constructor(readonly runtime: Runtime) {
    this.sink = this.target([SINK_AGENT]);
    this.chain = this.target(HOP_AGENTS);
  }

  static async open(redisUrl: string, prefix: string, topology: QueueTopology): Promise<Agentbus> {
    const config = loadConfig({}, { agentsDir: BENCH_AGENTS, redisUrl, queuePrefix: prefix, logLevel: "silent" });
    const runtime = await Runtime.open({ config, logger: silentLogger(), topology });
    if (runtime.agents.broken.length > 0) {
      await runtime.close();
      throw new Error(`bench agents failed to load: ${runtime.agents.broken.map((b) => `${b.file}: ${b.error}`).join("; ")}`);
    }
    return new Agentbus(runtime);
  }

  get bus(): Runtime["bus"] {
    return this.runtime.bus;
  }

  /**
   * Hosts built as Runtime.startAgents builds them, except that the spec's concurrency is replaced
   * by the bench's --concurrency (startAgents has no such override).
   */
  private host(name: string, concurrency: number): AgentHost {
    const { runtime } = this;
    const loaded = runtime.agents.get(name);
    if (!loaded) throw new Error(`bench agent ${name} is not loaded`);
    const agent: LoadedAgent = { ...loaded, spec: { ...loaded.spec, concurrency } };
    const host = new AgentHost({ bus: runtime.bus, agent, redisUrl: runtime.redis.url, clock: runtime.clock, timezone: runtime.config.timezone, logger: runtime.logger });
    this.hostHook?.(host, agent);
    return host;
  }

  private target(names: string[]): Target {
    let hosts: AgentHost[] = [];
    return {
      start: async (concurrency, onDone) => {
        hosts = names.map((n) => this.host(n, concurrency));
        hosts.at(-1)?.worker.on("completed", onDone);
        for (const h of hosts) h.start();
        await Promise.all(hosts.map((h) => h.worker.waitUntilReady()));
      },
      send: async (env) => {
        const result = await this.bus.publish(env, "bench");
        if (!result.accepted) throw new Error(`bench envelope refused: ${summarize(result.issues, 5)}`);
      },
      stop: async () => {
        await Promise.all(hosts.map((h) => h.close()));
        hosts = [];
        const dead = await this.bus.deadLetters.count();
        await Promise.all(names.map((n) => this.bus.queue(n).obliterate({ force: true })));
        if (dead > 0) throw new Error(`${dead} message(s) were dead-lettered during the bench; see the dead_letter queue under ${this.bus.prefix}`);
      },
    };
  }

  async close(): Promise<void> {
    await this.runtime.close();
  }
}
