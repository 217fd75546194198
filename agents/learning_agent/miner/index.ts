/**
 * The deterministic miner: memory_summary → learning_report content. It works on whatever
 * capability names, error codes, domains and categories the summary holds (no built-in catalogue),
 * and is pure: no clock, no I/O; the caller gives the date and allocates rule ids.
 */
import { HandlerError } from "../../../runtime/agent-api.ts";
import { checkRuleScope } from "../scope.ts";
import { mineActionFailures } from "./action-failures.ts";
import { confidenceFor, priorityFor } from "./confidence.ts";
import { patternIdOf } from "./keys.ts";
import { mineMissingSteps } from "./missing-step.ts";
import { mineRedundantTasks } from "./redundant.ts";
import { mineSourceConflicts } from "./source-conflict.ts";
import { mineTaskOrders } from "./task-order.ts";
import type { Finding, LearningReport, MemorySummary, MinerContext, Pattern, Priority, ProposedRule } from "./types.ts";

export type { Finding, LearningReport, MemorySummary, Pattern, ProposedRule, RuleEffect } from "./types.ts";
export { confidenceFor, priorityFor } from "./confidence.ts";

/** Rule ids: rule_<YYYYMMDD>_<NN>, so at most 99 a day. */
export const MAX_RULES = 99;

export interface MineOptions {
  /** The batch's day, YYYY-MM-DD or YYYYMMDD: rule ids are rule_<YYYYMMDD>_<NN>. */
  date: string;
  /**
   * Gives the id of the n-th new rule (0-based) with its pattern key; by default
   * rule_<date>_<n+1>. The proposal queue passes one that knows the ids already taken.
   */
  allocateRuleId?: (index: number, patternKey: string) => string;
  /**
   * Pattern keys already pending or approved: they are reported among the patterns (with this
   * batch's evidence, for the queue to add) but not proposed again.
   */
  existingKeys?: Iterable<string>;
  /** Patterns seen fewer times are not reported; default 2 (one case is only a hypothesis). */
  minOccurrences?: number;
}


export function mine(summary: MemorySummary, options: MineOptions): LearningReport {
  const day = compactDate(options.date);
  const ctx: MinerContext = { batch_id: summary.batch_id, minOccurrences: Math.max(1, options.minOccurrences ?? 2) };
  const existing = new Set(options.existingKeys ?? []);
  const allocate = options.allocateRuleId ?? ((i: number) => `rule_${day}_${String(i + 1).padStart(2, "0")}`);

  const findings = dedupe([
    ...mineActionFailures(summary, ctx),
    ...mineMissingSteps(summary, ctx),
    ...mineRedundantTasks(summary, ctx),
    ...mineTaskOrders(summary, ctx),
    ...mineSourceConflicts(summary, ctx),
  ])
    .map((f) => ({ f, confidence: confidenceFor(f.sameWay, f.consistency) }))
    .map((x) => ({ ...x, priority: priorityFor(x.confidence, x.f.costly) }))
    .sort((a, b) => rank(b.priority) - rank(a.priority) || b.confidence - a.confidence || a.f.key.localeCompare(b.f.key));

  const patterns: Pattern[] = [];
  const rules: ProposedRule[] = [];
  for (const { f, confidence, priority } of findings) {
    if (patterns.length >= 1000) break;
    patterns.push({ pattern_id: patternIdOf(f.key), kind: f.kind, pattern_key: f.key, description: f.description, occurrences: Math.max(1, f.sameWay), evidence: f.evidence });
    if (existing.has(f.key) || rules.length >= MAX_RULES) continue;
    const rule: ProposedRule = {
      priority,
      rule_id: allocate(rules.length, f.key),
      target_agent: f.target_agent,
      trigger_condition: f.trigger_condition,
      instruction: f.instruction,
      rationale: f.rationale,
      confidence_score: confidence,
      evidence: f.evidence,
      effect: f.effect,
      pattern_key: f.key,
    };
    // Defence in depth: the miner writes only in-scope rules, and this keeps it so.
    if (checkRuleScope(rule).ok) rules.push(rule);
  }
  return { learning_report: { batch_id: summary.batch_id, patterns_identified: patterns.length, patterns, new_rules_proposed: rules } };
}

/** One finding per key (a key found twice merges into the one with more evidence). */
function dedupe(findings: Finding[]): Finding[] {
  const byKey = new Map<string, Finding>();
  for (const f of findings) {
    const known = byKey.get(f.key);
    if (!known || f.sameWay > known.sameWay) byKey.set(f.key, f);
  }
  return [...byKey.values()];
}

function rank(p: Priority): number {
  return p === "high" ? 2 : p === "medium" ? 1 : 0;
}

function compactDate(date: string): string {
  const digits = date.replace(/-/g, "").slice(0, 8);
  if (!/^\d{8}$/.test(digits)) throw new HandlerError("LEARNING_DATE_INVALID", `mine: date must be YYYY-MM-DD or YYYYMMDD, got ${JSON.stringify(date)}`);
  return digits;
}
