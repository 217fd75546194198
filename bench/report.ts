/**
 * The benchmark's figures: rows with raw BullMQ / agentbus without audit / agentbus with the audit
 * log, ratios against raw and targets, as a table or as JSON; the audit append section; and the
 * end-to-end section (whole sessions).
 */
import { cpus, loadavg } from "node:os";
import type { AppendFigures } from "./audit-append.ts";
import type { Dist, E2eFigures } from "./e2e.ts";
import { median, percentile } from "./stats.ts";
import type { ChainResult, FloodResult, SystemLabel } from "./scenarios.ts";

export const SYSTEMS: readonly SystemLabel[] = ["raw", "agentbus", "audit"];

export interface Row {
  id: string;
  scenario: string;
  unit: string;
  /** Median over repetitions of the figure for each system (NaN: not measured, or not applicable). */
  raw: number;
  agentbus: number;
  audit: number;
  /** Median over repetitions of agentbus / raw within the same repetition (robust to drift). */
  ratio: number;
  /** The same for agentbus with the audit log / raw. */
  audit_ratio: number;
  /** And agentbus with the audit log / agentbus without: the audit log's own cost. */
  audit_vs_agentbus: number;
  /** "≥ 0.8" for throughput, "≤ 1.3" for latency, null for figures without a target. */
  target: string | null;
  met: boolean | null;
  audit_met: boolean | null;
  perRep: Record<SystemLabel, number[]>;
}

/** Repetition i of each list was run back to back (the order of the systems alternating). */
export interface Trials {
  flood: Record<SystemLabel, FloodResult[]>;
  load: Record<SystemLabel, ChainResult[]>;
  latency: Record<SystemLabel, ChainResult[]>;
}

export function emptyTrials(): Trials {
  return { flood: { raw: [], agentbus: [], audit: [] }, load: { raw: [], agentbus: [], audit: [] }, latency: { raw: [], agentbus: [], audit: [] } };
}

export interface Machine {
  cores: number;
  cpu: string;
  node: string;
  platform: string;
  bullmq: string;
  redis: string;
  postgres: string;
  /** 1-minute load average when the run started and ended: the machine may be shared. */
  load: { start: number; end: number };
}

export function machine(bullmq: string, redis: string, postgres: string): Machine {
  const load = loadavg()[0] ?? 0;
  return { cores: cpus().length, cpu: cpus()[0]?.model.trim() ?? "unknown", node: process.version, platform: `${process.platform}-${process.arch}`, bullmq, redis, postgres, load: { start: load, end: load } };
}

type Target = { min: number } | { max: number } | null;
/** A figure of one trial; NaN where it does not apply to that system. */
type Figure<R> = (r: R, system: SystemLabel) => number;

function ratioOf(a: number[], b: number[]): number {
  return a.length === 0 || b.length === 0 ? Number.NaN : median(a.map((x, i) => x / (b[i] ?? Number.NaN)));
}

/** `ratios: false` for figures whose baseline is noise (other tenants' postgres CPU), where a ratio means nothing. */
function row<R>(id: string, scenario: string, unit: string, trials: Record<SystemLabel, R[]>, figure: Figure<R>, target: Target, ratios = true): Row {
  const perRep = { raw: trials.raw.map((r) => figure(r, "raw")), agentbus: trials.agentbus.map((r) => figure(r, "agentbus")), audit: trials.audit.map((r) => figure(r, "audit")) };
  const ratio = ratios ? ratioOf(perRep.agentbus, perRep.raw) : Number.NaN;
  const auditRatio = ratios ? ratioOf(perRep.audit, perRep.raw) : Number.NaN;
  const text = target ? ("min" in target ? `≥ ${target.min}` : `≤ ${target.max}`) : null;
  const meets = (r: number): boolean | null => (target && Number.isFinite(r) ? ("min" in target ? r >= target.min : r <= target.max) : null);
  return {
    id,
    scenario,
    unit,
    raw: median(perRep.raw),
    agentbus: median(perRep.agentbus),
    audit: median(perRep.audit),
    ratio,
    audit_ratio: auditRatio,
    audit_vs_agentbus: ratios ? ratioOf(perRep.audit, perRep.agentbus) : Number.NaN,
    target: text,
    met: meets(ratio),
    audit_met: meets(auditRatio),
    perRep,
  };
}

