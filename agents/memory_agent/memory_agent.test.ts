import { describe, expect, it } from "vitest";
import { ManualClock } from "../../runtime/envelope/clock.ts";
import type { JsonObject, Synthesis } from "../../runtime/agent-api.ts";
import { synthesize } from "../reasoning_agent/synthesis/synthesize.ts";
import type { DispatchReport } from "../_shared/report.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import { asReplies, delivered, fakeContext, type FakeOptions } from "../_shared/testing/fake-context.ts";
import { extracted, failed, fetched, mentions, report, skipped } from "../_shared/testing/reports.ts";
import { handler } from "./worker.ts";
import { categoryOf } from "./workflow-record.ts";

const registry = schemaRegistry();

function delivery(content: DispatchReport, options: Partial<FakeOptions> = {}, synthesisRules: string[] = []) {
  const synthesis = { ...synthesize(content).synthesis, ...(synthesisRules.length > 0 ? { rules_applied: synthesisRules } : {}) };
  const message = delivered("reasoning_agent", "memory_agent", "synthesis", synthesis, content);
  const ctx = fakeContext({ message, clock: ManualClock.at("2026-11-21T10:00:05.250Z"), ...options });
  return { ctx, run: () => handler({ content_type: "synthesis", content: synthesis as Synthesis & JsonObject, source: "reasoning_agent" }, ctx).then(asReplies) };
}

/** The failed synthesis the planning agent sends for a request it cannot plan, the request riding along. */
function unplannableDelivery(request: JsonObject, options: Partial<FakeOptions> = {}) {
  const why = "Cannot plan this request: the request asks for a summary but gives no URL or text to summarize.";
  const synthesis: JsonObject = { answer: why, findings: [], contradictions: [], confidence: 0 };
  const message = delivered("planning_agent", "memory_agent", "synthesis", synthesis, request, {
    source: "user",
    status: { code: "failed", message: why },
    error: { code: "UNPLANNABLE", message: why, recoverable: false },
  });
  const ctx = fakeContext({ message, clock: ManualClock.at("2026-11-21T10:00:00.100Z"), ...options });
  return { ctx, why, run: () => handler({ content_type: "synthesis", content: synthesis, source: "planning_agent" }, ctx).then(asReplies) };
}

const mixed = () =>
  report(
    [
      fetched("t1", "a.example", { attempts: 2, error_code: "HTTP_429", recoverable: true, duration_ms: 812 }),
      extracted("t2", "t1", "A", "text"),
      failed("t3", "fetch", "HTTP_404", { domain: "gone.example", duration_ms: 35 }),
      skipped("t4", "extract_text", ["t3"]),
      mentions("t5", ["t2", "t4"], {}),
    ],
    { rules_applied: ["rule_20261120_01"], category: "lookup" },
  );

