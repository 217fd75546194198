/**
 * The dispatch agent on real Redis and Postgres, with a scripted action agent and a stand-in
 * reasoning agent (agents/_shared/testing/fixtures/agents). Plans are sent as the planning agent would.
 */
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApprovedRule } from "../../runtime/agents/handler.ts";
import type { AgentHost } from "../../runtime/agents/host.ts";
import type { Envelope, JsonObject } from "../../runtime/envelope/types.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { contentOf } from "../../runtime/testing.ts";
import type { DispatchReport } from "../../runtime/schemas/generated/content_dispatch_report.ts";
import type { Plan, PlanTask } from "../_shared/plan/plan.ts";
import { getTrace } from "../../runtime/store/sessions.ts";
import { dropPrefix, dropSchema, uniquePrefix, uniqueSchema, type EventLog } from "../../test/helpers/bus.ts";
import { testCatalog } from "../_shared/testing/catalog.ts";
import { agentSandbox, completedFor, envelopeOf, eventually, firstMessage, inSession, openSandboxRuntime, type Sandbox } from "../_shared/testing/harness.ts";

const prefix = uniquePrefix("dispatch");
const schema = uniqueSchema("dispatch");
let sandbox: Sandbox;
let runtime: Runtime;
let events: EventLog;
let hosts: AgentHost[];
let dispatchRules: ApprovedRule[] = [];

beforeAll(async () => {
  sandbox = agentSandbox({ real: ["planning_agent", "dispatch_agent"], stubs: ["action_agent", "reasoning_agent"] });
  ({ runtime, events } = await openSandboxRuntime(prefix, schema, sandbox, {
    capabilities: testCatalog(),
    rules: (agent) => (agent === "dispatch_agent" ? dispatchRules : []),
  }));
  hosts = runtime.startAgents(["dispatch_agent", "action_agent", "reasoning_agent"]);
});

afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
  sandbox?.remove();
});

const ref = (from_task: string, output: string) => ({ from_task, output });
const fetchTask = (task_id: string, url: string): PlanTask => ({ task_id, capability: "fetch", inputs: { url }, depends_on: [] });
const extractTask = (task_id: string, from: string): PlanTask => ({ task_id, capability: "extract_text", inputs: { html: ref(from, "html") }, depends_on: [from] });
const summarizeTask = (task_id: string, from: string): PlanTask => ({ task_id, capability: "summarize", inputs: { text: ref(from, "text") }, depends_on: [from] });

function planOf(tasks: PlanTask[], request = "Summarize the test pages"): Plan {
  return { plan_id: `plan-${Math.random().toString(36).slice(2, 10)}`, tasks: tasks as Plan["tasks"], rationale: "test plan", rules_applied: [], request, category: "summarize" };
}

/** Sends the plan as the planning agent; resolves with the session's answer and its dispatch report. */
async function run(plan: Plan): Promise<{ session: string; answer: Envelope; report: DispatchReport; reportEnvelope: Envelope }> {
  const env = firstMessage({ name: "planning_agent", type: "operational" }, "dispatch_agent", "plan", plan as Plan & JsonObject);
  const session = env.metadata.session_id;
  expect(await runtime.bus.publish(env)).toMatchObject({ accepted: true });
  const answer = await completedFor(events, session);
  const reportEnvelope = envelopeOf(events.events.find((e) => e.kind === "published" && inSession(session)(e) && envelopeOf(e).output.content_type === "dispatch_report")!);
  return { session, answer, report: contentOf(reportEnvelope, "dispatch_report"), reportEnvelope };
}

const sessionEvents = (session: string, kind: string, contentType: string, agent?: string) =>
  events.events.filter((e) => e.kind === kind && inSession(session)(e) && envelopeOf(e).output.content_type === contentType && (agent === undefined || e.agent === agent));
const taskOf = (e: { envelope: unknown }) => envelopeOf(e).output.content as { task_id: string; attempt: number };
const taskReport = (report: DispatchReport, id: string) => report.tasks.find((t) => t.task_id === id);

