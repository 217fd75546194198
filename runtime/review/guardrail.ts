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
  for (const r of await service.list({ state: "approved" })) {
    if (r.rollout_percent >= 100) continue;
    const detail = await service.get(r.rule_id);
    const active = detail.versions.find((v) => v.version === detail.active_version);
    if (!active?.approved_at) continue;
    const cmp = await compareRollout(db, r.rule_id, active.content.effect, active.approved_at);
    const w = cmp.with_rule;
    const wo = cmp.without_rule;
    let reason: string | null = null;
    if (w.sessions >= min && wo.sessions >= min) {
      if ((w.failure_rate ?? 0) > (wo.failure_rate ?? 0) + failureMargin)
        reason = `guardrail: failure rate with the rule ${pctText(w.failure_rate)} (${w.failed}/${w.sessions}) exceeds without it ${pctText(wo.failure_rate)} (${wo.failed}/${wo.sessions}) by more than ${Math.round(failureMargin * 100)} points`;
      else if ((w.mean_duration_ms ?? 0) > (wo.mean_duration_ms ?? 0) * (1 + durationMargin))
        reason = `guardrail: mean duration with the rule ${Math.round(w.mean_duration_ms ?? 0)} ms (${w.sessions} sessions) exceeds without it ${Math.round(wo.mean_duration_ms ?? 0)} ms (${wo.sessions}) by more than ${Math.round(durationMargin * 100)}%`;
    }
    if (reason) await service.retire({ name: "guardrail", role: "system" }, r.rule_id, { reason }, "auto_retire");
    out.push({ rule_id: r.rule_id, with_rule: w, without_rule: wo, retired: reason !== null, reason });
  }
  return out;
}

function pctText(v: number | null): string {
  return v === null ? "–" : `${(v * 100).toFixed(1)}%`;
}
