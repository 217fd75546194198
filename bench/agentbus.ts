/**
 * agentbus doing the same work: envelopes go through bus.publish (full validation, routing,
 * dead-letter checks) to plugin agents from bench/agents, started by Runtime.startAgents (validation
 * on receive, the handler, reply build, sequence claim, validation on send, enqueue).
 *
 * Two variants: without the store (`store: false`: the bus alone), and with the audit log on a real
 * Postgres (`store: true`, a schema of the run's own): every published, delivered and completed
 * envelope is appended to the AuditWriter, which commits batches in the background. With the audit
 * log, a trial's clock stops only once the last audit row is committed (Target.settle).
 */
import { join } from "node:path";
import type { BusObserver } from "../runtime/bus/events.ts";
import { summarize } from "../runtime/errors/index.ts";
import { loadConfig } from "../runtime/config/config.ts";
import type { AgentHost } from "../runtime/agents/host.ts";
import type { QueueTopology } from "../runtime/bus/topology.ts";
import { silentLogger } from "../runtime/log/logger.ts";
import { PROJECT_ROOT } from "../runtime/paths.ts";
import { Runtime } from "../runtime/runtime.ts";
import type { AuditWriter } from "../runtime/store/audit-writer.ts";
import { table, verifyAudit } from "../runtime/store/index.ts";
import type { BenchSystem, Target } from "./scenarios.ts";

export const BENCH_AGENTS = join(PROJECT_ROOT, "bench", "agents");
export const SINK_AGENT = "sink_agent";
export const HOP_AGENTS = ["hop1_agent", "hop2_agent", "hop3_agent", "hop4_agent"];

/** Lets the profiler wrap each host once it is started (before any job reaches it). */
export type HostHook = (host: AgentHost) => void;

export interface AgentbusOptions {
  redisUrl: string;
  prefix: string;
  topology: QueueTopology;
  /** The audit log on this Postgres, in this schema (created by migration, dropped by the caller); null: no store. */
  store: { databaseUrl: string; schema: string } | null;
  observers?: BusObserver[];
}

export class Agentbus implements BenchSystem {
  readonly label: "agentbus" | "audit";
  readonly sink: Target;
  readonly chain: Target;
  hostHook: HostHook | null = null;

  private constructor(readonly runtime: Runtime) {
    this.label = runtime.store ? "audit" : "agentbus";
    this.sink = this.target([SINK_AGENT]);
    this.chain = this.target(HOP_AGENTS);
  }

  static async open(options: AgentbusOptions): Promise<Agentbus> {
    const { store } = options;
    const config = loadConfig(
      {},
      {
        agentsDir: BENCH_AGENTS,
        redisUrl: options.redisUrl,
        queuePrefix: options.prefix,
        logLevel: "silent",
        ...(store ? { databaseUrl: store.databaseUrl, dbSchema: store.schema } : {}),
      },
    );
    const runtime = await Runtime.open({ config, logger: silentLogger(), topology: options.topology, store: store !== null, observers: options.observers ?? [] });
    if (runtime.agents.broken.length > 0) {
      await runtime.close();
      throw new Error(`bench agents failed to load: ${runtime.agents.broken.map((b) => `${b.file}: ${b.error}`).join("; ")}`);
    }
    return new Agentbus(runtime);
  }

  get bus(): Runtime["bus"] {
    return this.runtime.bus;
  }

  /** The audit writer, when the store is on. */
  get audit(): AuditWriter | undefined {
    return this.runtime.store?.audit;
  }

  private target(names: string[]): Target {
    let hosts: AgentHost[] = [];
    const target: Target = {
      start: async (concurrency, onDone) => {
        hosts = this.runtime.startAgents(names, { concurrency });
        for (const h of hosts) this.hostHook?.(h);
        hosts.at(-1)?.worker.on("completed", onDone);
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
    const writer = this.audit;
    if (writer) target.settle = () => committed(writer);
    return target;
  }

  /**
   * After the trials: every appended row committed, and `audit verify` passes on what the bench
   * wrote (hash chains, heads). Null without the store.
   */
  async checkAuditLog(): Promise<AuditLogCheck | null> {
    const store = this.runtime.store;
    if (!store) return null;
    const t0 = performance.now();
    const stats = store.audit.stats();
    const counted = await store.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table(store.db, "audit_log")}`);
    const result = await verifyAudit(store.db);
    return {
      appended: stats.appended,
      written: stats.written,
      rows_in_table: Number(counted.rows[0]?.n ?? Number.NaN),
      chains: result.chains,
      verify_ok: result.ok,
      problem: result.ok ? null : `${result.broken.map((b) => `${b.problem} at ${b.chainKey ?? "the commitment"} seq ${b.seq ?? "?"}: ${b.message}`).join("; ")}`,
      ms: performance.now() - t0,
    };
  }

  async close(): Promise<void> {
    await this.runtime.close();
  }
}

export interface AuditLogCheck {
  appended: number;
  written: number;
  rows_in_table: number;
  chains: number;
  verify_ok: boolean;
  problem: string | null;
  ms: number;
}

/**
 * Resolves when every row appended so far is committed, by the writer's own schedule (its flush
 * timer): nothing is forced, so the wait is the lag a reader of the audit log would see.
 */
export function committed(writer: AuditWriter, timeoutMs = 30_000): Promise<void> {
  const target = writer.stats().appended;
  if (writer.stats().written >= target) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onFlushed = (): void => {
      if (writer.stats().written < target) return;
      clearTimeout(timer);
      writer.off("flushed", onFlushed);
      resolve();
    };
    const timer = setTimeout(() => {
      writer.off("flushed", onFlushed);
      const s = writer.stats();
      reject(new Error(`audit rows not committed after ${timeoutMs} ms: ${s.written} of ${target} written, last error ${s.lastError ?? "none"}`));
    }, timeoutMs);
    writer.on("flushed", onFlushed);
  });
}
