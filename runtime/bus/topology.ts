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

export function loadTopology(registry: SchemaRegistry, file = process.env.AGENTBUS_TOPOLOGY ?? join(QUEUES_DIR, "topology.json")): QueueTopology {
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
