/**
 * Gradual rollout: a rule approved for N% of sessions applies to a session when the first 32 bits of
 * sha256("<rule_id>:<session_id>") fall in the first N% of their range. Deterministic (every agent
 * and process decides the same for a session), independent between rules, and a session in a 10%
 * rollout stays in it when the share is raised to 50%.
 */
import { createHash } from "node:crypto";

export function rolloutBucket(ruleId: string, sessionId: string): number {
  const digest = createHash("sha256").update(`${ruleId}:${sessionId}`).digest();
  // 0 ≤ bucket < 10000: two decimals of a percent.
  return Math.floor((digest.readUInt32BE(0) / 2 ** 32) * 10_000);
}

export function inRollout(rule: { rule_id: string; rollout_percent?: number | undefined }, sessionId: string): boolean {
  const percent = rule.rollout_percent ?? 100;
  if (percent >= 100) return true;
  if (percent <= 0) return false;
  return rolloutBucket(rule.rule_id, sessionId) < percent * 100;
}
