/** Shared set-up for the review tests: a migrated schema, a temp memory root, proposals and records. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../runtime/envelope/clock.ts";
import { AuditWriter } from "../../runtime/store/audit-writer.ts";
import { submitReport, type ProposedRule } from "../../runtime/store/proposals.ts";
import { insertWorkflowRecord } from "../../runtime/store/workflow-records.ts";
import { MemoryWriter } from "../../runtime/rules/writer.ts";
import { ReviewService } from "../../runtime/review/service.ts";
import { startBackend, recordingLogger, type Harness } from "../helpers/pg.ts";
import type { Actor } from "../../runtime/review/types.ts";

export const ALICE: Actor = { name: "alice", role: "reviewer" };
export const BOB: Actor = { name: "bob", role: "reviewer" };
export const VIEWER: Actor = { name: "vera", role: "viewer" };
export const LEARNER: Actor = { name: "learning_agent", role: "reviewer" };

export interface ReviewHarness {
  pg: Harness;
  memory: string;
  writer: MemoryWriter;
  audit: AuditWriter;
  clock: ManualClock;
  service: ReviewService;
  teardown(): Promise<void>;
}

export async function startReview(tag: string): Promise<ReviewHarness> {
  const pg = await startBackend("postgres", tag);
  const memory = await mkdtemp(join(tmpdir(), `agentbus-memory-${tag}-`));
  const writer = new MemoryWriter(memory);
  const audit = new AuditWriter(pg.db, { flushIntervalMs: 5, logger: recordingLogger() });
  const clock = ManualClock.at("2026-11-21T10:00:00Z");
  const service = new ReviewService({ db: pg.db, writer, audit, clock });
  return {
    pg,
    memory,
    writer,
    audit,
    clock,
    service,
    async teardown() {
      await audit.close();
      await pg.teardown();
      await rm(memory, { recursive: true, force: true });
    },
  };
}

export function proposedRule(n: number, over: Partial<ProposedRule> = {}): ProposedRule {
  return {
    rule_id: `rule_20261120_${String(n).padStart(2, "0")}`,
    priority: "high",
    target_agent: "dispatch_agent",
    trigger_condition: `fetch fails with HTTP_429 on site${n}.example`,
    instruction: "Do not retry; mark the branch skipped.",
    rationale: `Seen 7 times in batch; retries never succeeded (pattern ${n}).`,
    confidence_score: 0.93,
    pattern_key: `action_failure:fetch:HTTP_429:site${n}.example`,
    effect: { op: "no_retry", match: { capability: "fetch", error_code: "HTTP_429", domain: `site${n}.example` } },
    evidence: { occurrences: 7, session_ids: ["s-ex-1", "s-ex-2"] },
    ...over,
  };
}

/** Proposes the rules through the real queue; returns their queue ids in order. */
export async function propose(h: ReviewHarness, rules: ProposedRule[], batch = "batch_20261120_001"): Promise<string[]> {
  const res = await submitReport(h.pg.db, { report: { batch_id: batch, patterns_identified: rules.length, new_rules_proposed: rules }, day: "20261121" });
  return rules.map((r) => res.ids.get(r.pattern_key!)!);
}

export interface TaskSpec {
  capability: string;
  status: "success" | "failed" | "skipped";
  attempts: number;
  error_code?: string;
  domain?: string;
  duration_ms?: number;
}

/** Stores one workflow record (the memory agent's shape). */
export async function record(h: ReviewHarness, sessionId: string, tasks: TaskSpec[], o: { at?: string; category?: string; rules?: string[] } = {}): Promise<void> {
  const at = o.at ?? "2026-11-19T10:00:00Z";
  const failed = tasks.some((t) => t.status === "failed");
  await insertWorkflowRecord(h.pg.db, {
    session_id: sessionId,
    request_id: `r-${sessionId}`,
    request: { text: "t", category: o.category ?? "summarize" },
    started_at: at,
    finished_at: at,
    status: failed ? "failed" : "success",
    plan: tasks.map((t, i) => ({ task_id: `t${i + 1}`, capability: t.capability, depends_on: [] })),
    tasks: tasks.map((t, i) => ({ task_id: `t${i + 1}`, recoverable: true, ...t })),
    rules_applied: o.rules ?? [],
  });
}
