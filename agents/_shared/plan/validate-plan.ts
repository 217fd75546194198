/**
 * Plan validation: what every plan must satisfy before it leaves the planner (and before dispatch
 * runs it). Acyclic, unique task ids, known capabilities, every required input of a capability
 * given (literal or reference), and every reference wired to a dependency that produces that
 * output field. Each issue names the task and the field it is about.
 */
import type { Capability, CapabilityCatalog } from "../../../runtime/agent-api.ts";
import { isReference, topologicalOrder, type Plan, type PlanTask } from "./plan.ts";

export type PlanIssueCode =
  | "EMPTY_PLAN"
  | "DUPLICATE_TASK_ID"
  | "UNKNOWN_DEPENDENCY"
  | "SELF_DEPENDENCY"
  | "CYCLE"
  | "UNKNOWN_CAPABILITY"
  | "MISSING_INPUT"
  | "UNKNOWN_INPUT"
  | "REFERENCE_UNKNOWN_TASK"
  | "REFERENCE_NOT_A_DEPENDENCY"
  | "REFERENCE_UNKNOWN_OUTPUT"
  | "REFERENCE_TYPE_MISMATCH";

export interface PlanIssue {
  code: PlanIssueCode;
  /** The task the issue is about (null for plan-wide issues). */
  task_id: string | null;
  /** The field within the task: "inputs.url", "depends_on", "capability", "task_id". */
  field: string | null;
  message: string;
}

export type PlanValidation = { ok: true } | { ok: false; issues: PlanIssue[] };

/**
 * Validates a plan. With a catalog (non-null) capabilities and input wiring are checked too;
 * without one only the structure (ids, dependencies, cycles, references to dependencies).
 */
export function validatePlan(plan: Pick<Plan, "tasks">, catalog: CapabilityCatalog | null): PlanValidation {
  const issues: PlanIssue[] = [];
  const add = (code: PlanIssueCode, task_id: string | null, field: string | null, message: string): void => void issues.push({ code, task_id, field, message });
  if (plan.tasks.length === 0) add("EMPTY_PLAN", null, "tasks", "the plan has no tasks");

  const byId = new Map<string, PlanTask>();
  for (const task of plan.tasks) {
    if (byId.has(task.task_id)) add("DUPLICATE_TASK_ID", task.task_id, "task_id", `task id ${task.task_id} is used by more than one task`);
    else byId.set(task.task_id, task);
  }

  for (const task of plan.tasks) {
    for (const dep of task.depends_on) {
      if (dep === task.task_id) add("SELF_DEPENDENCY", task.task_id, "depends_on", `${task.task_id} depends on itself`);
      else if (!byId.has(dep)) add("UNKNOWN_DEPENDENCY", task.task_id, "depends_on", `${task.task_id} depends on ${dep}, which is not a task of this plan`);
    }
    checkReferences(task, byId, catalog, add);
    if (catalog) checkCapability(task, catalog, add);
  }

  const cycle = findCycle(plan);
  if (cycle) add("CYCLE", cycle[0] ?? null, "depends_on", `the plan has a cycle: ${cycle.join(" → ")}`);
  return issues.length === 0 ? { ok: true } : { ok: false, issues };
}

/** One line per issue, for error messages and notes. */
export function describeIssues(issues: readonly PlanIssue[], max = 10): string {
  const shown = issues.slice(0, max).map((i) => i.message);
  return shown.join("; ") + (issues.length > max ? ` (+${issues.length - max} more)` : "");
}

/** The input fields a capability requires: its input schema's `required`. */
export function requiredInputs(capability: Capability): string[] {
  const required = capability.inputSchema.required;
  return Array.isArray(required) ? required.filter((r): r is string => typeof r === "string") : [];
}

/** Whether the capability's output can hold this field: it declares it as produced or in its output schema. */
export function outputField(capability: Capability, field: string): { known: boolean; type: string | undefined } {
  const type = capability.produces[field];
  if (type !== undefined) return { known: true, type };
  const props = capability.outputSchema.properties;
  const inSchema = props !== null && typeof props === "object" && Object.prototype.hasOwnProperty.call(props, field);
  return { known: inSchema, type: undefined };
}

