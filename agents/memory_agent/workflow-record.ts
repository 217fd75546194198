/**
 * The workflow_record of a finished session (DESIGN.md §3), built from the dispatch report the
 * reasoning agent answered, or, for a request the planning agent could not plan, from the
 * user_request itself. Optional fields are omitted, never null.
 */
import type { ContentTypeMap } from "../../runtime/envelope/types.ts";
import { analyzeRequest } from "../../runtime/planning/index.ts";
import type { UserRequest } from "../../runtime/schemas/generated/content_user_request.ts";
import { consumedTasks, hasEdges, outcomeOf, type DispatchReport, type TaskReport } from "../../runtime/reasoning/report.ts";

export type WorkflowRecord = ContentTypeMap["workflow_record"];
type WorkflowTask = WorkflowRecord["tasks"][number];

export interface RecordContext {
  session_id: string;
  request_id: string;
  started_at: string;
  finished_at: string;
}

export function buildWorkflowRecord(report: DispatchReport, at: RecordContext): WorkflowRecord {
  return {
    session_id: at.session_id,
    request_id: at.request_id,
    request: { text: report.request, category: categoryOf(report) },
    started_at: at.started_at,
    finished_at: at.finished_at,
    status: outcomeOf(report).status,
    plan: report.tasks.map((t) => ({ task_id: t.task_id, capability: t.capability, depends_on: [...(t.depends_on ?? [])] })),
    tasks: report.tasks.map(taskOf),
    rules_applied: [...report.rules_applied],
  };
}

/**
 * The record of a session that never got a plan: failed, nothing planned, nothing run, no rules
 * applied. Its category is the planner's: the user's own, else what the request asks for (e.g.
 * "summarize"), "unknown" when it asks for nothing the planner recognises.
 */
export function buildUnplannedRecord(request: Pick<UserRequest, "text" | "refs" | "category">, at: RecordContext): WorkflowRecord {
  return {
    session_id: at.session_id,
    request_id: at.request_id,
    request: { text: request.text, category: analyzeRequest(request).category },
    started_at: at.started_at,
    finished_at: at.finished_at,
    status: "failed",
    plan: [],
    tasks: [],
    rules_applied: [],
  };
}

function taskOf(t: TaskReport): WorkflowTask {
  return {
    task_id: t.task_id,
    capability: t.capability,
    status: t.status,
    attempts: t.attempts,
    ...(t.error_code !== null ? { error_code: t.error_code } : {}),
    ...(t.domain !== undefined ? { domain: t.domain } : {}),
    recoverable: recoverableOf(t),
    // A skipped task never ran: it spent no time worth recording.
    ...(t.attempts > 0 ? { duration_ms: t.duration_ms } : {}),
  };
}

/**
 * As the dispatch agent reports it; for reports without the flag, inferred: a task that failed and
 * then succeeded had a recoverable failure, and dispatch retries only recoverable failures.
 */
export function recoverableOf(t: TaskReport): boolean {
  if (typeof t.recoverable === "boolean") return t.recoverable;
  if (t.status === "skipped" || t.error_code === null) return false;
  if (t.status === "succeeded") return true;
  return t.attempts > 1;
}

/**
 * The request's own category when it had one; otherwise what it asked for: the capabilities of the
 * plan's final tasks (those no other task consumes), e.g. "find_mentions" or "compute+summarize".
 */
export function categoryOf(report: DispatchReport): string {
  if (report.category) return report.category;
  const consumed = consumedTasks(report);
  const finals = hasEdges(report) ? report.tasks.filter((t) => !consumed.has(t.task_id)) : report.tasks.slice(-1);
  const names = [...new Set(finals.map((t) => t.capability))].sort();
  let category = "";
  for (const name of names) {
    const next = category ? `${category}+${name}` : name;
    if (next.length > 64) break;
    category = next;
  }
  return category || "general";
}

/**
 * Milliseconds the plan must have taken at least: the longest chain of dependent tasks, by their
 * reported durations (without edges, the longest task). A session started no later than this
 * before its dispatch report was answered.
 */
export function criticalPathMs(report: DispatchReport): number {
  const byId = new Map(report.tasks.map((t) => [t.task_id, t]));
  const memo = new Map<string, number>();
  const longest = (t: TaskReport, seen: Set<string>): number => {
    const known = memo.get(t.task_id);
    if (known !== undefined) return known;
    let before = 0;
    for (const dep of t.depends_on ?? []) {
      const d = byId.get(dep);
      if (d && !seen.has(dep)) before = Math.max(before, longest(d, new Set([...seen, t.task_id])));
    }
    const total = before + t.duration_ms;
    memo.set(t.task_id, total);
    return total;
  };
  return Math.max(0, ...report.tasks.map((t) => longest(t, new Set())));
}
