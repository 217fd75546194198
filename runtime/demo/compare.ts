/**
 * `agentbus demo` before/after: each run's outcomes are kept in the data folder, and the next run
 * prints, per request, what changed since (status, attempts, time, the rules applied), so an
 * approved rule's effect is visible on the same traffic. The file holds only what the demo printed.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { DemoOutcome } from "./run-demo.ts";
import { textTable } from "../text/table.ts";

export interface DemoRun {
  finished_at: string;
  rounds: number;
  outcomes: DemoOutcome[];
}

const FILE = "demo-last-run.json";

export function lastRunFile(dataDir: string): string {
  return join(dataDir, FILE);
}

/** The previous run, or null when there is none or it cannot be read as one (then nothing is compared). */
export async function readLastRun(dataDir: string): Promise<DemoRun | null> {
  let text: string;
  try {
    text = await readFile(lastRunFile(dataDir), "utf8");
  } catch {
    return null;
  }
  try {
    const run = JSON.parse(text) as Partial<DemoRun>;
    if (typeof run.finished_at !== "string" || !Array.isArray(run.outcomes)) return null;
    return { finished_at: run.finished_at, rounds: typeof run.rounds === "number" ? run.rounds : 1, outcomes: run.outcomes };
  } catch {
    return null;
  }
}

/** Written then renamed, so a reader never sees half a file. */
export async function saveLastRun(dataDir: string, run: DemoRun): Promise<void> {
  const path = lastRunFile(dataDir);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(run, null, 2)}\n`);
  await rename(tmp, path);
}

/** One request's figures over the rounds of a run. */
export interface RequestFigures {
  sessions: number;
  statuses: string;
  attempts_mean: number;
  ms_mean: number | null;
  rules_applied: string[];
}

export interface ComparisonRow {
  label: string;
  before: RequestFigures | null;
  after: RequestFigures | null;
}

export function figuresByLabel(outcomes: readonly DemoOutcome[]): Map<string, RequestFigures> {
  const groups = new Map<string, DemoOutcome[]>();
  for (const o of outcomes) groups.set(o.label, [...(groups.get(o.label) ?? []), o]);
  const out = new Map<string, RequestFigures>();
  for (const [label, group] of groups) {
    const timed = group.flatMap((o) => (o.ms === null ? [] : [o.ms]));
    out.set(label, {
      sessions: group.length,
      statuses: [...new Set(group.map((o) => o.status))].sort().join("/"),
      attempts_mean: mean(group.map((o) => o.attempts)) ?? 0,
      ms_mean: mean(timed),
      rules_applied: [...new Set(group.flatMap((o) => o.rules_applied ?? []))].sort(),
    });
  }
  return out;
}

export function compareRuns(before: readonly DemoOutcome[], after: readonly DemoOutcome[]): ComparisonRow[] {
  const b = figuresByLabel(before);
  const a = figuresByLabel(after);
  const labels = [...new Set([...a.keys(), ...b.keys()])];
  return labels.map((label) => ({ label, before: b.get(label) ?? null, after: a.get(label) ?? null }));
}

export function comparisonTable(rows: readonly ComparisonRow[]): string {
  const header = ["request", "status before → after", "attempts before → after", "ms before → after", "rules applied now"];
  const cells = rows.map((r) => [
    r.label,
    `${r.before?.statuses ?? "-"} → ${r.after?.statuses ?? "-"}`,
    `${num(r.before?.attempts_mean)} → ${num(r.after?.attempts_mean)}`,
    `${num(r.before?.ms_mean, 0)} → ${num(r.after?.ms_mean, 0)}`,
    r.after?.rules_applied.join(",") || "-",
  ]);
  const total = (side: "before" | "after", f: (x: RequestFigures) => number | null): number =>
    rows.reduce((sum, r) => sum + (r[side] ? (f(r[side]) ?? 0) : 0), 0);
  cells.push([
    "all (per round)",
    "",
    `${num(total("before", (x) => x.attempts_mean))} → ${num(total("after", (x) => x.attempts_mean))}`,
    `${num(total("before", (x) => x.ms_mean), 0)} → ${num(total("after", (x) => x.ms_mean), 0)}`,
    "",
  ]);
  return `${textTable(header, cells)}\n`;
}

function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function num(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined) return "-";
  return Number.isInteger(v) ? String(v) : v.toFixed(digits);
}