type Add = (code: PlanIssueCode, task: string | null, field: string | null, message: string) => void;

function checkReferences(task: PlanTask, byId: ReadonlyMap<string, PlanTask>, catalog: CapabilityCatalog | null, add: Add): void {
  const consumer = catalog?.get(task.capability);
  for (const [field, value] of Object.entries(task.inputs)) {
    if (!isReference(value)) continue;
    const where = `inputs.${field}`;
    const { from_task: from, output } = value;
    const producerTask = byId.get(from);
    if (!producerTask) {
      add("REFERENCE_UNKNOWN_TASK", task.task_id, where, `${task.task_id} input "${field}" refers to ${from}.${output}, but there is no task ${from}`);
      continue;
    }
    if (!task.depends_on.includes(from)) {
      add("REFERENCE_NOT_A_DEPENDENCY", task.task_id, where, `${task.task_id} input "${field}" refers to ${from}.${output}, but ${from} is not in its depends_on`);
    }
    const producer = catalog?.get(producerTask.capability);
    if (!producer) continue;
    const out = outputField(producer, output);
    if (!out.known) {
      const fields = Object.keys(producer.produces).join(", ") || "nothing";
      add("REFERENCE_UNKNOWN_OUTPUT", task.task_id, where, `${task.task_id} input "${field}" refers to ${from}.${output}, but ${from} (${producer.name}) produces ${fields}`);
      continue;
    }
    const wanted = consumer?.consumes[field];
    if (wanted !== undefined && out.type !== undefined && wanted !== out.type) {
      add("REFERENCE_TYPE_MISMATCH", task.task_id, where, `${task.task_id} input "${field}" takes ${wanted}, but ${from}.${output} is ${out.type}`);
    }
  }
}

function checkCapability(task: PlanTask, catalog: CapabilityCatalog, add: Add): void {
  const capability = catalog.get(task.capability);
  if (!capability) {
    const known = catalog.list().map((c) => c.name).join(", ") || "none";
    add("UNKNOWN_CAPABILITY", task.task_id, "capability", `${task.task_id} uses capability "${task.capability}", which is not registered (known: ${known})`);
    return;
  }
  for (const field of requiredInputs(capability)) {
    if (!Object.prototype.hasOwnProperty.call(task.inputs, field)) {
      const type = capability.consumes[field];
      add("MISSING_INPUT", task.task_id, `inputs.${field}`, `${task.task_id} (${capability.name}) is missing required input "${field}"${type ? ` (${type})` : ""}`);
    }
  }
  const props = capability.inputSchema.properties;
  if (capability.inputSchema.additionalProperties === false && props !== null && typeof props === "object") {
    for (const field of Object.keys(task.inputs)) {
      if (!Object.prototype.hasOwnProperty.call(props, field)) {
        add("UNKNOWN_INPUT", task.task_id, `inputs.${field}`, `${task.task_id} (${capability.name}) has no input "${field}" (it takes: ${Object.keys(props).join(", ")})`);
      }
    }
  }
}

/** One cycle as a path of task ids (first id repeated at the end), or null. */
function findCycle(plan: Pick<Plan, "tasks">): string[] | null {
  if (topologicalOrder(plan) !== null) return null;
  const deps = new Map<string, string[]>();
  for (const t of plan.tasks) if (!deps.has(t.task_id)) deps.set(t.task_id, t.depends_on.filter((d) => d !== t.task_id));
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === "done") return null;
    if (state.get(id) === "visiting") return [...path.slice(path.indexOf(id)), id];
    state.set(id, "visiting");
    path.push(id);
    for (const d of deps.get(id) ?? []) {
      if (!deps.has(d)) continue;
      const found = visit(d);
      if (found) return found;
    }
    path.pop();
    state.set(id, "done");
    return null;
  };
  for (const id of deps.keys()) {
    const found = visit(id);
    // Shown in execution order: a dependency before the task that needs it.
    if (found) return found.reverse();
  }
  return null;
}
