/**
 * `agentbus learn --records <file> --dry-run`: the learning chain over a file of workflow records,
 * run in this process by the loaded agents themselves (the local chain runner), with no Redis, no
 * store and no LLM: batch_request{trigger: manual} → the agent that takes it (the memory agent) →
 * whoever its replies name (the learning agent) → COMPLETE. Nothing is written anywhere.
 */
import { DateTime } from "luxon";
import type { Logger } from "pino";
import { AgentbusError } from "../errors/index.ts";
import type { RuntimeConfig } from "../config/config.ts";
import { buildRequest } from "../envelope/build.ts";
import { systemClock, type Clock } from "../envelope/clock.ts";
import { randomSuffix } from "../envelope/ids.ts";
import { COMPLETE, type Envelope } from "../envelope/types.ts";
import { schemaRegistry } from "../schemas/registry.ts";
import { loadTopology, taskRetryPolicy } from "../bus/topology.ts";
import { loadAgents } from "../agents/loader.ts";
import type { MemoryBatch } from "../agents/handler.ts";
import { runLocally } from "../agents/local-run.ts";
import { SCHEDULER_SOURCE } from "../schedules/slots.ts";
import { BATCH_REQUEST, batchRequestAgent } from "./chain.ts";
import { dryRunServices, fileLearningRecords } from "./file-records.ts";
import { scanRecordsFile, type InvalidLine, type RecordsScan } from "./jsonl.ts";

export interface DryRunOptions {
  config: RuntimeConfig;
  /** The JSONL file of workflow records. */
  file: string;
  logger: Logger;
  clock?: Clock;
  /** Each invalid line, as the first pass finds it. */
  onInvalidLine?: (invalid: InvalidLine) => void;
  /** A line for people per step (reading, batch, each hop). */
  onProgress?: (line: string) => void;
}

export interface DryRunResult {
  scan: RecordsScan;
  batch: MemoryBatch;
  /** The learning_report envelope, validated as the bus would. */
  report: Envelope;
  /** Every envelope of the run, the batch_request first. */
  envelopes: Envelope[];
}

export async function learnDryRun(options: DryRunOptions): Promise<DryRunResult> {
  const { config, file, logger } = options;
  const clock = options.clock ?? systemClock;
  const progress = options.onProgress ?? (() => undefined);
  const registry = schemaRegistry();
  // Agents first: a deployment without the chain is told so before the file is read.
  const agents = await loadAgents({ agentsDir: config.agentsDir, root: config.root, registry, externalSources: config.externalSources });
  for (const b of agents.broken) logger.warn({ folder: b.folder, file: b.file }, `agent not loaded: ${b.file}: ${b.error}`);
  const entry = batchRequestAgent(agents);

  const fileOptions = { registry, maxLineBytes: config.maxEnvelopeBytes };
  progress(`reading ${file} (line limit ${config.maxEnvelopeBytes} bytes)`);
  const scan = await scanRecordsFile(file, { ...fileOptions, ...(options.onInvalidLine ? { onInvalid: options.onInvalidLine } : {}) });
  progress(`${scan.valid} valid workflow record(s) of ${scan.lines} line(s); ${scan.invalid} invalid line(s) skipped${scan.blank > 0 ? `, ${scan.blank} blank` : ""}`);
  if (scan.valid === 0) {
    throw new AgentbusError("NO_VALID_RECORDS", `${file} holds no valid workflow record (${scan.lines} line(s): ${scan.invalid} invalid, ${scan.blank} blank): nothing to learn from`);
  }

  const records = fileLearningRecords(scan, fileOptions);
  const now = clock.now();
  const stamp = DateTime.fromMillis(now, { zone: config.timezone }).toFormat("yyyyLLdd-HHmmss");
  const first = buildRequest(
    {
      source: SCHEDULER_SOURCE,
      content_type: BATCH_REQUEST,
      content: { trigger: "manual" },
      to: entry.name,
      reason: `manual run: agentbus learn --records ${file} --dry-run`.slice(0, 1000),
      session_id: `learn-dry-${stamp}-${randomSuffix(6)}`,
      request_id: "learn_dry_run",
    },
    { clock, timezone: config.timezone },
  );
  const envelopes = await runLocally(first, {
    agents,
    registry,
    services: dryRunServices(records.learning, { memoryBatchRecords: config.memoryBatchRecords }),
    clock,
    timezone: config.timezone,
    maxEnvelopeBytes: config.maxEnvelopeBytes,
    retryPolicy: taskRetryPolicy(loadTopology(registry, config.topologyFile)),
    logger,
    onEnvelope: (env) => {
      if (env === first) return;
      progress(`${env.agent.name} → ${env.next_agent.name}: ${env.output.content_type} (${env.status.code}: ${env.status.message})`.slice(0, 400));
    },
  });
  const batch = records.batch();
  const report = envelopes.find((e) => e.output.content_type === "learning_report" && e.next_agent.name === COMPLETE);
  if (!batch || !report) {
    const last = envelopes[envelopes.length - 1];
    throw new AgentbusError("LOCAL_RUN_FAILED", `the chain ended without a learning_report${last ? ` (last: ${last.agent.name} → ${last.next_agent.name}, ${last.output.content_type}: ${last.status.message})` : ""}`);
  }
  return { scan, batch, report, envelopes };
}
