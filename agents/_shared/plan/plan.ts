/**
 * The plan as data: its types, the wiring convention for task inputs, and the DAG questions the
 * dispatch agent asks (which tasks are ready, which depend on a failed one).
 *
 * Wiring: a task input is a literal value, or a reference to an earlier task's output,
 * `{ "from_task": "t1", "output": "html" }`; the referenced task must be in `depends_on`. Dispatch
 * resolves references to the actual values before it sends a task, so `task.inputs` are literal.
 */
import { HandlerError, type JsonObject, type JsonValue, type Plan, type PlanTask } from "../../../runtime/agent-api.ts";

export type { Plan, PlanTask, JsonObject, JsonValue };

/** A type alias (not an interface) so that it fits where a JsonObject is expected. */
export type TaskReference = { from_task: string; output: string };

/** Exactly `{from_task: string, output: string}`: anything else is a literal. */
export function isReference(value: unknown): value is TaskReference {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const v = value as Record<string, unknown>;
  return keys.length === 2 && typeof v.from_task === "string" && typeof v.output === "string";
}

export function reference(fromTask: string, output: string): TaskReference {
  return { from_task: fromTask, output };
}

/** The references among a task's inputs, by input field. */
export function referencesOf(task: Pick<PlanTask, "inputs">): Array<{ field: string; ref: TaskReference }> {
  const out: Array<{ field: string; ref: TaskReference }> = [];
  for (const [field, value] of Object.entries(task.inputs)) if (isReference(value)) out.push({ field, ref: value });
  return out;
}

/**
 * The task's inputs with every reference replaced by the referenced task's output value.
 * Throws PLAN_REFERENCE_UNRESOLVED (not recoverable) when an output is missing: the plan is wrong.
 */
export function resolveReferences(task: Pick<PlanTask, "task_id" | "inputs">, outputsByTask: (taskId: string) => JsonObject | null | undefined): JsonObject {
  const resolved: JsonObject = {};
  for (const [field, value] of Object.entries(task.inputs)) {
    if (!isReference(value)) {
      resolved[field] = value;
      continue;
    }
    const outputs = outputsByTask(value.from_task);
    const produced = outputs?.[value.output];
    if (produced === undefined) {
      const why = outputs ? `its outputs have no field "${value.output}" (they have: ${Object.keys(outputs).join(", ") || "none"})` : "it has no outputs";
      throw new HandlerError("PLAN_REFERENCE_UNRESOLVED", `task ${task.task_id} input "${field}" refers to ${value.from_task}.${value.output}, but ${why}`);
    }
    resolved[field] = produced;
  }
  return resolved;
}

/** Task id → the ids of the tasks that list it in depends_on. */
export function dependantsIndex(plan: Pick<Plan, "tasks">): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const t of plan.tasks) index.set(t.task_id, []);
  for (const t of plan.tasks) for (const d of new Set(t.depends_on)) index.get(d)?.push(t.task_id);
  return index;
}

/** Every task that depends on `taskId`, directly or through others, in plan order. */
export function dependants(plan: Pick<Plan, "tasks">, taskId: string): string[] {
  const index = dependantsIndex(plan);
  const seen = new Set<string>();
  const stack = [...(index.get(taskId) ?? [])];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(index.get(id) ?? []));
  }
  return plan.tasks.map((t) => t.task_id).filter((id) => seen.has(id));
}

export type TaskStatus = "pending" | "running" | "succeeded" | "failed" | "skipped";

/** Pending tasks whose dependencies have all succeeded, in plan order. */
export function readyTasks(plan: Pick<Plan, "tasks">, statusOf: (taskId: string) => TaskStatus | undefined): PlanTask[] {
  return plan.tasks.filter((t) => statusOf(t.task_id) === "pending" && t.depends_on.every((d) => statusOf(d) === "succeeded"));
}

/** Task ids in an order where every task comes after its dependencies; null when there is a cycle. */
export function topologicalOrder(plan: Pick<Plan, "tasks">): string[] | null {
  const known = new Set(plan.tasks.map((t) => t.task_id));
  const indegree = new Map<string, number>();
  for (const t of plan.tasks) indegree.set(t.task_id, [...new Set(t.depends_on)].filter((d) => known.has(d)).length);
  const index = dependantsIndex(plan);
  const queue = plan.tasks.filter((t) => indegree.get(t.task_id) === 0).map((t) => t.task_id);
  const order: string[] = [];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    order.push(id);
    for (const next of index.get(id) ?? []) {
      const left = (indegree.get(next) ?? 0) - 1;
      indegree.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  return order.length === new Set(plan.tasks.map((t) => t.task_id)).size ? order : null;
}
