/**
 * What the memory and learning agents see in a dry run over a records file: a read-only
 * LearningRecords and an in-memory SessionState. Nothing here writes anywhere.
 *
 * - claimBatch gives one batch over the file's valid records, with their period (every valid record
 *   is in it, whatever the request's cutoff: the file is the window); a second claim finds nothing.
 * - batchPages streams the records from the file again, page by page.
 * - saveBatchSummary keeps the summary in memory.
 * - knownPatterns is empty: the dry run does not consult the proposal queue, so every pattern it
 *   finds is proposed as new.
 * - submitReport numbers the new rules rule_<YYYYMMDD>_<NN> from 01 and stores nothing.
 */
import { AgentbusError } from "../errors/index.ts";
import type { CapabilityCatalog } from "../capabilities/types.ts";
import type { Envelope } from "../envelope/types.ts";
import type { ContentTypeMap } from "../schemas/generated/index.ts";
import type { AgentRecords, AgentSettings, LearningRecords, MemoryBatch, SessionState } from "../agents/handler.ts";
import type { LoadedAgent } from "../agents/loader.ts";
import type { ServicesFactory } from "../agents/services.ts";
import { recordPages, type RecordsFileOptions, type RecordsScan } from "./jsonl.ts";

type MemorySummary = ContentTypeMap["memory_summary"];

/** At most this many rule ids a day (rule_<YYYYMMDD>_<NN>), as in the proposal queue. */
const MAX_RULE_IDS = 99;

export interface FileLearning {
  learning: LearningRecords;
  /** The batch claimed, once claimBatch has been called. */
  batch(): MemoryBatch | null;
  /** The summary the memory agent saved, if it did. */
  summary(): MemorySummary | null;
}

export function fileLearningRecords(scan: RecordsScan, options: RecordsFileOptions): FileLearning {
  let batch: MemoryBatch | null = null;
  let summary: MemorySummary | null = null;
  const learning: LearningRecords = {
    async claimBatch({ trigger, day }) {
      if (batch !== null || scan.valid === 0) return null;
      if (!/^[0-9]{8}$/.test(day)) throw new AgentbusError("ID_DAY_INVALID", `the day for batch ids must be YYYYMMDD, got ${JSON.stringify(day)}`);
      batch = { batch_id: `batch_${day}_001`, trigger, records: scan.valid, period_from: scan.period_from, period_to: scan.period_to };
      return batch;
    },
    unsummarisedBatches: async () => [],
    batchPages(batchId, pageSize) {
      if (batch === null || batchId !== batch.batch_id) throw new AgentbusError("BATCH_NOT_CLAIMED", `batch ${batchId} is not the dry run's batch${batch ? ` (${batch.batch_id})` : ""}`);
      return recordPages(scan.path, options, pageSize);
    },
    async saveBatchSummary(batchId, s) {
      if (batch === null || batchId !== batch.batch_id) throw new AgentbusError("BATCH_NOT_CLAIMED", `batch ${batchId} is not the dry run's batch`);
      // A second save keeps the first, as the store does.
      summary ??= s;
    },
    unbatchedRecords: async () => (batch === null ? scan.valid : 0),
    knownPatterns: async () => new Set<string>(),
    async submitReport(report, { day }) {
      const rules = report.new_rules_proposed;
      if (rules.length > MAX_RULE_IDS) throw new AgentbusError("IDS_EXHAUSTED", `${rules.length} rules in one report; rule ids rule_${day}_<NN> have room for ${MAX_RULE_IDS}`);
      const ids = new Map<string, string>();
      const proposed: string[] = [];
      for (const [i, rule] of rules.entries()) {
        if (!rule.pattern_key) throw new AgentbusError("PROPOSAL_INVALID", `rule ${rule.rule_id} has no pattern_key`);
        const id = `rule_${day}_${String(i + 1).padStart(2, "0")}`;
        ids.set(rule.pattern_key, id);
        proposed.push(id);
      }
      return { ids, proposed, reobserved: [] };
    },
  };
  return { learning, batch: () => batch, summary: () => summary };
}

/** Per agent and session, in memory; `update` runs one at a time per key, as the store's does. */
export function memorySessionState(): (agent: string, session: string) => SessionState {
  const values = new Map<string, unknown>();
  const tails = new Map<string, Promise<unknown>>();
  return (agent, session) => {
    const at = (key: string): string => JSON.stringify([agent, session, key]);
    return {
      get: async <T,>(key: string) => values.get(at(key)) as T | undefined,
      update: <T,>(key: string, fn: (current: T | undefined) => T | Promise<T>): Promise<T> => {
        const k = at(key);
        const run = (tails.get(k) ?? Promise.resolve()).then(async () => {
          const next = await fn(values.get(k) as T | undefined);
          values.set(k, next);
          return next;
        });
        tails.set(k, run.catch(() => undefined));
        return run;
      },
    };
  };
}

const NO_CAPABILITIES: CapabilityCatalog = { get: () => undefined, list: () => [] };

/** A dry run keeps no workflow record and knows no session row. */
const NO_RECORDS: AgentRecords = {
  saveWorkflowRecord: () => Promise.reject(new AgentbusError("STORE_REQUIRED", "a dry run writes no workflow record")),
  session: async () => null,
};

/** The services of a dry run: the file's learning records, state in memory, no LLM, no store. */
export function dryRunServices(learning: LearningRecords, settings: AgentSettings): ServicesFactory {
  const state = memorySessionState();
  const frozen = Object.freeze({ ...settings });
  return {
    forMessage(agent: LoadedAgent, message: Envelope) {
      return { llm: null, capabilities: NO_CAPABILITIES, state: state(agent.name, message.metadata.session_id), records: NO_RECORDS, learning, settings: frozen };
    },
  };
}
