import { describe, expect, it } from "vitest";
import {
  applyPlan,
  applyResult,
  backoffMs,
  buildReport,
  DEFAULT_RETRY_POLICY,
  REPORT_LIMITS,
  taskContent,
  type Intent,
  type PlanRun,
  type RetryPolicy,
} from "./run-state.ts";
import { dependants, readyTasks, resolveReferences, type Plan } from "../_shared/plan/plan.ts";
import type { ActionResult } from "../../runtime/schemas/generated/content_action_result.ts";

const ref = (from_task: string, output: string) => ({ from_task, output });

/** Two branches: a.example (fetch → extract → summarize) and b.example (fetch → extract). */
const plan: Plan = {
  plan_id: "plan-r-1",
  request: "Summarize https://a.example/ and read https://b.example/",
  category: "summarize",
  rationale: "test",
  rules_applied: ["rule_20260101_09"],
  tasks: [
    { task_id: "t1", capability: "fetch", inputs: { url: "https://a.example/" }, depends_on: [] },
    { task_id: "t2", capability: "extract_text", inputs: { html: ref("t1", "html") }, depends_on: ["t1"] },
    { task_id: "t3", capability: "summarize", inputs: { text: ref("t2", "text") }, depends_on: ["t2"] },
    { task_id: "t4", capability: "fetch", inputs: { url: "https://b.example/" }, depends_on: [] },
    { task_id: "t5", capability: "extract_text", inputs: { html: ref("t4", "html") }, depends_on: ["t4"] },
  ],
};

let seq = 0;
const msg = (): string => `msg-act-20260101-120000-${++seq}`;

function ok(task_id: string, attempt: number, outputs: Record<string, string>, extra: Partial<ActionResult> = {}): ActionResult {
  return { plan_id: plan.plan_id, task_id, capability: plan.tasks.find((t) => t.task_id === task_id)!.capability, outputs, duration_ms: 10, refs: [], attempt, ...extra };
}
function failed(task_id: string, attempt: number, code: string, recoverable: boolean, extra: Partial<ActionResult> & { retry_after_ms?: number } = {}): ActionResult {
  const { retry_after_ms, ...rest } = extra;
  return { ...ok(task_id, attempt, {}), error: { code, message: `${code} from test`, recoverable, ...(retry_after_ms !== undefined ? { retry_after_ms } : {}) }, ...rest };
}
const tasksOf = (intents: Intent[]) => intents.map((i) => (i.kind === "task" ? `${i.task_id}#${i.attempt}${i.delay_ms ? `+${i.delay_ms}ms` : ""}` : "report"));

function started(): PlanRun {
  return applyPlan(undefined, structuredClone(plan), msg()).run;
}

describe("DAG helpers", () => {
  it("ready tasks are the pending ones whose dependencies all succeeded", () => {
    const status: Record<string, "pending" | "succeeded"> = { t1: "succeeded", t2: "pending", t3: "pending", t4: "pending", t5: "pending" };
    expect(readyTasks(plan, (id) => status[id]).map((t) => t.task_id)).toEqual(["t2", "t4"]);
  });

  it("dependants are transitive, in plan order", () => {
    expect(dependants(plan, "t1")).toEqual(["t2", "t3"]);
    expect(dependants(plan, "t5")).toEqual([]);
  });

  it("references resolve to the outputs they name, and a missing output is a clear error", () => {
    expect(resolveReferences(plan.tasks[1]!, () => ({ html: "<p>x</p>" }))).toEqual({ html: "<p>x</p>" });
    expect(() => resolveReferences(plan.tasks[1]!, () => ({ body: "x" }))).toThrow('task t2 input "html" refers to t1.html, but its outputs have no field "html" (they have: body)');
  });
});

