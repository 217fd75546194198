/**
 * One delivery, as it runs through the host's chain of interceptors (Temporal's interceptors are
 * the model): receive-validation → rules → handler → reply building → reply validation → publish.
 * A component adds interceptors around the chain (metrics, tracing, budgets) and hooks around the
 * LLM and capability calls a handler makes, without touching the host.
 */
import type { Job } from "bullmq";
import type { Logger } from "pino";
import type { Envelope } from "../../envelope/types.ts";
import type { Resource } from "../../bus/outage.ts";
import type { AgentContext, AgentReply, ApprovedRule } from "../handler.ts";
import type { LoadedAgent } from "../loader.ts";

/** What a processed job returns (kept by BullMQ as the job's return value). */
export interface DeliveryOutcome {
  outcome: "handled" | "dead_lettered";
  replies: Array<{ message_id: string; to: string }>;
  /** Replies addressed to COMPLETE: the session's final messages. */
  completed: Envelope[];
  dead_letter_ids: string[];
}

/**
 * How a delivery ended, as interceptors see it. The host turns it into what BullMQ needs: a return
 * value (handled, dead_lettered), a delay without an attempt (deferred, waiting), a retry, or a
 * final failure (failed: dead-lettered after the handler failed).
 */
export type DeliveryResult =
  | DeliveryOutcome
  /** The handler threw a DeferredError: back on the queue after delay_ms, no attempt used. */
  | { outcome: "deferred"; delay_ms: number; reason: string }
  /** Postgres or Redis is away: the message waits for it without using an attempt. */
  | { outcome: "waiting"; resource: Resource; error: unknown }
  /** A recoverable handler failure with attempts left: BullMQ retries with backoff. */
  | { outcome: "retry"; code: string; error: Error }
  /** A handler failure that ends here: dead-lettered with its code. */
  | { outcome: "failed"; code: string; message: string; dead_letter_id: string };

export type DeliveryOutcomeKind = DeliveryResult["outcome"];

export interface DeliveryContext {
  readonly agent: LoadedAgent;
  readonly job: Job;
  /** The job's data as it arrived (possibly invalid). */
  readonly raw: unknown;
  /** performance.now() when the delivery started. */
  readonly startedAt: number;
  readonly logger: Logger;
  /** Set by receive-validation once the message passed. */
  envelope?: Envelope;
  /** Approved rules for this agent, read for this delivery (the rules step). */
  rules: readonly ApprovedRule[];
  /** The handler's context (the handler step). */
  context?: AgentContext;
  /** What the handler returned, normalised. */
  replies: AgentReply[];
  /** Replies built into envelopes, before validation. */
  built: Array<{ envelope: Envelope; delay_ms: number }>;
  /** Built replies that passed validation, and their delays; what the publish step sends. */
  valid: Envelope[];
  delays: Map<string, number>;
  /** What the job returns when the delivery was handled. */
  outcome: DeliveryOutcome;
}

export type Next = () => Promise<DeliveryResult>;

/** A call a handler makes to ctx.llm. */
export interface LlmCall {
  agent: string;
  message_id: string;
  session_id: string;
  method: "text" | "json";
  /** The content type asked for (json) or null (text). */
  content_type: string | null;
}

/** A call a handler makes to a capability's execute(). */
export interface CapabilityCall {
  agent: string;
  message_id: string;
  session_id: string;
  capability: string;
  input: Record<string, unknown>;
}

/**
 * Each hook is optional. `intercept` wraps a whole delivery (call `next()` to go on; return or
 * throw what it gives, or answer without calling it); `llm` and `capability` wrap one call each.
 */
export interface DeliveryInterceptor {
  readonly name: string;
  intercept?(ctx: DeliveryContext, next: Next): Promise<DeliveryResult>;
  llm?(call: LlmCall, next: () => Promise<unknown>): Promise<unknown>;
  capability?(call: CapabilityCall, next: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>>;
}
