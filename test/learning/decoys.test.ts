import { describe, expect, it } from "vitest";
import { workflow, type StepSpec, type WorkflowRecord } from "../../eval/learning/records.ts";
import { mine } from "../../agents/learning_agent/miner/index.ts";
import { ids, learn, summarize } from "./helpers.ts";

const ok = (capability: string, extra: Partial<StepSpec> = {}): StepSpec => ({ capability, duration_ms: 100, ...extra });
const many = (prefix: string, n: number, make: (id: string, i: number) => WorkflowRecord): WorkflowRecord[] => ids(prefix, n).map(make);
const fail = (domain: string, code = "TIMEOUT"): StepSpec => ok("fetch", { status: "failed", attempts: 3, error_code: code, domain, recoverable: true });

describe("miner: decoys do not become confident rules", () => {
  it("a single timeout gives no rule; with minOccurrences 1 it is a low hypothesis", () => {
    const records = [workflow({ session_id: "s-one", category: "c", steps: [fail("once.example")] })];
    expect(learn(records).rules).toEqual([]);
    const low = mine(summarize(records), { date: "20260224", minOccurrences: 1 }).learning_report.new_rules_proposed;
    expect(low.map((r) => [r.pattern_key, r.confidence_score, r.priority])).toEqual([["action_failure:fetch:TIMEOUT:once.example", 0.5, "low"]]);
  });

  it("an error that retries get past is no fail-fast rule, even when it also failed twice", () => {
    const records = [
      ...many("rec", 20, (id) => workflow({ session_id: id, category: "c", steps: [ok("fetch", { attempts: 2, error_code: "HTTP_503", domain: "f.example", recoverable: true })] })),
      ...many("fl", 2, (id) => workflow({ session_id: id, category: "c", steps: [fail("f.example", "HTTP_503")] })),
    ];
    expect(learn(records).rules).toEqual([]);
  });

  it("a domain that merely travels with failures: it times out as often as every other domain", () => {
    const records = many("tr", 400, (id, i) => workflow({ session_id: id, category: "c", steps: [i % 10 === 0 ? fail(`d${(i / 10) % 4}.example`) : ok("fetch", { domain: `d${i % 4}.example` })] }));
    const { summary, rules } = learn(records);
    expect(summary.error_clusters.map((c) => c.exhausted)).toEqual([10, 10, 10, 10]);
    expect(rules).toEqual([]);
    // Even when 40% of every domain's tasks time out, no one domain is the cause.
    const often = many("tr", 400, (id, i) => workflow({ session_id: id, category: "c", steps: [i % 10 < 4 ? fail(`d${i % 4}.example`) : ok("fetch", { domain: `d${i % 4}.example` })] }));
    expect(learn(often).summary.error_clusters.map((c) => c.failed)).toEqual([40, 40, 40, 40]);
    expect(learn(often).rules).toEqual([]);
    // While one domain that times out far more than the others is a pattern.
    const oneBad = [...often, ...many("bad", 100, (id) => workflow({ session_id: id, category: "c", steps: [fail("d9.example")] }))];
    expect(learn(oneBad).rules.map((r) => r.pattern_key)).toEqual(["action_failure:fetch:TIMEOUT:d9.example"]);
  });

  it("a domain that fails this way now and then among many successes is a coincidence", () => {
    const records = many("co", 200, (id, i) => workflow({ session_id: id, category: "c", steps: [i < 3 ? fail("busy.example") : ok("fetch", { domain: "busy.example" })] }));
    expect(learn(records).rules).toEqual([]);
  });

  it("failures that cost no retries give no action rule (nothing to fail fast on)", () => {
    const records = many("nf", 10, (id) => workflow({ session_id: id, category: "c", steps: [ok("fetch", { status: "failed", attempts: 1, error_code: "HTTP_404", domain: "gone.example" })] }));
    expect(learn(records).rules).toEqual([]);
  });

  it("two orders that cost the same give no order rule", () => {
    const records = [
      ...many("o1", 10, (id, i) => workflow({ session_id: id, category: "d", steps: [ok("fetch", { domain: "n.example", duration_ms: 500 + (i % 3) * 200 }), ok("find_mentions"), ok("summarize")] })),
      ...many("o2", 10, (id, i) => workflow({ session_id: id, category: "d", steps: [ok("fetch", { domain: "n.example", duration_ms: 600 + (i % 3) * 200 }), ok("summarize"), ok("find_mentions")] })),
    ];
    expect(learn(records).rules).toEqual([]);
  });

  it("skipping a step that does not matter gives no insert rule", () => {
    const records = [
      ...many("g", 10, (id) => workflow({ session_id: id, category: "t", steps: [ok("download", { domain: "v.example" }), ok("normalize"), ok("transcribe")] })),
      ...many("s", 5, (id) => workflow({ session_id: id, category: "t", steps: [ok("download", { domain: "v.example" }), ok("transcribe")] })),
    ];
    expect(learn(records).rules).toEqual([]);
  });

  it("two sources that meet often and disagree rarely give no conflict rule; a contradiction once gives none", () => {
    const conflict = { kind: "fact" as const, subject_key: "00000000000000aa", sources: [{ capability: "fetch", domain: "a.example" }, { capability: "fetch", domain: "b.example" }] as [{ capability: string; domain: string }, { capability: string; domain: string }] };
    const records = many("m", 30, (id, i) =>
      workflow({ session_id: id, category: "cmp", steps: [ok("fetch", { domain: "a.example" }), ok("fetch", { domain: "b.example", after: [] }), ok("merge", { after: [0, 1] })], contradictions: i < 3 ? [conflict] : [] }),
    );
    expect(learn(records).rules).toEqual([]);
    expect(learn(records.slice(0, 1)).rules).toEqual([]);
  });

  it("the same capability twice on different inputs is not redundant", () => {
    const records = many("two", 6, (id, i) =>
      workflow({ session_id: id, category: "cmp", steps: [ok("fetch", { domain: "a.example", fingerprint: `a${i}00000000000000`.slice(0, 16) }), ok("fetch", { domain: "b.example", after: [], fingerprint: `b${i}00000000000000`.slice(0, 16) })] }),
    );
    expect(learn(records).rules).toEqual([]);
  });

  it("a pattern already pending or approved is reported with its evidence but not proposed again", () => {
    const records = many("rl", 8, (id) => workflow({ session_id: id, category: "c", steps: [fail("x.org", "HTTP_429")] }));
    const { report } = learn(records, { existingKeys: ["action_failure:fetch:HTTP_429:x.org"] });
    expect(report.learning_report.new_rules_proposed).toEqual([]);
    expect(report.learning_report.patterns).toEqual([expect.objectContaining({ pattern_key: "action_failure:fetch:HTTP_429:x.org", occurrences: 8 })]);
    expect(report.learning_report.patterns_identified).toBe(1);
  });
});
