/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/**
 * The planning agent's output: a DAG of capability tasks for the dispatch agent.
 */
export interface Plan {
  plan_id: string;
  /**
   * @minItems 1
   * @maxItems 1000
   */
  tasks: [PlanTask, ...PlanTask[]];
  /**
   * Why the plan looks the way it does.
   */
  rationale: string;
  /**
   * Approved memory rules that changed this plan.
   *
   * @maxItems 1000
   *
   * Items: rule_<YYYYMMDD>_<NN>
   */
  rules_applied: string[];
  /**
   * Copy of the user_request text the plan answers.
   */
  request?: string;
  /**
   * Copy of the user_request's category, when it had one.
   */
  category?: string;
}
export interface PlanTask {
  /**
   * Unique within the plan, e.g. t1.
   */
  task_id: string;
  /**
   * Name of a registered capability, e.g. fetch.
   */
  capability: string;
  inputs: JsonObject;
  /**
   * task_ids that must succeed before this task runs.
   *
   * @maxItems 1000
   */
  depends_on: string[];
}
/**
 * Free-form object: up to 200 keys, values are any JSON (strings up to 200000 characters, arrays up to 1000 items).
 */
export interface JsonObject {
  [k: string]: JsonValue;
}
