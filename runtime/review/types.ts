/** What the review service deals in; shared by the service, the HTTP adapter, the views and the CLI. */
import type { ProposalState, ProposedRule, RuleEvidence } from "../store/proposals.ts";
import type { RuleEffect } from "../rules/content.ts";

export type Role = "viewer" | "reviewer";
/** Who decides: an administrator account, or the system (the guardrail). */
export interface Actor {
  name: string;
  role: Role | "system";
}

export type DecisionAction = "approve" | "reject" | "retire" | "rollback" | "edit" | "promote" | "auto_retire";

/** The fields a reviewer may edit. */
export interface EditableFields {
  trigger_condition: string;
  instruction: string;
  rationale: string;
  effect?: RuleEffect | undefined;
}

export interface VersionContent extends EditableFields {
  target_agent: string;
  priority: ProposedRule["priority"];
  confidence_score: number;
}

export interface RuleVersion {
  version: number;
  content: VersionContent;
  content_hash: string;
  origin: "proposed" | "edited" | "rollback";
  based_on: number | null;
  created_by: string;
  created_at: Date;
  approved_by: string | null;
  approved_at: Date | null;
}

export interface Decision {
  decision_id: string;
  rule_id: string;
  action: DecisionAction;
  version: number | null;
  content_hash: string | null;
  actor: string;
  reason: string | null;
  change: Record<string, unknown>;
  file_path: string | null;
  file_sha256: string | null;
  rollout_percent: number | null;
  decided_at: Date;
}

export interface RuleSummary {
  rule_id: string;
  state: ProposalState;
  target_agent: string;
  priority: ProposedRule["priority"];
  confidence: number;
  observations: number;
  proposed_by: string;
  proposed_at: Date;
  active_version: number | null;
  latest_version: number | null;
  rollout_percent: number;
  /** What a reviewer would approve now: the newest version, or the proposal as proposed. */
  reviewable: VersionContent & { rule_id: string };
  reviewable_hash: string;
  /** A newer version than the one in force waits for approval. */
  has_draft: boolean;
  evidence: RuleEvidence;
  batch_id: string;
}

export interface RuleDetail extends RuleSummary {
  versions: RuleVersion[];
  decisions: Decision[];
}

export interface DecisionResult {
  decision: Decision;
  /** The same decision had been made already: nothing changed. */
  replayed: boolean;
}
