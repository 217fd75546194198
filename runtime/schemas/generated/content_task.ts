/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/**
 * One task of a plan, sent by the dispatch agent to the action agent.
 */
export interface Task {
  plan_id: string;
  task_id: string;
  capability: string;
  inputs: JsonObject;
  /**
   * 1 for the first try, 2 for the first retry, ...
   */
  attempt: number;
  /**
   * Time budget for this attempt in milliseconds, counted from when the action agent starts it (a timeout, not an epoch time).
   */
  deadline_ms?: number;
}
/**
 * Free-form object: up to 200 keys, values are any JSON (strings up to 200000 characters, arrays up to 1000 items).
 */
export interface JsonObject {
  [k: string]: JsonValue;
}
