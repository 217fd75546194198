/**
 * The two scenarios, written once against a Target so raw BullMQ and agentbus run the very same
 * driver: flood (add → process throughput) and chains (4-queue hop chain, windowed in-flight).
 */
import { randomBytes } from "node:crypto";
import { buildRequest } from "../runtime/envelope/build.ts";
import { systemClock } from "../runtime/envelope/clock.ts";
import type { Envelope } from "../runtime/envelope/types.ts";
import { cpuDelta, type CpuSnapshot } from "./postgres.ts";
import { drainStamps, stamp } from "./probe.ts";
import { countdown, hopSamples, type HopSamples } from "./stats.ts";

export const HOPS = 4;
const STALL_MS = 30_000;

/** One system's consumer(s) for one scenario. */
export interface Target {
  /** Start the worker(s) with this concurrency; onDone fires once per finished message or chain. */
  start(concurrency: number, onDone: () => void): Promise<void>;
  /** Hand one message to the system (raw: queue.add; agentbus: bus.publish). */
  send(env: Envelope): Promise<void>;
  /**
   * Resolves once every side effect of the messages finished so far is durable (agentbus with the
   * audit log: the last audit row committed); absent when there is none. The trial's clock stops
   * after it, so throughput includes it; the wait itself is reported as the flush lag.
   */
  settle?(): Promise<void>;
  /** Stop the worker(s) and delete the queues' jobs, so every trial starts from empty queues. */
  stop(): Promise<void>;
}

/** raw BullMQ, agentbus without the store, agentbus with the audit log on real Postgres. */
export type SystemLabel = "raw" | "agentbus" | "audit";

export interface BenchSystem {
  readonly label: SystemLabel;
  readonly sink: Target;
  readonly chain: Target;
  close(): Promise<void>;
}

export interface FloodResult {
  count: number;
  /** First send → last completion and, where the target has one, settle() (audit rows committed). */
  ms: number;
  perSec: number;
  /** First send → last completion: the bus alone, with audit rows possibly still buffered. */
  busMs: number;
  busPerSec: number;
  /** Last completion → settle() resolved (0 without settle): how long the last audit row trailed. */
  lagMs: number;
  /** CPU spent during the timed window (to settle), in ms: this process (bench + workers), redis-server, postgres. */
  cpu: CpuSpent;
  /** With the audit log: rows it committed during the trial, in how many flushes (set by the runner). */
  audit?: { rows: number; flushes: number };
}

export interface CpuSpent {
  nodeMs: number;
  redisMs: number;
  /** Every local `postgres` process (anybody's); NaN when it cannot be read. */
  postgresMs: number;
}

/** CPU counters (ms) of the servers: redis-server (INFO cpu) and the local postgres processes; null when unreadable. */
export interface CpuProbes {
  redis: () => Promise<number | null>;
  postgres: () => CpuSnapshot | null;
}

export const NO_CPU_PROBES: CpuProbes = { redis: () => Promise.resolve(null), postgres: () => null };

const delta = (a: number | null, b: number | null): number => (a === null || b === null ? Number.NaN : b - a);

/** CPU meter for a timed window: start it just before t0, stop it just after the window ends. */
export async function meter(probes: CpuProbes): Promise<() => Promise<CpuSpent>> {
  const redis0 = await probes.redis();
  const pg0 = probes.postgres();
  const node0 = process.cpuUsage();
  return async () => {
    const node = process.cpuUsage(node0);
    const pg1 = probes.postgres();
    const redis1 = await probes.redis();
    return { nodeMs: (node.user + node.system) / 1000, redisMs: delta(redis0, redis1), postgresMs: cpuDelta(pg0, pg1) };
  };
}

/** The figures of a window from t0 to the last completion `end`, then settle(). */
async function finish(target: Target, count: number, t0: number, end: number): Promise<Omit<FloodResult, "cpu">> {
  await target.settle?.();
  const settled = target.settle ? performance.now() : end;
  const ms = settled - t0;
  const busMs = end - t0;
  return { count, ms, perSec: count / (ms / 1000), busMs, busPerSec: count / (busMs / 1000), lagMs: settled - end };
}

export interface ChainResult extends FloodResult {
  window: number;
  samples: HopSamples;
}

/**
 * N valid envelopes (sessions of one message each, unique ids): the template is built once by
 * buildRequest; ids and sessions vary. Built before timing starts, for both systems alike.
 */
export function makeEnvelopes(count: number, to: string): Envelope[] {
  const template = buildRequest(
    { content_type: "user_request", content: { text: "Summarise the page at src_1 in three sentences.", requester: "bench", category: "bench", priority: "normal" }, to },
    { clock: systemClock, timezone: "UTC" },
  );
  const run = randomBytes(4).toString("hex");
  const base = template.message_id.replace(/-[a-z0-9]+$/, "");
  const out: Envelope[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      ...template,
      message_id: `${base}-b${run}n${i}`,
      metadata: { ...template.metadata, session_id: `s-bench-${run}-${i}`, request_id: `r-bench-${run}-${i}` },
    });
  }
  return out;
}

/** add → process: send every envelope in batches of `batch` concurrent sends; time to last completion. */
export async function flood(target: Target, envs: Envelope[], concurrency: number, batch: number, probes: CpuProbes): Promise<FloodResult> {
  const done = countdown(envs.length, STALL_MS, "add → process");
  await target.start(concurrency, done.tick);
  try {
    const stopMeter = await meter(probes);
    const t0 = performance.now();
    const sending = (async (): Promise<void> => {
      for (let i = 0; i < envs.length; i += batch) await Promise.all(envs.slice(i, i + batch).map((e) => target.send(e)));
    })();
    const [end] = await Promise.all([done.done, sending]);
    const figures = await finish(target, envs.length, t0, end);
    return { ...figures, cpu: await stopMeter() };
  } finally {
    done.cancel();
    await target.stop();
  }
}

/**
 * Hop chains with at most `window` chains in flight: a new chain starts whenever one finishes.
 * window = 1 measures the unloaded hop latency; a larger window measures chain throughput.
 */
export async function chains(target: Target, envs: Envelope[], concurrency: number, window: number, probes: CpuProbes): Promise<ChainResult> {
  const done = countdown(envs.length, STALL_MS, "hop chains");
  let next = 0;
  let fail: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const launch = (): void => {
    const env = envs[next++];
    if (!env) return;
    stamp(env.metadata.session_id, 0);
    target.send(env).catch(fail);
  };
  await target.start(concurrency, () => {
    done.tick();
    launch();
  });
  try {
    drainStamps();
    const stopMeter = await meter(probes);
    const t0 = performance.now();
    for (let i = 0; i < Math.min(window, envs.length); i++) launch();
    const end = await Promise.race([done.done, failed]);
    const figures = await finish(target, envs.length, t0, end);
    const cpu = await stopMeter();
    return { ...figures, cpu, window, samples: hopSamples(drainStamps(), HOPS) };
  } finally {
    done.cancel();
    await target.stop();
  }
}
