/**
 * Audit append throughput: the same N audit rows (bus events captured from the run, ~1 KB
 * envelopes) written
 *   (a) through AuditWriter, as the runtime uses it: append all N (synchronous: canonical JSON
 *       snapshot, session hint), then flush(); rows/s from the first append to flush() resolving.
 *       Each flush is one transaction: chain heads created and locked, row hashes computed, one
 *       multi-row INSERT, heads advanced, batch recorded, sessions upserted;
 *   (b) as a plain multi-row INSERT of the same rows, computed hashes included (they are computed,
 *       with the canonical JSON, before (b)'s clock starts: (b) times the SQL only), into plain
 *       tables of audit_log's shape (same columns, constraints and indexes; no triggers — the audit
 *       triggers fire only on UPDATE/DELETE/TRUNCATE anyway — no chain heads, no batch record, no
 *       sessions), in batches of the writer's batch size, one autocommit statement per batch
 *       (on PGlite the store's Db wraps each in BEGIN/COMMIT, as it does for the writer), in two
 *       forms: INSERT … VALUES (…), (…) with 12 parameters a row, and INSERT … SELECT FROM unnest
 *       of 12 arrays (the writer's own statement form).
 * Repetitions alternate which goes first (writer or plain, VALUES or unnest); every repetition writes new sessions.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { AuditRecorder } from "../runtime/audit/recorder.ts";
import type { BusEvent } from "../runtime/bus/events.ts";
import { silentLogger } from "../runtime/log/logger.ts";
import { AuditWriter } from "../runtime/store/audit-writer.ts";
import { canonicalJson } from "../runtime/store/canonical.ts";
import { rowHash, type AuditContent } from "../runtime/store/audit-hash.ts";
import { openStore, table, type Db } from "../runtime/store/index.ts";
import { cpuDelta, type CpuSnapshot } from "./postgres.ts";
import { TX_JS, TX_OVERHEAD, TimedDb, plainRows, replayEvents, unnestInsert, valuesInsert, type PlainRow } from "./audit-rows.ts";
import { median } from "./stats.ts";

/** AuditWriter's default maxBatchRows (the runtime does not change it). */
export const WRITER_BATCH = 1000;

export interface AppendOptions {
  rows: number;
  reps: number;
  /** Stop starting repetitions once this much time has gone (PGlite); at least one always runs. */
  budgetMs?: number;
  /** CPU counters of the local postgres processes; absent for PGlite (it runs in this process). */
  postgresCpu?: () => CpuSnapshot | null;
}

/** CPU per row (µs) during a phase: this process (and of it, GC pauses), and the postgres server when it can be read. */
export interface PhaseCpu {
  node_us: number;
  gc_us: number;
  postgres_us: number;
}

export interface AppendFigures {
  backend: "postgres" | "pglite";
  rows: number;
  reps: number;
  batch: number;
  sessions_per_rep: number;
  envelope_bytes_mean: number;
  /** PGlite: start + migrations (not in any figure). */
  setup_ms: number;
  writer: { rows_per_s: number; append_ms: number; flush_ms: number; per_rep: number[]; cpu_append: PhaseCpu; cpu_flush: PhaseCpu };
  plain_values: { rows_per_s: number; per_rep: number[]; cpu: PhaseCpu };
  plain_unnest: { rows_per_s: number; per_rep: number[]; cpu: PhaseCpu };
  /** Median over repetitions of writer / plain rows/s within the repetition. */
  ratio_vs_values: number;
  ratio_vs_unnest: number;
  /** Against the faster plain form. */
  ratio: number;
  /** Where the writer's time goes, µs per row (all repetitions). */
  breakdown: Array<{ stage: string; us_per_row: number }>;
  /** CPU per row of the pieces in isolation (µs). */
  micro: { canonical_json_us: number; json_stringify_us: number; row_hash_us: number };
}

/** CPU (ms) spent from now until the returned function is called: this process and postgres; and the window, for GC. */
function cpuMeter(postgresCpu: AppendOptions["postgresCpu"]): () => Spent {
  const node0 = process.cpuUsage();
  const pg0 = postgresCpu?.() ?? null;
  const from = performance.now();
  return () => {
    const node = process.cpuUsage(node0);
    const pg1 = postgresCpu?.() ?? null;
    return { node: (node.user + node.system) / 1000, postgres: cpuDelta(pg0, pg1), from, to: performance.now() };
  };
}

interface Spent {
  node: number;
  postgres: number;
  from: number;
  to: number;
}

