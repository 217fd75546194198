/**
 * What an approval is bound to: a rule's text and effect, and the hash of them. Shared by the review
 * service (which records the hash), the writer (which puts it in the file) and the loader (which
 * recomputes it, so a file edited by hand is caught).
 */
import { canonicalJson, sha256Hex } from "../store/canonical.ts";
import type { RuleEffect } from "../schemas/generated/memory_rule.ts";

export type { RuleEffect };

export const RULE_ID_PATTERN = /^rule_[0-9]{8}_[0-9]{2}$/;
/** Rules may target only these agents (DESIGN §5.4); the schemas say the same. */
export const TARGET_AGENTS = ["planning_agent", "action_agent", "dispatch_agent", "reasoning_agent"] as const;
export type TargetAgent = (typeof TARGET_AGENTS)[number];
/** The identity of the proposer of every rule in the queue: it may never approve one. */
export const PROPOSER = "learning_agent";

/** The reviewable part of a rule: what a reviewer reads and approves. */
export interface RuleContent {
  rule_id: string;
  target_agent: string;
  trigger_condition: string;
  instruction: string;
  rationale: string;
  effect?: RuleEffect | undefined;
}

/** sha256 (hex) of the canonical JSON of the rule's id, target, text and effect. */
export function contentHash(c: RuleContent): string {
  return sha256Hex(
    canonicalJson({
      rule_id: c.rule_id,
      target_agent: c.target_agent,
      trigger_condition: c.trigger_condition,
      instruction: c.instruction,
      rationale: c.rationale,
      effect: c.effect ?? null,
    }),
  );
}

export function isTargetAgent(name: string): name is TargetAgent {
  return (TARGET_AGENTS as readonly string[]).includes(name);
}

/** The file a rule lives in, relative to the memory root and to the repo (context/memory/…). */
export function ruleFileName(target: string, ruleId: string): string {
  return `${target}/${ruleId}.md`;
}
