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
  /**
   * Optional: the contradictions the reasoning agent flagged, as metadata only: the kind, a hash of the subject (never its text) and the sources that disagreed.
   *
   * @maxItems 100
   */
  contradictions?: WorkflowContradiction[];
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
  /**
   * Optional: size of what the task consumed, in characters of JSON (the outputs of the tasks it depends on). A size, never the content.
   */
  input_chars?: number;
  /**
   * Optional: size of the task's outputs, in characters of JSON.
   */
  output_chars?: number;
  /**
   * Optional: hash of the capability, the fingerprints of the tasks it consumed and what it produced. Two tasks of one plan with the same fingerprint did the same work twice.
   */
  fingerprint?: string;
}
export interface WorkflowContradiction {
  /**
   * fact: sources state different values; compute: the same expression gave different results.
   */
  kind: "fact" | "compute";
  /**
   * Hash of the normalised subject, so the same contradiction can be counted without keeping what it says.
   */
  subject_key: string;
  /**
   * @minItems 2
   * @maxItems 10
   */
  sources: [ContradictionSource, ContradictionSource, ...ContradictionSource[]];
}
export interface ContradictionSource {
  /**
   * Capability of the source task (the root of the lineage the value came from).
   */
  capability: string;
  domain?: string;
}
