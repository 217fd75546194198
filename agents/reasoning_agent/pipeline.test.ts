/**
 * reasoning_agent and memory_agent on real Redis and Postgres: a dispatch report goes in as if the
 * dispatch agent had sent it; the session's answer and its workflow record come out.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Job } from "bullmq";
import { buildEnvelope } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import { newRequestId, newSessionId } from "../../runtime/envelope/ids.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import type { AgentHost } from "../../runtime/agents/host.ts";
import type { DispatchReport } from "../_shared/report.ts";
import { getSession, upsertSession } from "../../runtime/store/sessions.ts";
import { listWorkflowRecords } from "../../runtime/store/workflow-records.ts";
import { DATABASE_URL, dropPrefix, dropSchema, openTestRuntime, testConfig, uniquePrefix, uniqueSchema, type EventLog } from "../../test/helpers/bus.ts";
import { reasoningAgentsDir } from "../_shared/testing/agents-dir.ts";
import { extracted, failed, fetched, mentions, report, skipped, twoPagesDisagreeing } from "../_shared/testing/reports.ts";

const prefix = uniquePrefix("reasoning");
const schema = uniqueSchema("reasoning");
const agents = reasoningAgentsDir();
let runtime: Runtime;
let events: EventLog;
let memoryHost: AgentHost;

beforeAll(async () => {
  ({ runtime, events } = await openTestRuntime(prefix, { dbSchema: schema, config: testConfig(prefix, { agentsDir: agents.dir, dbSchema: schema, databaseUrl: DATABASE_URL }) }));
  expect(runtime.agents.broken).toEqual([]);
  const hosts = runtime.startAgents(["reasoning_agent", "memory_agent"]);
  memoryHost = hosts.find((h) => h.worker.name === "memory_agent")!;
});

afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
  agents.remove();
});

/**
 * A dispatch report on the bus, sent as the dispatch agent would send it, in a session that (as a
 * real one) began a little earlier with the user's request.
 */
async function submitReport(content: DispatchReport, startedAt = new Date(Date.now() - 5000)): Promise<string> {
  const session = newSessionId();
  await upsertSession(runtime.store!.db, { sessionId: session, startedAt });
  const env = buildEnvelope(
    {
      sender: { name: "dispatch_agent", type: "operational", abbr: "dispatch" },
      input: { source: "action_agent", content: null },
      output: { content_type: "dispatch_report", content },
      next_agent: { name: "reasoning_agent", reason: "every task settled" },
      metadata: { session_id: session, request_id: newRequestId(), sequence_number: 1, parent_message_id: null },
    },
    { clock: systemClock, timezone: "UTC" },
  );
  expect(await runtime.bus.publish(env)).toMatchObject({ accepted: true });
  return env.metadata.session_id;
}

const inSession = (session: string) => (e: { envelope: unknown }) => (e.envelope as Envelope).metadata?.session_id === session;
const completedBy = (session: string, agent: string) =>
  events.waitFor((e) => e.kind === "completed" && inSession(session)(e) && (e.envelope as Envelope).agent.name === agent).then((e) => e.envelope as Envelope);

async function recordsOf(session: string) {
  await runtime.store!.audit.flush();
  const all = await listWorkflowRecords(runtime.store!.db, { from: new Date(0), to: new Date(Date.now() + 86_400_000) });
  return all.filter((r) => r.sessionId === session);
}

