import { describe, expect, it } from "vitest";
import { workflow, type WorkflowRecord } from "../../eval/learning/records.ts";
import { band, ids, issuesOf, learn } from "./helpers.ts";

const CATEGORY = "transcribe_mentions";

/** The day of the learning agent spec's example, in a media deployment's vocabulary. */
function seedDay(): WorkflowRecord[] {
  const records: WorkflowRecord[] = [];
  // 12 downloads from tiktok.com that exhausted all 3 attempts on HTTP 429.
  for (const id of ids("tiktok", 12)) {
    records.push(
      workflow({
        session_id: id,
        category: CATEGORY,
        steps: [
          { capability: "download", status: "failed", attempts: 3, error_code: "HTTP_429", domain: "tiktok.com", recoverable: true, duration_ms: 2400 },
          { capability: "extract_audio", status: "skipped" },
          { capability: "segment_audio", status: "skipped" },
          { capability: "transcribe", status: "skipped" },
        ],
      }),
    );
  }
  // 6 workflows that segmented the audio before transcribing: small inputs, quick transcriptions.
  for (const [i, id] of ids("segmented", 6).entries()) {
    records.push(
      workflow({
        session_id: id,
        category: CATEGORY,
        steps: [
          { capability: "download", domain: "youtube.com", duration_ms: 3000 + i * 100 },
          { capability: "extract_audio", duration_ms: 4000, input_chars: 90_000_000 },
          { capability: "segment_audio", duration_ms: 5000, input_chars: 7_200_000 },
          { capability: "transcribe", duration_ms: 20_000 + i * 500, input_chars: 120_000 },
        ],
      }),
    );
  }
  // 3 that passed the whole 2-hour audio to transcription.
  for (const [i, id] of ids("whole", 3).entries()) {
    records.push(
      workflow({
        session_id: id,
        category: CATEGORY,
        steps: [
          { capability: "download", domain: "vimeo.com", duration_ms: 3100 },
          { capability: "extract_audio", duration_ms: 4100, input_chars: 90_000_000 },
          { capability: "transcribe", duration_ms: 600_000 + i * 10_000, input_chars: 7_200_000 },
        ],
      }),
    );
  }
  // One timeout, once.
  records.push(
    workflow({
      session_id: "s-timeout-000",
      category: CATEGORY,
      steps: [
        { capability: "download", status: "failed", attempts: 3, error_code: "TIMEOUT", domain: "slow.example", recoverable: true, duration_ms: 90_000 },
        { capability: "extract_audio", status: "skipped" },
        { capability: "segment_audio", status: "skipped" },
        { capability: "transcribe", status: "skipped" },
      ],
    }),
  );
  return records;
}

describe("the learning agent spec's example day", () => {
  const { summary, report, rules } = learn(seedDay());

  it("gives a high-priority fail-fast rule for tiktok.com's 429s at 0.90 or more", () => {
    const rule = rules.find((r) => r.pattern_key === "action_failure:download:HTTP_429:tiktok.com");
    expect(rule).toMatchObject({
      priority: "high",
      target_agent: "dispatch_agent",
      effect: { op: "no_retry", match: { capability: "download", error_code: "HTTP_429", domain: "tiktok.com" } },
      evidence: { occurrences: 12, attempts_spent: 36, attempts_wasted: 24, domain: "tiktok.com" },
    });
    expect(rule?.confidence_score).toBeGreaterThanOrEqual(0.9);
    expect(rule?.rationale).toContain("12 task(s)");
    expect(rule?.evidence?.session_ids).toHaveLength(10);
  });

  it("gives a medium planning rule to segment the audio before transcribing, at 0.70–0.89", () => {
    const rule = rules.find((r) => r.target_agent === "planning_agent");
    expect(rule).toMatchObject({
      priority: "medium",
      pattern_key: `missing_step:${CATEGORY}:transcribe:segment_audio`,
      effect: { op: "insert_before", capability: "transcribe", insert: "segment_audio", category: CATEGORY },
      evidence: { occurrences: 3, session_ids: ids("whole", 3) },
    });
    expect(band(rule?.confidence_score ?? 0)).toBe("medium");
    expect(rule?.rationale).toContain("7200000 characters");
  });

  it("gives the single timeout no rule at 0.70 or more (and, below two cases, none at all)", () => {
    expect(rules.filter((r) => r.evidence?.error_code === "TIMEOUT" && r.confidence_score >= 0.7)).toEqual([]);
    expect(rules).toHaveLength(2);
  });

  it("is a learning report as the spec's example has it: rule ids of the day, counts, schema-valid", () => {
    expect(report.learning_report.batch_id).toBe("batch_20260224");
    expect(report.learning_report.patterns_identified).toBe(2);
    expect(rules.map((r) => r.rule_id)).toEqual(["rule_20260224_01", "rule_20260224_02"]);
    expect(issuesOf("learning_report", report)).toEqual([]);
    expect(issuesOf("memory_summary", summary)).toEqual([]);
  });
});
