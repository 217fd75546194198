/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/**
 * The dispatch agent's account of a finished plan: every task's final state, for the reasoning agent.
 */
export interface DispatchReport {
  plan_id: string;
  /**
   * @maxItems 1000
   */
  tasks: DispatchTaskReport[];
  /**
   * task_ids skipped because something they depend on failed unrecoverably.
   *
   * @maxItems 1000
   */
  skipped_branches: string[];
  /**
   * The user_request text.
   */
  request: string;
  /**
   * The user_request's category, when it had one (carried by the plan).
   */
  category?: string;
  /**
   * @maxItems 1000
   *
   * Items: rule_<YYYYMMDD>_<NN>
   */
  rules_applied: string[];
}
export interface DispatchTaskReport {
  task_id: string;
  capability: string;
  status: "succeeded" | "failed" | "skipped";
  /**
   * Attempts made; 0 for a skipped task.
   */
  attempts: number;
  /**
   * Last error code, or null.
   */
  error_code: string | null;
  /**
   * Last error message, or null.
   */
  error_message: string | null;
  /**
   * Outputs of the successful attempt, or null.
   */
  outputs: JsonObject | null;
  /**
   * Total milliseconds over all attempts; 0 for a skipped task.
   */
  duration_ms: number;
  /**
   * Host name, lowercase as URL.hostname gives it, e.g. example.org.
   */
  domain?: string;
  /**
   * The plan's depends_on for this task (the workflow record keeps the plan's shape; reasoning tells sources apart by it).
   *
   * @maxItems 1000
   */
  depends_on?: string[];
  /**
   * Whether the last failure was recoverable (false for a task that never failed).
   */
  recoverable?: boolean;
}
/**
 * Free-form object: up to 200 keys, values are any JSON (strings up to 200000 characters, arrays up to 1000 items).
 */
export interface JsonObject {
  [k: string]: JsonValue;
}
