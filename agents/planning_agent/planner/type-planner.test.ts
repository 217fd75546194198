import { describe, expect, it } from "vitest";
import { planByTypes, type TypePlanResult } from "./type-planner.ts";
import { analyzeRequest } from "../../_shared/request.ts";
import { validatePlan } from "../../_shared/plan/validate-plan.ts";
import { builtinCapabilities } from "../../../runtime/capabilities/builtin/index.ts";
import type { PlanTask } from "../../_shared/plan/plan.ts";
import { testCatalog, declare, catalogOf, BUILTINS } from "../../_shared/testing/catalog.ts";

const catalog = testCatalog();
const plan = (text: string, extra: { steps?: string[]; refs?: Array<{ ref_id: string; uri: string }>; category?: string } = {}): TypePlanResult =>
  planByTypes({ text, ...extra }, catalog, { planId: "plan-r-test" });

/** "t1 fetch(url) | t2 extract_text(html←t1.html)" — a compact picture of a plan. */
function shape(result: TypePlanResult): string[] {
  if (!result.ok) throw new Error(`unplannable: ${result.missing}`);
  return result.plan.tasks.map(describe1);
}
function describe1(t: PlanTask): string {
  const inputs = Object.entries(t.inputs).map(([k, v]) =>
    v !== null && typeof v === "object" && !Array.isArray(v) && "from_task" in v ? `${k}←${JSON.stringify(v.from_task)}.${JSON.stringify(v.output)}`.replace(/"/g, "") : `${k}=${JSON.stringify(v)}`,
  );
  return `${t.task_id} ${t.capability}(${inputs.join(", ")})${t.depends_on.length > 0 ? ` after ${t.depends_on.join(",")}` : ""}`;
}
const missing = (result: TypePlanResult): string => (result.ok ? "(planned)" : result.missing);

describe("planning by types: the shortest chain from what is given to what is asked", () => {
  it("a summary of a page: fetch → extract_text → summarize", () => {
    const result = plan("Summarize https://example.org/a");
    expect(shape(result)).toEqual([
      't1 fetch(url="https://example.org/a")',
      "t2 extract_text(html←t1.html) after t1",
      "t3 summarize(text←t2.text) after t2",
    ]);
    expect(result).toMatchObject({ ok: true, category: "summarize", plan: { plan_id: "plan-r-test", rules_applied: [], request: "Summarize https://example.org/a", category: "summarize" } });
  });

  it("mentions across two pages: one branch per URL, nothing shared, so they run in parallel", () => {
    const result = plan("Find mentions of Redis in https://example.org/a and https://example.org/b.");
    expect(shape(result)).toEqual([
      't1 fetch(url="https://example.org/a")',
      "t2 extract_text(html←t1.html) after t1",
      't3 find_mentions(text←t2.text, terms=["Redis"]) after t2',
      't4 fetch(url="https://example.org/b")',
      "t5 extract_text(html←t4.html) after t4",
      't6 find_mentions(text←t5.text, terms=["Redis"]) after t5',
    ]);
    expect(result.category).toBe("mentions");
    if (result.ok) expect(result.plan.rationale).toContain("2 independent branches run in parallel");
  });

  it.each([
    ['How often does "Postgres" appear on https://example.org/a?', ["Postgres"]],
    ["Does https://example.org/a mention Redis, Kafka or RabbitMQ?", ["Redis", "Kafka", "RabbitMQ"]],
    ["How many times is Redis mentioned on https://example.org/a?", ["Redis"]],
    ["What does https://example.org/a say about caching?", ["caching"]],
    ["Find all mentions of the word Valkey on https://example.org/a", ["Valkey"]],
    ["Look for 'Redis' and “Postgres” in https://example.org/a", ["Redis", "Postgres"]],
  ])("terms from quotes and phrases: %s", (text, terms) => {
    const result = plan(text);
    expect(result.analysis.terms).toEqual(terms);
    expect(shape(result).at(-1)).toBe(`t3 find_mentions(text←t2.text, terms=${JSON.stringify(terms)}) after t2`);
  });

  it("two goals on one page share the fetch and the extraction", () => {
    const result = plan("Summarize https://example.org/a and find mentions of 'Redis' in it");
    expect(shape(result)).toEqual([
      't1 fetch(url="https://example.org/a")',
      "t2 extract_text(html←t1.html) after t1",
      't3 find_mentions(text←t2.text, terms=["Redis"]) after t2',
      "t4 summarize(text←t2.text) after t2",
    ]);
    expect(result.category).toBe("mentions+summarize");
  });

  it("page text: fetch → extract_text", () => {
    const result = plan("Extract the text of https://example.org/a");
    expect(shape(result)).toEqual(['t1 fetch(url="https://example.org/a")', "t2 extract_text(html←t1.html) after t1"]);
    expect(result.category).toBe("extract");
  });

  it.each([
    ["What is 12 * (3 + 4)?", "12 * (3 + 4)"],
    ["2^10 - 24", "2^10 - 24"],
    ["Compute 3 plus 4 times 2", "3 + 4 * 2"],
    ["what's 7*6", "7*6"],
    ["Calculate 1.5 ** 2 / 3", "1.5 ^ 2 / 3"],
  ])("arithmetic: %s → one compute task", (text, expression) => {
    const result = plan(text);
    expect(shape(result)).toEqual([`t1 compute(expression=${JSON.stringify(expression)})`]);
    expect(result.category).toBe("compute");
  });

  it("inline text is summarized directly, without fetching anything", () => {
    const text = "Redis is an in-memory data store. It is often used as a cache. It also supports streams.";
    expect(shape(plan(`Summarize this: ${text}`))).toEqual([`t1 summarize(text=${JSON.stringify(text)})`]);
    const quoted = "Postgres keeps the system of record while Redis carries every message between the agents.";
    expect(shape(plan(`Summarize "${quoted}"`))).toEqual([`t1 summarize(text=${JSON.stringify(quoted)})`]);
  });

  it("finds terms in text handed over after a colon, but a colon alone hands nothing over", () => {
    const text = "Redis keeps data in memory and Postgres keeps it on disk for years.";
    expect(shape(plan(`Find mentions of Redis in this text: ${text}`))).toEqual([`t1 find_mentions(text=${JSON.stringify(text)}, terms=["Redis"])`]);
    const question = plan("Question: what does https://example.org/a say about pricing for students?");
    expect(question.analysis.texts).toEqual([]);
    expect(question.analysis.terms).toEqual(["pricing for students"]);
  });

  it("a URL given as a ref counts like one in the text", () => {
    expect(shape(plan("Tell me about the page", { refs: [{ ref_id: "src_1", uri: "https://example.org/r" }] }))[0]).toBe('t1 fetch(url="https://example.org/r")');
  });

  it("no stated goal: a page alone is summarized; a page with terms is searched", () => {
    expect(plan("https://example.org/a").category).toBe("summarize");
    expect(plan('"Redis" https://example.org/a').category).toBe("mentions");
  });

  it("dates and URLs with numbers are not arithmetic", () => {
    const result = plan("What's on https://example.org/2024/01/news-3-4 on 2024-01-05?");
    expect(result.analysis.expressions).toEqual([]);
    expect(result.category).toBe("summarize");
  });

  it("the request's own category wins", () => {
    expect(plan("Summarize https://example.org/a", { category: "research" })).toMatchObject({ category: "research", plan: { category: "research" } });
  });

  it("every plan it makes passes validation", () => {
    for (const text of ["Summarize https://a.example/ and https://b.example/", "Find 'x' in https://a.example/", "What is 1+2?", "Extract the text of https://a.example/"]) {
      const result = plan(text);
      expect(result.ok && validatePlan(result.plan, catalog)).toEqual({ ok: true });
    }
  });
});

describe("explicit steps are honoured", () => {
  it("runs the named steps in order, filling in the missing link", () => {
    expect(shape(plan("https://example.org/a", { steps: ["fetch", "summarize"] }))).toEqual([
      't1 fetch(url="https://example.org/a")',
      "t2 extract_text(html←t1.html) after t1",
      "t3 summarize(text←t2.text) after t2",
    ]);
  });

  it("stops where the steps stop when the request states no goal", () => {
    const result = plan("Please look at https://example.org/a", { steps: ["fetch", "extract_text"] });
    expect(shape(result)).toEqual(['t1 fetch(url="https://example.org/a")', "t2 extract_text(html←t1.html) after t1"]);
    expect(result.category).toBe("extract");
  });

  it("a step that transforms a type feeds the next one (the latest producer wins)", () => {
    const withClean = catalogOf([...BUILTINS, declare("clean_text", { consumes: { text: "text" }, produces: { text: "text" } })]);
    const result = planByTypes({ text: "Summarize https://example.org/a", steps: ["fetch", "extract_text", "clean_text", "summarize"] }, withClean, { planId: "p" });
    expect(shape(result)).toEqual([
      't1 fetch(url="https://example.org/a")',
      "t2 extract_text(html←t1.html) after t1",
      "t3 clean_text(text←t2.text) after t2",
      "t4 summarize(text←t3.text) after t3",
    ]);
  });

  it("an unknown step is unplannable, naming the known capabilities", () => {
    expect(missing(plan("https://example.org/a", { steps: ["transcribe"] }))).toBe(
      'the request names step "transcribe", which is not a capability (known: compute, extract_text, fetch, find_mentions, summarize)',
    );
  });

  it("a step whose inputs nothing provides is unplannable, saying what it needs", () => {
    expect(missing(plan("https://example.org/a", { steps: ["compute"] }))).toBe(
      'step "compute" needs expression (expression), which the request does not give and no capability yields from what it gives',
    );
  });
});

describe("unplannable requests say what is missing", () => {
  it.each([
    ["Summarize the report", "the request asks for a summary but gives no URL or text to summarize"],
    ["Summarize ftp://example.org/file.txt", "the request asks for a summary but gives no URL or text to summarize (ftp://example.org/file.txt is not an http or https URL)"],
    ["Find mentions in https://example.org/a", 'the request asks for mentions but names no terms to look for (quote them, e.g. "Redis")'],
    ['Find mentions of "Redis"', 'the request asks for mentions of "Redis" but gives no URL or text to search'],
    ["Compute the total", "the request asks for a computed number but gives no arithmetic expression (e.g. 12 * (3 + 4))"],
    ["Extract the text", "the request asks for page text but gives no URL to read it from"],
  ])("%s", (text, why) => {
    const result = plan(text);
    expect(result.ok).toBe(false);
    expect(missing(result)).toBe(why);
  });

  it("a request with no goal and nothing to work on", () => {
    expect(missing(plan("Hello there"))).toMatch(/^the request does not say what it wants and gives nothing to work on: give a URL/);
    expect(plan("Hello there").category).toBe("unknown");
  });

  it("a goal no capability chain reaches (e.g. the catalog has no summarize)", () => {
    const noSummarize = catalogOf(BUILTINS.filter((c) => c.name !== "summarize"));
    const result = planByTypes({ text: "Summarize https://example.org/a" }, noSummarize, { planId: "p" });
    expect(missing(result)).toBe("the request asks for summarize (summary), but no chain of the available capabilities leads there from what it gives");
  });
});

describe("request analysis", () => {
  it("keeps trailing punctuation out of URLs and lists each URL once", () => {
    expect(analyzeRequest({ text: "See https://a.example/x, https://a.example/x. And (https://b.example/y)!" }).urls).toEqual(["https://a.example/x", "https://b.example/y"]);
  });
});

describe("with the real built-in capabilities", () => {
  it("plans the same chains over the registry's declarations", () => {
    const real = builtinCapabilities();
    const result = planByTypes({ text: "Find mentions of 'Redis' in https://example.org/a and summarize it" }, real, { planId: "p" });
    expect(shape(result).map((s) => s.split("(")[0])).toEqual(["t1 fetch", "t2 extract_text", "t3 find_mentions", "t4 summarize"]);
    expect(result.ok && validatePlan(result.plan, real)).toEqual({ ok: true });
  });
});
