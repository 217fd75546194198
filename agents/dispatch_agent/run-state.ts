/**
 * The dispatch agent's progress through one plan, as plain JSON it keeps in durable session state.
 * Every incoming message is applied here exactly once: what it caused (tasks to send, the report) is
 * recorded under the message's id as "intents", so a redelivered message yields the same replies
 * again and changes nothing. Results are applied once per (task_id, attempt).
 */
import type { ActionResult, DispatchReport, DispatchTaskReport, Task } from "../../runtime/agent-api.ts";
import { dependants, dependantsIndex, readyTasks, resolveReferences, type JsonObject, type JsonValue, type Plan, type TaskStatus } from "../_shared/plan/plan.ts";
import { matches, type DispatchEffect } from "../_shared/plan/rules.ts";

export interface TaskRun {
  task_id: string;
  capability: string;
  status: TaskStatus;
  /** Attempts started so far (0 until the task is first sent). */
  attempts: number;
  /** Sum over the attempts that reported back. */
  duration_ms: number;
  outputs: JsonObject | null;
  /** The last error, kept after a later attempt succeeds (the workflow record counts retries by cause). */
  error_code: string | null;
  error_message: string | null;
  recoverable: boolean;
  domain?: string;
}

/** What handling one message caused; replies are rebuilt from these and the run. */
export type Intent = { kind: "task"; task_id: string; attempt: number; delay_ms: number; why: string } | { kind: "report" };

export interface PlanRun {
  plan: Plan;
  tasks: Record<string, TaskRun>;
  /** "task_id#attempt" of every result applied. */
  applied: string[];
  /** Incoming message id → what it caused. */
  handled: Record<string, Intent[]>;
  /** Dispatch rules that changed a retry decision. */
  rules_applied: string[];
  reported: boolean;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  rules: ReadonlyArray<{ rule_id: string; effect: DispatchEffect }>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 30_000, rules: [] };

export interface Applied {
  run: PlanRun;
  intents: Intent[];
  /** False when the message had been handled before (a redelivery): same intents, nothing changed. */
  fresh: boolean;
  /** What happened, for the reply's reasoning. */
  notes: string[];
}

/** Starts (or, for a message seen before, replays) a run for a plan. */
export function applyPlan(current: PlanRun | undefined, plan: Plan, messageId: string): Applied {
  if (current) {
    const seen = current.handled[messageId];
    if (seen) return { run: current, intents: seen, fresh: false, notes: [] };
    current.handled[messageId] = [];
    return { run: current, intents: [], fresh: true, notes: [`plan ${plan.plan_id} is already running; this copy was ignored`] };
  }
  const tasks: Record<string, TaskRun> = {};
  for (const t of plan.tasks) {
    tasks[t.task_id] = { task_id: t.task_id, capability: t.capability, status: "pending", attempts: 0, duration_ms: 0, outputs: null, error_code: null, error_message: null, recoverable: false };
  }
  const run: PlanRun = { plan, tasks, applied: [], handled: {}, rules_applied: [], reported: false };
  const intents = startReady(run);
  run.handled[messageId] = intents;
  return { run, intents, fresh: true, notes: [`started plan ${plan.plan_id}: ${intents.length} of ${plan.tasks.length} tasks ready`] };
}

