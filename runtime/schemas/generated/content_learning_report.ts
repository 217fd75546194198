/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
/**
 * Machine-readable form of the instruction, applied by the deterministic agents.
 */
export type RuleEffect = NoRetryEffect | InsertBeforeEffect | MaxAttemptsEffect | PreferOrderEffect;

/**
 * The learning agent's output. The report sits under the single key learning_report.
 */
export interface LearningReport {
  learning_report: LearningReportBody;
}
export interface LearningReportBody {
  /**
   * The memory_summary batch this report was built from.
   */
  batch_id: string;
  /**
   * How many patterns the batch showed (the learning agent spec's count). Their details, when kept, are in `patterns`.
   */
  patterns_identified: number;
  /**
   * The patterns counted by patterns_identified, one entry each (agentbus goes beyond the spec here).
   *
   * @maxItems 1000
   */
  patterns?: Pattern[];
  /**
   * Proposals for the review queue; never written to context/memory/ directly.
   *
   * @maxItems 100
   */
  new_rules_proposed: ProposedRule[];
}
export interface Pattern {
  pattern_id: string;
  kind: "planning_inefficiency" | "action_failure" | "reasoning_failure";
  description: string;
  occurrences: number;
  evidence: RuleEvidence;
}
/**
 * Counts and examples backing a rule or a pattern.
 */
export interface RuleEvidence {
  occurrences: number;
  /**
   * @maxItems 100
   */
  session_ids: string[];
  /**
   * Summaries the evidence came from.
   *
   * @maxItems 100
   */
  batch_ids?: string[];
  capability?: string;
  error_code?: string;
  /**
   * Host name, lowercase as URL.hostname gives it, e.g. example.org.
   */
  domain?: string;
  attempts_spent?: number;
  success_rate?: number;
  /**
   * @maxItems 1000
   */
  order?: string[];
  notes?: string;
}
export interface ProposedRule {
  /**
   * rule_<YYYYMMDD>_<NN>
   */
  rule_id: string;
  priority: "high" | "medium" | "low";
  /**
   * Rules may target only these agents (DESIGN §5.4).
   */
  target_agent: "planning_agent" | "action_agent" | "dispatch_agent" | "reasoning_agent";
  /**
   * When the rule applies.
   */
  trigger_condition: string;
  /**
   * What the target agent should do.
   */
  instruction: string;
  /**
   * Why, from the data.
   */
  rationale: string;
  /**
   * Above 0.90: same thing the same way more than 5 times; 0.70-0.89: 2-4 occurrences; below 0.70: a single case.
   */
  confidence_score: number;
  evidence?: RuleEvidence;
  effect?: RuleEffect;
}
/**
 * Do not retry failures that match.
 */
export interface NoRetryEffect {
  op: "no_retry";
  match: EffectMatch;
}
export interface EffectMatch {
  capability: string;
  error_code?: string;
  /**
   * Host name, lowercase as URL.hostname gives it, e.g. example.org.
   */
  domain?: string;
}
export interface InsertBeforeEffect {
  op: "insert_before";
  /**
   * Before every task with this capability ...
   */
  capability: string;
  /**
   * ... insert a task with this capability.
   */
  insert: string;
}
/**
 * Cap the attempts for tasks that match.
 */
export interface MaxAttemptsEffect {
  op: "max_attempts";
  match: EffectMatch;
  attempts: number;
}
export interface PreferOrderEffect {
  op: "prefer_order";
  /**
   * Capabilities in the order the planner should put them.
   *
   * @minItems 2
   * @maxItems 100
   */
  order: [string, string, ...string[]];
}
