/** What an agent's worker.ts exports, and what the runtime hands it. */
import type { Logger } from "pino";
import type { Clock } from "../envelope/clock.ts";
import type { DraftError } from "../envelope/build.ts";
import type { AgentSpec, ContentTypeMap, ContentTypeName, Envelope, EnvelopeResources, EnvelopeStatus, JsonObject } from "../envelope/types.ts";
import type { LlmClient } from "../llm/types.ts";
import type { CapabilityCatalog } from "../capabilities/types.ts";
import type { SchemaRegistry } from "../schemas/registry.ts";
import type { TaskRetryPolicy } from "../bus/topology.ts";

export type { TaskRetryPolicy };

/** A governance file the runtime loaded for an agent; its path is repo-relative. */
export interface GovernanceDoc {
  path: string;
  content: string;
}

/** An approved memory rule that targets this agent (filled by the learning-loop issues). */
export interface ApprovedRule {
  rule_id: string;
  target_agent: string;
  trigger_condition: string;
  instruction: string;
  effect?: JsonObject;
  /** Repo-relative file the rule was read from; listed in governance_files_consulted. */
  path: string;
  /** The approved version in force (runtime/rules/loader.ts fills it). */
  version?: number;
  /** Share of sessions (1-100) the rule applies to; apply it only when runtime/rules/rollout.ts `inRollout` says so. */
  rollout_percent?: number;
  /** sha256 of the approved text and effect. */
  content_hash?: string;
}

export interface AgentContext {
  spec: AgentSpec;
  /** The spec's markdown body: the agent's instructions (its system prompt when an LLM is used). */
  instructions: string;
  governance: readonly GovernanceDoc[];
  rules: readonly ApprovedRule[];
  logger: Logger;
  clock: Clock;
  /** The runtime's schema registry (content schemas by type); use it instead of a global one. */
  registry: SchemaRegistry;
  /** How a plan's failed task is retried (queues/topology.json `task`): attempts and backoff. */
  retryPolicy: TaskRetryPolicy;
  /** The envelope being handled. */
  message: Envelope;
  /** 1 on first delivery; higher on retries, redeliveries and after a DeferredError. */
  attempt: number;
  /** Key side effects by this (the incoming message id) so a redelivery does not repeat them. */
  idempotencyKey: string;
  /** The configured LLM, bound to this message (usage, budget); null without one: be deterministic. */
  llm: LlmClient | null;
  /** Durable state of this agent for this session (requires the store). */
  state: SessionState;
  /** The system of record, as far as agents may see it (requires the store). */
  records: AgentRecords;
  /** The learning loop's records: memory batches and the proposal queue (requires the store). */
  learning: LearningRecords;
  /** The capabilities this deployment offers (what the planner chains and the action agent runs). */
  capabilities: CapabilityCatalog;
  /** Deployment settings agents act on (from the runtime configuration). */
  settings: AgentSettings;
}

/**
 * The few configuration values agents read: a plain, read-only record, so a new one is one field
 * here and one line in the runtime, not a new context member.
 */
export interface AgentSettings {
  /** Unbatched workflow records that make the memory agent ask for a batch; 0: never (schedule only). */
  readonly memoryBatchRecords: number;
}

/** What a context gets when the runtime was given no settings (the configuration's defaults). */
export const DEFAULT_AGENT_SETTINGS: AgentSettings = Object.freeze({ memoryBatchRecords: 1000 });

/** Per-session durable state; `update` is atomic, so concurrent deliveries apply one after another. */
export interface SessionState {
  get<T>(key: string): Promise<T | undefined>;
  update<T>(key: string, fn: (current: T | undefined) => T | Promise<T>): Promise<T>;
}