export function rows(t: Trials): Row[] {
  const perSec = (r: { perSec: number }): number => r.perSec;
  const busPerSec = (r: { busPerSec: number }): number => r.busPerSec;
  const auditOnly = (f: (r: FloodResult) => number) => (r: FloodResult, s: SystemLabel): number => (s === "audit" ? f(r) : Number.NaN);
  const hops = (p: number) => (r: ChainResult): number => percentile(r.samples.hops, p);
  const window = t.load.raw[0]?.window ?? t.load.agentbus[0]?.window ?? t.load.audit[0]?.window ?? 0;
  const cpu = (part: "nodeMs" | "redisMs" | "postgresMs") => (r: FloodResult): number => (r.cpu[part] * 1000) / r.count;
  return [
    row("add_process_throughput", "add → process throughput", "msg/s", t.flood, perSec, { min: 0.8 }),
    row("chain_throughput", `4-queue chain throughput (${window} chains in flight)`, "chains/s", t.load, perSec, { min: 0.8 }),
    row("hop_latency_p50", "hop latency p50 (1 chain in flight)", "ms", t.latency, hops(50), { max: 1.3 }),
    row("hop_latency_p99", "hop latency p99 (1 chain in flight)", "ms", t.latency, hops(99), null),
    row("entry_latency_p50", "entry latency p50 (send → hop 1 start)", "ms", t.latency, (r) => percentile(r.samples.entry, 50), null),
    row("chain_latency_p50", "chain latency p50 (send → hop 4 start)", "ms", t.latency, (r) => percentile(r.samples.chain, 50), null),
    row("loaded_hop_latency_p50", `hop latency p50 (${window} chains in flight)`, "ms", t.load, hops(50), null),
    row("loaded_hop_latency_p99", `hop latency p99 (${window} chains in flight)`, "ms", t.load, hops(99), null),
    row("add_process_bus_throughput", "add → process, clock at last completion (audit not yet committed)", "msg/s", t.flood, busPerSec, null),
    row("chain_bus_throughput", "chain, clock at last completion (audit not yet committed)", "chains/s", t.load, busPerSec, null),
    row("add_process_flush_lag", "add → process: last completion → last audit row committed", "ms", t.flood, auditOnly((r) => r.lagMs), null),
    row("chain_flush_lag", "chain: last completion → last audit row committed", "ms", t.load, auditOnly((r) => r.lagMs), null),
    row("add_process_audit_batch", "add → process: audit rows per flush transaction (mean)", "rows", t.flood, auditOnly((r) => (r.audit ? r.audit.rows / r.audit.flushes : Number.NaN)), null),
    row("chain_audit_batch", "chain: audit rows per flush transaction (mean)", "rows", t.load, auditOnly((r) => (r.audit ? r.audit.rows / r.audit.flushes : Number.NaN)), null),
    row("add_process_node_cpu", "add → process: bench process CPU per message", "µs", t.flood, cpu("nodeMs"), null),
    row("add_process_redis_cpu", "add → process: redis-server CPU per message", "µs", t.flood, cpu("redisMs"), null),
    row("add_process_postgres_cpu", "add → process: postgres CPU per message (all local backends)", "µs", t.flood, cpu("postgresMs"), null, false),
    row("chain_node_cpu", "chain: bench process CPU per chain", "µs", t.load, cpu("nodeMs"), null),
    row("chain_redis_cpu", "chain: redis-server CPU per chain", "µs", t.load, cpu("redisMs"), null),
    row("chain_postgres_cpu", "chain: postgres CPU per chain (all local backends)", "µs", t.load, cpu("postgresMs"), null, false),
  ];
}

