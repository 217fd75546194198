import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mine } from "../../agents/learning_agent/miner/index.ts";
import { generate } from "../../eval/learning/generate.ts";
import { mulberry32 } from "../../eval/learning/prng.ts";
import { evaluate } from "../../eval/learning/run.ts";
import { combine } from "../../eval/learning/score.ts";
import { issuesOf, summarize } from "./helpers.ts";

const out = mkdtempSync(join(tmpdir(), "learning-eval-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("learning evaluation", () => {
  it("is seeded: the same seed gives the same records and truth, another seed others", () => {
    expect(mulberry32(7).next()).toBe(mulberry32(7).next());
    const a = generate(3);
    expect(generate(3)).toEqual(a);
    expect(generate(4).records[0]).not.toEqual(a.records[0]);
  });

  it("generates valid workflow records, plants every kind from once to many times, and lists decoys", () => {
    const { records, truth } = generate(2);
    for (const r of records) expect(issuesOf("workflow_record", r)).toEqual([]);
    expect(new Set(truth.planted.map((p) => p.kind))).toEqual(new Set(["action_failure", "missing_step", "redundant_task", "task_order", "source_conflict"]));
    expect(truth.decoys.length).toBeGreaterThan(5);
    const summary = summarize(records, "batch_eval_2");
    expect(issuesOf("memory_summary", summary)).toEqual([]);
    expect(issuesOf("learning_report", mine(summary, { date: "2026-02-24" }))).toEqual([]);
  });

  it("meets its targets on five seeds: precision ≥ 0.95, recall ≥ 0.9 for patterns seen 3+ times, no duplicates, Brier ≤ 0.1", () => {
    const results = [1, 2, 3, 4, 5].map((seed) => evaluate(seed));
    const overall = combine(results.map((r) => r.overall));
    expect(overall.precision).toBeGreaterThanOrEqual(0.95);
    expect(overall.recall_3plus).toBeGreaterThanOrEqual(0.9);
    expect(overall.duplicates).toBe(0);
    expect(overall.brier).toBeLessThanOrEqual(0.1);
    expect(overall.confident_decoy_rules).toBe(0);
  });

  it("writes each case's records, ground truth, summary and report beside each other", () => {
    evaluate(9, out);
    const dir = join(out, "seed-9");
    const truth = JSON.parse(readFileSync(join(dir, "truth.json"), "utf8"));
    const lines = readFileSync(join(dir, "records.jsonl"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(truth.records);
    expect(JSON.parse(readFileSync(join(dir, "report.json"), "utf8")).learning_report.batch_id).toBe("batch_eval_9");
  });
});
