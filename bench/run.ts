/**
 * `npm run bench`: raw BullMQ against agentbus on the same machine, in the same run. After a
 * warm-up, each repetition runs every scenario for both systems back to back (alternating which
 * goes first), so machine noise hits both; figures are medians over repetitions.
 *
 * Scenarios (bench/scenarios.ts), identical envelopes as payload for both systems:
 *   flood    add → process: N messages sent in batches of concurrent sends to one queue/agent
 *            whose handler does nothing; messages/s from the first send to the last completion.
 *   load     4-queue hop chain (user → hop1 → hop2 → hop3 → hop4 → COMPLETE) with 4×C chains in
 *            flight; chains/s, and hop latencies under load.
 *   latency  the same chain, one chain in flight: the unloaded hop latency.
 * Hop latency is measured in-process with performance.now(): from the start of hop k's handler
 * (raw: processor) to the start of hop k+1's, so it covers hop k's sending (raw: Queue.add;
 * agentbus: sequence claim, reply build, validation, Queue.add), BullMQ's delivery and hop k+1's
 * receiving (agentbus: validation). Envelope timestamps are not used (ms precision, build time).
 *
 * Flags:
 *   --messages N      messages per add → process trial (the chain trials send N/4 chains = N messages)
 *   --concurrency C   worker concurrency of every queue/agent
 *   --reps R          measured repetitions per scenario and system (after one warm-up)
 *   --json            figures as JSON on stdout; progress goes to stderr either way
 *   --profile         after the figures, time agentbus's hop path stage by stage (bench/profile.ts)
 *   --only S          run one system only (raw | agentbus), e.g. under `node --cpu-prof`
 *   --scenarios LIST  a subset of flood,load,latency (with --only, for profiling one path)
 * Redis: REDIS_URL or redis://127.0.0.1:6379; every key lives under a fresh `abbench-<hex>:` prefix
 * and is deleted at the end (also on Ctrl-C).
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { loadTopology } from "../runtime/bus/topology.ts";
import { schemaRegistry } from "../runtime/schemas/registry.ts";
import { Agentbus, HOP_AGENTS, SINK_AGENT } from "./agentbus.ts";
import { RawBullMQ } from "./raw.ts";
import { chains, flood, makeEnvelopes, type BenchSystem, type ChainResult, type FloodResult, type RedisCpu } from "./scenarios.ts";
import { machine, rows, table, type Trials } from "./report.ts";
import { profileHopPath } from "./profile.ts";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "8" },
    reps: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    only: { type: "string" },
    scenarios: { type: "string", default: "flood,load,latency" },
  },
});

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return n;
}

const MESSAGES = positive("messages", args.messages);
const CONCURRENCY = positive("concurrency", args.concurrency);
const REPS = positive("reps", args.reps);
const CHAINS = Math.max(1, Math.floor(MESSAGES / 4));
const WINDOW = Math.min(CHAINS, 4 * CONCURRENCY);
const LATENCY_CHAINS = Math.max(20, Math.min(300, Math.floor(MESSAGES / 20)));
const BATCH = 100;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `abbench-${randomBytes(4).toString("hex")}`;
const ONLY = args.only;
if (ONLY !== undefined && ONLY !== "raw" && ONLY !== "agentbus") throw new Error(`--only must be raw or agentbus, got ${ONLY}`);

const SCENARIOS = (args.scenarios ?? "").split(",").map((x) => x.trim()) as Scenario[];
for (const s of SCENARIOS) if (!["flood", "load", "latency"].includes(s)) throw new Error(`--scenarios takes flood, load, latency; got ${s}`);
if (ONLY === undefined && SCENARIOS.length < 3) throw new Error("--scenarios needs --only (the comparison table needs every scenario)");

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

async function redisVersion(): Promise<string> {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const info = await r.info("server");
    return /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
  } finally {
    r.disconnect();
  }
}

/** redis-server's CPU time so far (user + sys, ms), over one long-lived connection. */
function redisCpuReader(): { read: RedisCpu; close: () => void } {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  return {
    read: async () => {
      try {
        const info = await r.info("cpu");
        const user = /used_cpu_user:([0-9.]+)/.exec(info)?.[1];
        const sys = /used_cpu_sys:([0-9.]+)/.exec(info)?.[1];
        return user && sys ? (Number(user) + Number(sys)) * 1000 : null;
      } catch {
        return null;
      }
    },
    close: () => r.disconnect(),
  };
}

async function dropPrefix(): Promise<number> {
  const r = new Redis(REDIS_URL);
  let deleted = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${PREFIX}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) deleted += await r.del(...keys);
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
  return deleted;
}

type Scenario = "flood" | "load" | "latency";
/** The systems open right now; closed (workers first) before the keys are deleted, also on Ctrl-C. */
const systems: BenchSystem[] = [];
const redisCpu = redisCpuReader();