function fmt(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "—";
  if (unit === "ms") return value.toFixed(3);
  if (unit === "µs") return value.toFixed(0);
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

const cpuUs = (us: number): string => (Number.isFinite(us) ? us.toFixed(0) : "—");
const fmtRatio = (r: number): string => (Number.isFinite(r) ? r.toFixed(2) : "—");
const fmtMet = (m: boolean | null): string => (m === null ? "—" : m ? "yes" : "NO");

/** Lines of a table: columns from index `rightFrom` on are right-aligned. */
function grid(head: string[], body: string[][], rightFrom: number, rightTo: number): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= rightFrom && i <= rightTo ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)];
}

export function table(rs: Row[], m: Machine, params: Record<string, number | string>): string {
  const head = ["scenario", "unit", "raw BullMQ", "agentbus (no audit)", "ratio", "agentbus + audit log", "ratio", "audit/no audit", "target", "met (no audit / audit)"];
  const body = rs.map((r) => [
    r.scenario,
    r.unit,
    fmt(r.raw, r.unit),
    fmt(r.agentbus, r.unit),
    fmtRatio(r.ratio),
    fmt(r.audit, r.unit),
    fmtRatio(r.audit_ratio),
    fmtRatio(r.audit_vs_agentbus),
    r.target ?? "",
    r.target === null ? "" : `${fmtMet(r.met)} / ${fmtMet(r.audit_met)}`,
  ]);
  const out = [
    `machine: ${m.cores} cores (${m.cpu}), node ${m.node} ${m.platform}, bullmq ${m.bullmq}, redis ${m.redis}, postgres ${m.postgres}; load average ${m.load.start.toFixed(1)} at start, ${m.load.end.toFixed(1)} at end`,
    `run: ${Object.entries(params).map(([k, v]) => `${k}=${v}`).join(", ")}`,
    "figures: median over repetitions; ratio: median of system/raw within each repetition (the three systems run back to back, order alternating)",
    "agentbus + audit log: throughput clocks stop when the last audit row is committed (the writer's own 50 ms flush schedule, nothing forced);",
    "  the 'clock at last completion' rows stop at the last message instead, and the lag rows give the difference",
    "",
    ...grid(head, body, 2, 7),
  ];
  const missed = rs.flatMap((r) => [...(r.met === false ? [`${r.scenario} (no audit)`] : []), ...(r.audit_met === false ? [`${r.scenario} (audit)`] : [])]);
  out.push("", missed.length === 0 ? "targets: all met" : `targets missed: ${missed.join("; ")}`);
  return out.join("\n");
}

