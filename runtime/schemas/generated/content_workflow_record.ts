/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
/**
 * The post-workflow audit record the memory agent writes for each finished session (DESIGN §3).
 */
export interface WorkflowRecord {
  session_id: string;
  request_id: string;
  request: WorkflowRequest;
  started_at: string;
  finished_at: string;
  status: "success" | "failed" | "partial";
  /**
   * @maxItems 1000
   */
  plan: WorkflowPlanStep[];
  /**
   * @maxItems 1000
   */
  tasks: WorkflowTask[];
  /**
   * @maxItems 1000
   *
   * Items: rule_<YYYYMMDD>_<NN>
   */
  rules_applied: string[];
}
export interface WorkflowRequest {
  text: string;
  category: string;
}
export interface WorkflowPlanStep {
  task_id: string;
  capability: string;
  /**
   * @maxItems 1000
   */
  depends_on: string[];
}
export interface WorkflowTask {
  task_id: string;
  capability: string;
  status: "succeeded" | "failed" | "skipped";
  attempts: number;
  error_code?: string;
  /**
   * Host name, lowercase as URL.hostname gives it, e.g. example.org.
   */
  domain?: string;
  recoverable: boolean;
  /**
   * Wall-clock milliseconds spent.
   */
  duration_ms?: number;
}
