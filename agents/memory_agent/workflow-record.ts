/**
 * The workflow_record of a finished session (DESIGN.md §3), built from the dispatch report the
 * reasoning agent answered, or, for a request the planning agent could not plan, from the
 * user_request itself. Optional fields are omitted, never null.
 */
import { createHash } from "node:crypto";
import type { ContentTypeMap, UserRequest } from "../../runtime/agent-api.ts";
import { analyzeRequest } from "../_shared/request.ts";
import { consumedTasks, hasEdges, outcomeOf, sourcesOf, type DispatchReport, type TaskReport } from "../_shared/report.ts";

export type WorkflowRecord = ContentTypeMap["workflow_record"];
type WorkflowTask = WorkflowRecord["tasks"][number];
type WorkflowContradiction = NonNullable<WorkflowRecord["contradictions"]>[number];
/** What the reasoning agent flagged, as it reports it (synthesis.contradictions). */
export type FlaggedContradiction = ContentTypeMap["synthesis"]["contradictions"][number];

export interface RecordContext {
  session_id: string;
  request_id: string;
  started_at: string;
  finished_at: string;
}

/** `synthesisRules`: rules the reasoning agent applied (the plan's and dispatch's come with the report). */
export function buildWorkflowRecord(report: DispatchReport, at: RecordContext, flagged: readonly FlaggedContradiction[] = [], synthesisRules: readonly string[] = []): WorkflowRecord {
  const sizes = sizesOf(report);
  const fingerprints = fingerprintsOf(report);
  const contradictions = contradictionsOf(report, flagged);
  return {
    session_id: at.session_id,
    request_id: at.request_id,
    request: { text: report.request, category: categoryOf(report) },
    started_at: at.started_at,
    finished_at: at.finished_at,
    status: outcomeOf(report).status,
    plan: report.tasks.map((t) => ({ task_id: t.task_id, capability: t.capability, depends_on: [...(t.depends_on ?? [])] })),
    tasks: report.tasks.map((t) => taskOf(t, sizes, fingerprints)),
    rules_applied: [...new Set([...report.rules_applied, ...synthesisRules])],
    ...(contradictions.length > 0 ? { contradictions } : {}),
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

function taskOf(t: TaskReport, sizes: Map<string, number>, fingerprints: Map<string, string>): WorkflowTask {
  const inputChars = (t.depends_on ?? []).reduce<number | undefined>((sum, dep) => {
    const size = sizes.get(dep);
    return size === undefined ? sum : (sum ?? 0) + size;
  }, undefined);
  const outputChars = sizes.get(t.task_id);
  const fingerprint = fingerprints.get(t.task_id);
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
    ...(t.attempts > 0 && inputChars !== undefined ? { input_chars: inputChars } : {}),
    ...(outputChars !== undefined ? { output_chars: outputChars } : {}),
    ...(fingerprint !== undefined ? { fingerprint } : {}),
  };
}

const hash16 = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 16);

/** Size in characters of JSON of each succeeded task's outputs: sizes, never the content. */
function sizesOf(report: DispatchReport): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of report.tasks) if (t.status === "succeeded" && t.outputs !== null) out.set(t.task_id, JSON.stringify(t.outputs).length);
  return out;
}

/**
 * A hash of what a succeeded task did: its capability, the fingerprints of the tasks it consumed
 * and what it produced. Two tasks of one plan with equal fingerprints did the same work twice. The
 * outputs are part of it because the report does not carry the plan's own inputs (two fetches of
 * different pages differ by what they returned).
 */
function fingerprintsOf(report: DispatchReport): Map<string, string> {
  const byId = new Map(report.tasks.map((t) => [t.task_id, t]));
  const out = new Map<string, string>();
  const of = (t: TaskReport, seen: Set<string>): string | undefined => {
    const known = out.get(t.task_id);
    if (known !== undefined) return known;
    if (t.status !== "succeeded" || t.outputs === null || seen.has(t.task_id)) return undefined;
    const deps: string[] = [];
    for (const id of t.depends_on ?? []) {
      const dep = byId.get(id);
      const f = dep ? of(dep, new Set([...seen, t.task_id])) : undefined;
      if (f === undefined) return undefined;
      deps.push(f);
    }
    const f = hash16(`${t.capability}\u0000${deps.sort().join(",")}\u0000${JSON.stringify(t.outputs)}`);
    out.set(t.task_id, f);
    return f;
  };
  for (const t of report.tasks) of(t, new Set());
  return out;
}

/**
 * The flagged contradictions as metadata: their kind, a hash of the subject (the subject is read
 * from page text, so it is not kept) and the sources that disagreed (the roots of the lineages the
 * values came from, by capability and domain).
 */
function contradictionsOf(report: DispatchReport, flagged: readonly FlaggedContradiction[]): WorkflowContradiction[] {
  const byId = new Map(report.tasks.map((t) => [t.task_id, t]));
  const lineages = sourcesOf(report);
  const out: WorkflowContradiction[] = [];
  for (const c of flagged.slice(0, 100)) {
    const roots = new Map<string, TaskReport>();
    for (const v of c.values) {
      const lineage = lineages.get(v.task_id) ?? v.task_id;
      const root = byId.get(lineage.split("+")[0] ?? "") ?? byId.get(v.task_id);
      if (root && !roots.has(lineage)) roots.set(lineage, root);
    }
    if (roots.size < 2) continue;
    const sources = [...roots.values()].slice(0, 10).map((r) => ({ capability: r.capability, ...(r.domain !== undefined ? { domain: r.domain } : {}) }));
    const kind = c.subject.startsWith("value of ") ? "compute" : "fact";
    out.push({ kind, subject_key: hash16(c.subject.toLowerCase().replace(/\s+/g, " ").trim()), sources: sources as WorkflowContradiction["sources"] });
  }
  return out;
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
