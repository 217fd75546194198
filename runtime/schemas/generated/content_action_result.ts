/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/**
 * The action agent's report on one attempt of one task.
 */
export interface ActionResult {
  plan_id: string;
  task_id: string;
  capability: string;
  outputs: JsonObject;
  /**
   * Wall-clock milliseconds spent.
   */
  duration_ms: number;
  /**
   * Media produced or stored by the task, by reference.
   *
   * @maxItems 200
   */
  refs: ResourceRef[];
  /**
   * Which attempt this result is for (1 = first try).
   */
  attempt: number;
  /**
   * Approved rules the action agent applied to this result (e.g. a no_retry rule that made a failure not recoverable); the dispatch agent carries them into its report.
   *
   * @maxItems 100
   */
  rules_applied?: string[];
  error?: ActionError;
  /**
   * Host name, lowercase as URL.hostname gives it, e.g. example.org.
   */
  domain?: string;
}
/**
 * Free-form object: up to 200 keys, values are any JSON (strings up to 200000 characters, arrays up to 1000 items).
 */
export interface JsonObject {
  [k: string]: JsonValue;
}
/**
 * A reference to media (never the media), same shape as the envelope's resources entries.
 */
export interface ResourceRef {
  ref_id: string;
  uri: string;
  media_type?: string;
  description?: string;
  sha256?: string;
}
/**
 * Present only when the attempt failed.
 */
export interface ActionError {
  /**
   * e.g. HTTP_429, TIMEOUT, CAPABILITY_UNKNOWN.
   */
  code: string;
  message: string;
  /**
   * true when the same task may succeed if retried.
   */
  recoverable: boolean;
  /**
   * Suggested wait before a retry (e.g. from a Retry-After header).
   */
  retry_after_ms?: number;
}