describe("running a plan", () => {
  it("sends every ready task at once: one per independent branch", () => {
    const { intents } = applyPlan(undefined, structuredClone(plan), msg());
    expect(tasksOf(intents)).toEqual(["t1#1", "t4#1"]);
  });

  it("a success releases the tasks waiting for it, with references resolved", () => {
    const run = started();
    const { intents } = applyResult(run, ok("t1", 1, { html: "<p>A</p>" }, { domain: "a.example" }), msg());
    expect(tasksOf(intents)).toEqual(["t2#1"]);
    expect(taskContent(run, intents[0] as Extract<Intent, { kind: "task" }>)).toEqual({ plan_id: "plan-r-1", task_id: "t2", capability: "extract_text", inputs: { html: "<p>A</p>" }, attempt: 1 });
  });

  it("reports once, when every task is settled", () => {
    const run = started();
    const steps: Array<[ActionResult, string[]]> = [
      [ok("t1", 1, { html: "<p>A</p>" }), ["t2#1"]],
      [ok("t4", 1, { html: "<p>B</p>" }), ["t5#1"]],
      [ok("t2", 1, { text: "A" }), ["t3#1"]],
      [ok("t5", 1, { text: "B" }), []],
      [ok("t3", 1, { summary: "A." }), ["report"]],
    ];
    for (const [result, expected] of steps) expect(tasksOf(applyResult(run, result, msg()).intents)).toEqual(expected);
    const report = buildReport(run);
    expect(report).toMatchObject({ plan_id: "plan-r-1", request: plan.request, category: "summarize", skipped_branches: [], rules_applied: ["rule_20260101_09"] });
    expect(report.tasks.map((t) => [t.task_id, t.status, t.attempts, t.error_code, t.depends_on, t.recoverable])).toEqual([
      ["t1", "succeeded", 1, null, [], false],
      ["t2", "succeeded", 1, null, ["t1"], false],
      ["t3", "succeeded", 1, null, ["t2"], false],
      ["t4", "succeeded", 1, null, [], false],
      ["t5", "succeeded", 1, null, ["t4"], false],
    ]);
  });
});

describe("failures and retries", () => {
  it("retries a recoverable failure with exponential backoff, then succeeds (attempts 3)", () => {
    const run = started();
    expect(tasksOf(applyResult(run, failed("t1", 1, "HTTP_429", true), msg()).intents)).toEqual(["t1#2+500ms"]);
    expect(tasksOf(applyResult(run, failed("t1", 2, "HTTP_429", true), msg()).intents)).toEqual(["t1#3+1000ms"]);
    expect(tasksOf(applyResult(run, ok("t1", 3, { html: "x" }, { domain: "a.example" }), msg()).intents)).toEqual(["t2#1"]);
    expect(run.tasks.t1).toMatchObject({ status: "succeeded", attempts: 3, duration_ms: 30, error_code: "HTTP_429", recoverable: true, domain: "a.example" });
  });

  it("honours Retry-After, capped at 30 s", () => {
    const run = started();
    expect(tasksOf(applyResult(run, failed("t1", 1, "HTTP_429", true, { retry_after_ms: 2_000 }), msg()).intents)).toEqual(["t1#2+2000ms"]);
    expect(tasksOf(applyResult(run, failed("t1", 2, "HTTP_429", true, { retry_after_ms: 120_000 }), msg()).intents)).toEqual(["t1#3+30000ms"]);
    expect(backoffMs(1, undefined, DEFAULT_RETRY_POLICY)).toBe(500);
    expect(backoffMs(7, undefined, DEFAULT_RETRY_POLICY)).toBe(30_000);
  });

  it("gives up after the last attempt: the task fails and its dependants are skipped", () => {
    const run = started();
    applyResult(run, failed("t1", 1, "TIMEOUT", true), msg());
    applyResult(run, failed("t1", 2, "TIMEOUT", true), msg());
    expect(tasksOf(applyResult(run, failed("t1", 3, "TIMEOUT", true), msg()).intents)).toEqual([]);
    expect([run.tasks.t1?.status, run.tasks.t2?.status, run.tasks.t3?.status]).toEqual(["failed", "skipped", "skipped"]);
  });

  it("a non-recoverable failure is not retried; the other branch carries on and the report says what was skipped", () => {
    const run = started();
    const applied = applyResult(run, failed("t1", 1, "HTTP_404", false, { domain: "a.example" }), msg());
    expect(tasksOf(applied.intents)).toEqual([]);
    expect(applied.notes).toEqual(["t1 (fetch) failed with HTTP_404: not recoverable; skipped t2, t3"]);
    applyResult(run, ok("t4", 1, { html: "<p>B</p>" }), msg());
    expect(tasksOf(applyResult(run, ok("t5", 1, { text: "B" }), msg()).intents)).toEqual(["report"]);
    const report = buildReport(run);
    expect(report.skipped_branches).toEqual(["t2", "t3"]);
    expect(report.tasks.slice(0, 3).map((t) => [t.status, t.attempts, t.error_code, t.outputs, t.duration_ms, t.domain])).toEqual([
      ["failed", 1, "HTTP_404", null, 10, "a.example"],
      ["skipped", 0, null, null, 0, undefined],
      ["skipped", 0, null, null, 0, undefined],
    ]);
  });

  it("rules change retry decisions and are listed in the report", () => {
    const policy: RetryPolicy = {
      ...DEFAULT_RETRY_POLICY,
      rules: [
        { rule_id: "rule_20260101_01", effect: { op: "no_retry", match: { capability: "fetch", error_code: "HTTP_503", domain: "b.example" } } },
        { rule_id: "rule_20260101_02", effect: { op: "max_attempts", match: { capability: "fetch", error_code: "HTTP_429" }, attempts: 2 } },
      ],
    };
    const run = started();
    expect(tasksOf(applyResult(run, failed("t4", 1, "HTTP_503", true, { domain: "b.example" }), msg(), policy).intents)).toEqual([]);
    expect(run.tasks.t4?.status).toBe("failed");
    expect(tasksOf(applyResult(run, failed("t1", 1, "HTTP_429", true), msg(), policy).intents)).toEqual(["t1#2+500ms"]);
    expect(tasksOf(applyResult(run, failed("t1", 2, "HTTP_429", true), msg(), policy).intents)).toEqual(["report"]);
    expect(buildReport(run).rules_applied).toEqual(["rule_20260101_09", "rule_20260101_01", "rule_20260101_02"]);
  });
});

