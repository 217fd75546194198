/**
 * `npm run bench`: raw BullMQ against agentbus, without and with the audit log, on the same machine
 * in the same run. After a warm-up, each repetition runs every scenario for the three systems back
 * to back (the order alternating), so machine noise hits all of them; figures are medians over
 * repetitions. Then the audit append benchmark (bench/audit-append.ts).
 *
 * Systems:
 *   raw       plain BullMQ (bench/raw.ts), same payloads, job and worker options
 *   agentbus  the runtime without the store (Runtime.open store: false): the bus alone
 *   audit     the runtime with the audit log on a real Postgres (store: true, DATABASE_URL or
 *             postgres://postgres@127.0.0.1:5432/test, schema abbench_<hex>, dropped at the end).
 *             Its trials stop the clock when the last audit row is committed; the flush lag (last
 *             completion → that commit) and the bus-only throughput are reported besides.
 *
 * Scenarios (bench/scenarios.ts), identical envelopes as payload for every system:
 *   flood    add → process: N messages sent in batches of concurrent sends to one queue/agent
 *            whose handler does nothing; messages/s from the first send to the last completion.
 *   load     4-queue hop chain (user → hop1 → hop2 → hop3 → hop4 → COMPLETE) with 4×C chains in
 *            flight; chains/s, and hop latencies under load.
 *   latency  the same chain, one chain in flight: the unloaded hop latency.
 *   e2e      not a comparison: whole sessions through the pipeline agents in agents/ (offline, store on
 *            Postgres in schema abbench_<hex>_e2e, a local page host), `Summarize <page>` = a 3-task
 *            plan, a closed loop of 200 sessions in flight; sessions/s, p50/p99 session latency,
 *            statuses, audit rows and `audit verify` afterwards, where the time goes (bench/e2e.ts).
 * Hop latency is measured in-process with performance.now(): from the start of hop k's handler
 * (raw: processor) to the start of hop k+1's, so it covers hop k's sending (raw: Queue.add;
 * agentbus: sequence claim, reply build, validation, audit append, Queue.add), BullMQ's delivery
 * and hop k+1's receiving (agentbus: validation, audit append).
 *
 * Flags:
 *   --messages N      messages per add → process trial (the chain trials send N/4 chains = N messages)
 *   --concurrency C   worker concurrency of every queue/agent
 *   --reps R          measured repetitions per scenario and system (after one warm-up)
 *   --quick           a ~35 s run: fewer messages, repetitions, audit rows and e2e sessions, no PGlite
 *   --no-audit        leave out agentbus + audit log, the audit append benchmark and e2e (no Postgres needed)
 *   --append-rows N   audit rows per audit append repetition; --append-reps R its repetitions
 *   --no-pglite       leave out the audit append benchmark on embedded PGlite
 *   --json            figures as JSON on stdout; progress goes to stderr either way
 *   --profile         after the figures, time agentbus's hop path stage by stage (bench/profile.ts)
 *   --only S          run one system only (raw | agentbus | audit), e.g. under `node --cpu-prof`; or e2e alone
 *   --no-e2e          leave out the end-to-end sessions
 *   --e2e-sessions N  measured sessions (default 1000, --quick 300); --e2e-in-flight N (default 200);
 *   --e2e-warmup N    warm-up sessions before them (default: as many as in flight)
 *   --scenarios LIST  a subset of flood,load,latency (with --only, for profiling one path)
 * Redis: REDIS_URL or redis://127.0.0.1:6379; every key lives under fresh `abbench-<hex>:`,
 * `abbench-<hex>.audit:` and `abbench-<hex>.e2e:` prefixes, deleted at the end (also on Ctrl-C).
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { loadTopology } from "../runtime/bus/topology.ts";
import { schemaRegistry } from "../runtime/schemas/registry.ts";
import { Agentbus, HOP_AGENTS, SINK_AGENT, type AuditLogCheck } from "./agentbus.ts";
import { appendOnPglite, appendOnPostgres, type AppendFigures } from "./audit-append.ts";
import { EventCapture } from "./audit-rows.ts";
import { E2eBench, type E2eFigures } from "./e2e.ts";
import { DATABASE_URL, dropSchemas, postgresCpuReader, postgresVersion, runSchema } from "./postgres.ts";
import { RawBullMQ } from "./raw.ts";
import { dropPrefixes, redisCpuReader, redisVersion } from "./redis.ts";
import { chains, flood, makeEnvelopes, type BenchSystem, type ChainResult, type CpuProbes, type FloodResult, type SystemLabel } from "./scenarios.ts";
import { appendTable, e2eTable, emptyTrials, machine, rows, table } from "./report.ts";
import { profileHopPath } from "./profile.ts";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string" },
    concurrency: { type: "string", default: "8" },
    reps: { type: "string" },
    quick: { type: "boolean", default: false },
    "no-audit": { type: "boolean", default: false },
    "append-rows": { type: "string" },
    "append-reps": { type: "string" },
    "no-pglite": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    only: { type: "string" },
    scenarios: { type: "string", default: "flood,load,latency" },
    "no-e2e": { type: "boolean", default: false },
    "e2e-sessions": { type: "string" },
    "e2e-in-flight": { type: "string" },
    "e2e-warmup": { type: "string" },
  },
});

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return n;
}

const QUICK = args.quick;
const MESSAGES = positive("messages", args.messages, QUICK ? 1000 : 1500); // 2000 before the e2e section joined the default run
const CONCURRENCY = positive("concurrency", args.concurrency, 8);
const REPS = positive("reps", args.reps, QUICK ? 2 : 4);
const APPEND_ROWS = positive("append-rows", args["append-rows"], QUICK ? 3000 : 9000);
const APPEND_REPS = positive("append-reps", args["append-reps"], QUICK ? 1 : 3);
const PGLITE_BUDGET_MS = 18_000; // start + repetitions; the brief: PGlite only if it takes under 20 s
const CHAINS = Math.max(1, Math.floor(MESSAGES / 4));
const WINDOW = Math.min(CHAINS, 4 * CONCURRENCY);
const LATENCY_CHAINS = Math.max(20, Math.min(300, Math.floor(MESSAGES / 20)));
const BATCH = 100;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `abbench-${randomBytes(4).toString("hex")}`;
const AUDIT_PREFIX = `${PREFIX}.audit`;
const SCHEMA = runSchema();
const APPEND_SCHEMA = `${SCHEMA}_append`;
const E2E_SESSIONS = positive("e2e-sessions", args["e2e-sessions"], QUICK ? 300 : 1000);
const E2E_IN_FLIGHT = positive("e2e-in-flight", args["e2e-in-flight"], 200);
const E2E_WARMUP = positive("e2e-warmup", args["e2e-warmup"], E2E_IN_FLIGHT);
const E2E_PREFIX = `${PREFIX}.e2e`;
const E2E_SCHEMA = `${SCHEMA}_e2e`;
const ONLY = args.only as SystemLabel | "e2e" | undefined;
if (ONLY !== undefined && !["raw", "agentbus", "audit", "e2e"].includes(ONLY)) throw new Error(`--only must be raw, agentbus, audit or e2e, got ${ONLY}`);
const AUDIT = !args["no-audit"] && (ONLY === undefined || ONLY === "audit");
/** Why the end-to-end sessions are left out, or null when they run. */
const E2E_SKIPPED = args["no-e2e"] ? "--no-e2e" : args["no-audit"] ? "--no-audit: sessions need the store on Postgres" : ONLY !== undefined && ONLY !== "e2e" ? "--only" : null;
const PGLITE = !args["no-pglite"] && !QUICK;

