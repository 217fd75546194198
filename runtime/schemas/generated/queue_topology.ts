/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
/**
 * queues/topology.json: queue names, job options, retry/backoff, task retries, retention, worker locks, dead letter.
 */
export interface QueueTopology {
  $schema?: string;
  dead_letter_queue: string;
  job: TopologyJobDefaults;
  task?: TopologyTaskRetry;
  retention: TopologyRetention;
  worker: TopologyWorker;
  /**
   * Per-agent overrides of the job defaults.
   */
  agents?: {
    [k: string]: TopologyAgentOverride;
  };
}
export interface TopologyJobDefaults {
  attempts: number;
  backoff: TopologyBackoff;
}
export interface TopologyBackoff {
  type: "fixed" | "exponential";
  delay_ms: number;
}
/**
 * How a plan's failed task is retried (the dispatch agent, recoverable failures only): attempts per task, and an exponential backoff from base_delay_ms doubling per attempt, at least what the remote side asked for (Retry-After), at most max_delay_ms. Absent: 3 attempts, 500 ms, 30 s.
 */
export interface TopologyTaskRetry {
  max_attempts: number;
  base_delay_ms: number;
  max_delay_ms: number;
}
/**
 * How long finished jobs are kept. A message id is de-duplicated for as long as its job is kept.
 */
export interface TopologyRetention {
  completed_age_s: number;
  completed_count: number;
  failed_age_s: number;
  /**
   * How long reply ids and session sequence counters are kept in Redis.
   */
  claim_ttl_s: number;
}
export interface TopologyWorker {
  lock_duration_ms: number;
  stalled_interval_ms: number;
  max_stalled_count: number;
}
export interface TopologyAgentOverride {
  attempts?: number;
  backoff_delay_ms?: number;
}
