import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../../runtime/envelope/types.ts";
import type { AgentContext, ApprovedRule } from "../../../runtime/agent-api.ts";
import { rolloutBucket } from "../../../runtime/rules/rollout.ts";
import { applyPlanningRules } from "./rules.ts";
import { validatePlan } from "./validate-plan.ts";
import type { Plan, PlanTask } from "./plan.ts";
import { rulesInForce } from "../rules-in-force.ts";
import { CLEAN_TEXT, testCatalog } from "../testing/catalog.ts";

const catalog = testCatalog([CLEAN_TEXT]);
const rule = (rule_id: string, effect: JsonObject) => ({ rule_id, effect });
const task = (task_id: string, capability: string, inputs: JsonObject, depends_on: string[] = []): PlanTask => ({ task_id, capability, inputs, depends_on });
const planOf = (tasks: PlanTask[], category?: string): Plan => ({ plan_id: "p", request: "r", tasks: tasks as Plan["tasks"], rationale: "x", rules_applied: [], ...(category ? { category } : {}) });
const ids = (p: Plan): string[] => p.tasks.map((t) => t.task_id);

const summarizePage = (): PlanTask[] => [
  task("t1", "fetch", { url: "https://a.example/" }),
  task("t2", "extract_text", { html: { from_task: "t1", output: "html" } }, ["t1"]),
  task("t3", "summarize", { text: { from_task: "t2", output: "text" } }, ["t2"]),
];

describe("insert_before honours its category", () => {
  const r = rule("rule_20260101_01", { op: "insert_before", capability: "summarize", insert: "clean_text", category: "reports" });
  it("applies to a plan of that category", () => {
    const out = applyPlanningRules(planOf(summarizePage(), "reports"), [r], catalog);
    expect(out.plan.tasks.map((t) => t.capability)).toEqual(["fetch", "extract_text", "clean_text", "summarize"]);
    expect(out.plan.rules_applied).toEqual(["rule_20260101_01"]);
    expect(out.notes.join("\n")).toContain("rule_20260101_01: inserted clean_text");
  });
  it("does not apply to another category, or to a plan without one", () => {
    for (const category of ["news", undefined]) {
      const out = applyPlanningRules(planOf(summarizePage(), category), [r], catalog);
      expect(out.plan.tasks).toHaveLength(3);
      expect(out.applied).toEqual([]);
    }
  });
});

describe("prefer_order", () => {
  const tasks = (): PlanTask[] => [task("t1", "fetch", { url: "https://a.example/" }), task("t2", "extract_text", { html: { from_task: "t1", output: "html" } }, ["t1"]), task("t3", "compute", { expression: "6*7" })];
  it("puts independent tasks in the preferred order of their capabilities, dependencies first", () => {
    const out = applyPlanningRules(planOf(tasks(), "mixed"), [rule("rule_20260101_02", { op: "prefer_order", order: ["compute", "fetch"], category: "mixed" })], catalog);
    expect(ids(out.plan)).toEqual(["t3", "t1", "t2"]);
    expect(out.plan.rules_applied).toEqual(["rule_20260101_02"]);
    expect(validatePlan(out.plan, catalog)).toEqual({ ok: true });
  });
  it("never puts a task before its dependency", () => {
    const out = applyPlanningRules(planOf(tasks()), [rule("rule_20260101_03", { op: "prefer_order", order: ["extract_text", "fetch"] })], catalog);
    expect(ids(out.plan)).toEqual(["t1", "t2", "t3"]);
    expect(out.applied).toEqual([]);
  });
  it("is not listed when the plan is already in that order, nor for another category", () => {
    expect(applyPlanningRules(planOf(tasks()), [rule("rule_20260101_04", { op: "prefer_order", order: ["fetch", "compute"] })], catalog).applied).toEqual([]);
    expect(ids(applyPlanningRules(planOf(tasks(), "other"), [rule("rule_20260101_05", { op: "prefer_order", order: ["compute", "fetch"], category: "mixed" })], catalog).plan)).toEqual(["t1", "t2", "t3"]);
  });
});