type Scenario = "flood" | "load" | "latency";
const SCENARIOS = (args.scenarios ?? "").split(",").map((x) => x.trim()) as Scenario[];
for (const s of SCENARIOS) if (!["flood", "load", "latency"].includes(s)) throw new Error(`--scenarios takes flood, load, latency; got ${s}`);
if (ONLY === undefined && SCENARIOS.length < 3) throw new Error("--scenarios needs --only (the comparison table needs every scenario)");

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

/** The systems open right now; closed (workers first) before the keys are deleted, also on Ctrl-C. */
const systems: BenchSystem[] = [];
/** The end-to-end bench while it is open (closed with the systems, also on Ctrl-C). */
let e2eBench: E2eBench | null = null;
const redisCpu = redisCpuReader(REDIS_URL);
const probes: CpuProbes = { redis: redisCpu.read, postgres: postgresCpuReader(DATABASE_URL) };
const schemas: string[] = [];
/** Bus events of one warm-up chain trial of the audit system: the rows of the audit append benchmark. */
const capture = new EventCapture();

/** Every system gets identical envelopes (raw BullMQ carries them as plain job data). */
async function trial(sys: BenchSystem, scenario: Scenario, scale = 1): Promise<FloodResult | ChainResult> {
  const writer = sys instanceof Agentbus ? sys.audit : undefined;
  const before = writer?.stats();
  let r: FloodResult | ChainResult;
  if (scenario === "flood") r = await flood(sys.sink, makeEnvelopes(Math.ceil(MESSAGES * scale), SINK_AGENT), CONCURRENCY, BATCH, probes);
  else {
    const count = Math.ceil((scenario === "load" ? CHAINS : LATENCY_CHAINS) * scale);
    r = await chains(sys.chain, makeEnvelopes(count, HOP_AGENTS[0] as string), CONCURRENCY, scenario === "load" ? WINDOW : 1, probes);
  }
  const after = writer?.stats();
  if (before && after) r.audit = { rows: after.written - before.written, flushes: after.flushes - before.flushes };
  return r;
}

