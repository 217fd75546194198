/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
import type { ActionResult } from "./content_action_result.ts";
import type { BatchRequest } from "./content_batch_request.ts";
import type { DispatchReport } from "./content_dispatch_report.ts";
import type { LearningReport } from "./content_learning_report.ts";
import type { MemorySummary } from "./content_memory_summary.ts";
import type { Plan } from "./content_plan.ts";
import type { Synthesis } from "./content_synthesis.ts";
import type { Task } from "./content_task.ts";
import type { UserRequest } from "./content_user_request.ts";
import type { WorkflowRecord } from "./content_workflow_record.ts";

export type { AgentSpec } from "./agent_spec.ts";
export type { ActionResult } from "./content_action_result.ts";
export type { BatchRequest } from "./content_batch_request.ts";
export type { DispatchReport } from "./content_dispatch_report.ts";
export type { LearningReport } from "./content_learning_report.ts";
export type { MemorySummary } from "./content_memory_summary.ts";
export type { Plan } from "./content_plan.ts";
export type { Synthesis } from "./content_synthesis.ts";
export type { Task } from "./content_task.ts";
export type { UserRequest } from "./content_user_request.ts";
export type { WorkflowRecord } from "./content_workflow_record.ts";
export type { Envelope } from "./envelope.ts";
export type { MemoryRule } from "./memory_rule.ts";
export type { QueueTopology } from "./queue_topology.ts";

/** Content type name → the TypeScript type of `output.content`. */
export interface ContentTypeMap {
  action_result: ActionResult;
  batch_request: BatchRequest;
  dispatch_report: DispatchReport;
  learning_report: LearningReport;
  memory_summary: MemorySummary;
  plan: Plan;
  synthesis: Synthesis;
  task: Task;
  user_request: UserRequest;
  workflow_record: WorkflowRecord;
}

export type ContentTypeName = keyof ContentTypeMap;
