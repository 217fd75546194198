/**
 * The planning agent on real Redis and Postgres, in front of the real dispatch and memory agents, a
 * scripted action agent and a stand-in reasoning agent (agents/_shared/testing/fixtures/agents).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApprovedRule } from "../../runtime/agents/handler.ts";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import { AgentbusError } from "../../runtime/errors/index.ts";
import type { LlmClient } from "../../runtime/llm/types.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { contentOf } from "../../runtime/testing.ts";
import { getSession, getTrace } from "../../runtime/store/sessions.ts";
import { listWorkflowRecords } from "../../runtime/store/workflow-records.ts";
import { dropPrefix, dropSchema, uniquePrefix, uniqueSchema, type EventLog } from "../../test/helpers/bus.ts";
import { CLEAN_TEXT, testCatalog } from "../_shared/testing/catalog.ts";
import { agentSandbox, completedFor, envelopeOf, eventually, inSession, openSandboxRuntime, type Sandbox } from "../_shared/testing/harness.ts";

const prefix = uniquePrefix("planning");
const schema = uniqueSchema("planning");
let sandbox: Sandbox;
let runtime: Runtime;
let events: EventLog;
/** What the fake LLM answers for the current test; null: no LLM configured. */
let llmAnswer: (() => Promise<unknown>) | null = null;
let llmPrompts: string[] = [];
let planningRules: ApprovedRule[] = [];

function fakeLlm(answer: () => Promise<unknown>): LlmClient {
  return {
    provider: "openai_compatible",
    model: "fake-planner",
    text: () => Promise.resolve(""),
    json: async <T>(request: { prompt: string; contentType: string }): Promise<T> => {
      llmPrompts.push(request.prompt);
      expect(request.contentType).toBe("plan");
      return (await answer()) as T;
    },
  };
}

beforeAll(async () => {
  sandbox = agentSandbox({ real: ["planning_agent", "dispatch_agent", "memory_agent"], stubs: ["action_agent", "reasoning_agent"] });
  ({ runtime, events } = await openSandboxRuntime(prefix, schema, sandbox, {
    capabilities: testCatalog([CLEAN_TEXT]),
    llm: (agent) => (agent.name === "planning_agent" && llmAnswer ? fakeLlm(llmAnswer) : null),
    rules: (agent) => (agent === "planning_agent" ? planningRules : []),
  }));
  runtime.startAgents();
});

afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
  sandbox?.remove();
});

/** Submits a request as a user would; resolves with the session's answer and the plan (if one was made). */
async function submit(text: string, extra: { steps?: string[]; category?: string } = {}): Promise<{ session: string; answer: Envelope; plan: Envelope | undefined }> {
  const req = buildRequest({ content_type: "user_request", content: { text, ...extra }, to: "planning_agent" }, { clock: systemClock, timezone: "UTC" });
  expect(await runtime.bus.publish(req)).toMatchObject({ accepted: true });
  const session = req.metadata.session_id;
  const answer = await completedFor(events, session);
  const plan = events.events.find((e) => e.kind === "published" && inSession(session)(e) && envelopeOf(e).output.content_type === "plan");
  return { session, answer, plan: plan ? envelopeOf(plan) : undefined };
}

const tasksOf = (plan: Envelope | undefined) => (plan ? contentOf(plan, "plan") : undefined)?.tasks.map((t) => `${t.task_id} ${t.capability}`);

