/**
 * The action agent: one `task` in, one `action_result` out to the dispatch agent. A failed
 * capability is a normal reply with the error set (the envelope says "failed", with an honest
 * recoverable flag); the dispatch agent decides about retries. The handler throws only when the
 * runtime itself is in trouble.
 */
import { DeferredError, defineHandler, domainOfInputs, enterLane, executeTask, laneRetryDelayMs, normalizeDeep, normalizeText, summarize, type AgentContext, type AgentReply, type Capability, type ContentTypeMap, type Issue, type ResourceRef, type SchemaRegistry, type TaskOutcome } from "../../runtime/agent-api.ts";

import { dispatchEffects, matches } from "../_shared/plan/rules.ts";
import { rulesInForce } from "../_shared/rules-in-force.ts";

type Task = ContentTypeMap["task"];
type ActionResult = ContentTypeMap["action_result"];

const DISPATCH = "dispatch_agent";

export const handler = defineHandler<"task">(async (input, ctx) => {
  const task = input.content;
  const cap = ctx.capabilities.get(task.capability);
  // Slow I/O waits in its lane, not in a worker slot: a full lane puts the task back for a moment
  // without using an attempt, and the slot goes to other work meanwhile.
  const lane = cap ? enterLane(cap, domainField(domainOfInputs(cap, task.inputs))) : null;
  if (lane && !lane.ok) throw new DeferredError(lane.reason, laneRetryDelayMs());
  let executed: TaskOutcome;
  try {
    executed = await executeTask(ctx.capabilities, task, {
      clock: ctx.clock,
      logger: ctx.logger,
      llm: ctx.llm,
      idempotencyKey: ctx.idempotencyKey,
    });
  } finally {
    lane?.slot.release();
  }
  const { outcome, normalized } = normalizeOutcome(executed);
  const refs = sourceRefs(ctx.capabilities.get(task.capability), task);
  let result = actionResult(task, outcome, refs);
  // The result must fit its message schema; outputs that cannot travel (too long, reserved keys)
  // are an OUTPUT_INVALID failure rather than a reply the bus would dead-letter.
  const issues = checkResult(ctx.registry, result);
  if (issues.length > 0) {
    const error = { code: "OUTPUT_INVALID", message: `${task.capability} produced outputs that cannot be sent: ${summarize(issues)}`, recoverable: false };
    result = actionResult(task, { outputs: {}, duration_ms: outcome.duration_ms, ...(outcome.domain ? { domain: outcome.domain } : {}), error }, refs);
  }
  // An approved no_retry rule for this agent: the failure goes back as not recoverable, so the
  // dispatch agent fails the task and skips its branch instead of retrying it.
  const noRetry = noRetryRule(result, ctx);
  if (noRetry && result.error) result = { ...result, error: { ...result.error, recoverable: false }, rules_applied: [noRetry] };
  ctx.logger.debug({ task_id: task.task_id, capability: task.capability, attempt: task.attempt, error: result.error?.code }, "task executed");
  let out = reply(task, result);
  if (noRetry) out = { ...out, compliance_notes: [...(out.compliance_notes ?? []), `rule ${noRetry}: failure reported with recoverable=false so the branch is skipped, not retried`] };
  if (normalized === 0) return out;
  const note = `${normalized} character(s) of fetched or generated text normalised before entering this message (NUL removed, lone surrogates replaced with U+FFFD, as runtime/envelope/text.ts rules)`;
  return { ...out, compliance_notes: [...(out.compliance_notes ?? []), note] };
});

/**
 * What a capability fetched or generated may hold NUL or lone surrogates, which no message can
 * carry: normalised here for every capability (fetch has already done it and counts it in
 * `normalized_chars`), so a page with a NUL byte gives an answer instead of a dead session.
 */
