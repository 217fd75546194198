/**
 * The rollout guardrail on a schedule, on real Redis and Postgres: two runtimes on one prefix and one
 * schema, each with the guardrail component, ticked with moved time. A rule approved for 50% of
 * sessions whose sessions fail more with it than without is retired by one tick, with the
 * guardrail's reason recorded as a decision and logged at warn; a rule that does no harm is kept;
 * two components ticking the same slot run it once.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../runtime/envelope/clock.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { guardrailComponent, type GuardrailComponent } from "../../runtime/review/guardrail-component.ts";
import { reviewService } from "../../runtime/review/mount.ts";
import type { ReviewService } from "../../runtime/review/service.ts";
import { inRollout } from "../../runtime/rules/rollout.ts";
import { submitReport, type ProposedRule } from "../../runtime/store/proposals.ts";
import { insertWorkflowRecord } from "../../runtime/store/workflow-records.ts";
import { dropPrefix, dropSchema, openTestRuntime, testConfig, uniquePrefix, uniqueSchema, DATABASE_URL } from "../helpers/bus.ts";
import { LEVEL, memoryLogger, type LogLine } from "../helpers/log.ts";
import { ALICE } from "./helpers.ts";

const INTERVAL_MS = 300_000;
const prefix = uniquePrefix("guardrail");
const schema = uniqueSchema("guardrail");
const clock = ManualClock.at("2026-11-21T10:00:00Z");
const opened: Array<{ runtime: Runtime; guardrail: GuardrailComponent; lines: LogLine[] }> = [];
let memory: string;
let service: ReviewService;

const WORSE = "rule_20261121_01";
const HARMLESS = "rule_20261121_02";

function proposal(n: number, domain: string): ProposedRule {
  return {
    rule_id: `rule_20261121_${String(n).padStart(2, "0")}`,
    priority: "high",
    target_agent: "dispatch_agent",
    trigger_condition: `fetch fails with HTTP_429 on ${domain}`,
    instruction: "Do not retry; mark the branch skipped.",
    rationale: "Seen 7 times; retries never succeeded.",
    confidence_score: 0.93,
    pattern_key: `action_failure:fetch:HTTP_429:${domain}`,
    effect: { op: "no_retry", match: { capability: "fetch", error_code: "HTTP_429", domain } },
    evidence: { occurrences: 7, session_ids: ["s-ex-1"] },
  };
}

/**
 * Sessions after the approval as the memory agent records them: a session in the rule's 50% share
 * lists it in rules_applied and its fetch gets `withRule`; the others get `without`.
 */
async function sessions(ruleId: string, domain: string, withRule: "failed" | "success", perSide: number): Promise<{ with: number; without: number }> {
  const db = opened[0]!.runtime.store!.db;
  const at = new Date(clock.now() + 60_000).toISOString();
  const n = { with: 0, without: 0 };
  for (let i = 0; n.with < perSide || n.without < perSide; i++) {
    const sessionId = `s-${ruleId}-${i}`;
    const applied = inRollout({ rule_id: ruleId, rollout_percent: 50 }, sessionId);
    const side = applied ? "with" : "without";
    if (n[side] >= perSide) continue;
    n[side]++;
    // With the rule the fetch fails at once (1 attempt); without, the retry gets through.
    const failed = applied && withRule === "failed";
    await insertWorkflowRecord(db, {
      session_id: sessionId,
      request_id: `r-${sessionId}`,
      request: { text: "t", category: "summarize" },
      started_at: at,
      finished_at: at,
      status: failed ? "failed" : "success",
      plan: [{ task_id: "t1", capability: "fetch", depends_on: [] }],
      tasks: [{ task_id: "t1", capability: "fetch", status: failed ? "failed" : "succeeded", attempts: failed || applied ? 1 : 2, domain, recoverable: !failed, duration_ms: 800, ...(failed ? { error_code: "HTTP_429" } : {}) }],
      rules_applied: applied ? [ruleId] : [],
    });
  }
  return n;
}

beforeAll(async () => {
  memory = await mkdtemp(join(tmpdir(), "agentbus-memory-guardrail-"));
  for (let i = 0; i < 2; i++) {
    const { logger, lines } = memoryLogger("info");
    const guardrail = guardrailComponent({ intervalMs: INTERVAL_MS, timer: false });
    const config = testConfig(prefix, { dbSchema: schema, databaseUrl: DATABASE_URL, memoryDir: memory });
    const { runtime } = await openTestRuntime(prefix, { dbSchema: schema, config, clock, logger, components: [guardrail] });
    opened.push({ runtime, guardrail, lines });
  }
  const { runtime } = opened[0]!;
  service = reviewService(runtime.config, runtime.store!.db, runtime.store!.audit, clock);
  await submitReport(runtime.store!.db, { report: { batch_id: "batch_20261120_001", patterns_identified: 2, new_rules_proposed: [proposal(1, "worse.example"), proposal(2, "fine.example")] }, day: "20261121" });
  for (const id of [WORSE, HARMLESS]) await service.approve(ALICE, id, { content_hash: (await service.get(id)).reviewable_hash, rollout_percent: 50 });
}, 60_000);

afterAll(async () => {
  for (const o of opened) await o.runtime.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
  await rm(memory, { recursive: true, force: true });
});