describe("memory_agent", () => {
  it("writes the workflow record of DESIGN §3, optional fields omitted rather than null", async () => {
    const { ctx, run } = delivery(mixed(), { session: { session_id: "s-test0001", request_id: "r-test0001", started_at: "2026-11-21T09:59:50.000Z" } });
    const [reply] = await run();
    expect(ctx.saved).toHaveLength(1);
    expect(ctx.saved[0]).toEqual({
      session_id: "s-test0001",
      request_id: "r-test0001",
      request: { text: "What does the page say about Lyon?", category: "lookup" },
      started_at: "2026-11-21T09:59:50.000Z",
      finished_at: "2026-11-21T10:00:05.250Z",
      status: "partial",
      plan: [
        { task_id: "t1", capability: "fetch", depends_on: [] },
        { task_id: "t2", capability: "extract_text", depends_on: ["t1"] },
        { task_id: "t3", capability: "fetch", depends_on: [] },
        { task_id: "t4", capability: "extract_text", depends_on: ["t3"] },
        { task_id: "t5", capability: "find_mentions", depends_on: ["t2", "t4"] },
      ],
      tasks: [
        { task_id: "t1", capability: "fetch", status: "succeeded", attempts: 2, error_code: "HTTP_429", domain: "a.example", recoverable: true, duration_ms: 812, output_chars: 147, fingerprint: "f137c9e72cc5881b" },
        { task_id: "t2", capability: "extract_text", status: "succeeded", attempts: 1, recoverable: false, duration_ms: 15, input_chars: 147, output_chars: 27, fingerprint: "08b93f93eacdd534" },
        { task_id: "t3", capability: "fetch", status: "failed", attempts: 1, error_code: "HTTP_404", domain: "gone.example", recoverable: false, duration_ms: 35 },
        { task_id: "t4", capability: "extract_text", status: "skipped", attempts: 0, recoverable: false },
        // Sizes, not content; no fingerprint: what it consumed from t4 never existed.
        { task_id: "t5", capability: "find_mentions", status: "succeeded", attempts: 1, recoverable: false, duration_ms: 15, input_chars: 27, output_chars: 27 },
      ],
      rules_applied: ["rule_20261120_01"],
    });
    expect(registry.check(registry.contentSchemaId("workflow_record") ?? "", ctx.saved[0])).toEqual([]);
    expect(reply).toMatchObject({ content_type: "workflow_record", next_agent: "COMPLETE", status: { code: "partial" }, content: ctx.saved[0] });
    expect(reply?.error).toBeUndefined();
  });

  it("adds the rules the reasoning agent applied to those of the plan and dispatch, once each", async () => {
    const { ctx, run } = delivery(mixed(), {}, ["rule_20261120_07", "rule_20261120_01"]);
    await run();
    expect(ctx.saved[0]?.rules_applied).toEqual(["rule_20261120_01", "rule_20261120_07"]);
  });

  it("mirrors a failed workflow in the envelope with WORKFLOW_FAILED", async () => {
    const { run } = delivery(report([failed("t1", "fetch", "TIMEOUT", { attempts: 3, recoverable: true })]));
    const [reply] = await run();
    expect(reply?.status).toEqual({ code: "failed", message: "recorded: no task succeeded (t1 failed TIMEOUT)" });
    expect(reply?.error).toEqual({ code: "WORKFLOW_FAILED", message: "recorded: no task succeeded (t1 failed TIMEOUT)", recoverable: false });
  });

  it("without a session row, starts the record no later than the plan's longest chain of tasks allows", async () => {
    const { ctx, run } = delivery(mixed(), { session: null });
    await run();
    // The reasoning agent answered at 09:59:59.000; t1 → t2 → t5 took 812 + 15 + 15 ms.
    expect(ctx.saved[0]?.started_at).toBe("2026-11-21T09:59:58.158Z");
  });

  it("saves and sends the very same record when the message is redelivered", async () => {
    const first = delivery(mixed());
    const [a] = await first.run();
    const again = delivery(mixed(), { stateStore: first.ctx.stateStore, saved: first.ctx.saved, clock: ManualClock.at("2026-11-21T10:05:00.000Z") });
    const [b] = await again.run();
    expect(first.ctx.saved).toHaveLength(1);
    expect(b?.content).toEqual(a?.content);
    expect(b?.reasoning).toContain("already written (redelivery)");
  });

  it("refuses a synthesis that does not carry the dispatch report it answered", async () => {
    const message = delivered("reasoning_agent", "memory_agent", "synthesis", { answer: "x", findings: [], contradictions: [], confidence: 1 }, { nope: true });
    const ctx = fakeContext({ message });
    await expect(handler({ content_type: "synthesis", content: message.output.content, source: "reasoning_agent" }, ctx)).rejects.toMatchObject({ code: "DISPATCH_REPORT_MISSING", recoverable: false });
    expect(ctx.saved).toEqual([]);
  });

  it("records an unplannable session: failed, the request's text and category, nothing planned or run", async () => {
    const { ctx, why, run } = unplannableDelivery({ text: "Summarize the quarterly report" }, { session: { session_id: "s-test0001", request_id: "r-test0001", started_at: "2026-11-21T09:59:58.900Z" } });
    const [reply, ...more] = await run();
    expect(more).toEqual([]);
    expect(ctx.saved).toEqual([
      {
        session_id: "s-test0001",
        request_id: "r-test0001",
        request: { text: "Summarize the quarterly report", category: "summarize" }, // as the planner files it
        started_at: "2026-11-21T09:59:58.900Z",
        finished_at: "2026-11-21T10:00:00.100Z",
        status: "failed",
        plan: [],
        tasks: [],
        rules_applied: [],
      },
    ]);
    expect(registry.check(registry.contentSchemaId("workflow_record") ?? "", ctx.saved[0])).toEqual([]);
    expect(reply).toMatchObject({ content_type: "workflow_record", next_agent: "COMPLETE", content: ctx.saved[0] });
    expect(reply?.status).toEqual({ code: "failed", message: `recorded: ${why}` });
    expect(reply?.error).toEqual({ code: "UNPLANNABLE", message: `recorded: ${why}`, recoverable: false });
    expect(reply?.reasoning).toContain("the request was not planned: no tasks, status failed");
  });

  it("files an unplannable request under the user's category, or under unknown when it asks for nothing known", async () => {
    const own = unplannableDelivery({ text: "Tell me a joke", category: "small_talk" });
    await own.run();
    expect(own.ctx.saved[0]?.request).toEqual({ text: "Tell me a joke", category: "small_talk" });
    const none = unplannableDelivery({ text: "Tell me a joke" }, { session: null });
    await none.run();
    expect(none.ctx.saved[0]?.request).toEqual({ text: "Tell me a joke", category: "unknown" });
    expect(none.ctx.saved[0]?.started_at).toBe("2026-11-21T09:59:59.000Z"); // no session row: when the planner answered
  });

  it("writes an unplannable session's record once when the message is redelivered", async () => {
    const first = unplannableDelivery({ text: "Tell me a joke" });
    const [a] = await first.run();
    const again = unplannableDelivery({ text: "Tell me a joke" }, { stateStore: first.ctx.stateStore, saved: first.ctx.saved, clock: ManualClock.at("2026-11-21T10:05:00.000Z") });
    const [b] = await again.run();
    expect(first.ctx.saved).toHaveLength(1);
    expect(b?.content).toEqual(a?.content);
    expect(b?.error?.code).toBe("UNPLANNABLE");
    expect(b?.reasoning).toContain("already written (redelivery)");
  });

  it("refuses a planning agent's synthesis that does not carry the user_request", async () => {
    const { ctx, run } = unplannableDelivery({ nope: true });
    await expect(run()).rejects.toMatchObject({ code: "USER_REQUEST_MISSING", recoverable: false });
    expect(ctx.saved).toEqual([]);
  });

  it("derives the category from what the plan delivered when the request had none", () => {
    const r = mixed();
    delete r.category;
    expect(categoryOf(r)).toBe("find_mentions");
    expect(categoryOf(report([fetched("t1", "a.example"), extracted("t2", "t1", "A", "a"), fetched("t3", "b.example")]))).toBe("extract_text+fetch");
  });
});