describe("running a plan's DAG", () => {
  it("sends the independent branches in parallel: both fetches go out before either result comes back", async () => {
    const plan = planOf([fetchTask("t1", "https://a.test/ok"), extractTask("t2", "t1"), fetchTask("t3", "https://b.test/ok"), extractTask("t4", "t3"), summarizeTask("t5", "t4")]);
    const { session, report, reportEnvelope, answer } = await run(plan);

    const kinds = events.events.filter(inSession(session));
    const firstResult = kinds.findIndex((e) => e.kind === "published" && envelopeOf(e).output.content_type === "action_result");
    const fetchesSent = kinds.filter((e) => e.kind === "published" && envelopeOf(e).output.content_type === "task" && ["t1", "t3"].includes(taskOf(e).task_id));
    const fetchesStarted = kinds.filter((e) => e.kind === "delivered" && e.agent === "action_agent" && ["t1", "t3"].includes(taskOf(e).task_id));
    expect(fetchesSent).toHaveLength(2);
    expect(fetchesStarted).toHaveLength(2);
    for (const e of [...fetchesSent, ...fetchesStarted]) expect(kinds.indexOf(e)).toBeLessThan(firstResult);
    // Both went out in one reply to the plan message.
    expect(new Set(fetchesSent.map((e) => envelopeOf(e).metadata.parent_message_id)).size).toBe(1);

    expect(report.tasks.map((t) => [t.task_id, t.status, t.attempts])).toEqual([
      ["t1", "succeeded", 1],
      ["t2", "succeeded", 1],
      ["t3", "succeeded", 1],
      ["t4", "succeeded", 1],
      ["t5", "succeeded", 1],
    ]);
    expect(report).toMatchObject({ plan_id: plan.plan_id, request: "Summarize the test pages", category: "summarize", skipped_branches: [], rules_applied: [] });
    expect(taskReport(report, "t1")).toMatchObject({ domain: "a.test", error_code: null, recoverable: false, depends_on: [] });
    expect(taskReport(report, "t1")?.duration_ms).toBeGreaterThanOrEqual(100);
    expect(taskReport(report, "t5")?.outputs).toEqual({ summary: "Redis is fast.", method: "extractive" });
    expect(reportEnvelope.status).toEqual({ code: "success", message: "5 succeeded, 0 failed, 0 skipped" });
    expect(reportEnvelope.next_agent.name).toBe("reasoning_agent");
    expect(answer.agent.name).toBe("reasoning_agent");
  });

  it("resolves references before sending: a task's inputs are the outputs it depends on", async () => {
    const { session } = await run(planOf([fetchTask("t1", "https://a.test/page"), extractTask("t2", "t1")]));
    const sent = sessionEvents(session, "published", "task").map((e) => envelopeOf(e).output.content).find((c) => c.task_id === "t2");
    expect(sent?.inputs).toEqual({ html: expect.stringContaining("<title>page</title>") });
  });
});

describe("failures", () => {
  it("retries a 429 with backoff and then succeeds: attempts 3", async () => {
    const { session, report } = await run(planOf([fetchTask("t1", "https://busy.test/fail-429-2"), extractTask("t2", "t1")]));
    const attempts = sessionEvents(session, "delivered", "task", "action_agent").filter((e) => taskOf(e).task_id === "t1");
    expect(attempts.map((e) => taskOf(e).attempt)).toEqual([1, 2, 3]);
    // 500 ms after the first failure, 1000 ms after the second (the fetch itself takes ~150 ms).
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(500);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(1000);
    expect(taskReport(report, "t1")).toMatchObject({ status: "succeeded", attempts: 3, error_code: "HTTP_429", recoverable: true, domain: "busy.test" });
    expect(taskReport(report, "t2")).toMatchObject({ status: "succeeded", attempts: 1 });
  });

  it("a 404 fails at once and skips its dependants; the other branch still runs", async () => {
    const plan = planOf([fetchTask("t1", "https://gone.test/fail-404"), extractTask("t2", "t1"), summarizeTask("t3", "t2"), fetchTask("t4", "https://a.test/ok")]);
    const { session, report, reportEnvelope } = await run(plan);
    expect(report.tasks.map((t) => [t.task_id, t.status, t.attempts, t.error_code])).toEqual([
      ["t1", "failed", 1, "HTTP_404"],
      ["t2", "skipped", 0, null],
      ["t3", "skipped", 0, null],
      ["t4", "succeeded", 1, null],
    ]);
    expect(taskReport(report, "t1")).toMatchObject({ recoverable: false, domain: "gone.test", outputs: null, error_message: "GET https://gone.test/fail-404 answered 404" });
    expect(report.skipped_branches).toEqual(["t2", "t3"]);
    expect(sessionEvents(session, "published", "task").map((e) => taskOf(e).task_id).sort()).toEqual(["t1", "t4"]);
    expect(reportEnvelope.status).toEqual({ code: "partial", message: "1 succeeded, 1 failed, 2 skipped" });
  });

  it("rules change retry decisions: max_attempts caps them, no_retry stops them, and the report lists both", async () => {
    dispatchRules = [
      { rule_id: "rule_20260101_01", target_agent: "dispatch_agent", trigger_condition: "503 from flaky.test", instruction: "try twice", effect: { op: "max_attempts", match: { capability: "fetch", error_code: "HTTP_503" }, attempts: 2 }, path: "context/memory/rule_20260101_01.md" },
      { rule_id: "rule_20260101_02", target_agent: "dispatch_agent", trigger_condition: "429 from never.test", instruction: "do not retry", effect: { op: "no_retry", match: { capability: "fetch", domain: "never.test" } }, path: "context/memory/rule_20260101_02.md" },
    ];
    try {
      const { report, reportEnvelope } = await run(planOf([fetchTask("t1", "https://flaky.test/fail-503-5"), fetchTask("t2", "https://never.test/fail-429-1")]));
      expect(report.tasks.map((t) => [t.task_id, t.status, t.attempts, t.error_code, t.recoverable])).toEqual([
        ["t1", "failed", 2, "HTTP_503", true],
        ["t2", "failed", 1, "HTTP_429", true],
      ]);
      expect([...report.rules_applied].sort()).toEqual(["rule_20260101_01", "rule_20260101_02"]);
      expect(reportEnvelope.status.code).toBe("failed");
      expect(reportEnvelope.audit.governance_files_consulted).toContain("context/memory/rule_20260101_01.md");
    } finally {
      dispatchRules = [];
    }
  });

  it("a plan that cannot run (a cycle) is refused with PLAN_INVALID and the session fails", async () => {
    const plan = planOf([{ ...extractTask("t1", "t2") }, { ...extractTask("t2", "t1") }]);
    const env = firstMessage({ name: "planning_agent", type: "operational" }, "dispatch_agent", "plan", plan as Plan & JsonObject);
    await runtime.bus.publish(env);
    const dl = await events.waitFor((e) => e.kind === "dead_lettered" && envelopeOf(e).message_id === env.message_id);
    expect(dl.error?.code).toBe("PLAN_INVALID");
    expect(dl.error?.message).toMatch(/the plan has a cycle: t\d → t\d → t\d/);
  });
});

