import { describe, expect, it } from "vitest";
import type { AgentContext, ApprovedRule, Synthesis } from "../../../runtime/agent-api.ts";
import { handler } from "../worker.ts";
import { synthesize } from "./synthesize.ts";
import { conflictRules } from "./known-conflicts.ts";
import { twoPagesDisagreeing } from "../../_shared/testing/reports.ts";

const flag = (rule_id: string, sources: string[], extra: Partial<ApprovedRule> = {}): ApprovedRule => ({
  rule_id,
  target_agent: "reasoning_agent",
  trigger_condition: "c",
  instruction: "i",
  path: `context/memory/${rule_id}.md`,
  effect: { op: "flag_source_conflict", sources, kind: "fact" },
  ...extra,
});

describe("flag_source_conflict", () => {
  it("marks a contradiction between the rule's sources as a known conflict, with confidence lowered", () => {
    const result = synthesize(twoPagesDisagreeing(), conflictRules([flag("rule_20260101_11", ["a.example", "b.example"])]));
    expect(result.known).toEqual([{ rule_id: "rule_20260101_11", subject: "population of lyon", sources: ["a.example", "b.example"] }]);
    expect(result.synthesis.answer).toContain("- population of lyon: 513275 (t2) vs 522228 (t4) (a known conflict: a.example and b.example are known to disagree on this, rule rule_20260101_11)");
    expect(result.synthesis.confidence).toBeLessThan(synthesize(twoPagesDisagreeing()).synthesis.confidence + 0.01);
    expect(result.synthesis.confidence).toBeLessThan(0.9);
    expect(result.reasoning).toContain("known source conflict: rule_20260101_11");
  });

  it("does not flag a contradiction between other sources, or of another kind", () => {
    expect(synthesize(twoPagesDisagreeing(), conflictRules([flag("rule_20260101_12", ["a.example", "c.example"])])).known).toEqual([]);
    const compute = flag("rule_20260101_13", ["a.example", "b.example"], { effect: { op: "flag_source_conflict", sources: ["a.example", "b.example"], kind: "compute" } });
    expect(synthesize(twoPagesDisagreeing(), conflictRules([compute])).synthesis.answer).not.toContain("known conflict");
  });

  // A context with only the fields the reasoning handler reads.
  const ctxFor = (rules: ApprovedRule[]) => ({ rules, spec: { name: "reasoning_agent" }, message: { metadata: { session_id: "s-1" } }, llm: null }) as unknown as AgentContext;
  const answerOf = async (rules: ApprovedRule[]) => {
    const out = await handler({ content_type: "dispatch_report", content: twoPagesDisagreeing() as never, source: "dispatch_agent" }, ctxFor(rules));
    const first = Array.isArray(out) ? out[0] : out;
    const synthesis = first?.content as Synthesis;
    return { answer: synthesis.answer, rules: synthesis.rules_applied, notes: first?.compliance_notes ?? [] };
  };

  it("the reasoning agent applies the rule in force and names it in a compliance note", async () => {
    const applied = await answerOf([flag("rule_20260101_11", ["a.example", "b.example"])]);
    expect(applied.answer).toContain("known conflict");
    expect(applied.notes.join("\n")).toContain("rule rule_20260101_11");
    // The synthesis names the rule, so the memory agent's workflow record lists it in rules_applied.
    expect(applied.rules).toEqual(["rule_20260101_11"]);
  });

  it("ignores the rule when it targets another agent or the session is outside its rollout", async () => {
    expect((await answerOf([flag("rule_20260101_11", ["a.example", "b.example"], { target_agent: "planning_agent" })])).answer).not.toContain("known conflict");
    const outside = await answerOf([flag("rule_20260101_11", ["a.example", "b.example"], { rollout_percent: 0.01 })]);
    expect(outside.answer).not.toContain("known conflict");
    expect(outside.rules).toBeUndefined();
  });
});
