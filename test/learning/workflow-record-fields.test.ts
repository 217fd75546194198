import { describe, expect, it } from "vitest";
import { buildWorkflowRecord } from "../../agents/memory_agent/workflow-record.ts";
import { synthesize } from "../../agents/reasoning_agent/synthesis/synthesize.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import { computed, extracted, fetched, report, twoPagesDisagreeing } from "../../agents/_shared/testing/reports.ts";

const at = { session_id: "s-1", request_id: "r-1", started_at: "2026-11-21T10:00:00.000Z", finished_at: "2026-11-21T10:00:01.000Z" };
const registry = schemaRegistry();
const valid = (value: unknown) => registry.check(registry.contentSchemaId("workflow_record") ?? "", value);

describe("workflow record: the metadata the learning loop mines", () => {
  it("gives two tasks that did the same work the same fingerprint, and different work a different one", () => {
    const record = buildWorkflowRecord(
      report([
        fetched("t1", "a.example"),
        extracted("t2", "t1", "A", "same text"),
        extracted("t3", "t1", "A", "same text"),
        fetched("t4", "b.example"),
        extracted("t5", "t4", "A", "same text"),
      ]),
      at,
    );
    const fp = Object.fromEntries(record.tasks.map((t) => [t.task_id, t.fingerprint]));
    expect(fp.t2).toMatch(/^[a-f0-9]{16}$/);
    expect(fp.t3).toBe(fp.t2);
    expect(fp.t5).not.toBe(fp.t2); // same output, but from another page
    expect(fp.t4).not.toBe(fp.t1);
    expect(valid(record)).toEqual([]);
  });

  it("records each task's input size as the size of what its dependencies produced", () => {
    const record = buildWorkflowRecord(report([fetched("t1", "a.example"), extracted("t2", "t1", "A", "text")]), at);
    const [t1, t2] = record.tasks;
    expect(t1?.input_chars).toBeUndefined(); // a root task's inputs are the plan's, not in the report
    expect(t1?.output_chars).toBeGreaterThan(0);
    expect(t2?.input_chars).toBe(t1?.output_chars);
  });

  it("keeps flagged contradictions as kind, subject hash and sources, never their text", () => {
    const r = twoPagesDisagreeing();
    const flagged = synthesize(r).synthesis.contradictions;
    expect(flagged.length).toBeGreaterThan(0);
    const record = buildWorkflowRecord(r, at, flagged);
    expect(record.contradictions).toEqual([
      { kind: "fact", subject_key: expect.stringMatching(/^[a-f0-9]{16}$/), sources: [{ capability: "fetch", domain: "a.example" }, { capability: "fetch", domain: "b.example" }] },
    ]);
    expect(JSON.stringify(record.contradictions)).not.toMatch(/lyon|population/i);
    expect(valid(record)).toEqual([]);
  });

  it("tells compute contradictions apart from contradicting facts", () => {
    const r = report([computed("t1", "2+2", 4), computed("t2", "2+2", 5)]);
    const record = buildWorkflowRecord(r, at, synthesize(r).synthesis.contradictions);
    expect(record.contradictions?.map((c) => [c.kind, c.sources])).toEqual([["compute", [{ capability: "compute" }, { capability: "compute" }]]]);
  });

  it("omits contradictions when none were flagged", () => {
    expect(buildWorkflowRecord(twoPagesDisagreeing(), at)).not.toHaveProperty("contradictions");
  });
});
