/**
 * An AgentContext without Redis or Postgres, for calling a handler directly: state and records in
 * memory, a manual clock, and whatever LLM the test hands in. The bus tests use the real thing.
 */
import { DEFAULT_AGENT_SETTINGS, type AgentContext, type AgentRecords, type AgentSettings, type HandlerResult, type AgentReply, type LearningRecords } from "../../../runtime/agents/handler.ts";
import { ManualClock } from "../../../runtime/envelope/clock.ts";
import { buildEnvelope, type DraftError } from "../../../runtime/envelope/build.ts";
import type { Envelope, EnvelopeStatus } from "../../../runtime/envelope/types.ts";
import type { LlmClient } from "../../../runtime/llm/types.ts";
import { silentLogger } from "../../../runtime/log/logger.ts";
import { schemaRegistry } from "../../../runtime/schemas/registry.ts";
import { DEFAULT_TASK_RETRY } from "../../../runtime/bus/topology.ts";
import type { ContentTypeMap } from "../../../runtime/envelope/types.ts";

export interface FakeContext extends AgentContext {
  saved: Array<ContentTypeMap["workflow_record"]>;
  stateStore: Map<string, unknown>;
}

export interface FakeOptions {
  /** The envelope being handled. */
  message: Envelope;
  llm?: LlmClient | null;
  clock?: ManualClock;
  /** What ctx.records.session() answers; null: the store has no session row. */
  session?: { session_id: string; request_id: string | null; started_at: string } | null;
  /** Shared between deliveries to model a redelivery. */
  stateStore?: Map<string, unknown>;
  saved?: Array<ContentTypeMap["workflow_record"]>;
  settings?: AgentSettings;
}

export function fakeContext(options: FakeOptions): FakeContext {
  const stateStore = options.stateStore ?? new Map<string, unknown>();
  const saved = options.saved ?? [];
  const records: AgentRecords = {
    saveWorkflowRecord: async (record) => {
      if (saved.some((r) => r.session_id === record.session_id)) return { inserted: false };
      saved.push(structuredClone(record));
      return { inserted: true };
    },
    session: async () => options.session ?? null,
  };
  return {
    spec: { name: "test_agent", type: "operational", accepts: { sources: ["user"], content_types: ["user_request"] }, emits: { content_types: ["synthesis"], next_agents: ["COMPLETE"] } },
    instructions: "",
    governance: [],
    rules: [],
    logger: silentLogger(),
    clock: options.clock ?? ManualClock.at("2026-11-21T10:00:00.000Z"),
    message: options.message,
    attempt: 1,
    idempotencyKey: options.message.message_id,
    registry: schemaRegistry(),
    retryPolicy: { ...DEFAULT_TASK_RETRY },
    // Unit tests of the request agents reach the learning records only to count the records no
    // batch holds (the memory agent's threshold): every saved one. The learning tests use the store.
    learning: new Proxy({} as LearningRecords, {
      get: (_t, prop) => (prop === "unbatchedRecords" ? () => Promise.resolve(saved.length) : () => Promise.reject(new Error(`fake context has no learning records (${String(prop)})`))),
    }),
    llm: options.llm ?? null,
    state: {
      get: async <T>(key: string) => structuredClone(stateStore.get(key)) as T | undefined,
      update: async <T>(key: string, fn: (current: T | undefined) => T | Promise<T>) => {
        const next = await fn(structuredClone(stateStore.get(key)) as T | undefined);
        stateStore.set(key, structuredClone(next));
        return next;
      },
    },
    records,
    capabilities: { get: () => undefined, list: () => [] },
    settings: options.settings ?? DEFAULT_AGENT_SETTINGS,
    saved,
    stateStore,
  };
}

/** An envelope from `from` to `to`, as the bus would deliver it (by default answering dispatch_agent). */
export function delivered(
  from: string,
  to: string,
  content_type: string,
  content: object,
  input: object | null = null,
  extra: { source?: string; status?: EnvelopeStatus; error?: DraftError } = {},
): Envelope {
  return buildEnvelope(
    {
      sender: { name: from, type: "operational", abbr: from.replace(/_agent$/, "").replace(/[^a-z0-9]/g, "") },
      input: { source: extra.source ?? "dispatch_agent", content: input },
      output: { content_type, content },
      next_agent: { name: to, reason: "test" },
      metadata: { session_id: "s-test0001", request_id: "r-test0001", sequence_number: 7, parent_message_id: "msg-dispatch-20261121-095959-aa" },
      ...(extra.status ? { status: extra.status } : {}),
      ...(extra.error ? { error: extra.error } : {}),
    },
    { clock: ManualClock.at("2026-11-21T09:59:59.000Z"), timezone: "UTC" },
  );
}

export function asReplies(result: HandlerResult): AgentReply[] {
  if (result === null) return [];
  return Array.isArray(result) ? result : [result];
}
