/**
 * planning_agent: user_request → plan (to dispatch_agent), or an UNPLANNABLE failed synthesis sent
 * twice: to COMPLETE (the session's answer) and to memory_agent (which records the failed session,
 * the user_request riding along as input.content). Without an LLM it plans by capability types;
 * with one it asks for a plan as JSON and validates it, falling back to the type planner when the
 * LLM's plan is not usable. Approved rules in force (insert_before, prefer_order, dedupe) are applied to whichever plan wins, and the
 * result is validated again.
 */
import { defineHandler, isAgentbusError, type AgentContext, type AgentReply, type JsonObject, type UserRequest } from "../../runtime/agent-api.ts";
import { applyPlanningRules, describeIssues, validatePlan, type Plan } from "../_shared/plan/index.ts";
import { rulesInForce } from "../_shared/rules-in-force.ts";
import { planPrompt } from "./planner/llm-prompt.ts";
import { categoryForPlan, planByTypes, type TypePlanResult } from "./planner/type-planner.ts";

/** LLM failures that end the message instead of falling back: the bus retries or dead-letters them. */
const RETHROWN_LLM_CODES = new Set(["BUDGET_EXCEEDED"]);

export const handler = defineHandler<"user_request">(async (input, ctx) => {
  const request = input.content;
  const planId = `plan-${ctx.message.metadata.request_id}`;
  const typed = planByTypes(request, ctx.capabilities, { planId });
  const notes: string[] = [];

  let plan: Plan | null = null;
  let how = "planned by capability types (no LLM configured)";
  if (ctx.llm) {
    const fromLlm = await planWithLlm(request, ctx, planId);
    if (fromLlm.plan) {
      plan = { ...fromLlm.plan, category: request.category ?? (typed.category !== "unknown" ? typed.category : categoryForPlan(fromLlm.plan, ctx.capabilities)) };
      how = `planned by the LLM (${ctx.llm.provider}/${ctx.llm.model}); plan validated`;
    } else {
      notes.push(`LLM plan not used: ${fromLlm.problem}; planned by capability types instead`);
      how = "planned by capability types (the LLM's plan was not usable)";
    }
  }
  if (!plan) {
    if (!typed.ok) return unplannable(typed, notes);
    plan = typed.plan;
  }

  const ruled = applyPlanningRules(plan, rulesInForce(ctx), ctx.capabilities);
  notes.push(...ruled.notes);
  const recheck = validatePlan(ruled.plan, ctx.capabilities);
  if (recheck.ok) plan = ruled.plan;
  else notes.push(`rules ${ruled.applied.join(", ")} not applied: the plan they made is invalid (${describeIssues(recheck.issues)})`);

  const parallel = plan.tasks.filter((t) => t.depends_on.length === 0).length;
  return {
    content_type: "plan",
    content: plan as Plan & JsonObject,
    next_agent: "dispatch_agent",
    reason: `plan ${plan.plan_id}: ${plan.tasks.length} task${plan.tasks.length === 1 ? "" : "s"}, ${parallel} ready at once`,
    reasoning: `${how}. Category: ${plan.category ?? "unknown"}.\n${plan.rationale}`.slice(0, 8000),
    compliance_notes: ["plan validated: acyclic, unique task ids, known capabilities, required inputs given, references wired to dependencies", ...notes].map((n) => n.slice(0, 1000)),
  };
});

async function planWithLlm(request: UserRequest, ctx: AgentContext, planId: string): Promise<{ plan: Plan; problem?: undefined } | { plan?: undefined; problem: string }> {
  const llm = ctx.llm;
  if (!llm) return { problem: "no LLM" };
  let answer: Plan;
  try {
    answer = await llm.json<Plan>({ prompt: planPrompt(request, ctx.capabilities, planId), contentType: "plan" });
  } catch (err) {
    // Recoverable failures (rate limits, timeouts) and an exhausted budget are the bus's to handle;
    // an answer that is not a plan, or a refusal, falls back to planning by types.
    if (!isAgentbusError(err) || err.recoverable || RETHROWN_LLM_CODES.has(err.code)) throw err;
    return { problem: `${err.code}: ${err.message}` };
  }
  const plan: Plan = { ...answer, plan_id: planId, request: request.text, rules_applied: [] };
  const checked = validatePlan(plan, ctx.capabilities);
  if (!checked.ok) return { problem: `it is invalid (${describeIssues(checked.issues, 5)})` };
  return { plan };
}

function unplannable(typed: Extract<TypePlanResult, { ok: false }>, notes: string[]): AgentReply[] {
  const message = `Cannot plan this request: ${typed.missing}.`.slice(0, 4000);
  const reply: Omit<AgentReply, "next_agent"> = {
    content_type: "synthesis",
    content: { answer: message, findings: [], contradictions: [], confidence: 0 },
    status: { code: "failed", message },
    error: { code: "UNPLANNABLE", message, recoverable: false },
    reasoning: `No chain of capabilities answers this request (category ${typed.category}). ${typed.missing}.`.slice(0, 8000),
    compliance_notes: notes.map((n) => n.slice(0, 1000)),
  };
  return [
    { ...reply, next_agent: "COMPLETE", reason: "unplannable request" },
    { ...reply, next_agent: "memory_agent", reason: "record the unplannable request" },
  ];
}