/** Main-thread GC pauses (V8 'gc' performance entries), to see how much of a phase's CPU is collection. */
class GcPauses {
  private readonly entries: Array<{ start: number; ms: number }> = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.entries.push({ start: e.startTime, ms: e.duration });
  });

  constructor() {
    this.observer.observe({ entryTypes: ["gc"] });
  }

  /** Stops observing once the entries still queued have been delivered. */
  async stop(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.observer.disconnect();
  }

  ms(window: { from: number; to: number }): number {
    return this.entries.reduce((t, e) => (e.start >= window.from && e.start < window.to ? t + e.ms : t), 0);
  }
}
interface WriterRun {
  ms: number;
  appendMs: number;
  flushMs: number;
  cpuAppend: Spent;
  cpuFlush: Spent;
}

async function writerTrial(db: TimedDb, events: readonly BusEvent[], postgresCpu: AppendOptions["postgresCpu"]): Promise<WriterRun> {
  const writer = new AuditWriter(db, { logger: silentLogger(), maxBuffered: Math.max(100_000, events.length + 1) });
  const recorder = new AuditRecorder(writer);
  try {
    let meter = cpuMeter(postgresCpu);
    const t0 = performance.now();
    for (const e of events) recorder.onEvent(e);
    const t1 = performance.now();
    const cpuAppend = meter();
    meter = cpuMeter(postgresCpu);
    await writer.flush();
    const t2 = performance.now();
    return { ms: t2 - t0, appendMs: t1 - t0, flushMs: t2 - t1, cpuAppend, cpuFlush: meter() };
  } finally {
    await writer.close();
  }
}

async function plainTrial(db: Db, target: string, rows: readonly PlainRow[], form: "values" | "unnest", postgresCpu: AppendOptions["postgresCpu"]): Promise<{ ms: number; cpu: Spent }> {
  const meter = cpuMeter(postgresCpu);
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += WRITER_BATCH) {
    const batch = rows.slice(i, i + WRITER_BATCH);
    const { text, params } = form === "values" ? valuesInsert(target, batch) : unnestInsert(target, batch);
    await db.query(text, params);
  }
  return { ms: performance.now() - t0, cpu: meter() };
}

/** CPU µs per item of fn over items (one warm-up pass, then the median of 5; CPU time, so other tenants do not count). */
function perItem<T>(items: readonly T[], fn: (item: T) => unknown): number {
  const rounds: number[] = [];
  for (let r = 0; r < 6; r++) {
    const c0 = process.cpuUsage();
    for (const item of items) fn(item);
    const c = process.cpuUsage(c0);
    if (r > 0) rounds.push((c.user + c.system) / items.length);
  }
  return median(rounds);
}

function micro(events: readonly BusEvent[]): AppendFigures["micro"] {
  const sample = events.slice(0, 1000);
  const jsons = sample.map((e) => canonicalJson(e.envelope));
  const contents = jsons.map((envelopeJson, i): AuditContent => ({ chainKey: `c${i}`, sessionId: `c${i}`, messageId: `m${i}`, outcome: "delivered", agent: "hop1_agent", reasonsJson: "null", envelopeJson, recordedAt: new Date().toISOString() }));
  return {
    canonical_json_us: perItem(sample, (e) => canonicalJson(e.envelope)),
    json_stringify_us: perItem(sample, (e) => JSON.stringify(e.envelope)),
    row_hash_us: perItem(contents, (c) => rowHash(c, 1, "0".repeat(64))),
  };
}

async function plainTables(db: Db): Promise<{ values: string; unnest: string }> {
  const names = { values: table(db, "plain_values"), unnest: table(db, "plain_unnest") };
  for (const t of Object.values(names)) {
    await db.query(`CREATE TABLE ${t} (LIKE ${table(db, "audit_log")} INCLUDING ALL EXCLUDING DEFAULTS)`);
    await db.query(`ALTER TABLE ${t} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY`);
  }
  return names;
}

