import { describe, expect, it } from "vitest";
import { workflow, type StepSpec, type WorkflowRecord } from "../../eval/learning/records.ts";
import { band, ids, issuesOf, learn } from "./helpers.ts";

const ok = (capability: string, extra: Partial<StepSpec> = {}): StepSpec => ({ capability, duration_ms: 100, ...extra });
const many = (prefix: string, n: number, make: (id: string, i: number) => WorkflowRecord): WorkflowRecord[] => ids(prefix, n).map(make);

/** Everyday traffic in which nothing is wrong. */
function background(): WorkflowRecord[] {
  return many("bg", 40, (id, i) => workflow({ session_id: id, category: "lookup", steps: [ok("fetch", { domain: `d${i % 4}.example` }), ok("extract_text"), ok("find_mentions")] }));
}

describe("miner: one test per pattern kind, with the exact rule", () => {
  it("action failure: a host that always answers 429 → dispatch no_retry for it, high", () => {
    const records = [
      ...background(),
      ...many("rl", 8, (id) => workflow({ session_id: id, category: "lookup", steps: [ok("fetch", { status: "failed", attempts: 3, error_code: "HTTP_429", domain: "x.org", recoverable: true, duration_ms: 600 }), { capability: "extract_text", status: "skipped" }] })),
    ];
    const { rules } = learn(records);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      target_agent: "dispatch_agent",
      priority: "high",
      pattern_key: "action_failure:fetch:HTTP_429:x.org",
      effect: { op: "no_retry", match: { capability: "fetch", error_code: "HTTP_429", domain: "x.org" } },
      evidence: { occurrences: 8, attempts_wasted: 16, time_wasted_ms: 3200, failure_rate: 1 },
    });
    expect(band(rules[0]!.confidence_score)).toBe("high");
  });

  it("action failure where a few retries got through at the 2nd attempt → max_attempts 2", () => {
    const records = [
      ...many("rl", 20, (id) => workflow({ session_id: id, category: "c", steps: [ok("download", { status: "failed", attempts: 4, error_code: "QUOTA_EXCEEDED", domain: "q.example", recoverable: true })] })),
      ...many("rc", 2, (id) => workflow({ session_id: id, category: "c", steps: [ok("download", { attempts: 2, error_code: "QUOTA_EXCEEDED", domain: "q.example", recoverable: true })] })),
    ];
    const { rules } = learn(records);
    expect(rules.map((r) => r.effect)).toEqual([{ op: "max_attempts", match: { capability: "download", error_code: "QUOTA_EXCEEDED", domain: "q.example" }, attempts: 2 }]);
    expect(band(rules[0]!.confidence_score)).toBe("medium"); // not all the same way: some recovered
  });

  it("missing derivation step: transcribe fails without extract_audio before it → insert_before, medium at 3", () => {
    const records = [
      ...many("good", 10, (id) => workflow({ session_id: id, category: "transcribe", steps: [ok("download", { domain: "v.example" }), ok("extract_audio"), ok("transcribe")] })),
      ...many("bad", 3, (id) => workflow({ session_id: id, category: "transcribe", steps: [ok("download", { domain: "v.example" }), ok("transcribe", { status: "failed", error_code: "UNSUPPORTED_FORMAT" })] })),
    ];
    const { rules } = learn(records);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      target_agent: "planning_agent",
      priority: "medium",
      confidence_score: 0.8,
      pattern_key: "missing_step:transcribe:transcribe:extract_audio",
      effect: { op: "insert_before", capability: "transcribe", insert: "extract_audio", category: "transcribe" },
      evidence: { occurrences: 3, failure_rate: 1, session_ids: ids("bad", 3) },
    });
  });

  it("redundant tasks: the same work twice in one plan → dedupe, high past 5 plans", () => {
    const records = many("dup", 7, (id) =>
      workflow({ session_id: id, category: "lookup", steps: [ok("fetch", { domain: "a.example", fingerprint: "aaaaaaaaaaaaaaa1" }), ok("extract_text", { fingerprint: "bbbbbbbbbbbbbbb1", duration_ms: 20_000 }), ok("extract_text", { fingerprint: "bbbbbbbbbbbbbbb1", after: [0], duration_ms: 20_000 })] }),
    );
    const { rules } = learn([...background(), ...records]);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      target_agent: "planning_agent",
      priority: "high",
      pattern_key: "redundant_task:extract_text",
      effect: { op: "dedupe", capability: "extract_text" },
      evidence: { occurrences: 7, attempts_wasted: 7, time_wasted_ms: 140_000 },
    });
    expect(band(rules[0]!.confidence_score)).toBe("high");
  });

  it("costly order: summarizing before filtering costs 4× → prefer_order, high", () => {
    const cheap = many("cheap", 12, (id, i) => workflow({ session_id: id, category: "digest", steps: [ok("fetch", { domain: "n.example", duration_ms: 500 + i }), ok("find_mentions", { duration_ms: 300 }), ok("summarize", { duration_ms: 1000 + i * 10 })] }));
    const dear = many("dear", 8, (id, i) => workflow({ session_id: id, category: "digest", steps: [ok("fetch", { domain: "n.example", duration_ms: 500 + i }), ok("summarize", { duration_ms: 6000 + i * 10 }), ok("find_mentions", { duration_ms: 300 })] }));
    const { rules } = learn([...cheap, ...dear]);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      target_agent: "planning_agent",
      priority: "high",
      pattern_key: "task_order:digest:fetch+find_mentions+summarize",
      effect: { op: "prefer_order", order: ["fetch", "find_mentions", "summarize"], category: "digest" },
      evidence: { occurrences: 8 },
    });
    expect(band(rules[0]!.confidence_score)).toBe("high");
  });

  it("reasoning: the same contradiction between the same two sources again and again → flag_source_conflict", () => {
    const conflict = { kind: "fact" as const, subject_key: "0123456789abcdef", sources: [{ capability: "fetch", domain: "b.example" }, { capability: "fetch", domain: "a.example" }] as [{ capability: string; domain: string }, { capability: string; domain: string }] };
    const records = many("cmp", 4, (id) =>
      workflow({ session_id: id, category: "compare", steps: [ok("fetch", { domain: "a.example" }), ok("fetch", { domain: "b.example", after: [] }), ok("summarize", { after: [0, 1] })], contradictions: [conflict] }),
    );
    const { rules, summary } = learn(records);
    expect(summary.source_pairs).toEqual([{ sources: ["a.example", "b.example"], workflows: 4, contradicted: 4 }]);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      target_agent: "reasoning_agent",
      priority: "low",
      confidence_score: 0.85,
      pattern_key: "source_conflict:fact:0123456789abcdef:a.example+b.example",
      effect: { op: "flag_source_conflict", sources: ["a.example", "b.example"], kind: "fact", subject_key: "0123456789abcdef" },
      evidence: { occurrences: 4, workflows: 4, consistency: 1 },
    });
    expect(issuesOf("learning_report", { learning_report: { batch_id: "b", patterns_identified: 1, new_rules_proposed: rules } })).toEqual([]);
  });

  it("reasoning: two pages of one domain contradicting each other give no rule (it could not name its sources apart)", () => {
    const conflict = { kind: "fact" as const, subject_key: "0123456789abcdef", sources: [{ capability: "fetch", domain: "a.example" }, { capability: "fetch", domain: "a.example" }] as [{ capability: string; domain: string }, { capability: string; domain: string }] };
    const records = many("one", 6, (id) =>
      workflow({ session_id: id, category: "compare", steps: [ok("fetch", { domain: "a.example" }), ok("fetch", { domain: "a.example", after: [] }), ok("summarize", { after: [0, 1] })], contradictions: [conflict] }),
    );
    const { rules, summary } = learn(records);
    expect(summary.contradiction_clusters?.[0]).toMatchObject({ occurrences: 6, sources: ["a.example", "a.example"] });
    expect(rules).toEqual([]);
  });

  it("works on any deployment's names: the same record set with renamed capabilities gives the same rules, renamed", () => {
    const make = (src: string, step: string) => [
      ...many(`${src}g`, 6, (id) => workflow({ session_id: id, category: "k", steps: [ok(src, { domain: "h.example" }), ok(step)] })),
      ...many(`${src}r`, 6, (id) => workflow({ session_id: id, category: "k", steps: [ok(src, { status: "failed", attempts: 3, error_code: "TIMEOUT", domain: "slow.example", recoverable: true })] })),
    ];
    const keys = (src: string, step: string) => learn(make(src, step)).rules.map((r) => r.pattern_key);
    expect(keys("fetch", "extract_text")).toEqual(["action_failure:fetch:TIMEOUT:slow.example"]);
    expect(keys("ingest_feed", "vectorize")).toEqual(["action_failure:ingest_feed:TIMEOUT:slow.example"]);
  });
});