describe("a finished plan through reasoning and memory", () => {
  it("answers the session with the synthesis and sends the same synthesis to memory", async () => {
    const session = await submitReport(twoPagesDisagreeing());
    const answer = await completedBy(session, "reasoning_agent");
    expect(answer.output.content_type).toBe("synthesis");
    expect(answer.status.code).toBe("success");
    expect(answer.output.content.contradictions).toEqual([{ subject: "population of lyon", values: [{ value: 513275, task_id: "t2" }, { value: 522228, task_id: "t4" }] }]);

    const toMemory = await events.waitFor((e) => e.kind === "delivered" && inSession(session)(e) && e.agent === "memory_agent");
    const memoryEnv = toMemory.envelope as Envelope;
    expect(memoryEnv.output.content).toEqual(answer.output.content);
    expect(memoryEnv.input.content).toEqual(twoPagesDisagreeing()); // the report rides along for the record

    const recorded = await completedBy(session, "memory_agent");
    expect(recorded.output.content_type).toBe("workflow_record");
    await runtime.store!.audit.flush();
    const row = await getSession(runtime.store!.db, session);
    expect(row).toMatchObject({ status: "success", answer: answer.output.content }); // the first completion is the answer
  });

  it("records one workflow with attempts, error codes, domains and durations, and mirrors a partial status", async () => {
    const content = report(
      [
        fetched("t1", "a.example", { attempts: 3, error_code: "HTTP_429", recoverable: true, duration_ms: 2650 }),
        extracted("t2", "t1", "A page", "The population of Lyon is 513,275."),
        failed("t3", "fetch", "HTTP_404", { domain: "gone.example", duration_ms: 48 }),
        skipped("t4", "extract_text", ["t3"]),
        mentions("t5", ["t2"], { Lyon: ["The population of Lyon is 513,275."] }),
      ],
      { rules_applied: ["rule_20261120_01"] },
    );
    const startedAt = new Date(Date.now() - 7000);
    const session = await submitReport(content, startedAt);
    const answer = await completedBy(session, "reasoning_agent");
    expect(answer.status).toEqual({ code: "partial", message: "3 of 5 tasks succeeded" });
    expect(answer.output.content.answer).toContain("t3 (fetch) failed after 1 attempt with HTTP_404 (not found) on gone.example");

    const recorded = await completedBy(session, "memory_agent");
    expect(recorded.status.code).toBe("partial");
    const [stored, ...more] = await recordsOf(session);
    expect(more).toEqual([]);
    expect(stored).toMatchObject({ status: "partial", category: "extract_text+find_mentions" }); // the plan's final tasks: t4 and t5
    expect(stored?.record).toEqual(recorded.output.content);
    // Each task as listed; the optional size and fingerprint fields (workflow_record schema) may ride along.
    expect(stored?.record.tasks).toMatchObject([
      { task_id: "t1", capability: "fetch", status: "succeeded", attempts: 3, error_code: "HTTP_429", domain: "a.example", recoverable: true, duration_ms: 2650 },
      { task_id: "t2", capability: "extract_text", status: "succeeded", attempts: 1, recoverable: false, duration_ms: 15 },
      { task_id: "t3", capability: "fetch", status: "failed", attempts: 1, error_code: "HTTP_404", domain: "gone.example", recoverable: false, duration_ms: 48 },
      { task_id: "t4", capability: "extract_text", status: "skipped", attempts: 0, recoverable: false },
      { task_id: "t5", capability: "find_mentions", status: "succeeded", attempts: 1, recoverable: false, duration_ms: 15 },
    ]);
    expect(stored?.record.rules_applied).toEqual(["rule_20261120_01"]);
    expect(stored?.record.started_at).toBe(startedAt.toISOString()); // when the session began, as the store knows it
    const row = await getSession(runtime.store!.db, session);
    expect(row).toMatchObject({ status: "partial", answer: answer.output.content });
  });

  it("fails a session where nothing succeeded: ALL_TASKS_FAILED answer, WORKFLOW_FAILED record", async () => {
    const session = await submitReport(report([failed("t1", "fetch", "TIMEOUT", { attempts: 3, recoverable: true, domain: "slow.example" }), skipped("t2", "extract_text", ["t1"])]));
    const answer = await completedBy(session, "reasoning_agent");
    expect(answer.error).toMatchObject({ has_error: true, error_code: "ALL_TASKS_FAILED", recoverable: false });
    const recorded = await completedBy(session, "memory_agent");
    expect(recorded.error).toMatchObject({ has_error: true, error_code: "WORKFLOW_FAILED" });
    expect((await recordsOf(session)).map((r) => r.status)).toEqual(["failed"]);
    const row = await getSession(runtime.store!.db, session);
    expect(row).toMatchObject({ status: "failed", answer: answer.output.content });
    expect((row?.answer as { answer: string }).answer).toContain("t1 (fetch) failed after 3 attempts with TIMEOUT (timed out) on slow.example");
  });

  it("does not write a second record when the memory agent's message is redelivered", async () => {
    const session = await submitReport(report([fetched("t1", "a.example"), extracted("t2", "t1", "A", "text")]));
    const first = await completedBy(session, "memory_agent");
    const delivery = events.events.find((e) => e.kind === "delivered" && inSession(session)(e) && e.agent === "memory_agent")!;

    // The same job handed to the worker again, as after a crash mid-job.
    // A stand-in job: process() reads only these fields.
    const job = { data: delivery.envelope, attemptsStarted: 2, attemptsMade: 1, opts: { attempts: 3 } } as unknown as Job;
    const again = await memoryHost.process(job);
    expect(again.replies).toEqual([{ message_id: first.message_id, to: "COMPLETE" }]);
    expect(again.completed[0]?.output.content).toEqual(first.output.content);
    expect(again.completed[0]?.audit.reasoning).toContain("already written (redelivery)");
    expect(await recordsOf(session)).toHaveLength(1);
  });
});
