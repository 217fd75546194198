/**
 * The review queue: every rule the learning agent proposes is stored here as `pending`, with its
 * evidence and the batch and report it came from, and never reaches context/memory/ from here.
 * One proposal per pattern, ever: a pattern seen again (in any state) adds its new evidence to the
 * proposal it already has, may raise a pending proposal's confidence, and counts the observation.
 * Submitting the same batch twice (a redelivered learning run) changes nothing the second time.
 */
import { AgentbusError } from "../errors/index.ts";
import type { ContentTypeMap } from "../schemas/generated/index.ts";
import { canonicalJson } from "./canonical.ts";
import { nextDailyIds, RULE_IDS } from "./daily-ids.ts";
import { table, type Db, type Queryable } from "./db.ts";

type LearningReportBody = ContentTypeMap["learning_report"]["learning_report"];
export type ProposedRule = LearningReportBody["new_rules_proposed"][number];
export type RuleEvidence = NonNullable<ProposedRule["evidence"]>;
export type ProposalState = "pending" | "approved" | "rejected" | "retired";
const PRIORITY_RANK = { high: 3, medium: 2, low: 1 } as const;
const MAX_EXAMPLES = 100;

export interface Proposal {
  rule_id: string;
  pattern_key: string;
  state: ProposalState;
  target_agent: string;
  priority: ProposedRule["priority"];
  confidence: number;
  /** The rule as proposed (trigger, instruction, rationale, effect …), its id the queue's. */
  rule: ProposedRule;
  evidence: RuleEvidence;
  batch_id: string;
  report_message_id: string | null;
  observations: number;
  proposed_at: Date;
  last_observed_at: Date;
  updated_at: Date;
}

export interface SubmitReport {
  /** The report with provisional rule ids (the miner's); the queue gives the real ones. */
  report: LearningReportBody;
  report_message_id?: string;
  /** The day new rule ids name, YYYYMMDD. */
  day: string;
}

export interface SubmitResult {
  /** pattern key → the rule id the queue holds it under (new or earlier). */
  ids: Map<string, string>;
  /** Rule ids first proposed by this batch. */
  proposed: string[];
  /** Rule ids of earlier proposals this batch observed again. */
  reobserved: string[];
}

/** Pattern keys the queue already holds, with their proposals' ids and states (excluding `batch`'s own). */
export async function knownPatterns(db: Db, keys: readonly string[], options: { exceptBatch?: string } = {}): Promise<Map<string, { rule_id: string; state: ProposalState }>> {
  if (keys.length === 0) return new Map();
  const r = await db.query<{ pattern_key: string; rule_id: string; state: ProposalState }>(
    `SELECT pattern_key, rule_id, state FROM ${table(db, "rule_proposals")} WHERE pattern_key = ANY($1::text[]) AND ($2::text IS NULL OR batch_id <> $2)`,
    [keys, options.exceptBatch ?? null],
  );
  return new Map(r.rows.map((row) => [row.pattern_key, { rule_id: row.rule_id, state: row.state }]));
}

/**
 * Stores a learning report: new patterns become pending proposals under fresh rule ids, patterns
 * the queue knows become observations of their proposals. One transaction.
 */