/** Applies one action_result (once), deciding retries, failures and skipped dependants. */
export function applyResult(run: PlanRun, result: ActionResult, messageId: string, policy: RetryPolicy = DEFAULT_RETRY_POLICY): Applied {
  const seen = run.handled[messageId];
  if (seen) return { run, intents: seen, fresh: false, notes: [] };
  const notes: string[] = [];
  const intents: Intent[] = [];
  const task = run.tasks[result.task_id];
  const key = `${result.task_id}#${result.attempt}`;
  if (!task) {
    notes.push(`result for unknown task ${result.task_id} ignored`);
  } else if (run.applied.includes(key)) {
    notes.push(`result for ${key} was already applied; ignored`);
  } else if (task.status !== "running" || result.attempt !== task.attempts) {
    run.applied.push(key);
    notes.push(`stale result for ${key} ignored (task is ${task.status}, attempt ${task.attempts})`);
  } else {
    run.applied.push(key);
    // Rules the action agent applied (a no_retry that made the failure final) count for the session too.
    for (const id of result.rules_applied ?? []) if (!run.rules_applied.includes(id)) run.rules_applied.push(id);
    task.duration_ms += result.duration_ms;
    if (result.domain) task.domain = result.domain;
    if (!result.error) {
      task.status = "succeeded";
      task.outputs = result.outputs;
      notes.push(`${task.task_id} (${task.capability}) succeeded on attempt ${task.attempts}`);
      intents.push(...startReady(run));
    } else {
      task.error_code = result.error.code;
      task.error_message = result.error.message;
      task.recoverable = result.error.recoverable;
      const decision = decideRetry(run, task, result.error.retry_after_ms, policy);
      if (decision.retry) {
        task.attempts += 1;
        intents.push({ kind: "task", task_id: task.task_id, attempt: task.attempts, delay_ms: decision.delay_ms, why: decision.why });
        notes.push(`${task.task_id} (${task.capability}) failed with ${result.error.code}; ${decision.why}`);
      } else {
        task.status = "failed";
        const skipped = skipDependants(run, task.task_id);
        notes.push(`${task.task_id} (${task.capability}) failed with ${result.error.code}: ${decision.why}${skipped.length > 0 ? `; skipped ${skipped.join(", ")}` : ""}`);
      }
    }
  }
  if (!run.reported && isSettled(run)) {
    run.reported = true;
    intents.push({ kind: "report" });
  }
  run.handled[messageId] = intents;
  return { run, intents, fresh: true, notes };
}

export function isSettled(run: PlanRun): boolean {
  return Object.values(run.tasks).every((t) => t.status === "succeeded" || t.status === "failed" || t.status === "skipped");
}

/** Exponential backoff from the attempt that failed, at least what the remote side asked for, capped. */
export function backoffMs(failedAttempt: number, retryAfterMs: number | undefined, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">): number {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, failedAttempt - 1);
  return Math.min(policy.maxDelayMs, Math.max(exponential, retryAfterMs ?? 0));
}

/** The `task` message content for an intent: references resolved to the outputs they name. */
export function taskContent(run: PlanRun, intent: Extract<Intent, { kind: "task" }>): Task {
  const planTask = run.plan.tasks.find((t) => t.task_id === intent.task_id);
  if (!planTask) throw new Error(`task ${intent.task_id} is not in plan ${run.plan.plan_id}`);
  const inputs = resolveReferences(planTask, (id) => run.tasks[id]?.outputs);
  return { plan_id: run.plan.plan_id, task_id: planTask.task_id, capability: planTask.capability, inputs, attempt: intent.attempt };
}

/**
 * How much of the outputs the report carries. The HTML of a page that a later task already read is
 * cut short (nobody reasons over markup); if the outputs are still larger than `totalChars`, the
 * longest strings are cut to a common length until they fit, so the report stays well inside the
 * envelope size limit.
 */
export const REPORT_LIMITS = { intermediateHtml: 2_000, totalChars: 300_000 };

export function buildReport(run: PlanRun): DispatchReport {
  const index = dependantsIndex(run.plan);
  const tasks: DispatchTaskReport[] = run.plan.tasks.map((t) => {
    const r = run.tasks[t.task_id];
    if (!r) throw new Error(`task ${t.task_id} has no run state`);
    const intermediate = (index.get(t.task_id) ?? []).length > 0;
    return {
      task_id: r.task_id,
      capability: r.capability,
      status: r.status === "succeeded" || r.status === "failed" ? r.status : "skipped",
      attempts: r.status === "skipped" ? 0 : r.attempts,
      error_code: r.error_code,
      error_message: r.error_message,
      outputs: r.status === "succeeded" && r.outputs ? (intermediate ? cutHtml(r.outputs) : r.outputs) : null,
      duration_ms: r.duration_ms,
      ...(r.domain ? { domain: r.domain } : {}),
      depends_on: t.depends_on,
      recoverable: r.recoverable,
    };
  });
  fitStrings(tasks, REPORT_LIMITS.totalChars);
  return {
    plan_id: run.plan.plan_id,
    tasks,
    skipped_branches: tasks.filter((t) => t.status === "skipped").map((t) => t.task_id),
    request: run.plan.request ?? `(plan ${run.plan.plan_id} did not carry the request text)`,
    ...(run.plan.category ? { category: run.plan.category } : {}),
    rules_applied: [...new Set([...run.plan.rules_applied, ...run.rules_applied])],
  };
}