/** The audit append section: one column per backend measured. */
export function appendTable(figures: readonly AppendFigures[], skipped: readonly string[]): string {
  if (figures.length === 0) return `audit append throughput: not measured${skipped.length > 0 ? ` (${skipped.join("; ")})` : ""}`;
  const f0 = figures[0] as AppendFigures;
  const rate = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)} rows/s` : "—");
  const head = ["", ...figures.map((f) => `${f.backend} (${f.reps} rep${f.reps === 1 ? "" : "s"})`)];
  const body: string[][] = [
    ["AuditWriter: append all, then flush()", ...figures.map((f) => rate(f.writer.rows_per_s))],
    ["  append phase / flush phase (ms)", ...figures.map((f) => `${f.writer.append_ms.toFixed(0)} / ${f.writer.flush_ms.toFixed(0)}`)],
    ["plain INSERT … VALUES (12 params a row)", ...figures.map((f) => rate(f.plain_values.rows_per_s))],
    ["plain INSERT … SELECT FROM unnest(arrays)", ...figures.map((f) => rate(f.plain_unnest.rows_per_s))],
    ["ratio AuditWriter / faster plain INSERT", ...figures.map((f) => fmtRatio(f.ratio))],
    ["  vs VALUES / vs unnest", ...figures.map((f) => `${fmtRatio(f.ratio_vs_values)} / ${fmtRatio(f.ratio_vs_unnest)}`)],
    ["CPU µs/row, node: writer append + flush", ...figures.map((f) => `${cpuUs(f.writer.cpu_append.node_us)} + ${cpuUs(f.writer.cpu_flush.node_us)}`)],
    ["CPU µs/row, node: plain VALUES / unnest", ...figures.map((f) => `${cpuUs(f.plain_values.cpu.node_us)} / ${cpuUs(f.plain_unnest.cpu.node_us)}`)],
    ["  of which GC pauses: writer append + flush", ...figures.map((f) => `${cpuUs(f.writer.cpu_append.gc_us)} + ${cpuUs(f.writer.cpu_flush.gc_us)}`)],
    ["  of which GC pauses: plain VALUES / unnest", ...figures.map((f) => `${cpuUs(f.plain_values.cpu.gc_us)} / ${cpuUs(f.plain_unnest.cpu.gc_us)}`)],
    ["CPU µs/row, postgres: writer / VALUES / unnest", ...figures.map((f) => `${cpuUs(f.writer.cpu_flush.postgres_us)} / ${cpuUs(f.plain_values.cpu.postgres_us)} / ${cpuUs(f.plain_unnest.cpu.postgres_us)}`)],
  ];
  const stages = [...new Set(figures.flatMap((f) => f.breakdown.map((b) => b.stage)))];
  const usRow = (stage: string): string[] => [stage, ...figures.map((f) => { const b = f.breakdown.find((x) => x.stage === stage); return b ? `${b.us_per_row.toFixed(1)} µs` : "—"; })];
  const out = [
    `audit append throughput: ${f0.rows} rows a repetition (bus events captured from this run, replayed under new session ids: ${f0.sessions_per_rep} sessions;`,
    `  envelopes ${f0.envelope_bytes_mean.toFixed(0)} bytes of canonical JSON on average), batches of ${f0.batch}; median over repetitions, writer and plain alternating first.`,
    "  plain INSERT: the same rows with the writer's hashes precomputed (canonical JSON and sha256 outside its clock), into tables shaped like",
    "  audit_log (same columns, constraints, indexes; no chain heads, batch record or sessions), one autocommit statement per batch.",
    "",
    ...grid(head, body, 1, figures.length),
    "",
    "where AuditWriter's time goes (µs per row, all repetitions):",
    ...grid(["stage", ...figures.map((f) => f.backend)], stages.map(usRow), 1, figures.length),
    "",
    `the pieces alone, in a loop (CPU µs per envelope): canonicalJson ${f0.micro.canonical_json_us.toFixed(1)}, JSON.stringify ${f0.micro.json_stringify_us.toFixed(1)}, rowHash (sha256 of the row) ${f0.micro.row_hash_us.toFixed(1)}`,
    "(PGlite runs inside this process: its CPU is in the node figures; postgres CPU counts every local postgres process)",
  ];
  if (skipped.length > 0) out.push(`not measured: ${skipped.join("; ")}`);
  return out.join("\n");
}

/** The end-to-end section: whole sessions through the pipeline agents; no raw BullMQ counterpart. */
export function e2eTable(f: E2eFigures | null, m: Machine, skipped: string | null): string {
  if (!f) return `end to end (whole sessions): not measured${skipped ? ` (${skipped})` : ""}`;
  const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : "—");
  const dist = (d: Dist): string => `p50 ${ms(d.p50)}, p99 ${ms(d.p99)}, mean ${ms(d.mean)}, max ${ms(d.max)}`;
  const statuses = Object.entries(f.statuses).map(([k, v]) => `${k} ${v}`).join(", ");
  const notSuccess = f.not_success.map((n) => `  ${n.session_id}: ${n.status} ${JSON.stringify(n.error)}`);
  const a = f.audit;
  const out = [
    "end to end: whole sessions through the pipeline agents in agents/ (offline: no LLM), store on Postgres; no raw BullMQ counterpart",
    `machine: ${m.cores} cores (${m.cpu}), node ${m.node} ${m.platform}, bullmq ${m.bullmq}, redis ${m.redis}, postgres ${m.postgres}; load average ${f.load.start.toFixed(1)} when this section started, ${f.load.end.toFixed(1)} at its end`,
    `request: "${f.request}" (local page host) → plan ${f.plan.join(" → ")} (${f.plan.length} tasks)`,
    `agents (concurrency from their specs): ${f.agents.map((x) => `${x.name} ${x.concurrency}`).join(", ")}`,
    `closed loop: ${f.in_flight} sessions in flight; ${f.warmup_sessions} warm-up sessions, then ${f.sessions} measured, ${f.tail_sessions} more only to keep the loop full until the last measured one finished`,
    `finished = the session row has finished_at (set with the 'completed' audit row when the synthesis reaches COMPLETE); found by one query for all open sessions every ${f.poll_ms} ms (${f.poll.queries} queries, ${f.poll.mean_query_ms.toFixed(1)} ms each)`,
    "",
    ...grid(
      ["figure", "value"],
      [
        ["sessions/s (every finish from the first measured submit to the last measured finish)", `${f.sessions_per_s.toFixed(1)}  (${f.finished_in_window} in ${(f.ms / 1000).toFixed(1)} s; the measured sessions alone, first to last finish: ${f.measured_sessions_per_s.toFixed(1)})`],
        ["session latency, recorded (finished_at − started_at), ms", dist(f.latency_recorded_ms)],
        ["session latency, observed by the client (submit → seen finished), ms", dist(f.latency_observed_ms)],
        ["RequestService.submit, ms", dist(f.submit_ms)],
        ["mean recorded latency by tenth of the measured sessions (submission order), ms", f.latency_by_tenth_ms.map(ms).join(" ")],
        ["statuses of the measured sessions", `${statuses}${f.other_not_success > 0 ? `; warm-up/tail not success: ${f.other_not_success}` : ""}`],
        ["workflow records (memory agent)", `${f.workflow_records.written} of ${f.sessions}: ${Object.entries(f.workflow_records.statuses).map(([k, v]) => `${k} ${v}`).join(", ")}`],
        ["audit rows of the measured sessions", `${a.rows} (${a.rows_per_session.toFixed(1)} a session); ${a.rows_per_flush.toFixed(0)} rows per flush in the window (${a.flushes} flushes)`],
        ["audit verify afterwards (whole schema)", `${a.verify_ok ? "ok" : `FAILED: ${a.verify_problem ?? "?"}`}: ${a.verify_chains} chains, ${a.verify_rows} rows in ${(a.verify_ms / 1000).toFixed(1)} s`],
        ["CPU per session, ms: bench process (all agents) / redis-server / postgres (all local)", `${f.cpu_per_session_ms.node.toFixed(1)} / ${f.cpu_per_session_ms.redis.toFixed(1)} / ${f.cpu_per_session_ms.postgres.toFixed(1)}`],
      ],
      99,
      99,
    ),
    "",
    "where a measured session's time goes (audit rows' recorded_at: queue = published → delivered; handles = delivered → first reply recorded):",
    ...grid(
      ["stage", "per session", "mean ms", "p50 ms", "p99 ms", "share of latency"],
      f.stages.map((s) => [s.stage, s.per_session.toFixed(1), s.mean_ms.toFixed(1), s.p50_ms.toFixed(0), s.p99_ms.toFixed(0), Number.isFinite(s.share) ? `${(s.share * 100).toFixed(1)} %` : "—"]),
      1,
      5,
    ),
  ];
  if (notSuccess.length > 0) out.push("", "measured sessions that did not succeed (first 10):", ...notSuccess);
  return out.join("\n");
}