function describe(sys: BenchSystem, scenario: Scenario, r: FloodResult | ChainResult): string {
  const pg = Number.isFinite(r.cpu.postgresMs) ? `, postgres ${((r.cpu.postgresMs * 1000) / r.count).toFixed(0)} µs` : "";
  const cpu = `cpu node ${((r.cpu.nodeMs * 1000) / r.count).toFixed(0)} µs, redis ${((r.cpu.redisMs * 1000) / r.count).toFixed(0)} µs${pg} each`;
  const lag = r.audit ? ` (bus ${r.busMs.toFixed(0)} ms + audit lag ${r.lagMs.toFixed(0)} ms; ${r.audit.rows} audit rows in ${r.audit.flushes} flushes)` : "";
  const base = `${sys.label.padEnd(8)} ${scenario.padEnd(7)} ${r.count} in ${r.ms.toFixed(0)} ms${lag} = ${r.perSec.toFixed(0)}/s, ${cpu}`;
  if (!("samples" in r)) return base;
  const hops = [...r.samples.hops].sort((a, b) => a - b);
  return `${base}, hop p50 ${(hops[Math.floor(hops.length / 2)] ?? NaN).toFixed(3)} ms`;
}

async function openSystems(topology: ReturnType<typeof loadTopology>): Promise<void> {
  if (ONLY === undefined || ONLY === "raw") systems.push(new RawBullMQ(REDIS_URL, PREFIX, topology));
  if (ONLY === undefined || ONLY === "agentbus") systems.push(await Agentbus.open({ redisUrl: REDIS_URL, prefix: PREFIX, topology, store: null }));
  if (AUDIT) {
    schemas.push(SCHEMA);
    systems.push(await Agentbus.open({ redisUrl: REDIS_URL, prefix: AUDIT_PREFIX, topology, store: { databaseUrl: DATABASE_URL, schema: SCHEMA }, observers: [capture] }));
  }
}

