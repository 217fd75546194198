/**
 * The effect vocabulary, as the review side needs it: how a rule's effect reads in words, and which
 * tasks and sessions of a workflow record it concerns (the same matching the agents apply).
 */
import type { RuleEffect } from "./content.ts";

export const EFFECT_OPS = ["no_retry", "max_attempts", "insert_before", "prefer_order", "dedupe", "flag_source_conflict"] as const;

/** One task of a workflow record, as stored. */
export interface RecordTask {
  task_id: string;
  capability: string;
  status: string;
  attempts: number;
  error_code?: string | null;
  domain?: string | null;
  recoverable?: boolean;
  duration_ms?: number;
}

export interface RecordLike {
  session_id: string;
  status: string;
  request?: { category?: string | null };
  tasks?: readonly RecordTask[];
  plan?: readonly { task_id: string; capability: string }[];
  rules_applied?: readonly string[];
}

export function describeEffect(effect: RuleEffect | undefined): string {
  if (!effect) return "No machine-readable effect: the agent reads the instruction only.";
  const m = "match" in effect ? effect.match : undefined;
  const where = m ? `${m.capability} tasks${m.error_code ? ` failing with ${m.error_code}` : ""}${m.domain ? ` on ${m.domain}` : ""}` : "";
  const cat = "category" in effect && effect.category ? ` (requests of category ${effect.category})` : "";
  switch (effect.op) {
    case "no_retry":
      return `Do not retry ${where}: fail fast and skip the branch.`;
    case "max_attempts":
      return `At most ${effect.attempts} attempt(s) for ${where}.`;
    case "insert_before":
      return `Plan a ${effect.insert} task before every ${effect.capability} task${cat}.`;
    case "prefer_order":
      return `Order the plan's capabilities as ${effect.order.join(" → ")}${cat}.`;
    case "dedupe":
      return `Plan at most one ${effect.capability} task per distinct input.`;
    case "flag_source_conflict":
      return `Report disagreement between ${effect.sources.join(", ")} as a known conflict, not a new contradiction.`;
  }
}

/** Whether a task matches a no_retry / max_attempts match (error_code only when the rule names one). */
export function taskMatches(effect: RuleEffect, t: RecordTask): boolean {
  if (effect.op !== "no_retry" && effect.op !== "max_attempts") return false;
  const m = effect.match;
  return t.capability === m.capability && (m.domain === undefined || t.domain === m.domain);
}

/** The sessions a rule concerns: what it would have changed, had it been in force. */
export function recordMatches(effect: RuleEffect | undefined, r: RecordLike): boolean {
  if (!effect) return false;
  const tasks = r.tasks ?? [];
  const cat = r.request?.category ?? null;
  switch (effect.op) {
    case "no_retry":
    case "max_attempts":
      return tasks.some((t) => taskMatches(effect, t));
    case "insert_before":
      return (effect.category === undefined || effect.category === cat) && tasks.some((t) => t.capability === effect.capability);
    case "prefer_order":
      return (effect.category === undefined || effect.category === cat) && effect.order.filter((c) => tasks.some((t) => t.capability === c)).length >= 2;
    case "dedupe":
      return tasks.filter((t) => t.capability === effect.capability).length >= 2;
    case "flag_source_conflict":
      return [...new Set(effect.sources)].filter((s) => tasks.some((t) => t.domain === s || t.capability === s)).length >= 2;
  }
}
