/**
 * The numbers beside a rule, computed over the stored workflow records:
 *
 * - estimate: replay the rule's effect over the records it matches and count what would have changed.
 *   Assumptions, shown with the figures: a task's duration_ms is split evenly over its attempts; a
 *   retry that later succeeded would have been a failure under no_retry (counted as risk); a plan
 *   change (insert_before, prefer_order) can at most avoid the failures of the tasks it touches
 *   (an upper bound, not a promise); dedupe assumes the extra tasks repeated the same input.
 * - impact: the matching sessions before and after the rule's approval (failure rate, attempts,
 *   duration), with counts.
 * - rollout comparison: after approval, matching sessions with the rule (rules_applied names it)
 *   against those without; the guardrail retires the rule when "with" is worse beyond a margin.
 */
import { table, type Db } from "../store/db.ts";
import { recordMatches, taskMatches, type RecordLike, type RecordTask } from "../rules/effects.ts";
import type { RuleEffect } from "../rules/content.ts";

export interface Estimate {
  records_scanned: number;
  sessions_touched: number;
  tasks_touched: number;
  attempts_saved: number;
  minutes_saved: number;
  failures_avoided_at_most: number;
  /** Tasks that recovered by retrying and would have failed under the rule. */
  failures_risked: number;
  attempts_added: number;
  example_sessions: string[];
  assumptions: string[];
}

export interface GroupFigures {
  sessions: number;
  failed: number;
  failure_rate: number | null;
  attempts: number;
  attempts_per_session: number | null;
  duration_ms: number;
  mean_duration_ms: number | null;
}

const LIMIT = 20_000;

/** Records that may match: narrowed in SQL by capability where the effect names one. */
async function candidates(db: Db, effect: RuleEffect | undefined, since?: Date): Promise<(RecordLike & { finished_at: Date })[]> {
  if (!effect) return [];
  const cap = "match" in effect ? effect.match.capability : "capability" in effect ? effect.capability : null;
  const r = await db.query<{ record: RecordLike; finished_at: Date }>(
    `SELECT record, finished_at FROM ${table(db, "workflow_records")}
     WHERE ($1::text IS NULL OR record->'tasks' @> jsonb_build_array(jsonb_build_object('capability', $1::text)))
       AND ($2::timestamptz IS NULL OR finished_at >= $2)
     ORDER BY finished_at DESC LIMIT ${LIMIT}`,
    [cap, since ?? null],
  );
  return r.rows.filter((row) => recordMatches(effect, row.record)).map((row) => ({ ...row.record, finished_at: row.finished_at }));
}

export async function estimateEffect(db: Db, effect: RuleEffect | undefined): Promise<Estimate> {
  const records = await candidates(db, effect);
  const e: Estimate = { records_scanned: records.length, sessions_touched: 0, tasks_touched: 0, attempts_saved: 0, minutes_saved: 0, failures_avoided_at_most: 0, failures_risked: 0, attempts_added: 0, example_sessions: [], assumptions: [] };
  if (!effect) {
    e.assumptions.push("The rule has no machine-readable effect, so nothing can be replayed.");
    return e;
  }
  let savedMs = 0;
  for (const r of records) {
    const tasks = r.tasks ?? [];
    let touched = 0;
    if (effect.op === "no_retry" || effect.op === "max_attempts") {
      const cap = effect.op === "no_retry" ? 1 : effect.attempts;
      for (const t of tasks.filter((t) => taskMatches(effect, t) && t.attempts > cap)) {
        const failedSame = t.status === "failed" && (effect.match.error_code === undefined || t.error_code === effect.match.error_code);
        if (failedSame) {
          touched++;
          e.attempts_saved += t.attempts - cap;
          savedMs += perAttempt(t) * (t.attempts - cap);
        } else if (t.status === "success") {
          touched++;
          e.failures_risked++;
        }
      }
    } else if (effect.op === "insert_before") {
      const targets = tasks.filter((t) => t.capability === effect.capability);
      if (!tasks.some((t) => t.capability === effect.insert)) {
        touched = targets.length;
        e.attempts_added += targets.length;
        e.failures_avoided_at_most += targets.filter((t) => t.status === "failed").length;
      }
    } else if (effect.op === "prefer_order") {
      const seen = tasks.map((t) => t.capability).filter((c) => effect.order.includes(c));
      const wanted = [...seen].sort((a, b) => effect.order.indexOf(a) - effect.order.indexOf(b));
      if (seen.join() !== wanted.join()) {
        touched = seen.length;
        e.failures_avoided_at_most += tasks.filter((t) => effect.order.includes(t.capability) && t.status === "failed").length;
      }
    } else if (effect.op === "dedupe") {
      const extra = tasks.filter((t) => t.capability === effect.capability).slice(1);
      touched = extra.length;
      e.attempts_saved += extra.reduce((s, t) => s + t.attempts, 0);
      savedMs += extra.reduce((s, t) => s + (t.duration_ms ?? 0), 0);
    } else if (effect.op === "flag_source_conflict") {
      touched = 1;
    }
    if (touched > 0) {
      e.sessions_touched++;
      e.tasks_touched += touched;
      if (e.example_sessions.length < 10) e.example_sessions.push(r.session_id);
    }
  }
  e.minutes_saved = Math.round((savedMs / 60_000) * 100) / 100;
  e.assumptions.push(...assumptionsFor(effect), `Over the ${records.length} stored workflow record(s) the rule matches (at most the newest ${LIMIT}).`);
  return e;
}

