import { describe, expect, it } from "vitest";
import { schemaRegistry } from "../../../runtime/schemas/registry.ts";
import { synthesize } from "./synthesize.ts";
import { synthesisPrompt, withLlmAnswer } from "./llm.ts";
import { computed, extracted, failed, fetched, mentions, report, skipped, summarized, twoPagesDisagreeing } from "../../_shared/testing/reports.ts";

const registry = schemaRegistry();
const validSynthesis = (value: unknown) => registry.check(registry.contentSchemaId("synthesis") ?? "", value);

const onePage = () =>
  report([
    fetched("t1", "lyon.example"),
    extracted("t2", "t1", "Lyon", "Lyon is a city in France. The population of Lyon is 513,275. Lyon sits where the Rhône meets the Saône."),
    mentions("t3", ["t2"], { "Rhône": ["Lyon sits where the Rhône meets the Saône."], Paris: [] }),
    summarized("t4", "t2", "Lyon is a city in France with 513,275 inhabitants."),
  ]);

describe("the synthesis when every task succeeded", () => {
  const result = synthesize(onePage());

  it("answers from the results: the page title, mentions per term with counts and passages, the summary", () => {
    const { answer } = result.synthesis;
    expect(answer).toContain("All 4 tasks succeeded.");
    expect(answer).toContain('Page "Lyon" [t2]');
    expect(answer).toContain('Mentions [t3]: "Rhône" 1 time, "Paris" not found.');
    expect(answer).toContain('  - "Rhône": "Lyon sits where the Rhône meets the Saône."');
    expect(answer).toContain("Summary [t4]: Lyon is a city in France with 513,275 inhabitants.");
    expect(answer).not.toContain("<html>"); // the fetched page is an intermediate step, not an answer
    expect(answer).not.toContain("Not done");
  });

  it("gives one finding per thing a result shows, naming the task behind it", () => {
    expect(result.synthesis.findings).toEqual([
      { statement: "Fetched lyon.example (HTTP 200, 67 bytes, text/html).", task_ids: ["t1"] },
      { statement: 'The page\'s title is "Lyon".', task_ids: ["t2"] },
      { statement: '"Rhône" is mentioned 1 time.', task_ids: ["t3"] },
      { statement: '"Paris" is mentioned 0 times.', task_ids: ["t3"] },
      { statement: "Summary: Lyon is a city in France with 513,275 inhabitants.", task_ids: ["t4"] },
    ]);
  });

  it("is a success with high confidence, no contradictions (one page is one source), and valid content", () => {
    expect(result.outcome).toMatchObject({ status: "success", total: 4, succeeded: 4 });
    expect(result.error).toBeNull();
    expect(result.synthesis.contradictions).toEqual([]);
    expect(result.synthesis.confidence).toBe(0.9);
    expect(validSynthesis(result.synthesis)).toEqual([]);
  });
});

describe("the synthesis when some tasks failed", () => {
  const partial = report([
    fetched("t1", "lyon.example"),
    extracted("t2", "t1", "Lyon", "Lyon is a city."),
    failed("t3", "fetch", "HTTP_404", { domain: "gone.example", error_message: "GET https://gone.example/ answered 404 Not Found" }),
    skipped("t4", "extract_text", ["t3"]),
    failed("t5", "fetch", "HTTP_429", { domain: "busy.example", attempts: 3, recoverable: true }),
  ]);
  const result = synthesize(partial);

  it("says plainly what failed or was skipped and why, with the error codes", () => {
    const { answer } = result.synthesis;
    expect(answer).toContain("Only 2 of 5 tasks succeeded, so this answer is incomplete (2 failed, 1 skipped).");
    expect(answer).toContain("- t3 (fetch) failed after 1 attempt with HTTP_404 (not found) on gone.example: GET https://gone.example/ answered 404 Not Found");
    expect(answer).toContain("- t4 (extract_text) was skipped: it depends on t3 (failed).");
    expect(answer).toContain("- t5 (fetch) failed after 3 attempts with HTTP_429 (rate limited) on busy.example");
    expect(result.synthesis.findings.filter((f) => f.task_ids.includes("t4"))).toEqual([{ statement: "t4 (extract_text) was skipped: it depends on t3 (failed).", task_ids: ["t4"] }]);
  });

  it("is partial, without an error, and less confident", () => {
    expect(result.outcome.status).toBe("partial");
    expect(result.error).toBeNull();
    expect(result.synthesis.confidence).toBe(0.36); // 0.9 × 2/5
    expect(validSynthesis(result.synthesis)).toEqual([]);
  });
});

