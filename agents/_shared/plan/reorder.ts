/**
 * The prefer_order and dedupe effects. Both keep the DAG valid: reordering only moves a task among
 * those whose dependencies are already placed, and a merged duplicate's dependants are rewired to
 * the task that stays.
 */
import { isReference, reference, type JsonValue, type PlanTask } from "./plan.ts";

/**
 * The tasks in a dependency-respecting order where, among the tasks ready to be placed, the first in
 * plan order goes next, except that a task of a capability in `order` gives way to a ready one whose
 * capability comes earlier in `order` (tasks of other capabilities keep their place). Dispatch sends
 * ready tasks in plan order, so this is also the order they start in.
 */
export function preferOrder(tasks: readonly PlanTask[], order: readonly string[]): PlanTask[] {
  const rank = (t: PlanTask): number => order.indexOf(t.capability);
  const placed = new Set<string>();
  const known = new Set(tasks.map((t) => t.task_id));
  const left = [...tasks];
  const out: PlanTask[] = [];
  while (left.length > 0) {
    const ready = left.filter((t) => t.depends_on.every((d) => placed.has(d) || !known.has(d)));
    if (ready.length === 0) return [...tasks]; // a cycle: validation reports it, nothing to reorder
    const first = ready[0] as PlanTask;
    const next = rank(first) < 0 ? first : ready.filter((t) => rank(t) >= 0).reduce((best, t) => (rank(t) < rank(best) ? t : best), first);
    out.push(next);
    placed.add(next.task_id);
    left.splice(left.indexOf(next), 1);
  }
  return out;
}

/**
 * Removes every task of `capability` that has the same inputs as an earlier one of that capability;
 * tasks that referred to a removed task refer to the kept one instead. Returns the removed ids.
 */
export function dedupe(tasks: readonly PlanTask[], capability: string): { tasks: PlanTask[]; removed: Array<{ removed: string; kept: string }> } {
  const keptBy = new Map<string, string>();
  const replaced = new Map<string, string>();
  const removed: Array<{ removed: string; kept: string }> = [];
  for (const t of tasks) {
    if (t.capability !== capability) continue;
    const key = stableJson(t.inputs);
    const kept = keptBy.get(key);
    if (kept === undefined) keptBy.set(key, t.task_id);
    else {
      replaced.set(t.task_id, kept);
      removed.push({ removed: t.task_id, kept });
    }
  }
  if (removed.length === 0) return { tasks: [...tasks], removed };
  const out = tasks
    .filter((t) => !replaced.has(t.task_id))
    .map((t): PlanTask => {
      const inputs: Record<string, JsonValue> = {};
      for (const [field, value] of Object.entries(t.inputs)) {
        const to = isReference(value) ? replaced.get(value.from_task) : undefined;
        inputs[field] = isReference(value) && to !== undefined ? reference(to, value.output) : value;
      }
      const deps = [...new Set(t.depends_on.map((d) => replaced.get(d) ?? d))].filter((d) => d !== t.task_id);
      return { ...t, inputs, depends_on: deps };
    });
  return { tasks: out, removed };
}

/** JSON with object keys sorted, so that inputs listed in another order compare equal. */
function stableJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, JsonValue>)[k] ?? null)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
