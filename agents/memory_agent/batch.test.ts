/**
 * The memory agent's batches on real Redis and Postgres: a batch_request summarises the workflow
 * records no batch holds yet and sends the memory_summary to the learning agent; a request with
 * nothing new is skipped; a record is never in two batches. The threshold request is checked on a
 * fake context (its count comes from ctx.learning).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../runtime/envelope/clock.ts";
import { buildRequest } from "../../runtime/envelope/build.ts";
import type { Envelope, JsonObject, LearningRecords, Synthesis } from "../../runtime/agent-api.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { ENVELOPE_SCHEMA_ID } from "../../runtime/schemas/registry.ts";
import { insertWorkflowRecord } from "../../runtime/store/index.ts";
import { batchPages, claimBatch, getBatch } from "../../runtime/store/memory-batches.ts";
import { DATABASE_URL, dropPrefix, dropSchema, openTestRuntime, testConfig, uniquePrefix, uniqueSchema, type EventLog } from "../../test/helpers/bus.ts";
import { batchAgentsDir, workflowRecord } from "../../test/helpers/batch-agents.ts";
import { asReplies, delivered, fakeContext } from "../_shared/testing/fake-context.ts";
import { synthesize } from "../reasoning_agent/synthesis/synthesize.ts";
import { fetched, report } from "../_shared/testing/reports.ts";
import { handler } from "./worker.ts";

describe("memory_agent batches (Redis + Postgres)", () => {
  const prefix = uniquePrefix("membatch");
  const schema = uniqueSchema("membatch");
  const agents = batchAgentsDir();
  // 23:30 UTC is already the next day in Paris: the batch id names the configured zone's day.
  const clock = ManualClock.at("2026-03-02T23:30:00.000Z");
  let runtime: Runtime;
  let events: EventLog;
  let sent = 0;

  beforeAll(async () => {
    const config = testConfig(prefix, { agentsDir: agents.dir, dbSchema: schema, databaseUrl: DATABASE_URL, timezone: "Europe/Paris", memoryBatchRecords: 0 });
    ({ runtime, events } = await openTestRuntime(prefix, { dbSchema: schema, config, clock }));
    if (runtime.agents.broken.length > 0) throw new Error(JSON.stringify(runtime.agents.broken));
    runtime.startAgents(["memory_agent"]);
  });
  afterAll(async () => {
    await runtime?.close();
    await dropPrefix(prefix);
    await dropSchema(schema);
    agents.remove();
  });

  const db = () => {
    if (!runtime.store) throw new Error("the runtime has no store");
    return runtime.store.db;
  };

  /** Publishes a batch_request from the scheduler and returns what the memory agent answered it with. */
  async function request(content: JsonObject): Promise<Envelope> {
    sent += 1;
    const env = buildRequest({ source: "batch_scheduler", content_type: "batch_request", content, to: "memory_agent", session_id: `batch-test-${sent}`, request_id: "batch_run" }, { clock, timezone: "Europe/Paris" });
    const published = await runtime.bus.publish(env, "batch_scheduler");
    expect(published.accepted).toBe(true);
    const answer = await events.waitFor((e) => e.agent === "memory_agent" && (e.envelope as Envelope).metadata?.parent_message_id === env.message_id && (e.kind === "published" || e.kind === "completed" || e.kind === "rejected"), 20_000);
    expect(answer.issues).toEqual([]);
    return answer.envelope as Envelope;
  }

  async function sessionsOf(batchId: string): Promise<string[]> {
    const out: string[] = [];
    for await (const page of batchPages(db(), batchId, 2)) out.push(...page.map((r) => r.sessionId));
    return out;
  }

  it("summarises the stored records into a valid memory_summary to learning_agent, counts matching", async () => {
    await insertWorkflowRecord(db(), workflowRecord("2026-03-02T10:00:00.000Z"));
    await insertWorkflowRecord(db(), workflowRecord("2026-03-02T11:00:00.000Z"));
    await insertWorkflowRecord(db(), workflowRecord("2026-03-02T12:00:00.000Z", "failed"));
    const env = await request({ trigger: "manual" });
    expect(runtime.registry.check(ENVELOPE_SCHEMA_ID, env)).toEqual([]);
    expect(env.next_agent.name).toBe("learning_agent");
    expect(env.output.content_type).toBe("memory_summary");
    expect(runtime.registry.check(runtime.registry.contentSchemaId("memory_summary") ?? "", env.output.content)).toEqual([]);
    // The envelope passed the memory_summary schema on the bus; the test reads a few fields.
    const summary = env.output.content as unknown as { batch_id: string; period: { from: string; to: string }; counts: { workflows: number; tasks: number; workflows_by_status: Record<string, number> } };
    expect(summary.batch_id).toMatch(/^batch_20260303_/);
    expect(summary.counts.workflows).toBe(3);
    expect(summary.counts.tasks).toBe(3);
    expect(summary.counts.workflows_by_status).toEqual({ success: 2, failed: 1, partial: 0 });
    expect(summary.period).toEqual({ from: "2026-03-02T10:00:00.000Z", to: "2026-03-02T12:00:00.000Z" });
    const stored = await getBatch(db(), summary.batch_id);
    expect(stored).toMatchObject({ state: "summarised", records: 3, trigger: "manual" });
    expect(stored?.summary).toEqual(summary);
  });

  it("answers a request with no new records with skipped, to COMPLETE", async () => {
    const env = await request({ trigger: "schedule" });
    expect(env.next_agent.name).toBe("COMPLETE");
    expect(env.status).toEqual({ code: "skipped", message: "no new workflow records" });
  });

  it("puts only the new records in the next batch: no record is in two batches", async () => {
    await insertWorkflowRecord(db(), workflowRecord("2026-03-02T20:00:00.000Z"));
    await insertWorkflowRecord(db(), workflowRecord("2026-03-02T21:00:00.000Z"));
    // A record finished after the request's cutoff waits for the next batch.
    await insertWorkflowRecord(db(), workflowRecord("2026-03-02T23:10:00.000Z"));
    const env = await request({ trigger: "manual", cutoff: "2026-03-02T23:00:00.000Z" });
    // As above: a validated memory_summary.
    const second = env.output.content as unknown as { batch_id: string; counts: { workflows: number } };
    expect(second.counts.workflows).toBe(2);
    const batches = (await db().query<{ batch_id: string }>(`SELECT batch_id FROM "${schema}".memory_batches ORDER BY created_at`)).rows.map((r) => r.batch_id);
    expect(batches).toHaveLength(2);
    expect(batches[1]).toBe(second.batch_id);
    const first = await sessionsOf(batches[0] ?? "");
    const next = await sessionsOf(second.batch_id);
    expect(first).toHaveLength(3);
    expect(next).toHaveLength(2);
    expect(first.filter((s) => next.includes(s))).toEqual([]);
    const unbatched = await db().query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".workflow_records WHERE batch_id IS NULL`);
    expect(Number(unbatched.rows[0]?.n)).toBe(1);
  });

  it("first finishes a batch an earlier build claimed but never summarised", async () => {
    // The record left after the previous cutoff, claimed as a build that stopped before its summary would have.
    const stalled = await claimBatch(db(), { trigger: "schedule", cutoff: new Date("2026-03-02T23:20:00.000Z"), day: "20260303" });
    expect(stalled?.records).toBe(1);
    await insertWorkflowRecord(db(), workflowRecord("2026-03-02T23:25:00.000Z"));
    const env = await request({ trigger: "manual" });
    // As above: a validated memory_summary.
    const summary = env.output.content as unknown as { batch_id: string; counts: { workflows: number } };
    expect(summary.batch_id).toBe(stalled?.batch_id);
    expect(summary.counts.workflows).toBe(1);
    expect(env.audit.reasoning).toContain("resumed batch");
    expect(await getBatch(db(), summary.batch_id)).toMatchObject({ state: "summarised" });
    // The record that came after waits for the next request.
    expect((await request({ trigger: "manual" })).output.content).toMatchObject({ counts: { workflows: 1 } });
  });
});