/** Counts by final status, for status lines. */
export function tally(run: PlanRun): Record<"succeeded" | "failed" | "skipped", number> {
  const out = { succeeded: 0, failed: 0, skipped: 0 };
  for (const t of Object.values(run.tasks)) if (t.status === "succeeded" || t.status === "failed" || t.status === "skipped") out[t.status] += 1;
  return out;
}

function startReady(run: PlanRun): Intent[] {
  const intents: Intent[] = [];
  for (const t of readyTasks(run.plan, (id) => run.tasks[id]?.status)) {
    const r = run.tasks[t.task_id];
    if (!r) continue;
    r.status = "running";
    r.attempts = 1;
    intents.push({ kind: "task", task_id: t.task_id, attempt: 1, delay_ms: 0, why: "ready: every dependency succeeded" });
  }
  return intents;
}

function skipDependants(run: PlanRun, taskId: string): string[] {
  const skipped: string[] = [];
  for (const id of dependants(run.plan, taskId)) {
    const r = run.tasks[id];
    if (r && r.status === "pending") {
      r.status = "skipped";
      skipped.push(id);
    }
  }
  return skipped;
}

type Decision = { retry: true; delay_ms: number; why: string } | { retry: false; why: string };

function decideRetry(run: PlanRun, task: TaskRun, retryAfterMs: number | undefined, policy: RetryPolicy): Decision {
  if (!task.recoverable) return { retry: false, why: "not recoverable" };
  const failure = { capability: task.capability, error_code: task.error_code, domain: task.domain };
  const noRetry = policy.rules.find((r) => r.effect.op === "no_retry" && matches(r.effect.match, failure));
  if (noRetry) {
    if (!run.rules_applied.includes(noRetry.rule_id)) run.rules_applied.push(noRetry.rule_id);
    return { retry: false, why: `not retried (rule ${noRetry.rule_id})` };
  }
  let max = policy.maxAttempts;
  const capped = policy.rules
    .flatMap((r) => (r.effect.op === "max_attempts" && matches(r.effect.match, failure) ? [{ rule_id: r.rule_id, attempts: r.effect.attempts }] : []))
    .sort((a, b) => a.attempts - b.attempts)[0];
  if (capped && capped.attempts !== max) {
    max = capped.attempts;
    if (!run.rules_applied.includes(capped.rule_id)) run.rules_applied.push(capped.rule_id);
  }
  if (task.attempts >= max) return { retry: false, why: `gave up after ${task.attempts} attempt${task.attempts === 1 ? "" : "s"} (max ${max}${capped ? `, rule ${capped.rule_id}` : ""})` };
  const delay_ms = backoffMs(task.attempts, retryAfterMs, policy);
  return { retry: true, delay_ms, why: `retry ${task.attempts + 1}/${max} in ${delay_ms} ms${retryAfterMs !== undefined ? ` (Retry-After ${retryAfterMs} ms)` : ""}` };
}

function cutHtml(outputs: JsonObject): JsonObject {
  const html = outputs.html;
  if (typeof html !== "string" || html.length <= REPORT_LIMITS.intermediateHtml) return outputs;
  return { ...outputs, html: cut(html, REPORT_LIMITS.intermediateHtml) };
}

function cut(value: string, limit: number): string {
  return value.length > limit ? `${value.slice(0, limit)}… [${value.length - limit} more characters not shown]` : value;
}

/** Cuts the longest output strings to one common length so that all of them together fit `budget`. */
function fitStrings(tasks: DispatchTaskReport[], budget: number): void {
  const lengths: number[] = [];
  const visit = (value: JsonValue, fn: (s: string) => string): JsonValue => {
    if (typeof value === "string") return fn(value);
    if (Array.isArray(value)) return value.map((v) => visit(v, fn));
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v, fn)]));
    return value;
  };
  const measure = (s: string): string => {
    lengths.push(s.length);
    return s;
  };
  for (const t of tasks) if (t.outputs) visit(t.outputs, measure);
  if (lengths.reduce((a, b) => a + b, 0) <= budget) return;
  // The largest common cap that fits (binary search over the cap).
  let lo = 0;
  let hi = Math.max(...lengths);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (lengths.reduce((sum, n) => sum + Math.min(n, mid), 0) <= budget) lo = mid;
    else hi = mid - 1;
  }
  for (const t of tasks) if (t.outputs) t.outputs = visit(t.outputs, (s) => cut(s, lo)) as JsonObject;
}