describe("without an LLM: planning by types", () => {
  it("plans a request about two pages and the session runs through dispatch, action and reasoning", async () => {
    const { session, answer, plan } = await submit("Find mentions of 'Redis' in https://a.test/ok and https://b.test/ok");
    expect(plan?.agent.name).toBe("planning_agent");
    expect(plan?.next_agent.name).toBe("dispatch_agent");
    expect(tasksOf(plan)).toEqual(["t1 fetch", "t2 extract_text", "t3 find_mentions", "t4 fetch", "t5 extract_text", "t6 find_mentions"]);
    const content = contentOf(plan, "plan");
    expect(content).toMatchObject({ plan_id: `plan-${plan!.metadata.request_id}`, request: "Find mentions of 'Redis' in https://a.test/ok and https://b.test/ok", category: "mentions", rules_applied: [] });
    expect(content.tasks[2]?.inputs).toEqual({ text: { from_task: "t2", output: "text" }, terms: ["Redis"] });
    expect(plan?.audit.reasoning).toMatch(/^planned by capability types \(no LLM configured\)\. Category: mentions\./);
    expect(plan?.next_agent.reason).toBe(`plan ${content.plan_id}: 6 tasks, 2 ready at once`);

    expect(answer.agent.name).toBe("reasoning_agent");
    expect(answer.output.content.answer).toBe(`${content.plan_id}: t1 succeeded, t2 succeeded, t3 succeeded, t4 succeeded, t5 succeeded, t6 succeeded`);
    const trace = await eventually(async () => {
      const rows = await getTrace(runtime.store!.db, session);
      return rows.some((r) => r.outcome === "completed") ? rows : undefined;
    });
    const senders = trace.filter((r) => r.outcome === "published" || r.outcome === "completed").map((r) => (r.envelope as Envelope).agent.name);
    expect(senders.filter((s) => s === "action_agent")).toHaveLength(6);
    expect(new Set(senders)).toEqual(new Set(["user", "planning_agent", "dispatch_agent", "action_agent", "reasoning_agent"]));
  });

  it("honours explicit steps", async () => {
    const { plan } = await submit("Have a look at https://a.test/ok", { steps: ["fetch", "extract_text"] });
    expect(tasksOf(plan)).toEqual(["t1 fetch", "t2 extract_text"]);
    expect(contentOf(plan, "plan").category).toBe("extract");
  });

  it("an unplannable request completes at once as failed, saying what is missing", async () => {
    const { session, answer, plan } = await submit("Summarize the quarterly report");
    expect(plan).toBeUndefined();
    const why = "Cannot plan this request: the request asks for a summary but gives no URL or text to summarize.";
    expect(answer.agent.name).toBe("planning_agent");
    expect(answer.next_agent.name).toBe("COMPLETE");
    expect(answer.output).toEqual({ content_type: "synthesis", content: { answer: why, findings: [], contradictions: [], confidence: 0 } });
    expect(answer.status).toEqual({ code: "failed", message: why });
    expect(answer.error).toEqual({ has_error: true, error_code: "UNPLANNABLE", error_message: why, retry_count: 0, recoverable: false });
    const stored = await eventually(async () => {
      const s = await getSession(runtime.store!.db, session);
      return s?.status === "running" ? undefined : (s ?? undefined);
    });
    expect(stored.status).toBe("failed");
  });

  it("sends an unplannable request's failed synthesis to COMPLETE and to memory, which records the session", async () => {
    const { session, answer } = await submit("Summarize the quarterly report", { category: "reports" });
    const recorded = await events.waitFor((e) => e.kind === "completed" && inSession(session)(e) && e.agent === "memory_agent").then(envelopeOf);

    // Two replies to the one request: the session's answer, then the same synthesis for the record.
    const sent = events.events.filter((e) => (e.kind === "completed" || e.kind === "published") && inSession(session)(e) && e.agent === "planning_agent").map(envelopeOf);
    expect(sent.map((e) => e.next_agent.name)).toEqual(["COMPLETE", "memory_agent"]);
    const [, toMemory] = sent;
    expect(toMemory?.output).toEqual(answer.output);
    expect(toMemory?.status).toEqual(answer.status);
    expect(toMemory?.error).toEqual(answer.error);
    expect(toMemory?.input.content).toEqual({ text: "Summarize the quarterly report", category: "reports" }); // the request rides along

    expect(recorded.output.content_type).toBe("workflow_record");
    expect(recorded.error).toMatchObject({ has_error: true, error_code: "UNPLANNABLE" });
    await runtime.store!.audit.flush();
    const records = (await listWorkflowRecords(runtime.store!.db, { from: new Date(0), to: new Date(Date.now() + 86_400_000) })).filter((r) => r.sessionId === session);
    expect(records).toHaveLength(1);
    expect(records[0]?.record).toMatchObject({ session_id: session, request: { text: "Summarize the quarterly report", category: "reports" }, status: "failed", plan: [], tasks: [], rules_applied: [] });
    const row = await getSession(runtime.store!.db, session);
    expect(row).toMatchObject({ status: "failed", answer: answer.output.content }); // the planner's answer stays the session's answer
  });
});

describe("approved rules change plans", () => {
  it("an insert_before rule adds its capability and is listed in rules_applied", async () => {
    planningRules = [
      {
        rule_id: "rule_20260101_01",
        target_agent: "planning_agent",
        trigger_condition: "summaries of noisy pages",
        instruction: "clean the text before summarizing",
        effect: { op: "insert_before", capability: "summarize", insert: "clean_text" },
        path: "context/memory/rule_20260101_01.md",
      },
    ];
    try {
      const { plan, answer } = await submit("Summarize https://a.test/ok");
      expect(tasksOf(plan)).toEqual(["t1 fetch", "t2 extract_text", "t4 clean_text", "t3 summarize"]);
      expect(contentOf(plan, "plan").rules_applied).toEqual(["rule_20260101_01"]);
      expect(plan?.audit.compliance_notes).toContain("rule_20260101_01: inserted clean_text before every summarize task");
      expect(plan?.audit.governance_files_consulted).toContain("context/memory/rule_20260101_01.md");
      expect(answer.output.content.answer).toMatch(/t4 succeeded, t3 succeeded$/);
    } finally {
      planningRules = [];
    }
  });
});

