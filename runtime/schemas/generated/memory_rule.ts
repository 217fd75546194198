/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
/**
 * The same effect vocabulary as a proposal's (one definition, in the learning report schema).
 */
export type RuleEffect =
  NoRetryEffect | InsertBeforeEffect | MaxAttemptsEffect | PreferOrderEffect | DedupeEffect | FlagSourceConflictEffect;

/**
 * An approved memory rule as written to context/memory/ by the approval path (and only by it).
 */
export interface MemoryRule {
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
  /**
   * Only approved rules have a file: retiring a rule removes it.
   */
  status: "approved";
  /**
   * Starts at 1; every edit, retirement or rollback adds one.
   */
  version: number;
  /**
   * The person who approved this version.
   */
  approved_by: string;
  approved_at: string;
  /**
   * sha256 (hex) of the canonical JSON of {rule_id, target_agent, trigger_condition, instruction, rationale, effect}: what the approval is bound to. A file whose text no longer hashes to it was edited by hand and is not applied.
   */
  content_hash: string;
  /**
   * Share of sessions the rule applies to (chosen by a hash of rule id and session id); absent means 100.
   */
  rollout_percent?: number;
  /**
   * The memory_summary batch whose learning report proposed the rule.
   */
  source_batch_id?: string;
  /**
   * Earlier versions and decisions, oldest first.
   *
   * @maxItems 1000
   */
  history?: MemoryRuleHistoryEntry[];
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
export interface MemoryRuleHistoryEntry {
  version: number;
  action: "proposed" | "approved" | "edited" | "retired" | "restored" | "rolled_back";
  by: string;
  at: string;
  note?: string;
}