export async function submitReport(db: Db, input: SubmitReport): Promise<SubmitResult> {
  const { report } = input;
  const batchId = report.batch_id;
  const proposals = table(db, "rule_proposals");
  return db.transaction(async (tx) => {
    // Proposals of one pattern from two batches at once: the second waits and sees the first.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${db.schema}.rule_proposals`]);
    const ids = new Map<string, string>();
    const proposed: string[] = [];
    const reobserved: string[] = [];
    const keys = [...new Set([...report.new_rules_proposed.map(keyOf), ...(report.patterns ?? []).flatMap((p) => (p.pattern_key ? [p.pattern_key] : []))])];
    const existing = await tx.query<{ pattern_key: string; rule_id: string; batch_id: string }>(
      `SELECT pattern_key, rule_id, batch_id FROM ${proposals} WHERE pattern_key = ANY($1::text[])`,
      [keys],
    );
    const known = new Map(existing.rows.map((r) => [r.pattern_key, r]));

    const fresh = report.new_rules_proposed.filter((rule) => !known.has(keyOf(rule)));
    const newIds = await nextDailyIds(db, tx, RULE_IDS, input.day, fresh.length);
    for (const [i, rule] of fresh.entries()) {
      const ruleId = newIds[i] as string;
      const { evidence, ...text } = rule;
      const merged = withBatch(evidence ?? { occurrences: 0, session_ids: [] }, batchId);
      await tx.query(
        `INSERT INTO ${proposals} (rule_id, pattern_key, target_agent, priority, confidence, rule, evidence, batch_id, report_message_id)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)`,
        [ruleId, keyOf(rule), rule.target_agent, rule.priority, rule.confidence_score, canonicalJson({ ...text, rule_id: ruleId }), canonicalJson(merged), batchId, input.report_message_id ?? null],
      );
      await observe(db, tx, ruleId, batchId, input.report_message_id ?? null, merged.occurrences, rule.confidence_score, merged);
      ids.set(keyOf(rule), ruleId);
      proposed.push(ruleId);
    }
    // Everything the queue already knew: the rules re-proposed and the patterns merely reported.
    const seen = [
      ...report.new_rules_proposed.filter((rule) => known.has(keyOf(rule))).map((rule) => ({ key: keyOf(rule), evidence: rule.evidence, confidence: rule.confidence_score, priority: rule.priority })),
      ...(report.patterns ?? []).filter((p) => p.pattern_key && known.has(p.pattern_key)).map((p) => ({ key: p.pattern_key as string, evidence: p.evidence, confidence: undefined, priority: undefined })),
    ];
    for (const s of seen) {
      const prior = known.get(s.key);
      if (!prior || ids.has(s.key)) continue;
      ids.set(s.key, prior.rule_id);
      // This batch proposed it (a redelivered run): nothing to add.
      if (prior.batch_id === batchId) {
        proposed.push(prior.rule_id);
        continue;
      }
      const added = await observe(db, tx, prior.rule_id, batchId, input.report_message_id ?? null, s.evidence?.occurrences ?? 0, s.confidence ?? 0, s.evidence ?? { occurrences: 0, session_ids: [] });
      if (!added) continue;
      await reinforce(db, tx, prior.rule_id, s.evidence ?? { occurrences: 0, session_ids: [] }, batchId, s.confidence, s.priority);
      reobserved.push(prior.rule_id);
    }
    return { ids, proposed, reobserved };
  });
}

/** Proposals, the review order: pending first, then by priority and confidence. */
export async function listProposals(db: Db, filter: { state?: ProposalState; target_agent?: string; limit?: number } = {}): Promise<Proposal[]> {
  const params: unknown[] = [filter.state ?? null, filter.target_agent ?? null, Math.max(1, Math.min(filter.limit ?? 200, 10_000))];
  const r = await db.query<ProposalRow>(
    `SELECT * FROM ${table(db, "rule_proposals")}
     WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR target_agent = $2)
     ORDER BY CASE state WHEN 'pending' THEN 0 WHEN 'approved' THEN 1 WHEN 'retired' THEN 2 ELSE 3 END,
              CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, confidence DESC, rule_id
     LIMIT $3`,
    params,
  );
  return r.rows.map(toProposal);
}

export async function getProposal(db: Db, ruleId: string): Promise<(Proposal & { history: Observation[] }) | null> {
  const r = await db.query<ProposalRow>(`SELECT * FROM ${table(db, "rule_proposals")} WHERE rule_id = $1`, [ruleId]);
  const row = r.rows[0];
  if (!row) return null;
  const h = await db.query<ObservationRow>(`SELECT * FROM ${table(db, "rule_observations")} WHERE rule_id = $1 ORDER BY observed_at, batch_id`, [ruleId]);
  return { ...toProposal(row), history: h.rows.map((o) => ({ batch_id: o.batch_id, report_message_id: o.report_message_id, occurrences: o.occurrences, confidence: o.confidence, observed_at: o.observed_at })) };
}

