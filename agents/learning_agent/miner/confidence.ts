/**
 * The learning agent spec's confidence scale, computed: above 0.90 only for the same thing seen
 * the same way more than 5 times; 0.70–0.89 for 2–4 (and for 5, or for many cases that were not
 * all the same); below 0.70 for one. Priority comes from the confidence and from what the pattern
 * costs.
 */
import type { Priority } from "./types.ts";

/** Consistency a pattern needs for the high band: nearly every relevant case went the same way. */
export const HIGH_CONSISTENCY = 0.9;

const MEDIUM: Record<number, number> = { 2: 0.75, 3: 0.8, 4: 0.85, 5: 0.88 };

export function confidenceFor(sameWay: number, consistency: number): number {
  if (sameWay <= 0) return 0;
  if (sameWay === 1) return 0.5;
  if (sameWay >= 6 && consistency >= HIGH_CONSISTENCY) {
    // 0.91 at 6, rising slowly towards 0.99 with more evidence.
    return round(0.91 + 0.08 * (1 - 6 / sameWay));
  }
  const base = MEDIUM[Math.min(sameWay, 5)] ?? 0.88;
  // Many cases that were not all alike stay medium, and lose a little for each case that differed.
  return round(Math.max(0.7, Math.min(0.89, base - (1 - Math.min(1, consistency)) * 0.2)));
}

export function priorityFor(confidence: number, costly: boolean): Priority {
  if (confidence > 0.9) return costly ? "high" : "medium";
  if (confidence >= 0.7) return costly ? "medium" : "low";
  return "low";
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
