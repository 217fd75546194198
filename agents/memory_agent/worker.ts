/**
 * memory_agent: for every finished session, the workflow_record (DESIGN.md §3). It receives a
 * synthesis from one of two senders:
 * - the reasoning agent, answering a plan that ran: the dispatch report it answered rides along as
 *   the envelope's input.content, and the record is built from it;
 * - the planning agent, for a request it could not plan (UNPLANNABLE): the user_request rides along,
 *   and the record is a failed one with an empty plan and no tasks.
 * The record is built once per session (kept in the agent's state, so a redelivery saves and sends
 * the very same record), saved idempotently, and sent to COMPLETE with its status mirrored in the
 * envelope.
 *
 * It also builds the memory summaries (batch.ts): a batch_request (from the scheduler, by hand, or
 * from itself once enough records wait) summarises the records no batch holds yet for the learning
 * agent.
 */
import { defineHandler, HandlerError, type AgentContext, type AgentReply, type EnvelopeStatus, type JsonObject, type SchemaRegistry, type UserRequest } from "../../runtime/agent-api.ts";
import type { DispatchReport } from "../_shared/report.ts";
import { handleBatchRequest, thresholdRequest } from "./batch.ts";
import { buildUnplannedRecord, buildWorkflowRecord, criticalPathMs, type FlaggedContradiction, type RecordContext, type WorkflowRecord } from "./workflow-record.ts";

const STATE_KEY = "workflow_record";
const PLANNER = "planning_agent";

export const handler = defineHandler<"synthesis" | "batch_request">(async (input, ctx) => {
  if (input.content_type === "batch_request") return handleBatchRequest(input.content, ctx);
  const recorded = await recordWorkflow(input.source, input.content.contradictions, ctx, input.content.rules_applied ?? []);
  // The threshold is checked after the record is saved, so the record that reaches it is counted.
  const batch = await thresholdRequest(ctx);
  return batch ? [recorded, batch] : recorded;
});

async function recordWorkflow(source: string, contradictions: readonly FlaggedContradiction[], ctx: AgentContext, synthesisRules: readonly string[]): Promise<AgentReply> {
  const unplanned = source === PLANNER;
  let record = await ctx.state.get<WorkflowRecord>(STATE_KEY);
  if (record === undefined) {
    const built = unplanned ? await unplannedRecord(ctx) : await plannedRecord(ctx, contradictions, synthesisRules);
    record = await ctx.state.update<WorkflowRecord>(STATE_KEY, (current) => current ?? built);
  }
  const { inserted } = await ctx.records.saveWorkflowRecord(record);
  const written = `workflow record for ${record.session_id} ${inserted ? "written" : "was already written (redelivery): not written again"}`;
  const reply = { content_type: "workflow_record", content: record as WorkflowRecord & JsonObject, next_agent: "COMPLETE", reason: "workflow recorded" };
  if (unplanned) return unplannedReply(reply, ctx, `${written}; the request was not planned: no tasks, status ${record.status}`);

  const failed = record.tasks.filter((t) => t.status !== "succeeded").map((t) => `${t.task_id} ${t.status}${t.error_code ? ` ${t.error_code}` : ""}`);
  const status = statusOf(record, failed);
  return {
    ...reply,
    status,
    ...(record.status === "failed" ? { error: { code: "WORKFLOW_FAILED", message: status.message, recoverable: false } } : {}),
    reasoning: `${written}; ${record.tasks.length} task(s), status ${record.status}`,
  };
}

/**
 * An unplannable request's record is failed, and its envelope says why with the planner's own code,
 * UNPLANNABLE, and the planner's explanation of what is missing.
 */
function unplannedReply(reply: Omit<AgentReply, "status" | "error" | "reasoning">, ctx: AgentContext, reasoning: string): AgentReply {
  const why = ctx.message.error.error_message ?? ctx.message.status.message;
  const message = `recorded: ${why || "the request could not be planned"}`.slice(0, 4000);
  return { ...reply, status: { code: "failed", message }, error: { code: "UNPLANNABLE", message, recoverable: false }, reasoning };
}

