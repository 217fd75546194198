/**
 * `npm run bench`: raw BullMQ against agentbus on the same machine, in the same run, alternating
 * trials so machine noise hits both. Flags:
 *   --messages N      messages per add → process trial (the chain trials send N/4 chains = N messages)
 *   --concurrency C   worker concurrency of every queue/agent
 *   --reps R          measured repetitions per scenario and system (after one warm-up)
 *   --json            figures as JSON on stdout; progress goes to stderr either way
 *   --profile         after the figures, time agentbus's hop path stage by stage (bench/profile.ts)
 *   --only S          run one system only (raw | agentbus), e.g. under `node --cpu-prof`
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { loadTopology } from "../runtime/bus/topology.ts";
import { schemaRegistry } from "../runtime/schemas/registry.ts";
import { Agentbus, HOP_AGENTS, SINK_AGENT } from "./agentbus.ts";
import { RawBullMQ } from "./raw.ts";
import { chains, flood, makeEnvelopes, type BenchSystem, type ChainResult, type FloodResult } from "./scenarios.ts";
import { machine, rows, table, type Trials } from "./report.ts";
import { profileHopPath } from "./profile.ts";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "6000" },
    concurrency: { type: "string", default: "8" },
    reps: { type: "string", default: "3" },
    json: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    only: { type: "string" },
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

/** Both systems get identical envelopes (raw BullMQ carries them as plain job data). */
async function trial(sys: BenchSystem, scenario: Scenario, scale = 1): Promise<FloodResult | ChainResult> {
  if (scenario === "flood") return flood(sys.sink, makeEnvelopes(Math.ceil(MESSAGES * scale), SINK_AGENT), CONCURRENCY, BATCH);
  const count = Math.ceil((scenario === "load" ? CHAINS : LATENCY_CHAINS) * scale);
  return chains(sys.chain, makeEnvelopes(count, HOP_AGENTS[0] as string), CONCURRENCY, scenario === "load" ? WINDOW : 1);
}

function describe(sys: BenchSystem, scenario: Scenario, r: FloodResult | ChainResult): string {
  const base = `${sys.label.padEnd(8)} ${scenario.padEnd(7)} ${r.count} in ${r.ms.toFixed(0)} ms = ${r.perSec.toFixed(0)}/s`;
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

  const systems: BenchSystem[] = [];
  const trials: Trials = { flood: { raw: [], agentbus: [] }, load: { raw: [], agentbus: [] }, latency: { raw: [], agentbus: [] } };
  try {
    if (ONLY !== "agentbus") systems.push(new RawBullMQ(REDIS_URL, PREFIX, topology));
    if (ONLY !== "raw") systems.push(await Agentbus.open(REDIS_URL, PREFIX, topology));
    const scenarios: Scenario[] = ["flood", "load", "latency"];

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
    for (const sys of systems) await sys.close();
    const deleted = await dropPrefix();
    log(`cleaned up ${deleted} keys under ${PREFIX}:*; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

main().catch((err: unknown) => {
  log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