export interface Observation {
  batch_id: string;
  report_message_id: string | null;
  occurrences: number;
  confidence: number;
  observed_at: Date;
}

/** Records one batch's observation of a proposal; false when that batch was recorded already. */
async function observe(db: Db, tx: Queryable, ruleId: string, batchId: string, reportId: string | null, occurrences: number, confidence: number, evidence: RuleEvidence): Promise<boolean> {
  const r = await tx.query(
    `INSERT INTO ${table(db, "rule_observations")} (rule_id, batch_id, report_message_id, occurrences, confidence, evidence)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (rule_id, batch_id) DO NOTHING`,
    [ruleId, batchId, reportId, occurrences, confidence, canonicalJson(evidence)],
  );
  return r.rowCount === 1;
}

/** Adds a new observation's evidence; a pending proposal may gain confidence and priority. */
async function reinforce(db: Db, tx: Queryable, ruleId: string, evidence: RuleEvidence, batchId: string, confidence: number | undefined, priority: ProposedRule["priority"] | undefined): Promise<void> {
  const proposals = table(db, "rule_proposals");
  const r = await tx.query<{ evidence: RuleEvidence; state: ProposalState; confidence: number; priority: ProposedRule["priority"] }>(
    `SELECT evidence, state, confidence, priority FROM ${proposals} WHERE rule_id = $1 FOR UPDATE`,
    [ruleId],
  );
  const row = r.rows[0];
  if (!row) throw new AgentbusError("NOT_FOUND", `proposal ${ruleId} not found`);
  const merged = mergeEvidence(row.evidence, evidence, batchId);
  // Only a pending proposal's score moves: an approved one is bound to what was approved.
  const raise = row.state === "pending" && confidence !== undefined && confidence > row.confidence;
  const nextPriority = row.state === "pending" && priority && PRIORITY_RANK[priority] > PRIORITY_RANK[row.priority] ? priority : row.priority;
  await tx.query(
    `UPDATE ${proposals} SET evidence = $2::jsonb, observations = observations + 1, last_observed_at = now(), updated_at = now(),
       confidence = $3, priority = $4 WHERE rule_id = $1`,
    [ruleId, canonicalJson(merged), raise ? confidence : row.confidence, nextPriority],
  );
}

/** Occurrences add up; example sessions and batches are merged (newest first, capped). */
export function mergeEvidence(old: RuleEvidence, added: RuleEvidence, batchId: string): RuleEvidence {
  const union = (a: readonly string[] = [], b: readonly string[] = []): string[] => [...new Set([...b, ...a])].slice(0, MAX_EXAMPLES);
  const sum = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0));
  const out: RuleEvidence = { ...old, ...added, occurrences: old.occurrences + added.occurrences, session_ids: union(old.session_ids, added.session_ids), batch_ids: union(old.batch_ids, [...(added.batch_ids ?? []), batchId]) };
  for (const k of ["attempts_spent", "attempts_wasted", "time_wasted_ms", "workflows"] as const) {
    const v = sum(old[k], added[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function withBatch(evidence: RuleEvidence, batchId: string): RuleEvidence {
  return { ...evidence, batch_ids: [...new Set([batchId, ...(evidence.batch_ids ?? [])])].slice(0, MAX_EXAMPLES) };
}

function keyOf(rule: ProposedRule): string {
  if (!rule.pattern_key) throw new AgentbusError("PROPOSAL_INVALID", `rule ${rule.rule_id} has no pattern_key: the queue cannot tell whether it was proposed before`);
  return rule.pattern_key;
}

/** A rule_proposals row: the proposal as pg returns it (its rule without the evidence merged in). */
type ProposalRow = Proposal;

interface ObservationRow {
  batch_id: string;
  report_message_id: string | null;
  occurrences: number;
  confidence: number;
  observed_at: Date;
}

function toProposal(row: ProposalRow): Proposal {
  return { ...row, rule: { ...row.rule, evidence: row.evidence } };
}
