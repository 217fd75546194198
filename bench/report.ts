/** The benchmark's figures: rows with raw/agentbus/ratio/target, as a table or as JSON. */
import { cpus, loadavg } from "node:os";
import { median, percentile } from "./stats.ts";
import type { ChainResult, FloodResult } from "./scenarios.ts";

export interface Row {
  id: string;
  scenario: string;
  unit: string;
  /** Median over repetitions of the figure for each system. */
  raw: number;
  agentbus: number;
  /** Median over repetitions of agentbus / raw within the same repetition (robust to drift). */
  ratio: number;
  /** "≥ 0.8" for throughput, "≤ 1.3" for latency, null for figures without a target. */
  target: string | null;
  met: boolean | null;
  perRep: { raw: number[]; agentbus: number[] };
}

/** Repetition i of each list was run back to back (raw and agentbus alternating who goes first). */
export interface Trials {
  flood: { raw: FloodResult[]; agentbus: FloodResult[] };
  load: { raw: ChainResult[]; agentbus: ChainResult[] };
  latency: { raw: ChainResult[]; agentbus: ChainResult[] };
}

export interface Machine {
  cores: number;
  cpu: string;
  node: string;
  platform: string;
  bullmq: string;
  redis: string;
  /** 1-minute load average when the run started and ended: the machine may be shared. */
  load: { start: number; end: number };
}

export function machine(bullmq: string, redis: string): Machine {
  const load = loadavg()[0] ?? 0;
  return { cores: cpus().length, cpu: cpus()[0]?.model.trim() ?? "unknown", node: process.version, platform: `${process.platform}-${process.arch}`, bullmq, redis, load: { start: load, end: load } };
}

type Target = { min: number } | { max: number } | null;

function row<R>(id: string, scenario: string, unit: string, trials: { raw: R[]; agentbus: R[] }, figure: (r: R) => number, target: Target): Row {
  const raw = trials.raw.map(figure);
  const agentbus = trials.agentbus.map(figure);
  const ratio = median(raw.map((r, i) => (agentbus[i] ?? Number.NaN) / r));
  const text = target ? ("min" in target ? `≥ ${target.min}` : `≤ ${target.max}`) : null;
  const met = target ? ("min" in target ? ratio >= target.min : ratio <= target.max) : null;
  return { id, scenario, unit, raw: median(raw), agentbus: median(agentbus), ratio, target: text, met, perRep: { raw, agentbus } };
}

export function rows(t: Trials): Row[] {
  const perSec = (r: { perSec: number }): number => r.perSec;
  const hops = (p: number) => (r: ChainResult): number => percentile(r.samples.hops, p);
  const window = t.load.raw[0]?.window ?? 0;
  return [
    row("add_process_throughput", "add → process throughput", "msg/s", t.flood, perSec, { min: 0.8 }),
    row("chain_throughput", `4-queue chain throughput (${window} chains in flight)`, "chains/s", t.load, perSec, { min: 0.8 }),
    row("hop_latency_p50", "hop latency p50 (1 chain in flight)", "ms", t.latency, hops(50), { max: 1.3 }),
    row("hop_latency_p99", "hop latency p99 (1 chain in flight)", "ms", t.latency, hops(99), null),
    row("entry_latency_p50", "entry latency p50 (send → hop 1 start)", "ms", t.latency, (r) => percentile(r.samples.entry, 50), null),
    row("chain_latency_p50", "chain latency p50 (send → hop 4 start)", "ms", t.latency, (r) => percentile(r.samples.chain, 50), null),
    row("loaded_hop_latency_p50", `hop latency p50 (${window} chains in flight)`, "ms", t.load, hops(50), null),
    row("loaded_hop_latency_p99", `hop latency p99 (${window} chains in flight)`, "ms", t.load, hops(99), null),
    row("add_process_node_cpu", "add → process: bench process CPU per message", "µs", t.flood, (r) => (r.cpu.nodeMs * 1000) / r.count, null),
    row("add_process_redis_cpu", "add → process: redis-server CPU per message", "µs", t.flood, (r) => (r.cpu.redisMs * 1000) / r.count, null),
    row("chain_node_cpu", "chain: bench process CPU per chain", "µs", t.load, (r) => (r.cpu.nodeMs * 1000) / r.count, null),
    row("chain_redis_cpu", "chain: redis-server CPU per chain", "µs", t.load, (r) => (r.cpu.redisMs * 1000) / r.count, null),
  ];
}

function fmt(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "n/a";
  if (unit === "ms") return value.toFixed(3);
  if (unit === "µs") return value.toFixed(0);
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function table(rs: Row[], m: Machine, params: Record<string, number | string>): string {
  const head = ["scenario", "unit", "raw BullMQ", "agentbus", "ratio", "target", "met"];
  const body = rs.map((r) => [r.scenario, r.unit, fmt(r.raw, r.unit), fmt(r.agentbus, r.unit), Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : "n/a", r.target ?? "", r.met === null ? "" : r.met ? "yes" : "NO"]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
  const out = [
    `machine: ${m.cores} cores (${m.cpu}), node ${m.node} ${m.platform}, bullmq ${m.bullmq}, redis ${m.redis}; load average ${m.load.start.toFixed(1)} at start, ${m.load.end.toFixed(1)} at end`,
    `run: ${Object.entries(params).map(([k, v]) => `${k}=${v}`).join(", ")}`,
    "figures: median over repetitions; ratio: median of agentbus/raw within each repetition (raw and agentbus run back to back)",
    "",
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...body.map(line),
  ];
  const missed = rs.filter((r) => r.met === false);
  out.push("", missed.length === 0 ? "targets: all met" : `targets missed: ${missed.map((r) => r.scenario).join("; ")}`);
  return out.join("\n");
}
