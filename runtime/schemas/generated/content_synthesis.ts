/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
export type ScalarValue = string | number | boolean | null;

/**
 * The reasoning agent's answer, built from the dispatch report.
 */
export interface Synthesis {
  answer: string;
  /**
   * @maxItems 1000
   */
  findings: Finding[];
  /**
   * @maxItems 1000
   */
  contradictions: Contradiction[];
  /**
   * 0 = no confidence, 1 = certain.
   */
  confidence: number;
  /**
   * Optional: the approved rules that shaped this synthesis (e.g. a known source conflict); the memory agent adds them to the workflow record.
   *
   * @maxItems 1000
   */
  rules_applied?: string[];
}
export interface Finding {
  statement: string;
  /**
   * Tasks whose outputs support the statement.
   *
   * @maxItems 1000
   */
  task_ids: string[];
}
export interface Contradiction {
  /**
   * What the results disagree about.
   */
  subject: string;
  /**
   * @minItems 2
   * @maxItems 1000
   */
  values: [ContradictionValue, ContradictionValue, ...ContradictionValue[]];
}
export interface ContradictionValue {
  value: ScalarValue;
  task_id: string;
}
