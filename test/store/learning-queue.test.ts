/**
 * The learning loop's records in Postgres (and PGlite): memory batches never summarise a record
 * twice, and the proposal queue holds one proposal per pattern, adding evidence when it is seen again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAgentbusError } from "../../runtime/errors/index.ts";
import { insertWorkflowRecord, type WorkflowRecordInput } from "../../runtime/store/index.ts";
import { batchPages, claimBatch, getBatch, saveBatchSummary, unbatchedRecords, unsummarisedBatches } from "../../runtime/store/memory-batches.ts";
import { getProposal, knownPatterns, listProposals, submitReport, type ProposedRule } from "../../runtime/store/proposals.ts";
import { nextDailyIds, RULE_IDS } from "../../runtime/store/daily-ids.ts";
import { BACKENDS, startBackend, type Harness } from "../helpers/pg.ts";

let serial = 0;
function record(finishedAt: string): WorkflowRecordInput {
  serial += 1;
  return {
    session_id: `s-lq${String(serial).padStart(5, "0")}`,
    request_id: `r-lq${serial}`,
    request: { text: "fetch it", category: "text" },
    started_at: "2026-03-01T00:00:00.000Z",
    finished_at: finishedAt,
    status: "success",
    plan: [{ task_id: "t1", capability: "fetch", depends_on: [] }],
    tasks: [{ task_id: "t1", capability: "fetch", status: "succeeded", attempts: 1, recoverable: false }],
    rules_applied: [],
  };
}

function rule(key: string, extra: Partial<ProposedRule> = {}): ProposedRule {
  return {
    rule_id: "rule_20260301_01",
    priority: "medium",
    target_agent: "dispatch_agent",
    trigger_condition: `when ${key}`,
    instruction: "do not retry",
    rationale: "seen failing the same way",
    confidence_score: 0.8,
    evidence: { occurrences: 3, session_ids: ["s-a", "s-b", "s-c"], attempts_wasted: 6 },
    effect: { op: "no_retry", match: { capability: "fetch", error_code: "HTTP_429", domain: "x.org" } },
    pattern_key: key,
    ...extra,
  };
}

const report = (batch_id: string, rules: ProposedRule[]) => ({ batch_id, patterns_identified: rules.length, new_rules_proposed: rules });

describe.each(BACKENDS)("memory batches on %s", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBackend(backend, "batches");
  });
  afterAll(async () => {
    await h?.teardown();
  });

  it("claims every unclaimed record before the cutoff once, and the next batch only what came after", async () => {
    for (let i = 0; i < 5; i++) await insertWorkflowRecord(h.db, record(`2026-03-01T10:00:0${i}.000Z`));
    await insertWorkflowRecord(h.db, record("2026-03-01T12:00:00.000Z")); // after the cutoff
    expect(await unbatchedRecords(h.db)).toBe(6);

    const first = await claimBatch(h.db, { trigger: "schedule", cutoff: new Date("2026-03-01T11:00:00Z"), day: "20260301", chunk: 2 });
    expect(first).toMatchObject({ batch_id: "batch_20260301_001", state: "claimed", records: 5, trigger: "schedule" });
    expect(first?.period_from?.toISOString()).toBe("2026-03-01T10:00:00.000Z");
    expect(await claimBatch(h.db, { trigger: "threshold", cutoff: new Date("2026-03-01T11:00:00Z"), day: "20260301" })).toBeNull();

    const pages: number[] = [];
    const seen = new Set<string>();
    for await (const page of batchPages(h.db, "batch_20260301_001", 2)) {
      pages.push(page.length);
      for (const r of page) seen.add(r.sessionId);
    }
    expect(pages).toEqual([2, 2, 1]);
    expect(seen.size).toBe(5);

    await insertWorkflowRecord(h.db, record("2026-03-01T12:30:00.000Z"));
    const second = await claimBatch(h.db, { trigger: "threshold", cutoff: new Date("2026-03-01T13:00:00Z"), day: "20260301" });
    expect(second).toMatchObject({ batch_id: "batch_20260301_002", records: 2 });
    expect(await unbatchedRecords(h.db)).toBe(0);
    expect((await unsummarisedBatches(h.db)).map((b) => b.batch_id)).toEqual(["batch_20260301_001", "batch_20260301_002"]);
    await saveBatchSummary(h.db, "batch_20260301_001", { batch_id: "batch_20260301_001", first: true });
    await saveBatchSummary(h.db, "batch_20260301_001", { batch_id: "batch_20260301_001", first: false });
    expect(await getBatch(h.db, "batch_20260301_001")).toMatchObject({ state: "summarised", summary: { first: true } });
  });

  it("splits nothing between two claimers at once: each record lands in exactly one batch", async () => {
    for (let i = 0; i < 40; i++) await insertWorkflowRecord(h.db, record(`2026-03-02T09:00:${String(i).padStart(2, "0")}.000Z`));
    const other = await h.open();
    const [a, b] = await Promise.all([
      claimBatch(h.db, { trigger: "schedule", cutoff: new Date("2026-03-02T10:00:00Z"), day: "20260302", chunk: 7 }),
      claimBatch(other, { trigger: "schedule", cutoff: new Date("2026-03-02T10:00:00Z"), day: "20260302", chunk: 7 }),
    ]);
    // The second claimer either finds nothing left or joins the batch the first one opened.
    const claimed = [...new Map([a, b].flatMap((x) => (x ? [[x.batch_id, x] as const] : []))).values()];
    expect(claimed.reduce((n, x) => n + x.records, 0)).toBe(40);
    const r = await h.db.query<{ n: string }>(`SELECT count(DISTINCT batch_id) AS n FROM "${h.schema}".workflow_records WHERE finished_at >= '2026-03-02' AND finished_at < '2026-03-03'`);
    expect(Number(r.rows[0]?.n)).toBe(claimed.length);
  });

  it("finishes a claim that an earlier attempt left half-done, with the same window", async () => {
    for (let i = 0; i < 3; i++) await insertWorkflowRecord(h.db, record(`2026-03-03T09:00:0${i}.000Z`));
    await h.db.query(`INSERT INTO "${h.schema}".memory_batches (batch_id, trigger, state, cutoff) VALUES ('batch_20260303_001', 'manual', 'claiming', '2026-03-03T09:00:01.500Z')`);
    await h.db.query(`INSERT INTO "${h.schema}".daily_ids (kind, day, last) VALUES ('batch', '20260303', 1)`);
    const resumed = await claimBatch(h.db, { trigger: "schedule", cutoff: new Date("2026-03-04T00:00:00Z"), day: "20260303" });
    expect(resumed).toMatchObject({ batch_id: "batch_20260303_001", records: 2, state: "claimed" });
    const next = await claimBatch(h.db, { trigger: "schedule", cutoff: new Date("2026-03-04T00:00:00Z"), day: "20260303" });
    expect(next).toMatchObject({ batch_id: "batch_20260303_002", records: 1 });
  });
});

describe.each(BACKENDS)("the proposal queue on %s", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBackend(backend, "proposals");
  });
  afterAll(async () => {
    await h?.teardown();
  });

  it("stores new rules as pending under fresh ids, high priority first", async () => {
    const result = await submitReport(h.db, { report: report("batch_20260301_001", [rule("k:low", { priority: "low", confidence_score: 0.75 }), rule("k:high", { priority: "high", confidence_score: 0.95 })]), day: "20260301", report_message_id: "msg-lrn-20260301-230000" });
    expect(result.proposed).toEqual(["rule_20260301_01", "rule_20260301_02"]);
    expect(result.ids.get("k:high")).toBe("rule_20260301_02");
    const pending = await listProposals(h.db, { state: "pending" });
    expect(pending.map((p) => [p.rule_id, p.priority])).toEqual([["rule_20260301_02", "high"], ["rule_20260301_01", "low"]]);
    expect(pending[0]?.rule).toMatchObject({ rule_id: "rule_20260301_02", instruction: "do not retry", evidence: { occurrences: 3, batch_ids: ["batch_20260301_001"] } });
  });

  it("does not propose a known pattern again: it adds the evidence, counts the observation and may raise confidence", async () => {
    const result = await submitReport(h.db, { report: report("batch_20260301_002", [rule("k:low", { priority: "medium", confidence_score: 0.85, evidence: { occurrences: 4, session_ids: ["s-d", "s-a"], attempts_wasted: 8 } }), rule("k:new")]), day: "20260301" });
    // Two batches on one day: ids stay unique.
    expect(result.proposed).toEqual(["rule_20260301_03"]);
    expect(result.reobserved).toEqual(["rule_20260301_01"]);
    const p = await getProposal(h.db, "rule_20260301_01");
    expect(p).toMatchObject({ state: "pending", observations: 2, confidence: 0.85, priority: "medium" });
    expect(p?.evidence).toMatchObject({ occurrences: 7, attempts_wasted: 14, batch_ids: ["batch_20260301_002", "batch_20260301_001"] });
    expect(p?.evidence.session_ids.sort()).toEqual(["s-a", "s-b", "s-c", "s-d"]);
    expect(p?.history.map((o) => o.batch_id)).toEqual(["batch_20260301_001", "batch_20260301_002"]);
    expect((await knownPatterns(h.db, ["k:low", "k:none"])).get("k:low")).toEqual({ rule_id: "rule_20260301_01", state: "pending" });
  });

  it("counts a pattern that was only reported (not re-proposed) as an observation too", async () => {
    const withPattern = { ...report("batch_20260302_001", []), patterns_identified: 1, patterns: [{ pattern_id: "p1", kind: "action_failure" as const, pattern_key: "k:high", description: "again", occurrences: 9, evidence: { occurrences: 9, session_ids: ["s-z"] } }] };
    const result = await submitReport(h.db, { report: withPattern, day: "20260302" });
    expect(result.reobserved).toEqual(["rule_20260301_02"]);
    expect(await getProposal(h.db, "rule_20260301_02")).toMatchObject({ observations: 2, evidence: { occurrences: 12 } });
  });

  it("changes nothing when the same batch is submitted again (a redelivered learning run)", async () => {
    const before = await listProposals(h.db);
    const again = await submitReport(h.db, { report: report("batch_20260301_002", [rule("k:low", { confidence_score: 0.85 }), rule("k:new")]), day: "20260301" });
    expect(again.proposed).toEqual(["rule_20260301_03"]);
    expect(again.reobserved).toEqual([]);
    expect(await listProposals(h.db)).toEqual(before);
  });

  it("keeps one proposal when two batches propose the same new pattern at once", async () => {
    const other = await h.open();
    const [a, b] = await Promise.all([
      submitReport(h.db, { report: report("batch_20260305_001", [rule("k:race")]), day: "20260305" }),
      submitReport(other, { report: report("batch_20260305_002", [rule("k:race")]), day: "20260305" }),
    ]);
    expect([...a.proposed, ...b.proposed]).toHaveLength(1);
    expect([...a.reobserved, ...b.reobserved]).toHaveLength(1);
    expect((await listProposals(h.db)).filter((p) => p.pattern_key === "k:race")).toHaveLength(1);
  });

  it("refuses a rule without a pattern key, and a 100th rule id on one day, with what is wrong", async () => {
    const bare = rule("x");
    delete bare.pattern_key;
    await expect(submitReport(h.db, { report: report("batch_20260306_001", [bare]), day: "20260306" })).rejects.toMatchObject({ code: "PROPOSAL_INVALID" });
    const err = await h.db.transaction((tx) => nextDailyIds(h.db, tx, RULE_IDS, "20260307", 100)).catch((e: unknown) => e);
    expect(isAgentbusError(err) && err.code).toBe("IDS_EXHAUSTED");
  });
});