describe("guardrail component", () => {
  it("reads its interval and margins from the configuration (AGENTBUS_GUARDRAIL_*)", () => {
    expect(opened[0]!.runtime.config.guardrail).toEqual({ intervalS: 300, failureMargin: 0.1, durationMargin: 0.25, minSessions: 20 });
  });

  it("retires the rule whose sessions fail more with it in one tick, records the reason, keeps the harmless one; a second component ticking the same slot does not run it again", async () => {
    // 20 sessions a side: the configured minimum.
    expect(await sessions(WORSE, "worse.example", "failed", 20)).toEqual({ with: 20, without: 20 });
    expect(await sessions(HARMLESS, "fine.example", "success", 20)).toEqual({ with: 20, without: 20 });
    const file = join(memory, "dispatch_agent", `${WORSE}.md`);
    expect((await stat(file)).isFile()).toBe(true);

    const now = clock.now() + 2 * 60_000;
    const [a, b] = await Promise.all([opened[0]!.guardrail.tick(now), opened[1]!.guardrail.tick(now + 1000)]);
    const runs = [a!, b!];
    // Both ticks fall in the same 5-minute slot: exactly one of the two runs it.
    expect(runs.map((r) => r.slot)).toEqual(["2026-11-21T10:00:00.000Z", "2026-11-21T10:00:00.000Z"]);
    expect(runs.filter((r) => r.ran)).toHaveLength(1);
    const ran = runs.find((r) => r.ran)!;
    expect(ran.outcomes.map((o) => [o.rule_id, o.retired]).sort()).toEqual([[WORSE, true], [HARMLESS, false]]);
    expect(runs.find((r) => !r.ran)?.outcomes).toEqual([]);

    const worse = await service.get(WORSE);
    expect(worse.state).toBe("retired");
    const last = worse.decisions.at(-1)!;
    expect(last).toMatchObject({ action: "auto_retire", actor: "guardrail" });
    expect(last.reason).toMatch(/^guardrail: failure rate with the rule 100\.0% \(20\/20\) exceeds without it 0\.0% \(0\/20\) by more than 10 points$/);
    expect(worse.decisions.filter((d) => d.action === "auto_retire")).toHaveLength(1);
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });

    const harmless = await service.get(HARMLESS);
    expect(harmless.state).toBe("approved");
    expect(harmless.decisions.map((d) => d.action)).toEqual(["approve"]);

    // The process that ran the slot logged the retirement at warn, with the rule and the reason.
    const warned = opened.flatMap((o) => o.lines).filter((l) => l.level === LEVEL.warn && l.rule_id === WORSE);
    expect(warned).toHaveLength(1);
    expect(String(warned[0]!.reason)).toBe(last.reason);
    expect(warned[0]!.msg).toContain(`guardrail retired ${WORSE}`);
  });

  it("runs again in the next slot (once), and ticking the same slot again does nothing", async () => {
    const next = Date.parse("2026-11-21T10:05:00.000Z") + 10;
    const again = await opened[0]!.guardrail.tick(next);
    const same = await opened[1]!.guardrail.tick(next + 5000);
    expect(again).toMatchObject({ slot: "2026-11-21T10:05:00.000Z", ran: true });
    // The retired rule is no longer approved: only the harmless one is looked at, and kept.
    expect(again!.outcomes.map((o) => [o.rule_id, o.retired])).toEqual([[HARMLESS, false]]);
    expect(same).toMatchObject({ slot: "2026-11-21T10:05:00.000Z", ran: false, outcomes: [] });
    expect(await opened[0]!.guardrail.tick(next + 60_000)).toMatchObject({ ran: false });
  });

  it("logs a failed run at error with its cause instead of throwing", async () => {
    const { logger, lines } = memoryLogger("info");
    const guardrail = guardrailComponent({ intervalMs: INTERVAL_MS, timer: false });
    const config = testConfig(prefix, { dbSchema: schema, databaseUrl: DATABASE_URL, memoryDir: memory });
    const { runtime } = await openTestRuntime(prefix, { dbSchema: schema, config, clock, logger, components: [guardrail] });
    // The store is gone under it: the run fails, the tick still answers.
    await runtime.store!.db.close();
    try {
      const run = await guardrail.tick(Date.parse("2026-11-21T10:10:00.000Z"));
      expect(run).toMatchObject({ ran: true, outcomes: [] });
      const err = lines.find((l) => l.level === LEVEL.error && String(l.msg).includes("guardrail run"));
      expect(err?.msg).toContain("the next slot tries again");
      expect(err?.err).toBeTruthy();
    } finally {
      await runtime.close().catch(() => undefined);
    }
  });

  it("is off with an interval of 0: no run, nothing claimed", async () => {
    const guardrail = guardrailComponent({ intervalMs: 0, timer: false });
    const config = testConfig(prefix, { dbSchema: schema, databaseUrl: DATABASE_URL, memoryDir: memory });
    const { runtime } = await openTestRuntime(prefix, { dbSchema: schema, config, clock, components: [guardrail] });
    try {
      expect(await guardrail.tick(Date.parse("2026-11-21T10:15:00.000Z"))).toBeNull();
    } finally {
      await runtime.close();
    }
  });
});
