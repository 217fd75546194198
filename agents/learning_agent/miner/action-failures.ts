/**
 * Action failures: the same (capability, error code, domain) failing again and again after
 * retries that never helped. The rule makes dispatch fail fast (no_retry) or stop earlier
 * (max_attempts) for exactly that match.
 *
 * Not a pattern: a failure that cost no retries (nothing to save); an error that retries get past
 * often enough; an error the domain gives no more often than other domains give it (the domain
 * merely travels with the failures); a domain where this error is rare among its tasks.
 */
import { patternKey } from "./keys.ts";
import { fmtMs, pct } from "./text.ts";
import type { Finding, MemorySummary, MinerContext } from "./types.ts";

type Cluster = MemorySummary["error_clusters"][number];

/** Share of this (capability, domain)'s tasks that must fail this way. */
const MIN_SHARE = 0.3;
/** How much more often than on other domains the error must occur on this one (and by MIN_SHARE at least). */
const MIN_LIFT = 2;
/** Retries that got through this often are worth keeping. */
const MAX_RECOVERY = 0.2;

export function mineActionFailures(summary: MemorySummary, ctx: MinerContext): Finding[] {
  const ran = new Map<string, { tasks: number; failed: number }>();
  const ranByCapability = new Map<string, number>();
  for (const cd of summary.capability_domains ?? []) {
    ran.set(`${cd.capability}\u0000${cd.domain ?? ""}`, cd);
    ranByCapability.set(cd.capability, (ranByCapability.get(cd.capability) ?? 0) + cd.tasks);
  }
  const failedByCode = new Map<string, number>();
  for (const c of summary.error_clusters) {
    const k = `${c.capability}\u0000${c.error_code}`;
    failedByCode.set(k, (failedByCode.get(k) ?? 0) + failedOf(c));
  }

  const out: Finding[] = [];
  for (const c of summary.error_clusters) {
    const failed = failedOf(c);
    const exhausted = c.exhausted ?? (c.attempts_spent > failed ? failed : 0);
    if (exhausted < ctx.minOccurrences) continue;
    const recovered = c.recovered ?? 0;
    const recovery = recovered / (recovered + failed);
    if (recovery >= MAX_RECOVERY) continue;

    const here = ran.get(`${c.capability}\u0000${c.domain ?? ""}`)?.tasks ?? failed;
    const share = Math.min(1, failed / Math.max(1, here));
    if (share < MIN_SHARE) continue;
    if (c.domain !== null) {
      const elsewhereTasks = (ranByCapability.get(c.capability) ?? here) - here;
      const elsewhereFailed = (failedByCode.get(`${c.capability}\u0000${c.error_code}`) ?? failed) - failed;
      const elsewhereRate = elsewhereTasks > 0 ? elsewhereFailed / elsewhereTasks : 0;
      if (elsewhereRate > 0 && (share / elsewhereRate < MIN_LIFT || share - elsewhereRate < MIN_SHARE)) continue;
    }
    out.push(findingOf(c, { failed, exhausted, recovered, share, recovery }, summary.batch_id));
  }
  return out;
}

function failedOf(c: Cluster): number {
  return c.failed ?? c.occurrences - (c.recovered ?? 0);
}

interface Stats {
  failed: number;
  exhausted: number;
  recovered: number;
  share: number;
  recovery: number;
}

function findingOf(c: Cluster, s: Stats, batchId: string): Finding {
  const retries = c.retries_spent ?? Math.max(0, c.attempts_spent - s.failed);
  const attemptsOfFailed = retries + s.failed;
  const attemptsEach = s.failed > 0 ? Math.round((attemptsOfFailed / s.failed) * 10) / 10 : 0;
  // The failed tasks' time, in the share the retries took of their attempts.
  const timeWasted = attemptsOfFailed > 0 ? Math.round(((c.duration_ms ?? 0) * retries) / attemptsOfFailed) : 0;
  const match = { capability: c.capability, error_code: c.error_code, ...(c.domain !== null ? { domain: c.domain } : {}) };
  const where = c.domain !== null ? `${c.capability} on ${c.domain}` : c.capability;
  const capAt = s.recovered > 0 ? Math.max(1, c.max_recovered_attempts ?? 1) : 0;
  const effect = capAt > 0 ? { op: "max_attempts" as const, match, attempts: capAt } : { op: "no_retry" as const, match };
  const instruction =
    effect.op === "no_retry"
      ? `Do not retry ${c.error_code} failures of ${where}: retries of them have never succeeded. Treat the failure as not recoverable so the branch is skipped at once instead of burning retries.`
      : `Give ${where} at most ${capAt} attempt(s) when it fails with ${c.error_code}: the few retries that got through needed no more, the rest failed again.`;
  // Consistency: of the tasks on this pair, the share that failed this way, discounted by retries that helped.
  const consistency = Math.round(s.share * (1 - s.recovery) * 1000) / 1000;
  return {
    key: patternKey("action_failure", c.capability, c.error_code, c.domain ?? "*"),
    subkind: "action_failure",
    kind: "action_failure",
    sameWay: s.exhausted,
    consistency,
    costly: retries >= 6 || timeWasted >= 60_000,
    target_agent: "dispatch_agent",
    trigger_condition: `When ${where} fails with ${c.error_code}`,
    instruction,
    rationale:
      `Observed ${s.exhausted} task(s) in ${batchId} where ${where} failed with ${c.error_code} after ${attemptsEach} attempts each ` +
      `(${retries} retries wasted, ${fmtMs(timeWasted)}); ${s.recovered} of ${s.recovered + s.failed} recovered on a retry. ` +
      `${pct(s.share)} of ${c.capability} tasks${c.domain !== null ? ` on ${c.domain}` : ""} failed this way.`,
    description: `${where} fails with ${c.error_code} and retries do not help`,
    effect,
    evidence: {
      occurrences: s.exhausted,
      session_ids: [...c.example_session_ids],
      batch_ids: [batchId],
      capability: c.capability,
      error_code: c.error_code,
      ...(c.domain !== null ? { domain: c.domain } : {}),
      attempts_spent: c.attempts_spent,
      attempts_wasted: retries,
      time_wasted_ms: timeWasted,
      failure_rate: Math.round(s.share * 1000) / 1000,
      consistency,
    },
  };
}
