/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
/**
 * queues/topology.json: queue names, job options, retry/backoff, retention, worker locks, dead letter.
 */
export interface QueueTopology {
  $schema?: string;
  dead_letter_queue: string;
  job: TopologyJobDefaults;
  retention: TopologyRetention;
  worker: TopologyWorker;
  /**
   * Per-agent overrides of the job defaults.
   */
  agents?: {
    [k: string]: TopologyAgentOverride;
  };
  /**
   * Repeatable jobs: agent name → cron; filled by later issues.
   */
  schedules?: {
    [k: string]: TopologySchedule;
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
export interface TopologySchedule {
  cron: string;
  timezone?: string;
}
