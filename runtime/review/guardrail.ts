/**
 * The rollout guardrail (scheduled by guardrail-component.ts in `agentbus start`): for each approved rule
 * still rolled out to a share of sessions, compare the matching sessions with and without it since
 * its approval; when the sessions with it fail more (absolute margin) or run longer (relative
 * margin) than those without, with enough sessions on both sides, retire it with the reason.
 */
import type { ReviewService } from "./service.ts";
import { compareRollout, type GroupFigures } from "./impact.ts";
import type { Db } from "../store/db.ts";

export interface GuardrailOptions {
  /** Failure rate may be this much higher (absolute, 0..1) with the rule. Default 0.10. */
  failureMargin?: number;
  /** Mean duration may be this much higher (relative) with the rule. Default 0.25. */
  durationMargin?: number;
  /** Sessions needed on each side before judging. Default 20. */
  minSessions?: number;
  /** A rule that could not be judged or retired; the others are still checked. Absent: all such errors are thrown together at the end. */
  onError?: (ruleId: string, err: unknown) => void;
}

export interface GuardrailOutcome {
  rule_id: string;
  with_rule: GroupFigures;
  without_rule: GroupFigures;
  retired: boolean;
  reason: string | null;
}

export async function runGuardrails(db: Db, service: ReviewService, o: GuardrailOptions = {}): Promise<GuardrailOutcome[]> {
  const failureMargin = o.failureMargin ?? 0.1;
  const durationMargin = o.durationMargin ?? 0.25;
  const min = o.minSessions ?? 20;
  const out: GuardrailOutcome[] = [];
  const failures: unknown[] = [];
  for (const r of await service.list({ state: "approved" })) {
    if (r.rollout_percent >= 100) continue;
    try {
      const outcome = await judge(db, service, r.rule_id, { failureMargin, durationMargin, min });
      if (outcome) out.push(outcome);
    } catch (err) {
      // One rule that cannot be judged (or retired) does not stop the others being checked.
      if (o.onError) o.onError(r.rule_id, err);
      else failures.push(new Error(`guardrail of ${r.rule_id}: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `guardrail failed for ${failures.length} rule(s); ${out.length} judged`);
  return out;
}

async function judge(db: Db, service: ReviewService, ruleId: string, o: { failureMargin: number; durationMargin: number; min: number }): Promise<GuardrailOutcome | null> {
  const { failureMargin, durationMargin, min } = o;
  const detail = await service.get(ruleId);
  const active = detail.versions.find((v) => v.version === detail.active_version);
  if (!active?.approved_at) return null;
  const cmp = await compareRollout(db, ruleId, active.content.effect, active.approved_at);
  const w = cmp.with_rule;
  const wo = cmp.without_rule;
  let reason: string | null = null;
  if (w.sessions >= min && wo.sessions >= min) {
    if ((w.failure_rate ?? 0) > (wo.failure_rate ?? 0) + failureMargin)
      reason = `guardrail: failure rate with the rule ${pctText(w.failure_rate)} (${w.failed}/${w.sessions}) exceeds without it ${pctText(wo.failure_rate)} (${wo.failed}/${wo.sessions}) by more than ${Math.round(failureMargin * 100)} points`;
    else if ((w.mean_duration_ms ?? 0) > (wo.mean_duration_ms ?? 0) * (1 + durationMargin))
      reason = `guardrail: mean duration with the rule ${Math.round(w.mean_duration_ms ?? 0)} ms (${w.sessions} sessions) exceeds without it ${Math.round(wo.mean_duration_ms ?? 0)} ms (${wo.sessions}) by more than ${Math.round(durationMargin * 100)}%`;
  }
  if (reason) await service.retire({ name: "guardrail", role: "system" }, ruleId, { reason }, "auto_retire");
  return { rule_id: ruleId, with_rule: w, without_rule: wo, retired: reason !== null, reason };
}

function pctText(v: number | null): string {
  return v === null ? "–" : `${(v * 100).toFixed(1)}%`;
}
