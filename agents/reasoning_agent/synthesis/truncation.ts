/**
 * Inputs that were cut. fetch and extract_text cut what is longer than a message may carry and
 * mark it `truncated: true`; every task reading from such a result (directly or further down the
 * plan) saw only part of the document. The answer must say so, and a negative finding ("not
 * found") on a cut input is not a fact: the term may be in the part that was not read.
 */
import { hasEdges, isRecord, type DispatchReport, type TaskReport } from "../../_shared/report.ts";

export interface Cut {
  /** The task whose output was cut. */
  task_id: string;
  capability: string;
  /** Characters kept (what later tasks read). */
  kept: number;
  /** Characters the whole document had, when the task said. */
  total: number | null;
}

/** Confidence ceiling for an answer whose negative finding rests on a cut input. */
export const NEGATIVE_ON_CUT_CEILING = 0.4;
/** Factor for any answer built on a cut input (what was read may be unrepresentative). */
export const CUT_FACTOR = 0.8;

/** The cut in a task's own outputs, or null. */
export function cutOf(task: TaskReport): Cut | null {
  const o = task.status === "succeeded" ? task.outputs : null;
  if (!isRecord(o) || o.truncated !== true) return null;
  // The dispatch report may shorten outputs it carries on, so the kept length is the task's own word.
  const keptText = typeof o.html === "string" ? o.html : typeof o.text === "string" ? o.text : null;
  const kept = typeof o.kept_chars === "number" ? o.kept_chars : (keptText?.length ?? 0);
  const total = typeof o.total_chars === "number" ? o.total_chars : null;
  return { task_id: task.task_id, capability: task.capability, kept, total };
}

/**
 * For each task, the cuts it read from: its own and its ancestors' (by the plan's edges; without
 * edges, every earlier task counts as an ancestor).
 */
export function cutsByTask(report: DispatchReport): Map<string, Cut[]> {
  const byId = new Map(report.tasks.map((t) => [t.task_id, t]));
  const edges = hasEdges(report);
  const memo = new Map<string, Cut[]>();
  const walk = (id: string, seen: Set<string>): Cut[] => {
    const known = memo.get(id);
    if (known) return known;
    const task = byId.get(id);
    if (!task) return [];
    const own = cutOf(task);
    const parents = edges ? (task.depends_on ?? []) : report.tasks.slice(0, report.tasks.indexOf(task)).map((t) => t.task_id);
    const found = new Map<string, Cut>();
    if (own) found.set(own.task_id, own);
    for (const p of parents) {
      if (seen.has(p)) continue;
      for (const c of walk(p, new Set([...seen, id]))) found.set(c.task_id, c);
    }
    const cuts = [...found.values()];
    memo.set(id, cuts);
    return cuts;
  };
  return new Map(report.tasks.map((t) => [t.task_id, walk(t.task_id, new Set())]));
}

/** "t1 (fetch) kept the first 200,000 of 260,012 characters". */
export function describeCut(c: Cut): string {
  const of = c.total !== null && c.total > c.kept ? ` of ${c.total.toLocaleString("en-US")}` : "";
  return `${c.task_id} (${c.capability}) kept only the first ${c.kept.toLocaleString("en-US")}${of} characters`;
}

/** The sentence for a term not found in a cut input. */
export function notFoundOnCut(term: string, cuts: readonly Cut[]): string {
  const first = cuts[0];
  const at = first ? ` at ${first.kept.toLocaleString("en-US")} characters` : "";
  return `"${term}" was not found in the part that was read, but the input was cut${at}, so it may be in the part not read`;
}

/** What the answer says about cut inputs, one line per cut. */
export function cutLines(report: DispatchReport): string[] {
  const cuts = report.tasks.map(cutOf).filter((c): c is Cut => c !== null);
  if (cuts.length === 0) return [];
  return ["", "Input was cut:", ...cuts.map((c) => `- ${describeCut(c)}; the rest was not read, so this answer may miss what it holds.`)];
}