/** The benchmark on an open, migrated store. */
export async function appendBench(store: Db, captured: readonly BusEvent[], options: AppendOptions, log: (msg: string) => void, setupMs = 0): Promise<AppendFigures> {
  const started = performance.now();
  const gc = new GcPauses();
  const timed = new TimedDb(store);
  const tables = await plainTables(store);
  const writer: WriterRun[] = [];
  const values: Array<{ ms: number; cpu: Spent }> = [];
  const unnest: Array<{ ms: number; cpu: Spent }> = [];
  let bytes = 0;
  let sessions = 0;
  for (let rep = 0; rep < options.reps; rep++) {
    if (rep > 0 && options.budgetMs !== undefined && performance.now() - started > options.budgetMs * (rep / (rep + 1))) break;
    const events = replayEvents(captured, options.rows, `r${rep}`);
    const rows = plainRows(events);
    bytes = rows.reduce((t, r) => t + (r[7] ?? r[8] ?? "").length, 0) / rows.length;
    sessions = new Set(rows.map((r) => r[0])).size;
    const runWriter = async (): Promise<void> => void writer.push(await writerTrial(timed, events, options.postgresCpu));
    const runPlain = async (): Promise<void> => {
      const runValues = async (): Promise<void> => void values.push(await plainTrial(store, tables.values, rows, "values", options.postgresCpu));
      const runUnnest = async (): Promise<void> => void unnest.push(await plainTrial(store, tables.unnest, rows, "unnest", options.postgresCpu));
      for (const run of rep % 2 === 0 ? [runValues, runUnnest] : [runUnnest, runValues]) await run();
    };
    if (rep % 2 === 0) {
      await runWriter();
      await runPlain();
    } else {
      await runPlain();
      await runWriter();
    }
    const w = writer.at(-1);
    log(`  ${store.backend} rep ${rep + 1}: AuditWriter ${w ? (options.rows / (w.ms / 1000)).toFixed(0) : "?"} rows/s (append ${w?.appendMs.toFixed(0)} ms + flush ${w?.flushMs.toFixed(0)} ms), plain VALUES ${(options.rows / ((values.at(-1)?.ms ?? NaN) / 1000)).toFixed(0)} rows/s, plain unnest ${(options.rows / ((unnest.at(-1)?.ms ?? NaN) / 1000)).toFixed(0)} rows/s`);
  }
  const rate = (ms: number): number => options.rows / (ms / 1000);
  const wRates = writer.map((w) => rate(w.ms));
  const vRates = values.map((v) => rate(v.ms));
  const uRates = unnest.map((u) => rate(u.ms));
  await gc.stop();
  const us = (ms: number[]): number => (median(ms) * 1000) / options.rows;
  const perRow = (spent: Spent[]): PhaseCpu => ({ node_us: us(spent.map((x) => x.node)), gc_us: us(spent.map((x) => gc.ms(x))), postgres_us: us(spent.map((x) => x.postgres)) });
  const ratio = (other: number[]): number => median(wRates.map((w, i) => w / (other[i] ?? NaN)));
  const reps = writer.length;
  const breakdown = [
    { stage: "append: canonical JSON snapshot + session hint (synchronous, in the caller)", ms: writer.reduce((t, w) => t + w.appendMs, 0) },
    ...[...timed.ms].map(([stage, ms]) => ({ stage: stage === TX_JS || stage === TX_OVERHEAD ? stage : `  SQL ${stage}`, ms })),
  ].map(({ stage, ms }) => ({ stage, us_per_row: (ms * 1000) / (options.rows * reps) }));
  const ratioValues = ratio(vRates);
  const ratioUnnest = ratio(uRates);
  return {
    backend: store.backend,
    rows: options.rows,
    reps,
    batch: WRITER_BATCH,
    sessions_per_rep: sessions,
    envelope_bytes_mean: bytes,
    setup_ms: setupMs,
    writer: {
      rows_per_s: median(wRates),
      append_ms: median(writer.map((w) => w.appendMs)),
      flush_ms: median(writer.map((w) => w.flushMs)),
      per_rep: wRates,
      cpu_append: perRow(writer.map((w) => w.cpuAppend)),
      cpu_flush: perRow(writer.map((w) => w.cpuFlush)),
    },
    plain_values: { rows_per_s: median(vRates), per_rep: vRates, cpu: perRow(values.map((v) => v.cpu)) },
    plain_unnest: { rows_per_s: median(uRates), per_rep: uRates, cpu: perRow(unnest.map((u) => u.cpu)) },
    ratio_vs_values: ratioValues,
    ratio_vs_unnest: ratioUnnest,
    ratio: median(vRates) >= median(uRates) ? ratioValues : ratioUnnest,
    breakdown,
    micro: micro(replayEvents(captured, Math.min(options.rows, 1000), "micro")),
  };
}

/** On the real Postgres, in a schema of its own (the caller drops it). */
export async function appendOnPostgres(databaseUrl: string, schema: string, captured: readonly BusEvent[], options: AppendOptions, log: (msg: string) => void): Promise<AppendFigures> {
  const db = await openStore({ databaseUrl, schema, logger: silentLogger() });
  try {
    return await appendBench(db, captured, options, log);
  } finally {
    await db.close();
  }
}

/** On embedded PGlite in a temporary data folder, deleted afterwards. */
export async function appendOnPglite(captured: readonly BusEvent[], options: AppendOptions, log: (msg: string) => void): Promise<AppendFigures> {
  const dir = await mkdtemp(join(tmpdir(), "abbench-pglite-"));
  try {
    const t0 = performance.now();
    const db = await openStore({ dataDir: dir, schema: "abbench", logger: silentLogger() });
    const setupMs = performance.now() - t0;
    log(`  pglite started and migrated in ${setupMs.toFixed(0)} ms`);
    try {
      const budgetMs = options.budgetMs === undefined ? undefined : Math.max(0, options.budgetMs - setupMs);
      return await appendBench(db, captured, { ...options, ...(budgetMs === undefined ? {} : { budgetMs }) }, log, setupMs);
    } finally {
      await db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