function perAttempt(t: RecordTask): number {
  return t.attempts > 0 ? (t.duration_ms ?? 0) / t.attempts : 0;
}

function assumptionsFor(effect: RuleEffect): string[] {
  switch (effect.op) {
    case "no_retry":
    case "max_attempts":
      return ["A failed task's duration is split evenly over its attempts; the attempts past the cap and their share of the time are saved.", "A task that succeeded only after retrying would have failed under the rule: counted as failures risked."];
    case "insert_before":
      return ["Each touched task gets one extra task before it (attempts added).", "Failures avoided is an upper bound: the failed tasks the inserted step precedes."];
    case "prefer_order":
      return ["Sessions whose capabilities ran in another order are touched; failures avoided is an upper bound."];
    case "dedupe":
      return ["Extra tasks of the capability in one session are assumed to repeat the same input: their attempts and time are saved."];
    case "flag_source_conflict":
      return ["Sessions with results from two or more of the sources are touched; nothing is saved, the report changes."];
  }
}

export function figures(records: readonly RecordLike[]): GroupFigures {
  const tasks = (r: RecordLike): readonly RecordTask[] => r.tasks ?? [];
  const sessions = records.length;
  const failed = records.filter((r) => r.status === "failed").length;
  const attempts = records.reduce((s, r) => s + tasks(r).reduce((a, t) => a + t.attempts, 0), 0);
  const duration = records.reduce((s, r) => s + tasks(r).reduce((a, t) => a + (t.duration_ms ?? 0), 0), 0);
  return {
    sessions,
    failed,
    failure_rate: sessions ? failed / sessions : null,
    attempts,
    attempts_per_session: sessions ? attempts / sessions : null,
    duration_ms: duration,
    mean_duration_ms: sessions ? duration / sessions : null,
  };
}

/** The matching sessions before and after `approvedAt`. */
export async function impact(db: Db, effect: RuleEffect | undefined, approvedAt: Date): Promise<{ before: GroupFigures; after: GroupFigures }> {
  const records = await candidates(db, effect);
  return { before: figures(records.filter((r) => r.finished_at < approvedAt)), after: figures(records.filter((r) => r.finished_at >= approvedAt)) };
}

/** After approval: matching sessions that applied the rule against those that did not. */
export async function compareRollout(db: Db, ruleId: string, effect: RuleEffect | undefined, approvedAt: Date): Promise<{ with_rule: GroupFigures; without_rule: GroupFigures }> {
  const records = await candidates(db, effect, approvedAt);
  const applied = (r: RecordLike): boolean => (r.rules_applied ?? []).includes(ruleId);
  return { with_rule: figures(records.filter(applied)), without_rule: figures(records.filter((r) => !applied(r))) };
}
