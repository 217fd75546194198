/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
/**
 * Stable key of the pattern, the same every time the same thing is seen (e.g. action_failure:fetch:HTTP_429:x.org): the review queue deduplicates proposals by it.
 */
export type PatternKey = string;
/**
 * Machine-readable form of the instruction, applied by the deterministic agents. dispatch_agent: no_retry (do not retry failures that match {capability, error_code?, domain?}: fail fast, skip the branch) and max_attempts (cap attempts for them). planning_agent: insert_before (put an `insert` task before every `capability` task, for requests of `category` when given), prefer_order (order the plan's capabilities as `order`, for `category` when given) and dedupe (plan at most one `capability` task per distinct input: merge tasks that would do the same work). reasoning_agent: flag_source_conflict (results from `sources` are known to disagree on the subject `subject_key` of `kind`: report it once as a known conflict between those sources, each value attributed, rather than as a new contradiction).
 */
export type RuleEffect =
  NoRetryEffect | InsertBeforeEffect | MaxAttemptsEffect | PreferOrderEffect | DedupeEffect | FlagSourceConflictEffect;

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
  pattern_key?: PatternKey;
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
  /**
   * Attempts that bought nothing (retries of failures that failed again, duplicate tasks).
   */
  attempts_wasted?: number;
  /**
   * Milliseconds spent on what the rule would avoid.
   */
  time_wasted_ms?: number;
  /**
   * Workflows the comparison is based on.
   */
  workflows?: number;
  failure_rate?: number;
  /**
   * Share of the relevant cases that went the same way (e.g. failures among all tasks on the domain).
   */
  consistency?: number;
  category?: string;
  /**
   * @maxItems 10
   */
  sources?: string[];
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
  pattern_key?: PatternKey;
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
  /**
   * Optional: only for requests of this category.
   */
  category?: string;
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
  /**
   * Optional: only for requests of this category.
   */
  category?: string;
}
/**
 * Plan at most one task of this capability per distinct input.
 */
export interface DedupeEffect {
  op: "dedupe";
  capability: string;
}
/**
 * These sources are known to disagree on this subject: report it as a known conflict, not a new contradiction.
 */
export interface FlagSourceConflictEffect {
  op: "flag_source_conflict";
  /**
   * Two or more distinct sources (domain, or capability for a source without one), sorted.
   *
   * @minItems 2
   * @maxItems 10
   */
  sources: [string, string, ...string[]];
  kind?: "fact" | "compute";
  /**
   * Hash of the subject the sources disagree on (the workflow records keep no subject text).
   */
  subject_key?: string;
}