/** Both systems get identical envelopes (raw BullMQ carries them as plain job data). */
async function trial(sys: BenchSystem, scenario: Scenario, scale = 1): Promise<FloodResult | ChainResult> {
  if (scenario === "flood") return flood(sys.sink, makeEnvelopes(Math.ceil(MESSAGES * scale), SINK_AGENT), CONCURRENCY, BATCH, redisCpu.read);
  const count = Math.ceil((scenario === "load" ? CHAINS : LATENCY_CHAINS) * scale);
  return chains(sys.chain, makeEnvelopes(count, HOP_AGENTS[0] as string), CONCURRENCY, scenario === "load" ? WINDOW : 1, redisCpu.read);
}

function describe(sys: BenchSystem, scenario: Scenario, r: FloodResult | ChainResult): string {
  const cpu = `cpu node ${((r.cpu.nodeMs * 1000) / r.count).toFixed(0)} µs, redis ${((r.cpu.redisMs * 1000) / r.count).toFixed(0)} µs each`;
  const base = `${sys.label.padEnd(8)} ${scenario.padEnd(7)} ${r.count} in ${r.ms.toFixed(0)} ms = ${r.perSec.toFixed(0)}/s, ${cpu}`;
  if (!("samples" in r)) return base;
  const hops = [...r.samples.hops].sort((a, b) => a - b);
  return `${base}, hop p50 ${(hops[Math.floor(hops.length / 2)] ?? NaN).toFixed(3)} ms`;
}

async function main(): Promise<void> {
  const started = performance.now();
  const topology = loadTopology(schemaRegistry());
  const bullmq = (createRequire(import.meta.url)("bullmq/package.json") as { version: string }).version;
  const m = machine(bullmq, await redisVersion());
  log(`agentbus bench: prefix ${PREFIX}, redis ${REDIS_URL}, ${MESSAGES} messages, concurrency ${CONCURRENCY}, ${REPS} reps`);

  const trials: Trials = { flood: { raw: [], agentbus: [] }, load: { raw: [], agentbus: [] }, latency: { raw: [], agentbus: [] } };
  try {
    if (ONLY !== "agentbus") systems.push(new RawBullMQ(REDIS_URL, PREFIX, topology));
    if (ONLY !== "raw") systems.push(await Agentbus.open(REDIS_URL, PREFIX, topology));
    const scenarios = SCENARIOS;

    log("warm-up");
    for (const sys of systems) for (const s of scenarios) log(`  ${describe(sys, s, await trial(sys, s, 0.2))}`);

    for (let rep = 0; rep < REPS; rep++) {
      log(`repetition ${rep + 1}/${REPS}`);
      // Alternate which system goes first, so a drift in machine speed does not favour either.
      const order = rep % 2 === 0 ? systems : [...systems].reverse();
      for (const s of scenarios) {
        for (const sys of order) {
          const r = await trial(sys, s);
          log(`  ${describe(sys, s, r)}`);
          if (s === "flood") trials.flood[sys.label].push(r);
          else trials[s][sys.label].push(r as ChainResult);
        }
      }
    }

    m.load.end = loadavg()[0] ?? 0;
    const params = { messages: MESSAGES, chains: CHAINS, latency_chains: LATENCY_CHAINS, concurrency: CONCURRENCY, window: WINDOW, batch: BATCH, reps: REPS };
    if (ONLY === undefined) {
      const figures = rows(trials);
      if (args.json) process.stdout.write(`${JSON.stringify({ machine: m, params, rows: figures }, null, 2)}\n`);
      else process.stdout.write(`${table(figures, m, params)}\n`);
    }

    if (args.profile) {
      const ab = systems.find((s): s is Agentbus => s instanceof Agentbus);
      const raw = systems.find((s): s is RawBullMQ => s instanceof RawBullMQ);
      if (ab) {
        const text = await profileHopPath(ab, raw ?? null, CONCURRENCY, LATENCY_CHAINS);
        (args.json ? process.stderr : process.stdout).write(`\n${text}\n`);
      }
    }
  } finally {
    await closeAll();
    const deleted = await dropPrefix();
    log(`cleaned up ${deleted} keys under ${PREFIX}:*; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

async function closeAll(): Promise<void> {
  for (const sys of systems.splice(0)) await sys.close();
  redisCpu.close();
}

process.once("SIGINT", () => {
  log(`interrupted: stopping workers, then deleting keys under ${PREFIX}:*`);
  const giveUp = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
  Promise.race([closeAll(), giveUp])
    .then(() => dropPrefix())
    .catch((err: unknown) => log(`cleanup failed: ${String(err)}`))
    .finally(() => process.exit(130));
});

main().catch((err: unknown) => {
  log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