/** What the memory and learning agents may do with the learning loop's records. */
export interface LearningRecords {
  /** Opens (or resumes) a batch over every unclaimed workflow record finished before `cutoff`; null when none wait. */
  claimBatch(options: { trigger: "schedule" | "threshold" | "manual"; cutoff: Date; day: string }): Promise<MemoryBatch | null>;
  /** Batches claimed but never summarised (a build that stopped half-way). */
  unsummarisedBatches(): Promise<MemoryBatch[]>;
  /** The batch's records, one page at a time. */
  batchPages(batchId: string, pageSize?: number): AsyncIterable<Array<ContentTypeMap["workflow_record"]>>;
  saveBatchSummary(batchId: string, summary: ContentTypeMap["memory_summary"]): Promise<void>;
  /** Workflow records no batch has claimed yet. */
  unbatchedRecords(): Promise<number>;
  /** Pattern keys the proposal queue holds (except those `exceptBatch` itself proposed). */
  knownPatterns(keys: readonly string[], exceptBatch?: string): Promise<Set<string>>;
  /** Stores a report's rules as pending proposals; returns pattern key → the queue's rule id. */
  submitReport(report: ContentTypeMap["learning_report"]["learning_report"], options: { day: string; reportMessageId: string }): Promise<{ ids: Map<string, string>; proposed: string[]; reobserved: string[] }>;
}

export interface MemoryBatch {
  batch_id: string;
  trigger: "schedule" | "threshold" | "manual";
  records: number;
  period_from: Date | null;
  period_to: Date | null;
}

export interface AgentRecords {
  /** Idempotent per session: a redelivered message does not write a second record. */
  saveWorkflowRecord(record: ContentTypeMap["workflow_record"]): Promise<{ inserted: boolean }>;
  /** When the session began and what it asked, as the store knows it. */
  session(): Promise<{ session_id: string; request_id: string | null; started_at: string } | null>;
}

export interface HandlerInput<C extends JsonObject = JsonObject> {
  content_type: string;
  content: C;
  source: string;
}

/**
 * What a reply may carry: free JSON, or a content type as its schema defines it (those are
 * interfaces, which TypeScript does not treat as a JsonObject, so they are named here).
 */
export type ReplyContent = JsonObject | ContentTypeMap[ContentTypeName];

/** What a handler returns for each message it wants sent; the runtime builds the envelope. */
export interface AgentReply<C extends ReplyContent = ReplyContent> {
  content_type: string;
  content: C;
  /** A loaded agent's name, or COMPLETE. */
  next_agent: string;
  reason?: string;
  status?: EnvelopeStatus;
  error?: DraftError;
  resources?: Partial<EnvelopeResources>;
  reasoning?: string;
  compliance_notes?: string[];
  /** Deliver after this many ms (e.g. a retry's backoff). */
  delay_ms?: number;
  /**
   * What the reply says it acted on (`input.content`), when not the whole incoming content: the
   * learning agent names its batch ({batch_size, audit_file}) as the learning agent spec has it.
   */
  input_content?: JsonObject;
}

/** null or [] means "nothing to send now" (e.g. waiting for more results). */
export type HandlerResult = AgentReply | AgentReply[] | null;

export type AgentHandler<C extends JsonObject = JsonObject> = (input: HandlerInput<C>, ctx: AgentContext) => Promise<HandlerResult>;

/** The input of a handler typed by content type; for several, a union that `input.content_type` narrows. */
export type TypedInput<K extends ContentTypeName> = K extends ContentTypeName
  ? { content_type: K; content: ContentTypeMap[K] & JsonObject; source: string }
  : never;

/**
 * Types a handler by the content type(s) it accepts: `defineHandler<"user_request">(async (input) => …)`,
 * or `defineHandler<"plan" | "action_result">` and switch on `input.content_type`. The runtime only
 * delivers what the agent's spec accepts, and content that passed that type's schema.
 */
export function defineHandler<K extends ContentTypeName>(fn: (input: TypedInput<K>, ctx: AgentContext) => Promise<HandlerResult>): AgentHandler {
  return fn as AgentHandler;
}