async function plannedRecord(ctx: AgentContext, flagged: readonly FlaggedContradiction[], synthesisRules: readonly string[]): Promise<WorkflowRecord> {
  const report = dispatchReportOf(ctx.registry, ctx.message.input.content);
  return checked(ctx.registry, buildWorkflowRecord(report, await recordTimes(ctx, criticalPathMs(report)), flagged, synthesisRules));
}

async function unplannedRecord(ctx: AgentContext): Promise<WorkflowRecord> {
  const request = userRequestOf(ctx.registry, ctx.message.input.content);
  // The planner answered at once: no task ran between the request and its answer.
  return checked(ctx.registry, buildUnplannedRecord(request, await recordTimes(ctx, 0)));
}

/**
 * The session row knows when the request arrived. Without it (its audit rows not written yet), the
 * latest time the session can have begun: when the sender answered, less `ranMs`, the longest chain
 * of tasks the plan ran.
 */
async function recordTimes(ctx: AgentContext, ranMs: number): Promise<RecordContext> {
  const finished = ctx.clock.now();
  const session = await ctx.records.session();
  const startedMs = Math.min(session ? Date.parse(session.started_at) : Date.parse(ctx.message.timestamp.executed_at) - ranMs, finished);
  return {
    session_id: ctx.message.metadata.session_id,
    request_id: ctx.message.metadata.request_id,
    started_at: new Date(Number.isNaN(startedMs) ? finished : startedMs).toISOString(),
    finished_at: new Date(finished).toISOString(),
  };
}

function checked(registry: SchemaRegistry, record: WorkflowRecord): WorkflowRecord {
  const issues = registry.check(registry.contentSchemaId("workflow_record") ?? "", record);
  if (issues.length > 0) {
    throw new HandlerError("WORKFLOW_RECORD_INVALID", `the workflow record breaks its schema: ${issues.map((i) => `${i.pointer} ${i.message}`).join("; ")}`, { issues });
  }
  return record;
}

/** The dispatch report the synthesis answered, checked against its schema (input.content is free JSON). */
function dispatchReportOf(registry: SchemaRegistry, content: unknown): DispatchReport {
  return contentOf<DispatchReport>(registry, content, "dispatch_report", "DISPATCH_REPORT_MISSING", "the dispatch report the synthesis answered");
}

/** The user_request the planning agent could not plan, checked against its schema. */
function userRequestOf(registry: SchemaRegistry, content: unknown): UserRequest {
  return contentOf<UserRequest>(registry, content, "user_request", "USER_REQUEST_MISSING", "the user_request the planning agent could not plan");
}

function contentOf<T>(registry: SchemaRegistry, content: unknown, contentType: string, code: string, what: string): T {
  const issues = registry.check(registry.contentSchemaId(contentType) ?? "", content, "/input/content");
  if (issues.length > 0) {
    throw new HandlerError(
      code,
      `memory_agent records a workflow from ${what} (input.content), but it is not one: ${issues.slice(0, 5).map((i) => `${i.pointer} ${i.message}`).join("; ")}`,
      { issues },
    );
  }
  return content as T;
}

function statusOf(record: WorkflowRecord, notDone: string[]): EnvelopeStatus {
  const n = record.tasks.length;
  if (record.status === "success") return { code: "success", message: `recorded: all ${n} task(s) succeeded` };
  const detail = notDone.slice(0, 20).join(", ");
  if (record.status === "partial") return { code: "partial", message: `recorded: ${n - notDone.length} of ${n} tasks succeeded (${detail})` };
  return { code: "failed", message: `recorded: no task succeeded${detail ? ` (${detail})` : ""}`.slice(0, 4000) };
}
