import { describe, expect, it } from "vitest";
import { validatePlan, type PlanIssue } from "./validate-plan.ts";
import type { PlanTask } from "./plan.ts";
import { testCatalog } from "../testing/catalog.ts";

const catalog = testCatalog();
const ref = (from_task: string, output: string) => ({ from_task, output });

function issuesOf(tasks: PlanTask[], withCatalog = true): PlanIssue[] {
  const result = validatePlan({ tasks: tasks as [PlanTask, ...PlanTask[]] }, withCatalog ? catalog : null);
  return result.ok ? [] : result.issues;
}

const fetchThenExtract: PlanTask[] = [
  { task_id: "t1", capability: "fetch", inputs: { url: "https://example.org/" }, depends_on: [] },
  { task_id: "t2", capability: "extract_text", inputs: { html: ref("t1", "html") }, depends_on: ["t1"] },
];

describe("a valid plan", () => {
  it("passes: known capabilities, required inputs given, references wired to dependencies", () => {
    expect(issuesOf(fetchThenExtract)).toEqual([]);
  });

  it("may refer to an output field the producer's schema declares beyond its artifact types", () => {
    const tasks: PlanTask[] = [...fetchThenExtract, { task_id: "t3", capability: "summarize", inputs: { text: ref("t2", "title") }, depends_on: ["t2"] }];
    expect(issuesOf(tasks)).toEqual([]);
  });

  it("may leave optional inputs out and give them as literals", () => {
    const tasks: PlanTask[] = [{ task_id: "s", capability: "summarize", inputs: { text: "Some text.", max_sentences: 2 }, depends_on: [] }];
    expect(issuesOf(tasks)).toEqual([]);
  });
});

describe("issues name the task and the field", () => {
  it("an empty plan", () => {
    expect(issuesOf([])).toEqual([{ code: "EMPTY_PLAN", task_id: null, field: "tasks", message: "the plan has no tasks" }]);
  });

  it("duplicate task ids", () => {
    const tasks = [...fetchThenExtract, { ...fetchThenExtract[0]! }];
    expect(issuesOf(tasks)).toContainEqual(expect.objectContaining({ code: "DUPLICATE_TASK_ID", task_id: "t1", field: "task_id" }));
  });

  it("an unknown capability, listing the known ones", () => {
    const [issue] = issuesOf([{ task_id: "t1", capability: "transcribe", inputs: {}, depends_on: [] }]);
    expect(issue).toMatchObject({ code: "UNKNOWN_CAPABILITY", task_id: "t1", field: "capability" });
    expect(issue?.message).toBe('t1 uses capability "transcribe", which is not registered (known: compute, extract_text, fetch, find_mentions, summarize)');
  });

  it("a missing required input, with its artifact type", () => {
    const [issue] = issuesOf([{ task_id: "t1", capability: "find_mentions", inputs: { text: "abc" }, depends_on: [] }]);
    expect(issue).toEqual({ code: "MISSING_INPUT", task_id: "t1", field: "inputs.terms", message: 't1 (find_mentions) is missing required input "terms" (terms)' });
  });

  it("an input the capability does not take", () => {
    const [issue] = issuesOf([{ task_id: "t1", capability: "fetch", inputs: { url: "https://a.example/", method: "POST" }, depends_on: [] }]);
    expect(issue).toMatchObject({ code: "UNKNOWN_INPUT", task_id: "t1", field: "inputs.method" });
  });

  it("a dependency on a task that does not exist, and on itself", () => {
    const issues = issuesOf([{ task_id: "t1", capability: "fetch", inputs: { url: "https://a.example/" }, depends_on: ["t9", "t1"] }]);
    expect(issues.map((i) => [i.code, i.task_id, i.field])).toEqual([
      ["UNKNOWN_DEPENDENCY", "t1", "depends_on"],
      ["SELF_DEPENDENCY", "t1", "depends_on"],
    ]);
  });

  it("a reference to a task that is not in depends_on", () => {
    const tasks: PlanTask[] = [fetchThenExtract[0]!, { task_id: "t2", capability: "extract_text", inputs: { html: ref("t1", "html") }, depends_on: [] }];
    expect(issuesOf(tasks)).toEqual([
      { code: "REFERENCE_NOT_A_DEPENDENCY", task_id: "t2", field: "inputs.html", message: 't2 input "html" refers to t1.html, but t1 is not in its depends_on' },
    ]);
  });

  it("a reference to a task that does not exist", () => {
    const tasks: PlanTask[] = [{ task_id: "t2", capability: "extract_text", inputs: { html: ref("t7", "html") }, depends_on: [] }];
    expect(issuesOf(tasks)).toContainEqual(expect.objectContaining({ code: "REFERENCE_UNKNOWN_TASK", task_id: "t2", field: "inputs.html" }));
  });

  it("a reference to an output field the dependency does not produce", () => {
    const tasks: PlanTask[] = [fetchThenExtract[0]!, { task_id: "t2", capability: "extract_text", inputs: { html: ref("t1", "body") }, depends_on: ["t1"] }];
    expect(issuesOf(tasks)).toEqual([
      { code: "REFERENCE_UNKNOWN_OUTPUT", task_id: "t2", field: "inputs.html", message: 't2 input "html" refers to t1.body, but t1 (fetch) produces html' },
    ]);
  });

  it("a reference whose artifact type does not fit the input", () => {
    const tasks: PlanTask[] = [fetchThenExtract[0]!, { task_id: "t2", capability: "summarize", inputs: { text: ref("t1", "html") }, depends_on: ["t1"] }];
    expect(issuesOf(tasks)).toEqual([{ code: "REFERENCE_TYPE_MISMATCH", task_id: "t2", field: "inputs.text", message: 't2 input "text" takes text, but t1.html is html' }]);
  });

  it("a cycle, shown as a path", () => {
    const tasks: PlanTask[] = [
      { task_id: "a", capability: "extract_text", inputs: { html: ref("c", "html") }, depends_on: ["c"] },
      { task_id: "b", capability: "summarize", inputs: { text: ref("a", "text") }, depends_on: ["a"] },
      { task_id: "c", capability: "fetch", inputs: { url: "https://a.example/" }, depends_on: ["b"] },
    ];
    const cycle = issuesOf(tasks).find((i) => i.code === "CYCLE");
    expect(cycle?.field).toBe("depends_on");
    expect(cycle?.message).toMatch(/^the plan has a cycle: (\w) → (\w) → (\w) → \1$/);
  });
});

describe("without a catalog", () => {
  it("checks structure only: ids, dependencies, cycles and references to dependencies", () => {
    const tasks: PlanTask[] = [
      { task_id: "t1", capability: "anything", inputs: {}, depends_on: ["t2"] },
      { task_id: "t2", capability: "else", inputs: { x: ref("t1", "y") }, depends_on: ["t1"] },
    ];
    expect(issuesOf(tasks, false).map((i) => i.code)).toEqual(["CYCLE"]);
    expect(issuesOf([{ task_id: "t1", capability: "transcribe", inputs: {}, depends_on: [] }], false)).toEqual([]);
  });
});
