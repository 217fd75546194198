/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
/**
 * Front matter of agents/<name>/<name>.md: what the runtime needs to host the agent.
 */
export interface AgentSpec {
  /**
   * Must equal the folder name.
   */
  name: string;
  /**
   * e.g. operational, orchestration.
   */
  type: string;
  /**
   * Short form used in message ids; derived from the name when absent.
   */
  abbr?: string;
  description?: string;
  concurrency?: number;
  accepts: AgentAccepts;
  emits: AgentEmits;
  /**
   * Repo-relative files loaded into the agent's context and listed in audit.governance_files_consulted.
   *
   * @maxItems 50
   */
  governance?: string[];
  schedule?: AgentSchedule;
  job?: AgentJobOptions;
}
export interface AgentAccepts {
  /**
   * @minItems 1
   */
  sources: [string, ...string[]];
  /**
   * @minItems 1
   */
  content_types: [string, ...string[]];
}
export interface AgentEmits {
  /**
   * @minItems 1
   */
  content_types: [string, ...string[]];
  /**
   * @minItems 1
   */
  next_agents: [string | "COMPLETE", ...(string | "COMPLETE")[]];
}
export interface AgentSchedule {
  /**
   * Five fields (minute hour day month weekday), in `timezone`.
   */
  cron: string;
  /**
   * Default: the configured zone (AGENTBUS_TIMEZONE).
   */
  timezone?: string;
  /**
   * What each run sends the agent (default batch_request).
   */
  content_type?: string;
  /**
   * Its content (default {"trigger": "schedule"}); checked against the content type's schema when sent.
   */
  content?: {};
}
/**
 * Overrides of the queue topology defaults for this agent's queue.
 */
export interface AgentJobOptions {
  attempts?: number;
  backoff_ms?: number;
  timeout_ms?: number;
}
