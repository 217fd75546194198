/**
 * Approved memory rules, as the planner and the dispatcher apply them. Rules arrive as files read
 * by the runtime; their `effect` is untrusted JSON, so it is parsed here and anything unexpected is
 * ignored (with a note), never executed. Callers pass only the rules in force for the session
 * (agents/_shared/rules-in-force.ts: targeted at the agent, within their rollout share).
 *
 * - planning: `insert_before {capability, insert, category?}` puts an `insert` task before every task
 *   that uses `capability`, wired by artifact types; `prefer_order {order, category?}` orders the
 *   tasks so those capabilities come in that order where dependencies allow; `dedupe {capability}`
 *   merges tasks of that capability with the same inputs. `category` limits a rule to plans of it.
 * - dispatch: `{op: "no_retry", match}` and `{op: "max_attempts", match, attempts}` change retry
 *   decisions for failures that match (capability, and error_code / domain when given).
 */
import type { ApprovedRule, CapabilityCatalog } from "../../../runtime/agent-api.ts";
import { insertBefore } from "./insert-before.ts";
import { dedupe, preferOrder } from "./reorder.ts";
import type { Plan, PlanTask } from "./plan.ts";

export interface EffectMatch {
  capability: string;
  error_code?: string;
  domain?: string;
}

export type PlanningEffect =
  | { op: "insert_before"; capability: string; insert: string; category?: string }
  | { op: "prefer_order"; order: string[]; category?: string }
  | { op: "dedupe"; capability: string };
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
    const category = typeof e?.category === "string" && e.category.length > 0 ? { category: e.category } : {};
    if (e?.op === "insert_before" && isName(e.capability) && isName(e.insert)) out.push({ rule_id: r.rule_id, effect: { op: "insert_before", capability: e.capability, insert: e.insert, ...category } });
    if (e?.op === "prefer_order" && Array.isArray(e.order) && e.order.length >= 2 && e.order.every(isName)) out.push({ rule_id: r.rule_id, effect: { op: "prefer_order", order: e.order, ...category } });
    if (e?.op === "dedupe" && isName(e.capability)) out.push({ rule_id: r.rule_id, effect: { op: "dedupe", capability: e.capability } });
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

/** Applies every planning rule to the plan, in rule order; a rule that cannot be applied is skipped with a note. */
export function applyPlanningRules(plan: Plan, rules: readonly Pick<ApprovedRule, "rule_id" | "effect">[], catalog: CapabilityCatalog): RuleOutcome {
  let tasks: PlanTask[] = plan.tasks.map((t) => ({ ...t, inputs: { ...t.inputs }, depends_on: [...t.depends_on] }));
  const applied: string[] = [];
  const notes: string[] = [];
  for (const { rule_id, effect } of planningEffects(rules)) {
    if ("category" in effect && effect.category !== undefined && effect.category !== plan.category) continue; // another category's rule
    const result = applyOne(tasks, rule_id, effect, catalog);
    notes.push(...result.notes);
    if (result.tasks) {
      tasks = result.tasks;
      applied.push(rule_id);
    }
  }
  const rulesApplied = [...new Set([...plan.rules_applied, ...applied])];
  return { plan: { ...plan, tasks: tasks as Plan["tasks"], rules_applied: rulesApplied }, applied, notes };
}

/** One rule's effect on the tasks: the changed tasks, or none when it changed nothing. */
function applyOne(tasks: PlanTask[], ruleId: string, effect: PlanningEffect, catalog: CapabilityCatalog): { tasks?: PlanTask[]; notes: string[] } {
  const notes: string[] = [];
  switch (effect.op) {
    case "insert_before": {
      const insert = catalog.get(effect.insert);
      if (!insert) return { notes: [`${ruleId}: not applied, capability "${effect.insert}" is not registered`] };
      let changed = false;
      for (const target of tasks.filter((t) => t.capability === effect.capability)) {
        const result = insertBefore(tasks, target, insert, catalog);
        if (typeof result === "string") {
          notes.push(`${ruleId}: not applied before ${target.task_id}: ${result}`);
          continue;
        }
        tasks = result;
        changed = true;
      }
      if (!changed) return { notes };
      return { tasks, notes: [...notes, `${ruleId}: inserted ${effect.insert} before every ${effect.capability} task${effect.category ? ` (category ${effect.category})` : ""}`] };
    }
    case "prefer_order": {
      const reordered = preferOrder(tasks, effect.order);
      if (reordered.every((t, i) => t.task_id === tasks[i]?.task_id)) return { notes };
      return { tasks: reordered, notes: [`${ruleId}: tasks ordered ${effect.order.join(" → ")} where dependencies allow: ${reordered.map((t) => t.task_id).join(", ")}`] };
    }
    case "dedupe": {
      const merged = dedupe(tasks, effect.capability);
      if (merged.removed.length === 0) return { notes };
      return { tasks: merged.tasks, notes: [`${ruleId}: merged duplicate ${effect.capability} tasks (${merged.removed.map((m) => `${m.removed} into ${m.kept}`).join(", ")})`] };
    }
  }
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
