/**
 * The one module an agent's code imports from the runtime: handler types and context, errors, the
 * envelope and content types (generated from schemas/), schema checks, capabilities, the clock and
 * text normalisation. Anything not exported here is the runtime's own business and may change; an
 * agent that needs more asks for it to be added here. Tests may still import deep paths.
 */

// Handlers and what the runtime hands them.
export {
  defineHandler,
  type AgentContext,
  type AgentHandler,
  type AgentRecords,
  type AgentSettings,
  type LearningRecords,
  type MemoryBatch,
  type AgentReply,
  type ApprovedRule,
  type GovernanceDoc,
  type HandlerInput,
  type HandlerResult,
  type SessionState,
} from "./agents/handler.ts";

// Rollout: an approved rule with rollout_percent applies to that share of sessions, decided by session id.
export { inRollout } from "./rules/rollout.ts";

// Errors: throw HandlerError for a failure with a stable code, DeferredError to put the message back
// after a delay without using an attempt.
export { AgentbusError, DeferredError, HandlerError, isAgentbusError, isDeferredError, summarize, type Issue } from "./errors/index.ts";

// The envelope, and the content types as the schemas define them.
export {
  COMPLETE,
  type AgentSpec,
  type ContentTypeMap,
  type ContentTypeName,
  type Envelope,
  type EnvelopeResources,
  type EnvelopeStatus,
  type JsonObject,
  type JsonValue,
  type ResourceRef,
} from "./envelope/types.ts";
export type { DraftError } from "./envelope/build.ts";
export type { ActionError, ActionResult } from "./schemas/generated/content_action_result.ts";
export type { DispatchReport, DispatchTaskReport } from "./schemas/generated/content_dispatch_report.ts";
export type { LearningReport, ProposedRule, RuleEffect } from "./schemas/generated/content_learning_report.ts";
export type { BatchRequest } from "./schemas/generated/content_batch_request.ts";
export type { MemorySummary } from "./schemas/generated/content_memory_summary.ts";
export type { Plan, PlanTask } from "./schemas/generated/content_plan.ts";
export type { Contradiction, Finding, Synthesis } from "./schemas/generated/content_synthesis.ts";
export type { Task } from "./schemas/generated/content_task.ts";
export type { UserRequest, UserRequestRef } from "./schemas/generated/content_user_request.ts";
export type { WorkflowRecord } from "./schemas/generated/content_workflow_record.ts";

// Schema checks: `schemaRegistry().check(registry.contentSchemaId("plan")!, value)` lists the issues.
export { schemaRegistry, type SchemaRegistry } from "./schemas/registry.ts";

// Capabilities: what a deployment offers (ctx.capabilities), and how the action agent runs one.
export type { ArtifactType, Capability, CapabilityCatalog, CapabilityContext, CapabilityFailure } from "./capabilities/types.ts";
export { domainOfInputs, executeTask, type TaskOutcome } from "./capabilities/execute.ts";
export { enterLane, laneRetryDelayMs, type LaneEntry, type LaneSlot } from "./capabilities/lanes.ts";

// The LLM (ctx.llm; null without one) and the clock (ctx.clock): injected, never constructed by an agent.
export type { ChatRequest, ChatResponse, LlmClient } from "./llm/types.ts";
export type { Clock } from "./envelope/clock.ts";

// Text from outside (fetched pages, LLM replies) is normalised before it is sent on.
export { normalizeText, type NormalizedText } from "./envelope/text.ts";
export { normalizeDeep, type NormalizedValue } from "./capabilities/normalize.ts";
export { normalizedCharsOf } from "./llm/json.ts";
