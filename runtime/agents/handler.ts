/** What an agent's worker.ts exports, and what the runtime hands it. */
import type { Logger } from "pino";
import type { Clock } from "../envelope/clock.ts";
import type { DraftError } from "../envelope/build.ts";
import type { AgentSpec, ContentTypeMap, Envelope, EnvelopeResources, EnvelopeStatus, JsonObject } from "../envelope/types.ts";

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
}

export interface AgentContext {
  spec: AgentSpec;
  /** The spec's markdown body: the agent's instructions (its system prompt when an LLM is used). */
  instructions: string;
  governance: readonly GovernanceDoc[];
  rules: readonly ApprovedRule[];
  logger: Logger;
  clock: Clock;
  /** The envelope being handled. */
  message: Envelope;
  /** 1 on first delivery; higher on retries and redeliveries. */
  attempt: number;
  /** Key side effects by this (the incoming message id) so a redelivery does not repeat them. */
  idempotencyKey: string;
}

export interface HandlerInput<C extends JsonObject = JsonObject> {
  content_type: string;
  content: C;
  source: string;
}

/** What a handler returns for each message it wants sent; the runtime builds the envelope. */
export interface AgentReply<C extends JsonObject = JsonObject> {
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
}

/** null or [] means "nothing to send now" (e.g. waiting for more results). */
export type HandlerResult = AgentReply | AgentReply[] | null;

export type AgentHandler<C extends JsonObject = JsonObject> = (input: HandlerInput<C>, ctx: AgentContext) => Promise<HandlerResult>;

/** Types a handler by the content type it accepts: `defineHandler<"user_request">(async (input) => …)`. */
export function defineHandler<K extends keyof ContentTypeMap>(
  fn: (input: HandlerInput<ContentTypeMap[K] & JsonObject>, ctx: AgentContext) => Promise<HandlerResult>,
): AgentHandler {
  return fn as AgentHandler;
}
