import { describe, expect, it } from "vitest";
import { SummaryBuilder, summarizePages } from "../../agents/memory_agent/summary/index.ts";
import { workflow, type WorkflowRecord } from "../../eval/learning/records.ts";
import { issuesOf } from "./helpers.ts";

const period = { from: "2026-02-24T00:00:00.000Z", to: "2026-02-24T23:59:59.999Z" };

function record(i: number): WorkflowRecord {
  const failing = i % 7 === 0;
  return workflow({
    session_id: `s-${i}`,
    category: i % 2 === 0 ? "lookup" : "digest",
    steps: [
      failing
        ? { capability: "fetch", status: "failed", attempts: 3, error_code: "HTTP_429", domain: "x.org", recoverable: true, duration_ms: 300 }
        : { capability: "fetch", domain: `d${i % 3}.example`, duration_ms: 100 + (i % 50) },
      failing ? { capability: "extract_text", status: "skipped" } : { capability: "extract_text", duration_ms: 20, input_chars: 5000 },
    ],
    rules_applied: i % 5 === 0 ? ["rule_20260223_01"] : [],
  });
}

describe("SummaryBuilder", () => {
  it("aggregates counts, rates, error clusters with retry outcomes, baselines, orders and costs", () => {
    const b = new SummaryBuilder();
    for (let i = 0; i < 70; i += 1) b.add(record(i));
    b.add(workflow({ session_id: "s-rec", category: "lookup", steps: [{ capability: "fetch", attempts: 2, error_code: "HTTP_429", domain: "x.org", recoverable: true, duration_ms: 400 }] }));
    const s = b.finish({ batch_id: "batch_20260224", period });
    expect(s.counts).toEqual({ workflows: 71, tasks: 141, workflows_by_status: { success: 61, failed: 10, partial: 0 }, tasks_by_status: { succeeded: 121, failed: 10, skipped: 10 } });
    expect(s.error_clusters).toEqual([
      {
        capability: "fetch",
        error_code: "HTTP_429",
        domain: "x.org",
        occurrences: 11,
        attempts_spent: 32,
        example_session_ids: ["s-0", "s-7", "s-14", "s-21", "s-28", "s-35", "s-42", "s-49", "s-56", "s-63"],
        failed: 10,
        recovered: 1,
        retryable: 10,
        exhausted: 10,
        retries_spent: 20,
        max_recovered_attempts: 2,
        duration_ms: 3000,
      },
    ]);
    expect(s.capability_domains?.find((c) => c.domain === "x.org")).toEqual({ capability: "fetch", domain: "x.org", tasks: 11, failed: 10 });
    expect(s.capability_costs?.find((c) => c.capability === "extract_text")).toEqual({ capability: "extract_text", tasks: 60, duration_ms_mean: 20, input_chars_tasks: 60, input_chars_mean: 5000 });
    expect(s.task_orders.successful).toEqual([{ order: ["fetch", "extract_text"], count: 60 }, { order: ["fetch"], count: 1 }]);
    expect(s.active_rules).toEqual(["rule_20260223_01"]);
    const lookup = s.order_stats?.find((o) => o.category === "lookup" && o.order.length === 2);
    expect(lookup).toMatchObject({ workflows: 35, succeeded: 30, failed: 5 });
    expect(issuesOf("memory_summary", s)).toEqual([]);
  });

  it("keeps run metadata only: no request text in the summary", () => {
    const b = new SummaryBuilder();
    b.add({ ...record(1), request: { text: "What does the secret page say about Lyon?", category: "lookup" } });
    expect(JSON.stringify(b.finish({ batch_id: "b", period }))).not.toMatch(/secret|Lyon/);
  });

  it("stays bounded: 200k records with few distinct patterns keep every table small", () => {
    const b = new SummaryBuilder();
    for (let i = 0; i < 200_000; i += 1) b.add(record(i));
    const sizes = b.sizes();
    expect(Math.max(...Object.values(sizes))).toBeLessThanOrEqual(8);
    expect(sizes).toMatchObject({ error_clusters: 1, capability_domains: 5, categories: 2, order_stats: 2 });
    const s = b.finish({ batch_id: "big", period });
    expect(s.counts.workflows).toBe(200_000);
    expect(s.error_clusters[0]?.example_session_ids).toHaveLength(10);
    expect(s).not.toHaveProperty("overflow");
  });

  it("caps distinct keys and reports what it could not keep as overflow", () => {
    const b = new SummaryBuilder({ maxKeys: 5 });
    for (let i = 0; i < 50; i += 1) b.add(workflow({ session_id: `s-${i}`, category: "c", steps: [{ capability: "fetch", status: "failed", attempts: 3, error_code: "TIMEOUT", domain: `h${i}.example`, recoverable: true }] }));
    expect(b.sizes().error_clusters).toBe(5);
    const s = b.finish({ batch_id: "b", period });
    expect(s.overflow).toEqual({ error_clusters: 45, capability_domains: 45 });
    expect(issuesOf("memory_summary", s)).toEqual([]);
  });

  it("summarises records streamed page by page like the same records added at once", async () => {
    async function* pages() {
      for (let p = 0; p < 10; p += 1) yield Array.from({ length: 25 }, (_, i) => record(p * 25 + i));
    }
    const streamed = await summarizePages(pages(), { batch_id: "b", period });
    const b = new SummaryBuilder();
    for (let i = 0; i < 250; i += 1) b.add(record(i));
    expect(streamed).toEqual(b.finish({ batch_id: "b", period }));
  });

  it("counts duplicates, contradictions and source pairs", () => {
    const b = new SummaryBuilder();
    const conflict = { kind: "fact" as const, subject_key: "0123456789abcdef", sources: [{ capability: "fetch", domain: "b.example" }, { capability: "fetch", domain: "a.example" }] as [{ capability: string; domain: string }, { capability: string; domain: string }] };
    b.add(workflow({ session_id: "s-1", category: "cmp", steps: [{ capability: "fetch", domain: "a.example" }, { capability: "fetch", domain: "b.example", after: [] }, { capability: "merge", after: [0, 1] }], contradictions: [conflict] }));
    b.add(workflow({ session_id: "s-2", category: "cmp", steps: [{ capability: "fetch", domain: "a.example" }, { capability: "fetch", domain: "b.example", after: [] }, { capability: "merge", after: [0, 1] }] }));
    b.add(workflow({ session_id: "s-3", category: "x", steps: [{ capability: "fetch", domain: "a.example", fingerprint: "aaaaaaaaaaaaaaaa" }, { capability: "parse", fingerprint: "bbbbbbbbbbbbbbbb", duration_ms: 70 }, { capability: "parse", fingerprint: "bbbbbbbbbbbbbbbb", after: [0], duration_ms: 70 }] }));
    const s = b.finish({ batch_id: "b", period });
    expect(s.contradiction_clusters).toEqual([
      { subject: "fact 0123456789abcdef between a.example and b.example", occurrences: 1, example_session_ids: ["s-1"], kind: "fact", subject_key: "0123456789abcdef", sources: ["a.example", "b.example"] },
    ]);
    expect(s.source_pairs).toEqual([{ sources: ["a.example", "b.example"], workflows: 2, contradicted: 1 }]);
    expect(s.redundant_tasks?.find((r) => r.capability === "parse")).toEqual({ capability: "parse", workflows: 1, duplicate_tasks: 1, workflows_with_capability: 1, duration_ms: 70, example_session_ids: ["s-3"] });
    expect(issuesOf("memory_summary", s)).toEqual([]);
  });
});