describe("memory_agent threshold", () => {
  function recordDelivery(threshold: number, unbatched: number) {
    const dispatch = report([fetched("t1", "a.example")], { category: "lookup" });
    const synthesis = synthesize(dispatch).synthesis;
    const message = delivered("reasoning_agent", "memory_agent", "synthesis", synthesis, dispatch);
    const ctx = fakeContext({ message, clock: ManualClock.at("2026-03-02T10:00:00.000Z"), settings: { memoryBatchRecords: threshold } });
    const learning: Partial<LearningRecords> = { unbatchedRecords: async () => unbatched };
    ctx.learning = learning as LearningRecords;
    return { ctx, run: () => handler({ content_type: "synthesis", content: synthesis as Synthesis & JsonObject, source: "reasoning_agent" }, ctx).then(asReplies) };
  }

  it("asks itself for a batch once the unbatched records reach the threshold, after saving the record", async () => {
    const { ctx, run } = recordDelivery(3, 3);
    const replies = await run();
    expect(ctx.saved).toHaveLength(1);
    expect(replies.map((r) => [r.content_type, r.next_agent])).toEqual([["workflow_record", "COMPLETE"], ["batch_request", "memory_agent"]]);
    expect(replies[1]?.content).toEqual({ trigger: "threshold" });
  });

  it("stays quiet below the threshold, and when the threshold is 0 (disabled)", async () => {
    expect((await recordDelivery(3, 2).run()).map((r) => r.content_type)).toEqual(["workflow_record"]);
    expect((await recordDelivery(0, 5000).run()).map((r) => r.content_type)).toEqual(["workflow_record"]);
  });
});