function normalizeOutcome(outcome: TaskOutcome): { outcome: TaskOutcome; normalized: number } {
  const outputs = normalizeDeep(outcome.outputs);
  const reported = typeof outputs.value.normalized_chars === "number" ? outputs.value.normalized_chars : 0;
  if (!outcome.error) return { outcome: { ...outcome, outputs: outputs.value }, normalized: reported + outputs.changed };
  const message = normalizeText(outcome.error.message);
  return { outcome: { ...outcome, outputs: outputs.value, error: { ...outcome.error, message: message.text } }, normalized: reported + outputs.changed + message.changed };
}

function actionResult(task: Task, outcome: TaskOutcome, refs: ResourceRef[]): ActionResult {
  const e = outcome.error;
  return {
    plan_id: task.plan_id,
    task_id: task.task_id,
    capability: task.capability,
    outputs: outcome.outputs as ActionResult["outputs"],
    duration_ms: Math.min(86_400_000, outcome.duration_ms),
    refs,
    attempt: task.attempt,
    ...(outcome.domain ? { domain: outcome.domain } : {}),
    ...(e
      ? { error: { code: e.code, message: e.message, recoverable: e.recoverable, ...(e.retry_after_ms !== undefined ? { retry_after_ms: e.retry_after_ms } : {}) } }
      : {}),
  };
}

function reply(task: Task, result: ActionResult): AgentReply {
  const e = result.error;
  const what = `${task.task_id} (${task.capability}, attempt ${task.attempt})`;
  const base = {
    content_type: "action_result",
    content: result,
    next_agent: DISPATCH,
    resources: { source_refs: result.refs },
  };
  if (!e) {
    return {
      ...base,
      reason: `${what} succeeded`,
      reasoning: `ran ${task.capability} in ${result.duration_ms} ms; inputs and outputs matched its schemas`,
      compliance_notes: [`inputs and outputs checked against the ${task.capability} capability's schemas`],
    };
  }
  const wait = e.retry_after_ms !== undefined ? `; the remote side asked to wait ${e.retry_after_ms} ms` : "";
  return {
    ...base,
    reason: `${what} failed: ${e.code}`,
    status: { code: "failed", message: `${e.code}: ${e.message}`.slice(0, 4000) },
    error: { code: e.code, message: e.message, recoverable: e.recoverable, retry_count: task.attempt - 1 },
    reasoning: `${task.capability} failed with ${e.code} (${e.recoverable ? "recoverable: a retry may succeed" : "not recoverable: a retry would fail the same way"})${wait}`,
    compliance_notes: [`failure reported to ${DISPATCH} with recoverable=${e.recoverable}; retrying is the dispatch agent's decision`],
  };
}

/** The id of the first no_retry rule a recoverable failure matches (capability, error_code, domain). */
function noRetryRule(result: ActionResult, ctx: AgentContext): string | null {
  const e = result.error;
  if (!e?.recoverable) return null; // only a failure that would be retried is the rules' business
  const rules = rulesInForce(ctx);
  const failure = { capability: result.capability, error_code: e.code, domain: result.domain?.toLowerCase() };
  return dispatchEffects(rules).find((r) => r.effect.op === "no_retry" && matches(r.effect.match, failure))?.rule_id ?? null;
}

/** The URLs a task was given, as source references (fetch's page, for instance). */
function sourceRefs(cap: Capability | undefined, task: Task): ResourceRef[] {
  if (!cap) return [];
  const refs: ResourceRef[] = [];
  for (const [field, type] of Object.entries(cap.consumes)) {
    const value = task.inputs[field];
    if (type !== "url" || typeof value !== "string" || value.length > 2048 || !/^https?:\/\//i.test(value)) continue;
    refs.push({ ref_id: `src_${refs.length + 1}`, uri: value, description: `${field} given to ${task.capability}` });
  }
  return refs;
}

function checkResult(registry: SchemaRegistry, result: ActionResult): Issue[] {
  const id = registry.contentSchemaId("action_result");
  return id ? registry.check(id, result, "", "content") : [];
}

/** Domains are compared lowercase, as action_result's `domain` has them. */
function domainField(domain: string | undefined): string | undefined {
  return domain?.toLowerCase();
}
