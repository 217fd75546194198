/**
 * The services a handler reaches through its context: durable session state, the records it may
 * write, and the LLM bound to its message. Handlers never hold a database or Redis connection.
 */
import { AgentbusError } from "../errors/index.ts";
import type { Envelope } from "../envelope/types.ts";
import type { LlmClient } from "../llm/types.ts";
import type { CapabilityCatalog } from "../capabilities/types.ts";
import type { AgentStateStore } from "../store/agent-state.ts";
import type { Db } from "../store/db.ts";
import { getSession } from "../store/sessions.ts";
import { insertWorkflowRecord, type WorkflowRecordInput } from "../store/workflow-records.ts";
import { batchPages, claimBatch, saveBatchSummary, unbatchedRecords, unsummarisedBatches } from "../store/memory-batches.ts";
import { knownPatterns, submitReport } from "../store/proposals.ts";
import type { ContentTypeMap } from "../schemas/generated/index.ts";
import { DEFAULT_AGENT_SETTINGS, type AgentContext, type AgentRecords, type AgentSettings, type ApprovedRule, type LearningRecords, type SessionState } from "./handler.ts";
import type { LoadedAgent } from "./loader.ts";

export type AgentServices = Pick<AgentContext, "llm" | "state" | "records" | "learning" | "capabilities" | "settings">;

export interface ServicesFactory {
  forMessage(agent: LoadedAgent, message: Envelope, rules: readonly ApprovedRule[]): AgentServices;
}

export interface ServicesOptions {
  store?: { db: Db; state: AgentStateStore };
  capabilities?: CapabilityCatalog;
  /** Builds the LLM client for one message; absent or returning null: no LLM configured. */
  llm?: (agent: LoadedAgent, message: Envelope, rules: readonly ApprovedRule[]) => LlmClient | null;
  /** What agents see as ctx.settings (default: the configuration's defaults). */
  settings?: AgentSettings;
}

export function createServices(options: ServicesOptions): ServicesFactory {
  const settings = Object.freeze({ ...(options.settings ?? DEFAULT_AGENT_SETTINGS) });
  return {
    forMessage(agent, message, rules) {
      const session = message.metadata.session_id;
      return {
        llm: options.llm?.(agent, message, rules) ?? null,
        capabilities: options.capabilities ?? NO_CAPABILITIES,
        state: options.store ? sessionState(options.store.state, agent.name, session) : missingStore<SessionState>("state"),
        records: options.store ? records(options.store.db, session) : missingStore<AgentRecords>("records"),
        learning: options.store ? learningRecords(options.store.db) : missingStore<LearningRecords>("learning"),
        settings,
      };
    },
  };
}

const NO_CAPABILITIES: CapabilityCatalog = { get: () => undefined, list: () => [] };

function sessionState(store: AgentStateStore, agent: string, session: string): SessionState {
  return {
    get: (key) => store.get(agent, session, key),
    update: async (key, fn) => (await store.update(agent, session, key, fn)).value,
  };
}

function records(db: Db, sessionId: string): AgentRecords {
  return {
    // The record is typed by its schema; the store re-validates it against the same schema.
    saveWorkflowRecord: (record) => insertWorkflowRecord(db, record as unknown as WorkflowRecordInput),
    session: async () => {
      const s = await getSession(db, sessionId);
      return s ? { session_id: s.sessionId, request_id: s.requestId, started_at: s.startedAt.toISOString() } : null;
    },
  };
}

function learningRecords(db: Db): LearningRecords {
  return {
    claimBatch: (o) => claimBatch(db, o),
    unsummarisedBatches: () => unsummarisedBatches(db),
    batchPages: async function* (batchId, pageSize) {
      // Stored records passed the workflow_record schema on the way in.
      for await (const page of batchPages(db, batchId, pageSize)) yield page.map((r) => r.record as unknown as ContentTypeMap["workflow_record"]);
    },
    saveBatchSummary: (batchId, summary) => saveBatchSummary(db, batchId, summary),
    unbatchedRecords: () => unbatchedRecords(db),
    knownPatterns: async (keys, exceptBatch) => new Set((await knownPatterns(db, keys, exceptBatch === undefined ? {} : { exceptBatch })).keys()),
    submitReport: (report, o) => submitReport(db, { report, day: o.day, report_message_id: o.reportMessageId }),
  };
}

/** A stand-in whose every method fails clearly: this runtime was opened without a store. */
function missingStore<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: (_target, prop) => () =>
      Promise.reject(new AgentbusError("STORE_REQUIRED", `ctx.${what}.${String(prop)} needs the system of record, but this runtime runs without a store`)),
  });
}
