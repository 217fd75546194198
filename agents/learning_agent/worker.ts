/**
 * The learning agent: memory_summary → learning_report, as the learning agent spec's example has
 * it. The deterministic miner finds the patterns; the proposal queue (ctx.learning) gives each new
 * rule its id and keeps known patterns from being proposed twice; an LLM, when configured, may only
 * rephrase the text of a rule, and what it writes is checked for scope like anything else.
 */
import { DateTime } from "luxon";
import { defineHandler, type AgentContext, type ContentTypeMap } from "../../runtime/agent-api.ts";
import { mine, type LearningReport, type MemorySummary, type ProposedRule } from "./miner/index.ts";
import { checkRuleScope } from "./scope.ts";

const REASON = "Batch learning complete. System administrator will review proposed rules.";

export const handler = defineHandler<"memory_summary">(async (input, ctx) => {
  const summary = input.content as MemorySummary;
  const day = DateTime.fromMillis(ctx.clock.now(), { zone: ctx.message.timestamp.timezone }).toFormat("yyyyLLdd");
  // Two passes: which patterns the batch shows, then which of them the queue already holds
  // (except those this very batch proposed: a redelivered run must give the same report).
  const keys = (mine(summary, { date: day }).learning_report.patterns ?? []).flatMap((p) => (p.pattern_key ? [p.pattern_key] : []));
  const known = await ctx.learning.knownPatterns(keys, summary.batch_id);
  const mined = mine(summary, { date: day, existingKeys: known });
  const notes: string[] = [];
  const report = await rephrased(mined, ctx, notes);
  const { ids, proposed, reobserved } = await ctx.learning.submitReport(report.learning_report, { day, reportMessageId: ctx.idempotencyKey });
  const rules = report.learning_report.new_rules_proposed.map((r) => ({ ...r, rule_id: ids.get(r.pattern_key ?? "") ?? r.rule_id }));
  const body = { ...report.learning_report, new_rules_proposed: rules };
  const batchSize = summary.counts.workflows;
  notes.push(
    `Reviewed batch ${summary.batch_id} of ${batchSize} workflow records (run metadata only).`,
    `${rules.length} rules proposed to the review queue (${proposed.length} new), ${reobserved.length} known patterns seen again; nothing written to context/memory/.`,
  );
  return {
    content_type: "learning_report",
    content: { learning_report: body } satisfies ContentTypeMap["learning_report"],
    next_agent: "COMPLETE",
    reason: REASON,
    status: { code: "success", message: `Successfully extracted ${rules.length} rules from a batch of ${batchSize} logs.` },
    input_content: { batch_size: batchSize, audit_file: `memory_batches/${summary.batch_id}` },
    compliance_notes: notes,
    reasoning: reasoningOf(body),
  };
});

function reasoningOf(report: LearningReport["learning_report"]): string {
  const kinds = new Map<string, number>();
  for (const p of report.patterns ?? []) kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
  const found = [...kinds].map(([k, n]) => `${n} ${k.replace(/_/g, " ")}`).join(", ") || "no recurring pattern";
  return `Analysed the batch summary: ${found}. Rules change core heuristics, so they are proposed for human review before anything is written to context/memory/.`.slice(0, 8000);
}

/**
 * With an LLM, the rules' trigger, instruction and rationale may be rewritten more generally. The
 * miner's numbers, target, effect and ids stay; a rewrite that breaks the scope rules is dropped.
 */
async function rephrased(report: LearningReport, ctx: AgentContext, notes: string[]): Promise<LearningReport> {
  const rules = report.learning_report.new_rules_proposed;
  if (!ctx.llm || rules.length === 0) return report;
  let answer: LearningReport;
  try {
    answer = await ctx.llm.json<LearningReport>({
      contentType: "learning_report",
      prompt: `Rephrase each rule's trigger_condition, instruction and rationale to be clear and general. Return the same learning_report JSON with every other field unchanged.\n\n${JSON.stringify(report)}`,
    });
  } catch (err) {
    notes.push(`LLM rephrasing not used (${err instanceof Error ? err.message : String(err)}): the miner's wording stands.`.slice(0, 1000));
    return report;
  }
  const byKey = new Map(answer.learning_report.new_rules_proposed.map((r) => [r.pattern_key, r]));
  const out: ProposedRule[] = rules.map((rule) => {
    const text = byKey.get(rule.pattern_key);
    if (!text) return rule;
    const candidate: ProposedRule = { ...rule, trigger_condition: text.trigger_condition, instruction: text.instruction, rationale: text.rationale };
    // The model's target, effect and numbers are ignored; its text must still stay in scope.
    const verdict = checkRuleScope({ ...candidate, target_agent: text.target_agent ?? rule.target_agent });
    if (verdict.ok && text.target_agent === rule.target_agent) return candidate;
    notes.push(`${rule.rule_id}: LLM rewrite refused (${verdict.ok ? `it changed the target to ${text.target_agent}` : verdict.reason}); the miner's wording stands.`.slice(0, 1000));
    return rule;
  });
  notes.push(`Rule wording by ${ctx.llm.provider}/${ctx.llm.model}; numbers, targets and effects are the miner's.`);
  return { learning_report: { ...report.learning_report, new_rules_proposed: out } };
}