describe("exactly once", () => {
  it("a result arriving twice (another message, same task and attempt) is applied once", () => {
    const run = started();
    expect(tasksOf(applyResult(run, ok("t1", 1, { html: "x" }), msg()).intents)).toEqual(["t2#1"]);
    const again = applyResult(run, ok("t1", 1, { html: "x" }), msg());
    expect(again.intents).toEqual([]);
    expect(again.notes).toEqual(["result for t1#1 was already applied; ignored"]);
    expect(run.tasks.t1?.duration_ms).toBe(10);
  });

  it("a redelivered message (same id) gives the same intents and changes nothing", () => {
    const run = started();
    const id = msg();
    const first = applyResult(run, failed("t1", 1, "HTTP_429", true), id);
    const before = structuredClone(run);
    const second = applyResult(run, failed("t1", 1, "HTTP_429", true), id);
    expect(second).toMatchObject({ fresh: false, intents: first.intents });
    expect(run).toEqual(before);
    const planId = msg();
    const r1 = applyPlan(undefined, structuredClone(plan), planId);
    expect(applyPlan(r1.run, structuredClone(plan), planId)).toMatchObject({ fresh: false, intents: r1.intents });
  });

  it("a result for an attempt that is no longer current is ignored", () => {
    const run = started();
    applyResult(run, failed("t1", 1, "HTTP_500", true), msg());
    expect(applyResult(run, ok("t1", 1, { html: "late" }), msg()).intents).toEqual([]);
    expect(run.tasks.t1).toMatchObject({ status: "running", attempts: 2 });
  });
});

describe("the report", () => {
  it("cuts the HTML of pages a later task already read, and keeps final outputs whole", () => {
    const run = started();
    const html = "x".repeat(REPORT_LIMITS.intermediateHtml + 500);
    applyResult(run, ok("t1", 1, { html }), msg());
    applyResult(run, ok("t2", 1, { text: "t".repeat(50_000) }), msg());
    applyResult(run, ok("t3", 1, { summary: "s".repeat(5_000) }), msg());
    const report = buildReport(run);
    expect(report.tasks[0]?.outputs?.html).toBe(`${"x".repeat(REPORT_LIMITS.intermediateHtml)}… [500 more characters not shown]`);
    expect(report.tasks[1]?.outputs?.text).toHaveLength(50_000);
    expect(report.tasks[2]?.outputs?.summary).toHaveLength(5_000);
  });

  it("cuts the longest strings to a common length when the outputs together are too large", () => {
    const run = started();
    applyResult(run, ok("t1", 1, { html: "<p/>" }), msg());
    applyResult(run, ok("t2", 1, { text: "a".repeat(200_000) }), msg());
    applyResult(run, ok("t4", 1, { html: "<p/>" }), msg());
    applyResult(run, ok("t5", 1, { text: "b".repeat(200_000) }), msg());
    applyResult(run, ok("t3", 1, { summary: "short" }), msg());
    const report = buildReport(run);
    const texts = [report.tasks[1]?.outputs?.text, report.tasks[4]?.outputs?.text] as string[];
    for (const t of texts) expect(t).toMatch(/… \[\d+ more characters not shown\]$/);
    expect(texts[0]!.length + texts[1]!.length).toBeLessThanOrEqual(REPORT_LIMITS.totalChars + 100);
    expect(report.tasks[2]?.outputs?.summary).toBe("short");
  });
});