describe("the synthesis when nothing succeeded", () => {
  const result = synthesize(report([failed("t1", "fetch", "TIMEOUT", { attempts: 3, domain: "slow.example" }), skipped("t2", "extract_text", ["t1"])]));

  it("is failed with ALL_TASKS_FAILED, zero confidence and an answer that says why", () => {
    expect(result.outcome.status).toBe("failed");
    expect(result.error).toEqual({ code: "ALL_TASKS_FAILED", message: "no task succeeded: 1 failed (t1 TIMEOUT (slow.example)), 1 skipped" });
    expect(result.synthesis.confidence).toBe(0);
    expect(result.synthesis.answer).toContain("No result: none of the 2 tasks succeeded (1 failed, 1 skipped).");
    expect(result.synthesis.answer).toContain("t1 (fetch) failed after 3 attempts with TIMEOUT (timed out) on slow.example");
    expect(validSynthesis(result.synthesis)).toEqual([]);
  });

  it("is failed with NO_TASKS for an empty report", () => {
    expect(synthesize(report([])).error?.code).toBe("NO_TASKS");
  });
});

describe("contradictions between results", () => {
  it("flags two pages giving different values for the same subject, with the task behind each value", () => {
    const result = synthesize(twoPagesDisagreeing());
    expect(result.synthesis.contradictions).toEqual([
      { subject: "population of lyon", values: [{ value: 513275, task_id: "t2" }, { value: 522228, task_id: "t4" }] },
    ]);
    expect(result.synthesis.answer).toContain("The results disagree:\n- population of lyon: 513275 (t2) vs 522228 (t4)");
    expect(result.synthesis.confidence).toBe(0.68); // 0.9 × 0.75
  });

  it("does not flag a page against its own summary, and reports agreement between two pages as a finding", () => {
    const agreeing = report([
      fetched("t1", "a.example"),
      extracted("t2", "t1", "A", "In 1990 the population of Lyon was 415,487. Today the population of Lyon is 513,275."),
      summarized("t3", "t2", "The population of Lyon was 415,487."),
      fetched("t4", "b.example"),
      extracted("t5", "t4", "B", "Lyon has a population of 513,275 and two rivers."),
    ]);
    const result = synthesize(agreeing);
    expect(result.synthesis.contradictions).toEqual([]);
    expect(result.synthesis.findings).toContainEqual({ statement: "2 sources agree: population of lyon is 513275.", task_ids: ["t2", "t5"] });
  });

  it("flags two computations of the same expression with different values", () => {
    const result = synthesize(report([computed("t1", "2 + 3 * 4", 14), computed("t2", "2+3*4", 20), computed("t3", "1 + 1", 2)]));
    expect(result.synthesis.contradictions).toEqual([{ subject: "value of 2 + 3 * 4", values: [{ value: 14, task_id: "t1" }, { value: 20, task_id: "t2" }] }]);
    expect(result.synthesis.answer).toContain("Computed [t1]: 2 + 3 * 4 = 14.");
    expect(result.synthesis.findings).toContainEqual({ statement: "1 + 1 = 2.", task_ids: ["t3"] });
  });

  it("tells sources apart by task when the report carries no plan edges", () => {
    const legacy = twoPagesDisagreeing();
    for (const t of legacy.tasks) delete t.depends_on;
    expect(synthesize(legacy).synthesis.contradictions.map((c) => c.subject)).toEqual(["population of lyon"]);
  });
});

describe("the LLM-written answer", () => {
  it("puts the results, and only them, in the prompt", () => {
    const prompt = synthesisPrompt(onePage());
    expect(prompt).toContain('"task_id": "t3"');
    expect(prompt).toContain("Lyon sits where the Rhône meets the Saône.");
    expect(prompt).toContain("characters of HTML left out");
    expect(prompt).not.toContain("<html>");
    expect(prompt).not.toContain("What does the page say about Lyon?"); // the request is not a result
  });

  it("takes only the answer text from the model and keeps the deterministic findings and contradictions", () => {
    const base = synthesize(twoPagesDisagreeing());
    const merged = withLlmAnswer(
      base,
      {
        answer: "Lyon is a French city; its population figures differ between the two pages.",
        findings: [{ statement: "made up", task_ids: ["t9"] }],
        contradictions: [{ subject: "festival", values: [{ value: "yes", task_id: "t9" }, { value: "no", task_id: "t4" }] }],
        confidence: 0.99,
      },
      twoPagesDisagreeing(),
    );
    expect(merged?.synthesis.answer).toBe(
      "Lyon is a French city; its population figures differ between the two pages.\n\nThe results disagree:\n- population of lyon: 513275 (t2) vs 522228 (t4)",
    );
    expect(merged?.synthesis.findings).toEqual(base.synthesis.findings);
    expect(merged?.synthesis.contradictions).toEqual(base.synthesis.contradictions); // t9 is no task of the report
    expect(merged?.synthesis.confidence).toBe(0.68);
  });
});