async function auditAppend(): Promise<{ figures: AppendFigures[]; skipped: string[] }> {
  const figures: AppendFigures[] = [];
  const skipped: string[] = [];
  if (!AUDIT) return { figures, skipped: ["--no-audit"] };
  if (capture.events.length === 0) return { figures, skipped: ["no bus events were captured (needs the audit system's warm-up chain trial)"] };
  log(`audit append: ${APPEND_ROWS} rows, ${APPEND_REPS} reps (from ${capture.events.length} captured bus events)`);
  schemas.push(APPEND_SCHEMA);
  figures.push(await appendOnPostgres(DATABASE_URL, APPEND_SCHEMA, capture.events, { rows: APPEND_ROWS, reps: APPEND_REPS, postgresCpu: probes.postgres }, log));
  if (!PGLITE) skipped.push(`embedded PGlite (${QUICK ? "--quick" : "--no-pglite"})`);
  else {
    const t0 = performance.now();
    // The budget covers PGlite's start too: repetitions stop once another would end past it.
    figures.push(await appendOnPglite(capture.events, { rows: APPEND_ROWS, reps: APPEND_REPS, budgetMs: PGLITE_BUDGET_MS }, log));
    log(`  pglite section took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return { figures, skipped };
}

/** Whole sessions through the pipeline agents (bench/e2e.ts); null when left out. */
async function endToEnd(): Promise<E2eFigures | null> {
  if (E2E_SKIPPED !== null) return null;
  log(`end to end: ${E2E_SESSIONS} sessions (after ${E2E_WARMUP} warm-up), ${E2E_IN_FLIGHT} in flight, prefix ${E2E_PREFIX}, schema ${E2E_SCHEMA}`);
  const t0 = performance.now();
  schemas.push(E2E_SCHEMA);
  e2eBench = await E2eBench.open({ redisUrl: REDIS_URL, prefix: E2E_PREFIX, databaseUrl: DATABASE_URL, schema: E2E_SCHEMA, sessions: E2E_SESSIONS, warmup: E2E_WARMUP, inFlight: E2E_IN_FLIGHT, pollMs: 50, probes, log });
  try {
    return await e2eBench.run();
  } finally {
    await e2eBench.close();
    e2eBench = null;
    log(`  e2e section took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const topology = loadTopology(schemaRegistry());
  const bullmq = (createRequire(import.meta.url)("bullmq/package.json") as { version: string }).version;
  const trials = emptyTrials();
  try {
    let pgVersion = "not used";
    if (AUDIT || E2E_SKIPPED === null) {
      const pg = await postgresVersion(DATABASE_URL);
      if (!pg.ok) throw new Error(`Postgres at ${DATABASE_URL} is not reachable (${pg.error}); set DATABASE_URL, or run with --no-audit`);
      pgVersion = pg.version;
    }
    const m = machine(bullmq, await redisVersion(REDIS_URL), pgVersion);
    if (ONLY === "e2e") {
      const e2e = await endToEnd();
      m.load.end = loadavg()[0] ?? 0;
      if (args.json) process.stdout.write(`${JSON.stringify({ machine: m, e2e: e2e ?? { skipped: E2E_SKIPPED } }, null, 2)}\n`);
      else process.stdout.write(`${e2eTable(e2e, m, E2E_SKIPPED)}\n`);
      return;
    }
    log(`agentbus bench: prefix ${PREFIX}, redis ${REDIS_URL}, ${AUDIT ? `postgres ${DATABASE_URL} schema ${SCHEMA}, ` : ""}${MESSAGES} messages, concurrency ${CONCURRENCY}, ${REPS} reps`);
    await openSystems(topology);
    log("warm-up");
    for (const sys of systems) {
      for (const s of SCENARIOS) {
        if (sys.label === "audit" && s === "load") capture.arm(100_000);
        log(`  ${describe(sys, s, await trial(sys, s, 0.2))}`);
        capture.disarm();
      }
    }

    for (let rep = 0; rep < REPS; rep++) {
      log(`repetition ${rep + 1}/${REPS}`);
      // Alternate the order, so a drift in machine speed does not favour any system.
      const order = rep % 2 === 0 ? systems : [...systems].reverse();
      for (const s of SCENARIOS) {
        for (const sys of order) {
          const r = await trial(sys, s);
          log(`  ${describe(sys, s, r)}`);
          if (s === "flood") trials.flood[sys.label].push(r);
          else trials[s][sys.label].push(r as ChainResult);
        }
      }
    }
    m.load.end = loadavg()[0] ?? 0;
    const auditSys = systems.find((s): s is Agentbus => s instanceof Agentbus && s.label === "audit");
    const check = auditSys ? await auditSys.checkAuditLog() : null;
    if (check) log(`audit log check: ${check.written}/${check.appended} rows committed, ${check.rows_in_table} in audit_log, ${check.chains} chains, verify ${check.verify_ok ? "ok" : `FAILED: ${check.problem}`} (${check.ms.toFixed(0)} ms)`);
    const append = ONLY === undefined || ONLY === "audit" ? await auditAppend() : { figures: [], skipped: ["--only"] };
    m.load.end = loadavg()[0] ?? 0;
    // The comparison's systems stay open (for --profile), but idle: their trials stopped their workers.
    const e2e = await endToEnd();

    const params = { messages: MESSAGES, chains: CHAINS, latency_chains: LATENCY_CHAINS, concurrency: CONCURRENCY, window: WINDOW, batch: BATCH, reps: REPS, append_rows: APPEND_ROWS, append_reps: APPEND_REPS };
    if (ONLY === undefined) {
      const figures = rows(trials);
      if (args.json) {
        const auditAppendJson = { ...Object.fromEntries(append.figures.map((f) => [f.backend, f])), skipped: append.skipped };
        process.stdout.write(`${JSON.stringify({ machine: m, params, rows: figures, audit_log_check: check, audit_append: auditAppendJson, e2e: e2e ?? { skipped: E2E_SKIPPED } }, null, 2)}\n`);
      } else process.stdout.write(`${table(figures, m, params)}\n${checkLine(check)}\n\n${appendTable(append.figures, append.skipped)}\n\n${e2eTable(e2e, m, E2E_SKIPPED)}\n`);
    } else if (ONLY === "audit") process.stdout.write(`${appendTable(append.figures, append.skipped)}\n`);

    if (args.profile) {
      const ab = systems.find((s): s is Agentbus => s instanceof Agentbus);
      const raw = systems.find((s): s is RawBullMQ => s instanceof RawBullMQ);
      if (ab) {
        const text = await profileHopPath(ab, raw ?? null, CONCURRENCY, LATENCY_CHAINS);
        (args.json ? process.stderr : process.stdout).write(`\n${text}\n`);
      }
    }
  } finally {
    await cleanUp();
    log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

function checkLine(c: AuditLogCheck | null): string {
  if (!c) return "audit log check: not run (no audit system)";
  const whole = c.written === c.appended && c.rows_in_table === c.written;
  return `audit log check after the trials: ${c.written} of ${c.appended} appended rows committed, ${c.rows_in_table} rows in audit_log (${whole ? "none missing" : "MISMATCH"}), ${c.chains} chains; audit verify ${c.verify_ok ? "ok" : `FAILED: ${c.problem}`}`;
}

async function closeAll(): Promise<void> {
  for (const sys of systems.splice(0)) await sys.close();
  await e2eBench?.close();
  e2eBench = null;
  redisCpu.close();
}

async function cleanUp(): Promise<void> {
  try {
    await closeAll();
  } finally {
    const deleted = await dropPrefixes(REDIS_URL, [PREFIX, AUDIT_PREFIX, E2E_PREFIX]);
    log(`cleaned up ${deleted} keys under ${PREFIX}:*, ${AUDIT_PREFIX}:* and ${E2E_PREFIX}:*`);
    if (schemas.length > 0) {
      await dropSchemas(DATABASE_URL, schemas.splice(0));
      log(`dropped Postgres schema(s) ${SCHEMA}*`);
    }
  }
}

process.once("SIGINT", () => {
  log(`interrupted: stopping workers, then deleting keys under ${PREFIX}* and schemas ${SCHEMA}*`);
  const giveUp = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
  Promise.race([closeAll(), giveUp])
    .then(() => dropPrefixes(REDIS_URL, [PREFIX, AUDIT_PREFIX, E2E_PREFIX]))
    .then(() => dropSchemas(DATABASE_URL, schemas.splice(0)))
    .catch((err: unknown) => log(`cleanup failed: ${String(err)}`))
    .finally(() => process.exit(130));
});

main().catch((err: unknown) => {
  log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
