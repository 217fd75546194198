/**
 * Approved memory rules, as the planner and the dispatcher apply them. Rules arrive as files read
 * by the runtime; their `effect` is untrusted JSON, so it is parsed here and anything unexpected is
 * ignored (with a note), never executed.
 *
 * - planning: `{op: "insert_before", capability, insert}` puts an `insert` task before every task
 *   that uses `capability`, wired by artifact types.
 * - dispatch: `{op: "no_retry", match}` and `{op: "max_attempts", match, attempts}` change retry
 *   decisions for failures that match (capability, and error_code / domain when given).
 */
import type { ApprovedRule, Capability, CapabilityCatalog } from "../../../runtime/agent-api.ts";
import { isReference, reference, type JsonValue, type Plan, type PlanTask } from "./plan.ts";
import { requiredInputs } from "./validate-plan.ts";

export interface EffectMatch {
  capability: string;
  error_code?: string;
  domain?: string;
}

export type PlanningEffect = { op: "insert_before"; capability: string; insert: string };
export type DispatchEffect = { op: "no_retry"; match: EffectMatch } | { op: "max_attempts"; match: EffectMatch; attempts: number };

export interface RuleOutcome {
  plan: Plan;
  /** Ids of the rules that changed the plan. */
  applied: string[];
  notes: string[];
}

export function planningEffects(rules: readonly Pick<ApprovedRule, "rule_id" | "effect">[]): Array<{ rule_id: string; effect: PlanningEffect }> {
  const out: Array<{ rule_id: string; effect: PlanningEffect }> = [];
  for (const r of rules) {
    const e = r.effect;
    if (e?.op === "insert_before" && isName(e.capability) && isName(e.insert)) out.push({ rule_id: r.rule_id, effect: { op: "insert_before", capability: e.capability, insert: e.insert } });
  }
  return out;
}

export function dispatchEffects(rules: readonly Pick<ApprovedRule, "rule_id" | "effect">[]): Array<{ rule_id: string; effect: DispatchEffect }> {
  const out: Array<{ rule_id: string; effect: DispatchEffect }> = [];
  for (const r of rules) {
    const e = r.effect;
    const match = parseMatch(e?.match);
    if (!match) continue;
    if (e?.op === "no_retry") out.push({ rule_id: r.rule_id, effect: { op: "no_retry", match } });
    if (e?.op === "max_attempts" && typeof e.attempts === "number" && Number.isInteger(e.attempts) && e.attempts >= 1 && e.attempts <= 100) {
      out.push({ rule_id: r.rule_id, effect: { op: "max_attempts", match, attempts: e.attempts } });
    }
  }
  return out;
}

export function matches(match: EffectMatch, failure: { capability: string; error_code: string | null; domain?: string | undefined }): boolean {
  if (match.capability !== failure.capability) return false;
  if (match.error_code !== undefined && match.error_code !== failure.error_code) return false;
  if (match.domain !== undefined && match.domain !== failure.domain) return false;
  return true;
}

/** Applies every insert_before rule to the plan; a rule that cannot be wired is skipped with a note. */
export function applyPlanningRules(plan: Plan, rules: readonly Pick<ApprovedRule, "rule_id" | "effect">[], catalog: CapabilityCatalog): RuleOutcome {
  let tasks = plan.tasks.map((t) => ({ ...t, inputs: { ...t.inputs }, depends_on: [...t.depends_on] }));
  const applied: string[] = [];
  const notes: string[] = [];
  for (const { rule_id, effect } of planningEffects(rules)) {
    const insert = catalog.get(effect.insert);
    if (!insert) {
      notes.push(`${rule_id}: not applied, capability "${effect.insert}" is not registered`);
      continue;
    }
    let changed = false;
    for (const target of tasks.filter((t) => t.capability === effect.capability)) {
      const result = insertBefore(tasks, target, insert, catalog);
      if (typeof result === "string") {
        notes.push(`${rule_id}: not applied before ${target.task_id}: ${result}`);
        continue;
      }
      tasks = result;
      changed = true;
    }
    if (changed) {
      applied.push(rule_id);
      notes.push(`${rule_id}: inserted ${effect.insert} before every ${effect.capability} task`);
    }
  }
  const rulesApplied = [...new Set([...plan.rules_applied, ...applied])];
  return { plan: { ...plan, tasks: tasks as Plan["tasks"], rules_applied: rulesApplied }, applied, notes };
}

/** The plan with `insert` placed before `target`; a string saying why not when it cannot be wired. */
function insertBefore(tasks: PlanTask[], target: PlanTask, insert: Capability, catalog: CapabilityCatalog): PlanTask[] | string {
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

function freshId(tasks: readonly PlanTask[]): string {
  const used = new Set(tasks.map((t) => t.task_id));
  let n = tasks.length + 1;
  while (used.has(`t${n}`)) n++;
  return `t${n}`;
}

function parseMatch(value: unknown): EffectMatch | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  if (!isName(v.capability)) return null;
  return {
    capability: v.capability,
    ...(typeof v.error_code === "string" ? { error_code: v.error_code } : {}),
    ...(typeof v.domain === "string" ? { domain: v.domain.toLowerCase() } : {}),
  };
}

function isName(value: unknown): value is string {
  return typeof value === "string" && /^[a-z][a-z0-9_]{0,63}$/.test(value);
}