describe("with an LLM", () => {
  const llmPlan = (tasks: unknown[]) => ({ plan_id: "whatever-the-llm-says", tasks, rationale: "LLM: compute it directly", rules_applied: [] });

  it("uses the LLM's plan when it validates, with this request's plan id and text", async () => {
    llmAnswer = () => Promise.resolve(llmPlan([{ task_id: "t1", capability: "compute", inputs: { expression: "6*7" }, depends_on: [] }]));
    llmPrompts = [];
    try {
      const { plan, answer } = await submit("What is six times seven? Use 6*7.");
      const content = contentOf(plan, "plan");
      expect(content).toMatchObject({ plan_id: `plan-${plan!.metadata.request_id}`, rationale: "LLM: compute it directly", request: "What is six times seven? Use 6*7.", category: "compute" });
      expect(plan?.audit.reasoning).toMatch(/^planned by the LLM \(openai_compatible\/fake-planner\); plan validated/);
      expect(llmPrompts[0]).toContain("- compute: compute (test declaration)\n  inputs {expression: expression} → outputs {value: number}");
      expect(llmPrompts[0]).toContain("What is six times seven? Use 6*7.");
      expect(answer.output.content.answer).toMatch(/t1 succeeded$/);
    } finally {
      llmAnswer = null;
    }
  });

  it("falls back to the type planner when the LLM's plan is invalid, and says so", async () => {
    // t2 refers to t1 without depending on it, and uses a capability that does not exist.
    llmAnswer = () =>
      Promise.resolve(
        llmPlan([
          { task_id: "t1", capability: "fetch", inputs: { url: "https://a.test/ok" }, depends_on: [] },
          { task_id: "t2", capability: "read_page", inputs: { html: { from_task: "t1", output: "html" } }, depends_on: [] },
        ]),
      );
    try {
      const { plan } = await submit("Summarize https://a.test/ok");
      expect(tasksOf(plan)).toEqual(["t1 fetch", "t2 extract_text", "t3 summarize"]);
      expect(plan?.audit.reasoning).toMatch(/^planned by capability types \(the LLM's plan was not usable\)/);
      const note = plan?.audit.compliance_notes.split("\n").find((n) => n.startsWith("LLM plan not used"));
      expect(note).toContain('t2 input "html" refers to t1.html, but t1 is not in its depends_on');
      expect(note).toContain('t2 uses capability "read_page", which is not registered');
      expect(note).toMatch(/planned by capability types instead$/);
    } finally {
      llmAnswer = null;
    }
  });

  it("falls back when the LLM cannot produce a valid plan at all (LLM_OUTPUT_INVALID)", async () => {
    llmAnswer = () => Promise.reject(new AgentbusError("LLM_OUTPUT_INVALID", "still not a plan after one repair", { recoverable: false }));
    try {
      const { plan } = await submit("Extract the text of https://a.test/ok");
      expect(tasksOf(plan)).toEqual(["t1 fetch", "t2 extract_text"]);
      expect(plan?.audit.compliance_notes).toContain("LLM plan not used: LLM_OUTPUT_INVALID: still not a plan after one repair; planned by capability types instead");
    } finally {
      llmAnswer = null;
    }
  });

  it("an exhausted token budget ends the session instead of planning on", async () => {
    llmAnswer = () => Promise.reject(new AgentbusError("BUDGET_EXCEEDED", "session used 200000 of 200000 tokens", { recoverable: false }));
    try {
      const req = buildRequest({ content_type: "user_request", content: { text: "Summarize https://a.test/ok" }, to: "planning_agent" }, { clock: systemClock, timezone: "UTC" });
      await runtime.bus.publish(req);
      const dl = await events.waitFor((e) => e.kind === "dead_lettered" && envelopeOf(e).message_id === req.message_id);
      expect(dl.error?.code).toBe("BUDGET_EXCEEDED");
      expect(events.events.some((e) => e.kind === "published" && inSession(req.metadata.session_id)(e) && e.agent === "planning_agent")).toBe(false);
    } finally {
      llmAnswer = null;
    }
  });
});
