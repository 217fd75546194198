/**
 * reasoning_agent: dispatch_report → synthesis, sent twice: to COMPLETE (the session's answer) and
 * to memory_agent (which records the workflow). The synthesis is deterministic; with an LLM the
 * answer text is the model's, written from the task results only.
 */
import { defineHandler, isAgentbusError, normalizedCharsOf, type AgentContext, type AgentReply, type EnvelopeStatus } from "../../runtime/agent-api.ts";
import { synthesisPrompt, withLlmAnswer } from "./synthesis/llm.ts";
import type { DispatchReport } from "../_shared/report.ts";
import { rulesInForce } from "../_shared/rules-in-force.ts";
import { conflictRules } from "./synthesis/known-conflicts.ts";
import { synthesize, type Synthesis, type SynthesisResult } from "./synthesis/synthesize.ts";

export const handler = defineHandler<"dispatch_report">(async (input, ctx) => {
  const report: DispatchReport = input.content;
  let result = synthesize(report, conflictRules(rulesInForce(ctx)));
  const notes: string[] = [...new Set(result.known.map((k) => k.rule_id))].map((id) => `rule ${id}: results from its sources reported as a known source conflict (confidence lowered as for any contradiction)`);
  if (ctx.llm) {
    const written = await llmSynthesis(ctx, report, result);
    if (written.result) result = written.result;
    notes.push(...written.notes);
  }
  const applied = [...new Set(result.known.map((k) => k.rule_id))].sort();
  const reply: Omit<AgentReply, "next_agent"> = {
    content_type: "synthesis",
    // The rules that shaped the answer travel with it, so the workflow record names them too.
    content: applied.length > 0 ? { ...result.synthesis, rules_applied: applied } : result.synthesis,
    status: statusOf(result),
    ...(result.error ? { error: { ...result.error, recoverable: false } } : {}),
    reasoning: result.reasoning,
    ...(notes.length ? { compliance_notes: notes } : {}),
  };
  return [
    { ...reply, next_agent: "COMPLETE", reason: "the session's answer" },
    { ...reply, next_agent: "memory_agent", reason: "record the finished workflow" },
  ];
});

function statusOf(result: SynthesisResult): EnvelopeStatus {
  const { status, succeeded, total } = result.outcome;
  if (status === "success") return { code: "success", message: `all ${total} task(s) succeeded` };
  if (status === "partial") return { code: "partial", message: `${succeeded} of ${total} tasks succeeded` };
  return { code: "failed", message: result.error?.message ?? "no task succeeded" };
}

/**
 * The model's answer, asked once per incoming message: a redelivery reuses the stored reply instead
 * of spending tokens again (and so sends the same content under the same message ids). An output the
 * model cannot get valid keeps the deterministic answer; budget, rate-limit and provider errors
 * propagate (the bus retries the recoverable ones; BUDGET_EXCEEDED stops the session).
 */
async function llmSynthesis(ctx: AgentContext, report: DispatchReport, base: SynthesisResult): Promise<{ result: SynthesisResult | null; notes: string[] }> {
  const llm = ctx.llm;
  if (!llm) return { result: null, notes: [] };
  const key = `llm_synthesis:${ctx.idempotencyKey}`;
  const notes: string[] = [];
  let written = await ctx.state.get<Synthesis>(key);
  if (written === undefined) {
    try {
      const fresh = await llm.json<Synthesis>({ contentType: "synthesis", prompt: synthesisPrompt(report) });
      // NUL and lone surrogates in the model's reply were normalised where it was read (llm/json.ts).
      const normalized = normalizedCharsOf(fresh);
      if (normalized > 0) notes.push(`${normalized} character(s) of the LLM's reply normalised (NUL removed, lone surrogates replaced with U+FFFD) before it entered this message`);
      written = await ctx.state.update<Synthesis>(key, (current) => current ?? fresh);
    } catch (err) {
      if (isAgentbusError(err) && err.code === "LLM_OUTPUT_INVALID") {
        ctx.logger.warn({ err: err.message }, "the LLM gave no valid synthesis; sending the deterministic answer");
        return { result: null, notes: [`LLM_OUTPUT_INVALID from ${llm.provider}/${llm.model}: the deterministic answer was sent instead`] };
      }
      throw err;
    }
  }
  const merged = withLlmAnswer(base, written, report);
  if (!merged) return { result: null, notes: [...notes, `the answer from ${llm.provider}/${llm.model} was empty: the deterministic answer was sent instead`] };
  return { result: merged, notes: [`answer text written by ${llm.provider}/${llm.model} from the task results only`, ...notes] };
}
