/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
/**
 * Aggregates of a batch of workflow records, for the learning agent. Run metadata only: no media, no request payloads.
 */
export interface MemorySummary {
  batch_id: string;
  period: SummaryPeriod;
  counts: SummaryCounts;
  success_rates: SuccessRates;
  /**
   * Failures grouped by (capability, error_code, domain).
   *
   * @maxItems 1000
   */
  error_clusters: ErrorCluster[];
  /**
   * Optional: tasks that ran, per (capability, domain), so an error cluster can be set against how often the pair ran at all.
   *
   * @maxItems 1000
   */
  capability_domains?: CapabilityDomainCount[];
  /**
   * Optional: what each capability cost when it ran: time, and the size of its inputs where the records give it.
   *
   * @maxItems 1000
   */
  capability_costs?: CapabilityCost[];
  /**
   * Optional: per request category and task order (the plan's capabilities in plan order), how the workflows came out and what each step cost.
   *
   * @maxItems 1000
   */
  order_stats?: OrderStats[];
  /**
   * Optional: per capability, plans that ran it twice on the same inputs (equal task fingerprints).
   *
   * @maxItems 1000
   */
  redundant_tasks?: RedundantTaskCount[];
  task_orders: TaskOrders;
  /**
   * Optional: contradictions the reasoning agent flagged, grouped by subject.
   *
   * @maxItems 1000
   */
  contradiction_clusters?: ContradictionCluster[];
  /**
   * Optional: per pair of sources (domain, or capability without one) that gave results in the same workflow, how often they did and how often a contradiction between them was flagged.
   *
   * @maxItems 1000
   */
  source_pairs?: SourcePairCount[];
  /**
   * Optional: observations not kept because a table reached its cap of distinct keys (memory stays bounded); non-zero means the batch had more distinct patterns than the summary holds.
   */
  overflow?: {
    [k: string]: number;
  };
  /**
   * Approved rules in force during the period.
   *
   * @maxItems 1000
   *
   * Items: rule_<YYYYMMDD>_<NN>
   */
  active_rules: string[];
}
export interface SummaryPeriod {
  from: string;
  to: string;
}
export interface SummaryCounts {
  workflows: number;
  tasks: number;
  workflows_by_status: WorkflowStatusCounts;
  tasks_by_status: TaskStatusCounts;
}
export interface WorkflowStatusCounts {
  success: number;
  failed: number;
  partial: number;
}
export interface TaskStatusCounts {
  succeeded: number;
  failed: number;
  skipped: number;
}
export interface SuccessRates {
  /**
   * Share of workflows with status success (0 when the batch is empty).
   */
  overall: number;
  /**
   * @maxItems 1000
   */
  by_capability: CapabilitySuccessRate[];
  /**
   * @maxItems 1000
   */
  by_category: CategorySuccessRate[];
}
export interface CapabilitySuccessRate {
  capability: string;
  tasks: number;
  succeeded: number;
  rate: number;
}
export interface CategorySuccessRate {
  category: string;
  workflows: number;
  succeeded: number;
  rate: number;
}
export interface ErrorCluster {
  capability: string;
  error_code: string;
  /**
   * Host name, or null when the failure was not tied to one.
   */
  domain: string | null;
  occurrences: number;
  attempts_spent: number;
  /**
   * @maxItems 10
   */
  example_session_ids: string[];
  /**
   * Optional: tasks that ended failed with this error (occurrences counts those that recovered too).
   */
  failed?: number;
  /**
   * Optional: tasks that hit this error and then succeeded on a retry.
   */
  recovered?: number;
  /**
   * Optional: failed tasks whose failure was reported recoverable.
   */
  retryable?: number;
  /**
   * Optional: failed tasks that spent retries (2 or more attempts) and still ended with this error.
   */
  exhausted?: number;
  /**
   * Optional: attempts beyond the first, over the failed tasks: retries that bought nothing.
   */
  retries_spent?: number;
  /**
   * Optional: the most attempts a recovered task needed (0 when none recovered).
   */
  max_recovered_attempts?: number;
  /**
   * Optional: milliseconds spent by the failed tasks.
   */
  duration_ms?: number;
}
export interface CapabilityDomainCount {
  capability: string;
  domain: string | null;
  tasks: number;
  failed: number;
}
export interface CapabilityCost {
  capability: string;
  /**
   * Tasks that ran (attempts > 0).
   */
  tasks: number;
  duration_ms_mean: number;
  /**
   * Tasks whose input size was recorded.
   */
  input_chars_tasks: number;
  input_chars_mean: number;
}
export interface OrderStats {
  category: string;
  /**
   * @maxItems 1000
   */
  order: string[];
  workflows: number;
  succeeded: number;
  /**
   * Workflows with status failed or partial.
   */
  failed: number;
  duration_ms: DurationMoments;
  succeeded_duration_ms?: DurationMoments1;
  /**
   * Per capability of the order (repeats of a capability merged).
   *
   * @maxItems 1000
   */
  steps: OrderStep[];
  /**
   * @maxItems 10
   */
  example_session_ids: string[];
}
/**
 * Sum, sum of squares, minimum and maximum of durations in milliseconds (mean and spread without keeping the values).
 */
export interface DurationMoments {
  sum: number;
  sum_sq: number;
  min: number;
  max: number;
}
/**
 * Sum, sum of squares, minimum and maximum of durations in milliseconds (mean and spread without keeping the values).
 */
export interface DurationMoments1 {
  sum: number;
  sum_sq: number;
  min: number;
  max: number;
}
export interface OrderStep {
  capability: string;
  tasks: number;
  failed: number;
  duration_ms: DurationMoments;
  /**
   * Sum of recorded input sizes.
   */
  input_chars: number;
  input_chars_tasks: number;
}
export interface RedundantTaskCount {
  capability: string;
  /**
   * Workflows with at least one duplicate task of this capability.
   */
  workflows: number;
  /**
   * Tasks beyond the first with the same fingerprint.
   */
  duplicate_tasks: number;
  /**
   * Workflows whose tasks carried fingerprints and used this capability at all.
   */
  workflows_with_capability: number;
  /**
   * Milliseconds the duplicate tasks spent.
   */
  duration_ms: number;
  /**
   * @maxItems 10
   */
  example_session_ids: string[];
}
export interface TaskOrders {
  /**
   * Task orders seen in workflows with status success.
   *
   * @maxItems 1000
   */
  successful: TaskOrderCount[];
  /**
   * Task orders seen in workflows with status failed or partial.
   *
   * @maxItems 1000
   */
  failed: TaskOrderCount[];
}
export interface TaskOrderCount {
  /**
   * Capabilities in execution order.
   *
   * @maxItems 1000
   */
  order: string[];
  count: number;
}
export interface ContradictionCluster {
  /**
   * A label: the kind, the subject's hash and the sources (never the subject's text).
   */
  subject: string;
  occurrences: number;
  kind?: "fact" | "compute";
  subject_key?: string;
  /**
   * The sources that disagreed: domain, or capability when the source had no domain; sorted.
   *
   * @minItems 2
   * @maxItems 10
   */
  sources?: [string, string, ...string[]];
  /**
   * @maxItems 10
   */
  example_session_ids: string[];
}
export interface SourcePairCount {
  /**
   * @minItems 2
   * @maxItems 2
   */
  sources: [string, string, ...string[]];
  workflows: number;
  contradicted: number;
}
