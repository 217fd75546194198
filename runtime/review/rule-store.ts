/** Reads of the review tables: proposals with their versions and decisions. */
import { table, type Db, type Queryable } from "../store/db.ts";
import type { Proposal, ProposalState } from "../store/proposals.ts";
import { contentHash } from "../rules/content.ts";
import type { Decision, RuleDetail, RuleSummary, RuleVersion, VersionContent } from "./types.ts";

/** A proposal as the queue stores it, with the review columns and its latest version. */
export interface ProposalRow extends Pick<Proposal, "rule_id" | "state" | "target_agent" | "priority" | "confidence" | "rule" | "evidence" | "batch_id" | "observations" | "proposed_at"> {
  proposed_by: string;
  active_version: number | null;
  rollout_percent: number;
  latest_version: number | null;
  latest_content: VersionContent | null;
}

export interface ListFilter {
  state?: ProposalState | undefined;
  target_agent?: string | undefined;
  limit?: number | undefined;
}

const SELECT = (db: Db) => `SELECT p.rule_id, p.state, p.target_agent, p.priority, p.confidence, p.rule, p.evidence, p.batch_id, p.observations,
    p.proposed_at, p.proposed_by, p.active_version, p.rollout_percent, v.version AS latest_version, v.content AS latest_content
  FROM ${table(db, "rule_proposals")} p
  LEFT JOIN LATERAL (SELECT version, content FROM ${table(db, "rule_versions")} rv WHERE rv.rule_id = p.rule_id ORDER BY version DESC LIMIT 1) v ON true`;

/** The review order: pending first, then by priority and confidence. */
export async function listRules(db: Db, filter: ListFilter = {}): Promise<RuleSummary[]> {
  const r = await db.query<ProposalRow>(
    `${SELECT(db)} WHERE ($1::text IS NULL OR p.state = $1) AND ($2::text IS NULL OR p.target_agent = $2)
     ORDER BY CASE p.state WHEN 'pending' THEN 0 WHEN 'approved' THEN 1 WHEN 'retired' THEN 2 ELSE 3 END,
              CASE p.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, p.confidence DESC, p.rule_id
     LIMIT $3`,
    [filter.state ?? null, filter.target_agent ?? null, Math.max(1, Math.min(filter.limit ?? 500, 10_000))],
  );
  return r.rows.map(toSummary);
}

export async function proposalRow(db: Db, q: Queryable, ruleId: string, lock = false): Promise<ProposalRow | null> {
  const r = await q.query<ProposalRow>(`${SELECT(db)} WHERE p.rule_id = $1${lock ? " FOR UPDATE OF p" : ""}`, [ruleId]);
  return r.rows[0] ?? null;
}

export async function getRule(db: Db, ruleId: string): Promise<RuleDetail | null> {
  const row = await proposalRow(db, db, ruleId);
  if (!row) return null;
  return { ...toSummary(row), versions: await versions(db, db, ruleId), decisions: await decisions(db, ruleId) };
}

export async function versions(db: Db, q: Queryable, ruleId: string): Promise<RuleVersion[]> {
  const r = await q.query<RuleVersion>(`SELECT version, content, content_hash, origin, based_on, created_by, created_at, approved_by, approved_at FROM ${table(db, "rule_versions")} WHERE rule_id = $1 ORDER BY version`, [ruleId]);
  return r.rows;
}

export async function decisions(db: Db, ruleId: string): Promise<Decision[]> {
  const r = await db.query<Decision & { decision_id: string }>(`SELECT * FROM ${table(db, "rule_decisions")} WHERE rule_id = $1 ORDER BY decision_id`, [ruleId]);
  return r.rows.map((d) => ({ ...d, decision_id: String(d.decision_id) }));
}

/** The text a reviewer approves now: the newest version, or the proposal as proposed. */
export function reviewable(row: ProposalRow): VersionContent & { rule_id: string } {
  if (row.latest_content) return { ...row.latest_content, rule_id: row.rule_id };
  const r = row.rule;
  return {
    rule_id: row.rule_id,
    target_agent: row.target_agent,
    priority: row.priority,
    confidence_score: row.confidence,
    trigger_condition: r.trigger_condition,
    instruction: r.instruction,
    rationale: r.rationale,
    ...(r.effect ? { effect: r.effect } : {}),
  };
}

export function toSummary(row: ProposalRow): RuleSummary {
  const content = reviewable(row);
  return {
    rule_id: row.rule_id,
    state: row.state,
    target_agent: row.target_agent,
    priority: row.priority,
    confidence: row.confidence,
    observations: row.observations,
    proposed_by: row.proposed_by,
    proposed_at: row.proposed_at,
    active_version: row.active_version,
    latest_version: row.latest_version,
    rollout_percent: row.rollout_percent,
    reviewable: content,
    reviewable_hash: contentHash(content),
    has_draft: row.latest_version !== null && row.latest_version !== row.active_version && row.state !== "rejected",
    evidence: row.evidence,
    batch_id: row.batch_id,
  };
}
