/**
 * The two scenarios, written once against a Target so raw BullMQ and agentbus run the very same
 * driver: flood (add → process throughput) and chains (4-queue hop chain, windowed in-flight).
 */
import { randomBytes } from "node:crypto";
import { buildRequest } from "../runtime/envelope/build.ts";
import { systemClock } from "../runtime/envelope/clock.ts";
import type { Envelope } from "../runtime/envelope/types.ts";
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
  /** Stop the worker(s) and delete the queues' jobs, so every trial starts from empty queues. */
  stop(): Promise<void>;
}

export interface BenchSystem {
  readonly label: "raw" | "agentbus";
  readonly sink: Target;
  readonly chain: Target;
  close(): Promise<void>;
}

export interface FloodResult {
  count: number;
  ms: number;
  perSec: number;
  /** CPU spent during the timed window, in ms: this process (bench + workers) and redis-server. */
  cpu: CpuSpent;
}

export interface CpuSpent {
  nodeMs: number;
  redisMs: number;
}

/** Reads redis-server's CPU counters (INFO cpu); null when they cannot be read. */
export type RedisCpu = () => Promise<number | null>;

/** CPU meter for a timed window: start it just before t0, stop it just after the last completion. */
async function meter(redisCpu: RedisCpu): Promise<() => Promise<CpuSpent>> {
  const redis0 = await redisCpu();
  const node0 = process.cpuUsage();
  return async () => {
    const node = process.cpuUsage(node0);
    const redis1 = await redisCpu();
    return { nodeMs: (node.user + node.system) / 1000, redisMs: redis0 === null || redis1 === null ? Number.NaN : redis1 - redis0 };
  };
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
export async function flood(target: Target, envs: Envelope[], concurrency: number, batch: number, redisCpu: RedisCpu): Promise<FloodResult> {
  const done = countdown(envs.length, STALL_MS, "add → process");
  await target.start(concurrency, done.tick);
  try {
    const stopMeter = await meter(redisCpu);
    const t0 = performance.now();
    const sending = (async (): Promise<void> => {
      for (let i = 0; i < envs.length; i += batch) await Promise.all(envs.slice(i, i + batch).map((e) => target.send(e)));
    })();
    const [end] = await Promise.all([done.done, sending]);
    const ms = end - t0;
    return { count: envs.length, ms, perSec: envs.length / (ms / 1000), cpu: await stopMeter() };
  } finally {
    done.cancel();
    await target.stop();
  }
}

/**
 * Hop chains with at most `window` chains in flight: a new chain starts whenever one finishes.
 * window = 1 measures the unloaded hop latency; a larger window measures chain throughput.
 */
export async function chains(target: Target, envs: Envelope[], concurrency: number, window: number, redisCpu: RedisCpu): Promise<ChainResult> {
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
    const stopMeter = await meter(redisCpu);
    const t0 = performance.now();
    for (let i = 0; i < Math.min(window, envs.length); i++) launch();
    const end = await Promise.race([done.done, failed]);
    const ms = end - t0;
    const cpu = await stopMeter();
    return { count: envs.length, ms, perSec: envs.length / (ms / 1000), cpu, window, samples: hopSamples(drainStamps(), HOPS) };
  } finally {
    done.cancel();
    await target.stop();
  }
}
