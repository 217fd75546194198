/** What the miners produce and share: findings, before they become patterns and rules. */
import type { ContentTypeMap } from "../../../runtime/agent-api.ts";

export type MemorySummary = ContentTypeMap["memory_summary"];
export type LearningReport = ContentTypeMap["learning_report"];
export type LearningReportBody = LearningReport["learning_report"];
export type ProposedRule = LearningReportBody["new_rules_proposed"][number];
export type Pattern = NonNullable<LearningReportBody["patterns"]>[number];
export type RuleEvidence = Pattern["evidence"];
export type RuleEffect = NonNullable<ProposedRule["effect"]>;
export type TargetAgent = ProposedRule["target_agent"];
export type Priority = ProposedRule["priority"];

/** The pattern kinds the miner knows; the first word of every pattern key. */
export type PatternSubkind = "action_failure" | "missing_step" | "redundant_task" | "task_order" | "source_conflict";

export interface Finding {
  /** Stable: the same thing seen again gives the same key (see keys.ts). */
  key: string;
  subkind: PatternSubkind;
  kind: Pattern["kind"];
  /** Times the same thing happened the same way (what the confidence scale counts). */
  sameWay: number;
  /** Share of the relevant cases that went that way (0–1); below the miner's floor it is no pattern. */
  consistency: number;
  /** Whether what it wastes is large (many retries, much time, most runs failing): raises priority. */
  costly: boolean;
  target_agent: TargetAgent;
  trigger_condition: string;
  instruction: string;
  rationale: string;
  description: string;
  effect: RuleEffect;
  evidence: RuleEvidence;
}

/** Everything a miner needs besides the summary. */
export interface MinerContext {
  batch_id: string;
  /** Patterns seen fewer times than this are not reported (a single case is a hypothesis). */
  minOccurrences: number;
}
