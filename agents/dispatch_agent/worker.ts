/**
 * dispatch_agent: runs a plan's DAG. A `plan` starts the run (ready tasks go out at once, one `task`
 * reply each); every `action_result` is applied once, retried with backoff when recoverable, or
 * fails its task and skips its dependants; when every task is settled, one `dispatch_report` goes to
 * the reasoning agent. Progress lives in ctx.state (durable, updated atomically, one row lock per
 * plan), and what each incoming message caused is stored under its id, so a redelivery returns the
 * same replies.
 */
import { defineHandler, HandlerError, type ActionResult, type AgentContext, type AgentReply, type HandlerInput, type HandlerResult } from "../../runtime/agent-api.ts";
import { describeIssues, dispatchEffects, validatePlan, type Plan } from "../_shared/plan/index.ts";
import { rulesInForce } from "../_shared/rules-in-force.ts";
import { applyPlan, applyResult, buildReport, taskContent, tally, type Applied, type PlanRun, type RetryPolicy } from "./run-state.ts";

const stateKey = (planId: string): string => `plan:${planId}`;

export const handler = defineHandler<"plan" | "action_result">(async (input, ctx) => {
  switch (input.content_type) {
    case "plan":
      return onPlan(input.content, ctx);
    case "action_result":
      return onResult(input.content, ctx);
    default:
      // Typed as impossible, but a message of another type is refused here all the same.
      throw new HandlerError("UNEXPECTED_CONTENT_TYPE", `dispatch_agent handles plan and action_result, not ${(input as HandlerInput).content_type}`);
  }
});

async function onPlan(plan: Plan, ctx: AgentContext): Promise<HandlerResult> {
  // Structure always; capabilities too when this deployment declares any.
  const checked = validatePlan(plan, ctx.capabilities.list().length > 0 ? ctx.capabilities : null);
  if (!checked.ok) throw new HandlerError("PLAN_INVALID", `plan ${plan.plan_id} cannot run: ${describeIssues(checked.issues)}`);
  let applied: Applied | undefined;
  const run = await ctx.state.update<PlanRun>(stateKey(plan.plan_id), (current) => {
    applied = applyPlan(current, plan, ctx.message.message_id);
    return applied.run;
  });
  return replies(run, applied);
}

async function onResult(result: ActionResult, ctx: AgentContext): Promise<HandlerResult> {
  const policy: RetryPolicy = { ...ctx.retryPolicy, rules: dispatchEffects(rulesInForce(ctx)) };
  let applied: Applied | undefined;
  const run = await ctx.state.update<PlanRun>(stateKey(result.plan_id), (current) => {
    if (!current) throw new HandlerError("PLAN_UNKNOWN", `result for ${result.task_id} names plan ${result.plan_id}, which this session never started`);
    applied = applyResult(current, result, ctx.message.message_id, policy);
    return applied.run;
  });
  for (const note of applied?.notes ?? []) ctx.logger.debug({ plan_id: result.plan_id }, note);
  return replies(run, applied);
}

/**
 * The replies for what a message caused. For a redelivered message (`fresh` false) these are the
 * replies it caused the first time, rebuilt from the recorded state: the runtime gives them the same
 * message ids, so the bus de-duplicates them.
 */
function replies(run: PlanRun, applied: Applied | undefined): AgentReply[] {
  if (!applied) return [];
  const notes = applied.fresh ? applied.notes : [`redelivered message: the replies it caused before, rebuilt from the recorded state`];
  const reasoning = notes.join("\n").slice(0, 8000);
  return applied.intents.map((intent): AgentReply => {
    if (intent.kind === "task") {
      const content = taskContent(run, intent);
      return {
        content_type: "task",
        content,
        next_agent: "action_agent",
        reason: `${content.task_id} (${content.capability}), attempt ${content.attempt}: ${intent.why}`.slice(0, 2000),
        reasoning,
        ...(intent.delay_ms > 0 ? { delay_ms: intent.delay_ms } : {}),
      };
    }
    const counts = tally(run);
    const summary = `${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.skipped} skipped`;
    const code = counts.failed + counts.skipped === 0 ? "success" : counts.succeeded > 0 ? "partial" : "failed";
    return {
      content_type: "dispatch_report",
      content: buildReport(run),
      next_agent: "reasoning_agent",
      reason: `every task of ${run.plan.plan_id} settled: ${summary}`,
      status: { code, message: summary },
      reasoning,
      compliance_notes: ["each result applied once (by task and attempt); retries within the attempt limit, with backoff"],
    };
  });
}