describe("dedupe", () => {
  it("removes a second task with the same capability and inputs and rewires its dependants", () => {
    const plan = planOf([
      task("t1", "fetch", { url: "https://a.example/" }),
      task("t2", "fetch", { url: "https://a.example/" }),
      task("t3", "extract_text", { html: { from_task: "t2", output: "html" } }, ["t2"]),
      task("t4", "fetch", { url: "https://b.example/" }),
    ]);
    const out = applyPlanningRules(plan, [rule("rule_20260101_06", { op: "dedupe", capability: "fetch" })], catalog);
    expect(out.plan.tasks.map((t) => [t.task_id, t.inputs, t.depends_on])).toEqual([
      ["t1", { url: "https://a.example/" }, []],
      ["t3", { html: { from_task: "t1", output: "html" } }, ["t1"]],
      ["t4", { url: "https://b.example/" }, []],
    ]);
    expect(out.plan.rules_applied).toEqual(["rule_20260101_06"]);
    expect(out.notes).toEqual(["rule_20260101_06: merged duplicate fetch tasks (t2 into t1)"]);
    expect(validatePlan(out.plan, catalog)).toEqual({ ok: true });
  });
  it("keeps tasks of the same capability with different inputs", () => {
    const plan = planOf([task("t1", "fetch", { url: "https://a.example/" }), task("t2", "fetch", { url: "https://b.example/" })]);
    expect(applyPlanningRules(plan, [rule("rule_20260101_07", { op: "dedupe", capability: "fetch" })], catalog).applied).toEqual([]);
  });
});

describe("rules in force", () => {
  const ctxFor = (rules: ApprovedRule[], session: string) =>
    // A context with only the fields the rule filter reads.
    ({ rules, spec: { name: "planning_agent" }, message: { metadata: { session_id: session } } }) as unknown as Pick<AgentContext, "rules" | "spec" | "message">;
  const approved = (rule_id: string, extra: Partial<ApprovedRule> = {}): ApprovedRule => ({ rule_id, target_agent: "planning_agent", trigger_condition: "c", instruction: "i", path: `context/memory/${rule_id}.md`, ...extra });
  // Sessions on either side of a 50% rollout of rule_20260101_08.
  const sessions = Array.from({ length: 40 }, (_, i) => `s-${i}`);
  const inside = sessions.find((s) => rolloutBucket("rule_20260101_08", s) < 5000) as string;
  const outside = sessions.find((s) => rolloutBucket("rule_20260101_08", s) >= 5000) as string;

  it("keeps a rule without rollout_percent for every session, and a partial one only inside its share", () => {
    const rules = [approved("rule_20260101_09"), approved("rule_20260101_08", { rollout_percent: 50 })];
    expect(rulesInForce(ctxFor(rules, inside)).map((r) => r.rule_id)).toEqual(["rule_20260101_09", "rule_20260101_08"]);
    expect(rulesInForce(ctxFor(rules, outside)).map((r) => r.rule_id)).toEqual(["rule_20260101_09"]);
  });
  it("drops a rule targeted at another agent", () => {
    expect(rulesInForce(ctxFor([approved("rule_20260101_10", { target_agent: "dispatch_agent" })], inside))).toEqual([]);
  });
  it("an out-of-rollout dedupe rule leaves the plan alone", () => {
    const plan = planOf([task("t1", "fetch", { url: "https://a.example/" }), task("t2", "fetch", { url: "https://a.example/" })]);
    const r = approved("rule_20260101_08", { rollout_percent: 50, effect: { op: "dedupe", capability: "fetch" } });
    expect(applyPlanningRules(plan, rulesInForce(ctxFor([r], outside)), catalog).plan.tasks).toHaveLength(2);
    expect(applyPlanningRules(plan, rulesInForce(ctxFor([r], inside)), catalog).plan.tasks).toHaveLength(1);
  });
});
