/**
 * memory_agent: for every finished session, the workflow_record (DESIGN.md §3). It receives the
 * reasoning agent's synthesis; the dispatch report that synthesis answered rides along as the
 * envelope's input.content. The record is built once per session (kept in the agent's state, so a
 * redelivery saves and sends the very same record), saved idempotently, and sent to COMPLETE with
 * its status mirrored in the envelope.
 */
import { defineHandler, type AgentContext } from "../../runtime/agents/handler.ts";
import { HandlerError } from "../../runtime/errors/index.ts";
import type { EnvelopeStatus, JsonObject } from "../../runtime/envelope/types.ts";
import type { DispatchReport } from "../../runtime/reasoning/report.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import { buildWorkflowRecord, criticalPathMs, type WorkflowRecord } from "./workflow-record.ts";

const STATE_KEY = "workflow_record";

export const handler = defineHandler<"synthesis">(async (_input, ctx) => {
  const report = dispatchReportOf(ctx.message.input.content);
  let record = await ctx.state.get<WorkflowRecord>(STATE_KEY);
  if (record === undefined) {
    const built = await newRecord(report, ctx);
    record = await ctx.state.update<WorkflowRecord>(STATE_KEY, (current) => current ?? built);
  }
  const { inserted } = await ctx.records.saveWorkflowRecord(record);
  const failed = record.tasks.filter((t) => t.status !== "succeeded").map((t) => `${t.task_id} ${t.status}${t.error_code ? ` ${t.error_code}` : ""}`);
  return {
    content_type: "workflow_record",
    content: record as WorkflowRecord & JsonObject,
    next_agent: "COMPLETE",
    reason: "workflow recorded",
    status: statusOf(record, failed),
    ...(record.status === "failed" ? { error: { code: "WORKFLOW_FAILED", message: statusOf(record, failed).message, recoverable: false } } : {}),
    reasoning: `workflow record for ${record.session_id} ${inserted ? "written" : "was already written (redelivery): not written again"}; ${record.tasks.length} task(s), status ${record.status}`,
  };
});

async function newRecord(report: DispatchReport, ctx: AgentContext): Promise<WorkflowRecord> {
  const finished = ctx.clock.now();
  const session = await ctx.records.session();
  // The session row knows when the request arrived. Without it (its audit rows not written yet),
  // the latest time the session can have begun: when the reasoning agent answered, less the
  // longest chain of tasks the plan ran.
  const startedMs = Math.min(session ? Date.parse(session.started_at) : Date.parse(ctx.message.timestamp.executed_at) - criticalPathMs(report), finished);
  const record = buildWorkflowRecord(report, {
    session_id: ctx.message.metadata.session_id,
    request_id: ctx.message.metadata.request_id,
    started_at: new Date(Number.isNaN(startedMs) ? finished : startedMs).toISOString(),
    finished_at: new Date(finished).toISOString(),
  });
  const registry = schemaRegistry();
  const issues = registry.check(registry.contentSchemaId("workflow_record") ?? "", record);
  if (issues.length > 0) {
    throw new HandlerError("WORKFLOW_RECORD_INVALID", `the workflow record breaks its schema: ${issues.map((i) => `${i.pointer} ${i.message}`).join("; ")}`, { issues });
  }
  return record;
}

/** The dispatch report the synthesis answered, checked against its schema (input.content is free JSON). */
function dispatchReportOf(content: unknown): DispatchReport {
  const registry = schemaRegistry();
  const issues = registry.check(registry.contentSchemaId("dispatch_report") ?? "", content, "/input/content");
  if (issues.length > 0) {
    throw new HandlerError(
      "DISPATCH_REPORT_MISSING",
      `memory_agent records a workflow from the dispatch report the synthesis answered (input.content), but it is not one: ${issues.slice(0, 5).map((i) => `${i.pointer} ${i.message}`).join("; ")}`,
      { issues },
    );
  }
  return content as DispatchReport;
}

function statusOf(record: WorkflowRecord, notDone: string[]): EnvelopeStatus {
  const n = record.tasks.length;
  if (record.status === "success") return { code: "success", message: `recorded: all ${n} task(s) succeeded` };
  const detail = notDone.slice(0, 20).join(", ");
  if (record.status === "partial") return { code: "partial", message: `recorded: ${n - notDone.length} of ${n} tasks succeeded (${detail})` };
  return { code: "failed", message: `recorded: no task succeeded${detail ? ` (${detail})` : ""}`.slice(0, 4000) };
}
