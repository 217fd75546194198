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
  task_orders: TaskOrders;
  /**
   * Optional: contradictions the reasoning agent flagged, grouped by subject.
   *
   * @maxItems 1000
   */
  contradiction_clusters?: ContradictionCluster[];
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
  subject: string;
  occurrences: number;
  /**
   * @maxItems 10
   */
  example_session_ids: string[];
}
