import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../../runtime/envelope/types.ts";
import { applyPlanningRules, dispatchEffects, matches } from "./rules.ts";
import { planByTypes } from "../../planning_agent/planner/type-planner.ts";
import { validatePlan } from "./validate-plan.ts";
import type { Plan } from "./plan.ts";
import { CLEAN_TEXT, testCatalog } from "../testing/catalog.ts";

const catalog = testCatalog([CLEAN_TEXT]);
const rule = (rule_id: string, effect: JsonObject) => ({ rule_id, effect });

function planFor(text: string): Plan {
  const result = planByTypes({ text }, catalog, { planId: "p" });
  if (!result.ok) throw new Error(result.missing);
  return result.plan;
}

describe("insert_before rules change plans", () => {
  it("inserts the capability before every task that uses the target, wired by artifact types", () => {
    const plan = planFor("Summarize https://a.example/ and https://b.example/");
    const out = applyPlanningRules(plan, [rule("rule_20260101_01", { op: "insert_before", capability: "summarize", insert: "clean_text" })], catalog);
    expect(out.applied).toEqual(["rule_20260101_01"]);
    expect(out.plan.rules_applied).toEqual(["rule_20260101_01"]);
    expect(out.plan.tasks.map((t) => [t.task_id, t.capability, t.inputs, t.depends_on])).toEqual([
      ["t1", "fetch", { url: "https://a.example/" }, []],
      ["t2", "extract_text", { html: { from_task: "t1", output: "html" } }, ["t1"]],
      ["t7", "clean_text", { text: { from_task: "t2", output: "text" } }, ["t2"]],
      ["t3", "summarize", { text: { from_task: "t7", output: "text" } }, ["t7"]],
      ["t4", "fetch", { url: "https://b.example/" }, []],
      ["t5", "extract_text", { html: { from_task: "t4", output: "html" } }, ["t4"]],
      ["t8", "clean_text", { text: { from_task: "t5", output: "text" } }, ["t5"]],
      ["t6", "summarize", { text: { from_task: "t8", output: "text" } }, ["t8"]],
    ]);
    expect(validatePlan(out.plan, catalog)).toEqual({ ok: true });
  });

  it("works on literal inputs too (inline text)", () => {
    const plan = planFor("Summarize this: one two three four five six seven eight.");
    const out = applyPlanningRules(plan, [rule("rule_20260101_02", { op: "insert_before", capability: "summarize", insert: "clean_text" })], catalog);
    expect(out.plan.tasks.map((t) => [t.task_id, t.capability, t.inputs])).toEqual([
      ["t2", "clean_text", { text: "one two three four five six seven eight." }],
      ["t1", "summarize", { text: { from_task: "t2", output: "text" } }],
    ]);
  });

  it("is not applied twice, and a rule that changes nothing is not listed", () => {
    const plan = planFor("Summarize https://a.example/");
    const r = rule("rule_20260101_01", { op: "insert_before", capability: "summarize", insert: "clean_text" });
    const once = applyPlanningRules(plan, [r], catalog).plan;
    const twice = applyPlanningRules(once, [r], catalog);
    expect(twice.plan.tasks).toHaveLength(4);
    expect(twice.applied).toEqual([]);
    expect(applyPlanningRules(plan, [rule("rule_20260101_03", { op: "insert_before", capability: "compute", insert: "clean_text" })], catalog).applied).toEqual([]);
  });

  it("skips, with a note, a rule it cannot wire or whose capability is unknown", () => {
    const plan = planFor("Summarize https://a.example/");
    const out = applyPlanningRules(
      plan,
      [
        rule("rule_20260101_04", { op: "insert_before", capability: "fetch", insert: "extract_text" }),
        rule("rule_20260101_05", { op: "insert_before", capability: "summarize", insert: "transcribe" }),
      ],
      catalog,
    );
    expect(out.plan.tasks).toEqual(plan.tasks);
    expect(out.applied).toEqual([]);
    expect(out.notes).toEqual([
      `rule_20260101_04: not applied before t1: nothing before it provides extract_text's input "html" (html)`,
      'rule_20260101_05: not applied, capability "transcribe" is not registered',
    ]);
  });

  it("ignores rules without a usable effect", () => {
    const plan = planFor("Summarize https://a.example/");
    const out = applyPlanningRules(plan, [rule("rule_20260101_06", { op: "insert_before", capability: "Summarize!" }), { rule_id: "rule_20260101_07", effect: undefined }], catalog);
    expect(out).toEqual({ plan, applied: [], notes: [] });
  });
});

describe("dispatch rules", () => {
  it("parse no_retry and max_attempts, and ignore the rest", () => {
    const effects = dispatchEffects([
      rule("rule_20260101_01", { op: "no_retry", match: { capability: "fetch", error_code: "HTTP_429", domain: "Slow.Example" } }),
      rule("rule_20260101_02", { op: "max_attempts", match: { capability: "fetch" }, attempts: 5 }),
      rule("rule_20260101_03", { op: "max_attempts", match: { capability: "fetch" }, attempts: 0 }),
      rule("rule_20260101_04", { op: "insert_before", capability: "summarize", insert: "clean_text" }),
    ]);
    expect(effects).toEqual([
      { rule_id: "rule_20260101_01", effect: { op: "no_retry", match: { capability: "fetch", error_code: "HTTP_429", domain: "slow.example" } } },
      { rule_id: "rule_20260101_02", effect: { op: "max_attempts", match: { capability: "fetch" }, attempts: 5 } },
    ]);
  });

  it("match on capability, and on error code and domain when the rule names them", () => {
    const m = { capability: "fetch", error_code: "HTTP_429", domain: "slow.example" };
    expect(matches(m, { capability: "fetch", error_code: "HTTP_429", domain: "slow.example" })).toBe(true);
    expect(matches(m, { capability: "fetch", error_code: "HTTP_429", domain: "fast.example" })).toBe(false);
    expect(matches({ capability: "fetch" }, { capability: "fetch", error_code: "TIMEOUT" })).toBe(true);
    expect(matches({ capability: "fetch" }, { capability: "compute", error_code: null })).toBe(false);
  });
});
