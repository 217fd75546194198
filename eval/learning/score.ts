/**
 * Scores a learning report against the ground truth: a rule is right when its pattern key is a
 * planted pattern's and its effect is the planted effect. Precision, recall (all planted patterns,
 * and those seen 3 times or more), duplicate-rule rate and the Brier score of the confidences
 * (confidence against whether the rule is right), per pattern kind and overall.
 */
import type { LearningReport } from "../../agents/learning_agent/miner/index.ts";
import type { GroundTruth } from "./world.ts";

export const KINDS = ["action_failure", "missing_step", "redundant_task", "task_order", "source_conflict"] as const;

export interface Score {
  rules: number;
  correct: number;
  precision: number;
  planted: number;
  found: number;
  recall: number;
  planted_3plus: number;
  found_3plus: number;
  recall_3plus: number;
  duplicates: number;
  duplicate_rate: number;
  brier: number;
  decoy_rules: number;
  confident_decoy_rules: number;
}

export interface Scored {
  overall: Score;
  by_kind: Record<string, Score>;
  misses: Array<{ key: string; occurrences: number }>;
  wrong: Array<{ key: string; confidence: number; why: string }>;
}

type Rule = LearningReport["learning_report"]["new_rules_proposed"][number];

export function score(report: LearningReport, truth: GroundTruth): Scored {
  const rules = report.learning_report.new_rules_proposed;
  const by_kind: Record<string, Score> = {};
  for (const kind of KINDS) by_kind[kind] = scoreOf(rules.filter((r) => kindOf(r) === kind), truth.planted.filter((p) => p.kind === kind), truth);
  const overall = scoreOf(rules, truth.planted, truth);
  const found = new Set(rules.filter((r) => isRight(r, truth)).map((r) => r.pattern_key));
  const decoys = new Set(truth.decoys.map((d) => d.key));
  return {
    overall,
    by_kind,
    misses: truth.planted.filter((p) => !found.has(p.key)).map((p) => ({ key: p.key, occurrences: p.occurrences })),
    wrong: rules
      .filter((r) => !isRight(r, truth))
      .map((r) => ({ key: r.pattern_key ?? "(none)", confidence: r.confidence_score, why: decoys.has(r.pattern_key ?? "") ? "decoy" : truth.planted.some((p) => p.key === r.pattern_key) ? "wrong effect" : "not planted" })),
  };
}

function kindOf(r: Rule): string {
  return (r.pattern_key ?? "").split(":")[0] ?? "";
}

function isRight(r: Rule, truth: GroundTruth): boolean {
  const p = truth.planted.find((x) => x.key === r.pattern_key);
  return p !== undefined && canonical(p.effect) === canonical(r.effect);
}

function scoreOf(rules: Rule[], planted: GroundTruth["planted"], truth: GroundTruth): Score {
  const right = rules.filter((r) => isRight(r, truth));
  const foundKeys = new Set(right.map((r) => r.pattern_key));
  const seenKeys = new Set<string>();
  const seenEffects = new Set<string>();
  let duplicates = 0;
  for (const r of rules) {
    const effect = canonical(r.effect);
    if (seenKeys.has(r.pattern_key ?? "") || seenEffects.has(effect)) duplicates += 1;
    seenKeys.add(r.pattern_key ?? "");
    seenEffects.add(effect);
  }
  const decoys = new Set(truth.decoys.map((d) => d.key));
  const decoyRules = rules.filter((r) => decoys.has(r.pattern_key ?? ""));
  const three = planted.filter((p) => p.occurrences >= 3);
  const brier = rules.length > 0 ? rules.reduce((s, r) => s + (r.confidence_score - (isRight(r, truth) ? 1 : 0)) ** 2, 0) / rules.length : 0;
  return {
    rules: rules.length,
    correct: right.length,
    precision: rules.length > 0 ? right.length / rules.length : 1,
    planted: planted.length,
    found: planted.filter((p) => foundKeys.has(p.key)).length,
    recall: planted.length > 0 ? planted.filter((p) => foundKeys.has(p.key)).length / planted.length : 1,
    planted_3plus: three.length,
    found_3plus: three.filter((p) => foundKeys.has(p.key)).length,
    recall_3plus: three.length > 0 ? three.filter((p) => foundKeys.has(p.key)).length / three.length : 1,
    duplicates,
    duplicate_rate: rules.length > 0 ? duplicates / rules.length : 0,
    brier,
    decoy_rules: decoyRules.length,
    confident_decoy_rules: decoyRules.filter((r) => r.confidence_score >= 0.7).length,
  };
}

/** JSON with sorted keys, so equal effects compare equal. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Sums several seeds' scores into one (counts added, rates recomputed, Brier weighted by rules). */
export function combine(scores: Score[]): Score {
  const sum = (f: (s: Score) => number) => scores.reduce((n, s) => n + f(s), 0);
  const rules = sum((s) => s.rules);
  const planted = sum((s) => s.planted);
  const p3 = sum((s) => s.planted_3plus);
  return {
    rules,
    correct: sum((s) => s.correct),
    precision: rules > 0 ? sum((s) => s.correct) / rules : 1,
    planted,
    found: sum((s) => s.found),
    recall: planted > 0 ? sum((s) => s.found) / planted : 1,
    planted_3plus: p3,
    found_3plus: sum((s) => s.found_3plus),
    recall_3plus: p3 > 0 ? sum((s) => s.found_3plus) / p3 : 1,
    duplicates: sum((s) => s.duplicates),
    duplicate_rate: rules > 0 ? sum((s) => s.duplicates) / rules : 0,
    brier: rules > 0 ? sum((s) => s.brier * s.rules) / rules : 0,
    decoy_rules: sum((s) => s.decoy_rules),
    confident_decoy_rules: sum((s) => s.confident_decoy_rules),
  };
}
