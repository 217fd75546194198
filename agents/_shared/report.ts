/**
 * Reading a dispatch report: how the session came out, what each task produced, which tasks feed
 * which. Shared by the reasoning agent (the answer) and the memory agent (the workflow record).
 */
import type { ContentTypeMap } from "../../runtime/agent-api.ts";

export type DispatchReport = ContentTypeMap["dispatch_report"];
export type TaskReport = DispatchReport["tasks"][number];

export type SessionOutcome = "success" | "partial" | "failed";

export interface ReportOutcome {
  /** success: every task succeeded; partial: some did; failed: none did (or there were none). */
  status: SessionOutcome;
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
}

export function outcomeOf(report: DispatchReport): ReportOutcome {
  const count = (s: TaskReport["status"]): number => report.tasks.filter((t) => t.status === s).length;
  const total = report.tasks.length;
  const succeeded = count("succeeded");
  const status: SessionOutcome = total > 0 && succeeded === total ? "success" : succeeded > 0 ? "partial" : "failed";
  return { status, total, succeeded, failed: count("failed"), skipped: count("skipped") };
}

/** True when the report carries the plan's edges (dispatch reports written before they did not). */
export function hasEdges(report: DispatchReport): boolean {
  return report.tasks.some((t) => Array.isArray(t.depends_on));
}

/** Tasks whose output another task of the plan consumed (intermediate steps, not answers). */
export function consumedTasks(report: DispatchReport): Set<string> {
  const consumed = new Set<string>();
  for (const t of report.tasks) for (const dep of t.depends_on ?? []) consumed.add(dep);
  return consumed;
}

/**
 * The tasks each task's content ultimately comes from (the roots of the plan it descends from):
 * results of one lineage come from one source and cannot contradict each other as sources.
 * Without edges every task is its own source.
 */
export function sourcesOf(report: DispatchReport): Map<string, string> {
  const byId = new Map(report.tasks.map((t) => [t.task_id, t]));
  const memo = new Map<string, Set<string>>();
  const roots = (id: string, seen: Set<string>): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const deps = (byId.get(id)?.depends_on ?? []).filter((d) => byId.has(d) && !seen.has(d));
    const out = new Set<string>();
    if (deps.length === 0) out.add(id);
    for (const d of deps) for (const r of roots(d, new Set([...seen, id]))) out.add(r);
    memo.set(id, out);
    return out;
  };
  return new Map(report.tasks.map((t) => [t.task_id, [...roots(t.task_id, new Set())].sort().join("+")]));
}

/** The reason a skipped task did not run, naming the dependencies that did not succeed. */
export function skipReason(report: DispatchReport, task: TaskReport): string {
  const byId = new Map(report.tasks.map((t) => [t.task_id, t]));
  const blockers = (task.depends_on ?? []).filter((d) => byId.get(d)?.status !== "succeeded");
  if (blockers.length === 0) return "a task it depends on did not succeed";
  return `it depends on ${blockers.map((b) => `${b} (${byId.get(b)?.status ?? "unknown"})`).join(", ")}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Cuts text to at most `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}
