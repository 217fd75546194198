/** The insert_before effect: a task of another capability placed before a task, wired by artifact types. */
import type { Capability, CapabilityCatalog } from "../../../runtime/agent-api.ts";
import { isReference, reference, type JsonValue, type PlanTask } from "./plan.ts";
import { requiredInputs } from "./validate-plan.ts";

/** The plan with `insert` placed before `target`; a string saying why not when it cannot be wired. */
export function insertBefore(tasks: PlanTask[], target: PlanTask, insert: Capability, catalog: CapabilityCatalog): PlanTask[] | string {
  const byId = new Map(tasks.map((t) => [t.task_id, t]));
  if (target.depends_on.some((d) => byId.get(d)?.capability === insert.name)) return `${insert.name} already runs right before it`;
  const targetCap = catalog.get(target.capability);
  if (!targetCap) return `capability "${target.capability}" is not registered`;

  const inputs: Record<string, JsonValue> = {};
  for (const [field, type] of Object.entries(insert.consumes)) {
    const source = findSource(type, target, targetCap, byId, catalog);
    if (source !== undefined) inputs[field] = source;
    else if (requiredInputs(insert).includes(field)) return `nothing before it provides ${insert.name}'s input "${field}" (${type})`;
  }
  const id = freshId(tasks);
  const deps = Object.values(inputs).filter(isReference).map((r) => r.from_task);
  const inserted: PlanTask = { task_id: id, capability: insert.name, inputs, depends_on: [...new Set(deps)] };
  const rewired: PlanTask = { ...target, inputs: { ...target.inputs }, depends_on: [...target.depends_on, id] };
  for (const [outField, outType] of Object.entries(insert.produces)) {
    for (const [inField, inType] of Object.entries(targetCap.consumes)) {
      if (inType === outType && Object.prototype.hasOwnProperty.call(rewired.inputs, inField)) rewired.inputs[inField] = reference(id, outField);
    }
  }
  // A dependency the target no longer refers to, and that the inserted task now depends on, is
  // dropped: the order is kept through the inserted task.
  const stillUsed = new Set([id, ...Object.values(rewired.inputs).filter(isReference).map((r) => r.from_task)]);
  rewired.depends_on = rewired.depends_on.filter((d) => stillUsed.has(d) || !deps.includes(d));
  const out: PlanTask[] = [];
  for (const t of tasks) {
    if (t.task_id === target.task_id) out.push(inserted, rewired);
    else out.push(t);
  }
  return out;
}

/** Where an artifact of `type` comes from for a task: its own inputs, else its nearest ancestor that produces it. */
function findSource(type: string, target: PlanTask, targetCap: Capability, byId: ReadonlyMap<string, PlanTask>, catalog: CapabilityCatalog): JsonValue | undefined {
  for (const [field, consumed] of Object.entries(targetCap.consumes)) {
    const value = target.inputs[field];
    if (consumed === type && value !== undefined) return value;
  }
  const seen = new Set<string>();
  const queue = [...target.depends_on];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const task = byId.get(id);
    const cap = task ? catalog.get(task.capability) : undefined;
    const field = cap ? Object.entries(cap.produces).find(([, t]) => t === type)?.[0] : undefined;
    if (field !== undefined) return reference(id, field);
    queue.push(...(task?.depends_on ?? []));
  }
  return undefined;
}

export function freshId(tasks: readonly PlanTask[]): string {
  const used = new Set(tasks.map((t) => t.task_id));
  let n = tasks.length + 1;
  while (used.has(`t${n}`)) n++;
  return `t${n}`;
}