describe("exactly once", () => {
  it("a result delivered twice is applied once", async () => {
    const { session, report } = await run(planOf([fetchTask("t1", "https://a.test/dup"), extractTask("t2", "t1")]));
    expect(sessionEvents(session, "delivered", "action_result", "dispatch_agent").filter((e) => taskOf(e).task_id === "t1")).toHaveLength(2);
    expect(sessionEvents(session, "published", "task").map((e) => taskOf(e).task_id)).toEqual(["t1", "t2"]);
    expect(sessionEvents(session, "published", "dispatch_report")).toHaveLength(1);
    expect(taskReport(report, "t1")).toMatchObject({ status: "succeeded", attempts: 1 });
  });

  it("a redelivered message returns the same replies, which the bus de-duplicates", async () => {
    const { session } = await run(planOf([fetchTask("t1", "https://a.test/ok"), extractTask("t2", "t1")]));
    const host = hosts.find((h) => h.worker.name === "dispatch_agent")!;
    for (const delivered of sessionEvents(session, "delivered", "action_result", "dispatch_agent").concat(sessionEvents(session, "delivered", "plan", "dispatch_agent"))) {
      const env = envelopeOf(delivered);
      const original = events.events.filter((e) => e.kind === "published" && envelopeOf(e).metadata.parent_message_id === env.message_id).map((e) => envelopeOf(e).message_id);
      // A stand-in job: process() reads only these fields.
      const job = { data: env, attemptsStarted: 2, attemptsMade: 1, opts: { attempts: 3 } } as unknown as Job;
      const outcome = await host.process(job);
      expect(outcome.replies.map((r) => r.message_id).sort()).toEqual(original.sort());
    }
    await new Promise((r) => setTimeout(r, 400));
    expect(events.events.filter((e) => e.kind === "completed" && inSession(session)(e))).toHaveLength(1);
    expect(events.events.filter((e) => e.kind === "delivered" && inSession(session)(e) && e.agent === "reasoning_agent")).toHaveLength(1);
  });

  it("a dispatch worker restarted mid-plan carries on from its saved state; the session finishes once", async () => {
    const plan = planOf([fetchTask("t1", "https://a.test/slow-800"), extractTask("t2", "t1"), summarizeTask("t3", "t2")]);
    const env = firstMessage({ name: "planning_agent", type: "operational" }, "dispatch_agent", "plan", plan as Plan & JsonObject);
    const session = env.metadata.session_id;
    await runtime.bus.publish(env);
    await events.waitFor((e) => e.kind === "delivered" && e.agent === "action_agent" && inSession(session)(e));
    // The slow fetch is running; the dispatch worker stops (its result will wait in Redis).
    const dispatch = hosts.find((h) => h.worker.name === "dispatch_agent")!;
    await dispatch.close();
    hosts = hosts.filter((h) => h !== dispatch);

    const second = await openSandboxRuntime(prefix, schema, sandbox, { capabilities: testCatalog() });
    try {
      second.runtime.startAgents(["dispatch_agent"]);
      const answer = await completedFor(events, session);
      expect(answer.output.content.answer).toBe(`${plan.plan_id}: t1 succeeded, t2 succeeded, t3 succeeded`);
      const trace = await eventually(async () => {
        const rows = await getTrace(runtime.store!.db, session);
        return rows.some((r) => r.outcome === "completed") ? rows : undefined;
      });
      const types = (outcome: string) => trace.filter((r) => r.outcome === outcome).map((r) => (r.envelope as Envelope).output.content_type);
      expect(types("completed")).toEqual(["synthesis"]);
      expect(types("published").filter((t) => t === "dispatch_report")).toHaveLength(1);
      expect(types("published").filter((t) => t === "task")).toHaveLength(3);
      // The second runtime's dispatch worker applied the results the first one never saw.
      expect(second.events.events.filter((e) => e.kind === "delivered" && inSession(session)(e)).map((e) => envelopeOf(e).output.content_type)).toEqual(["action_result", "action_result", "action_result"]);
    } finally {
      await second.runtime.close();
    }
  });
});
