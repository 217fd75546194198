/** Loads queues/topology.json and turns it into BullMQ job and worker options. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { JobsOptions, WorkerOptions } from "bullmq";
import { ConfigError, summarize } from "../errors/index.ts";
import { SCHEMA_BASE, type SchemaRegistry } from "../schemas/registry.ts";
import type { QueueTopology } from "../schemas/generated/index.ts";
import type { AgentSpec } from "../envelope/types.ts";
import { QUEUES_DIR } from "../paths.ts";

export type { QueueTopology };

export const TOPOLOGY_SCHEMA_ID = `${SCHEMA_BASE}queue-topology.schema.json`;

/** The file comes from the configuration (AGENTBUS_TOPOLOGY); the default is the shipped one. */
export function loadTopology(registry: SchemaRegistry, file = join(QUEUES_DIR, "topology.json")): QueueTopology {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(`cannot read queue topology ${file}: ${(err as Error).message}`, { cause: err });
  }
  const issues = registry.check(TOPOLOGY_SCHEMA_ID, data);
  if (issues.length > 0) throw new ConfigError(`queue topology ${file} is invalid: ${summarize(issues, 5)}`, { issues });
  return data as QueueTopology;
}

/** How a plan's failed task is retried (topology `task`); handed to agents as ctx.retryPolicy. */
export interface TaskRetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_TASK_RETRY: Readonly<TaskRetryPolicy> = { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 30_000 };

export function taskRetryPolicy(topology: QueueTopology): TaskRetryPolicy {
  const t = topology.task;
  return t ? { maxAttempts: t.max_attempts, baseDelayMs: t.base_delay_ms, maxDelayMs: t.max_delay_ms } : { ...DEFAULT_TASK_RETRY };
}

/** Job options for messages to one agent: topology defaults ← topology override ← agent spec. */
export function jobOptionsFor(topology: QueueTopology, spec: AgentSpec | undefined): JobsOptions {
  const override = spec ? topology.agents?.[spec.name] : undefined;
  const attempts = spec?.job?.attempts ?? override?.attempts ?? topology.job.attempts;
  const delay = spec?.job?.backoff_ms ?? override?.backoff_delay_ms ?? topology.job.backoff.delay_ms;
  return {
    attempts,
    backoff: { type: topology.job.backoff.type, delay },
    removeOnComplete: { age: topology.retention.completed_age_s, count: topology.retention.completed_count },
    removeOnFail: { age: topology.retention.failed_age_s },
  };
}

export function workerOptionsFor(topology: QueueTopology, spec: AgentSpec): Pick<WorkerOptions, "concurrency" | "lockDuration" | "stalledInterval" | "maxStalledCount"> {
  return {
    concurrency: spec.concurrency ?? 1,
    lockDuration: topology.worker.lock_duration_ms,
    stalledInterval: topology.worker.stalled_interval_ms,
    maxStalledCount: topology.worker.max_stalled_count,
  };
}
