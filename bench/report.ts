/** The benchmark's figures: rows with raw/agentbus/ratio/target, as a table or as JSON. */
import { cpus } from "node:os";
import { median, percentile } from "./stats.ts";
import type { ChainResult, FloodResult } from "./scenarios.ts";

export interface Row {
  id: string;
  scenario: string;
  unit: string;
  raw: number;
  agentbus: number;
  /** agentbus / raw. */
  ratio: number;
  /** "≥ 0.8" for throughput, "≤ 1.3" for latency, null for figures without a target. */
  target: string | null;
  met: boolean | null;
}

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
}

export function machine(bullmq: string, redis: string): Machine {
  return { cores: cpus().length, cpu: cpus()[0]?.model.trim() ?? "unknown", node: process.version, platform: `${process.platform}-${process.arch}`, bullmq, redis };
}

const pooled = (trials: ChainResult[], pick: (r: ChainResult) => number[]): number[] => trials.flatMap(pick);

function row(id: string, scenario: string, unit: string, raw: number, agentbus: number, target: { min?: number; max?: number } | null): Row {
  const ratio = agentbus / raw;
  const text = target ? (target.min !== undefined ? `≥ ${target.min}` : `≤ ${target.max}`) : null;
  const met = target ? (target.min !== undefined ? ratio >= target.min : ratio <= (target.max ?? Infinity)) : null;
  return { id, scenario, unit, raw, agentbus, ratio, target: text, met };
}

/** Throughputs are the median over repetitions; latency percentiles pool every repetition's samples. */
export function rows(t: Trials): Row[] {
  const perSec = (rs: Array<{ perSec: number }>): number => median(rs.map((r) => r.perSec));
  const lat = (rs: ChainResult[], pick: (r: ChainResult) => number[], p: number): number => percentile(pooled(rs, pick), p);
  const hops = (r: ChainResult): number[] => r.samples.hops;
  const entry = (r: ChainResult): number[] => r.samples.entry;
  const chain = (r: ChainResult): number[] => r.samples.chain;
  const window = t.load.raw[0]?.window ?? 0;
  return [
    row("add_process_throughput", "add → process throughput", "msg/s", perSec(t.flood.raw), perSec(t.flood.agentbus), { min: 0.8 }),
    row("chain_throughput", `4-queue chain throughput (${window} chains in flight)`, "chains/s", perSec(t.load.raw), perSec(t.load.agentbus), { min: 0.8 }),
    row("hop_latency_p50", "hop latency p50 (1 chain in flight)", "ms", lat(t.latency.raw, hops, 50), lat(t.latency.agentbus, hops, 50), { max: 1.3 }),
    row("hop_latency_p99", "hop latency p99 (1 chain in flight)", "ms", lat(t.latency.raw, hops, 99), lat(t.latency.agentbus, hops, 99), null),
    row("entry_latency_p50", "entry latency p50 (send → hop 1 start)", "ms", lat(t.latency.raw, entry, 50), lat(t.latency.agentbus, entry, 50), null),
    row("chain_latency_p50", "chain latency p50 (send → hop 4 start)", "ms", lat(t.latency.raw, chain, 50), lat(t.latency.agentbus, chain, 50), null),
    row("loaded_hop_latency_p50", `hop latency p50 (${window} chains in flight)`, "ms", lat(t.load.raw, hops, 50), lat(t.load.agentbus, hops, 50), null),
    row("loaded_hop_latency_p99", `hop latency p99 (${window} chains in flight)`, "ms", lat(t.load.raw, hops, 99), lat(t.load.agentbus, hops, 99), null),
  ];
}

function fmt(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "n/a";
  if (unit === "ms") return value.toFixed(3);
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function table(rs: Row[], m: Machine, params: Record<string, number | string>): string {
  const head = ["scenario", "unit", "raw BullMQ", "agentbus", "ratio", "target", "met"];
  const body = rs.map((r) => [r.scenario, r.unit, fmt(r.raw, r.unit), fmt(r.agentbus, r.unit), Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : "n/a", r.target ?? "", r.met === null ? "" : r.met ? "yes" : "NO"]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
  const out = [
    `machine: ${m.cores} cores (${m.cpu}), node ${m.node} ${m.platform}, bullmq ${m.bullmq}, redis ${m.redis}`,
    `run: ${Object.entries(params).map(([k, v]) => `${k}=${v}`).join(", ")}`,
    "",
    line(head),
    line(widths.map((w) => "-".repeat(w))),
    ...body.map(line),
  ];
  const missed = rs.filter((r) => r.met === false);
  out.push("", missed.length === 0 ? "targets: all met" : `targets missed: ${missed.map((r) => r.scenario).join("; ")}`);
  return out.join("\n");
}
