/**
 * An LLM answer with NUL and a lone surrogate in it, through the official OpenAI SDK against the
 * fake LLM server, into the reasoning agent on real Redis and Postgres: the session still gets its
 * answer (normalised), the envelope says so, and the audit log stores it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildEnvelope } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import { newRequestId, newSessionId } from "../../runtime/envelope/ids.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import { createLlmFactory, memoryUsage } from "../../runtime/llm/index.ts";
import { parseJsonReply } from "../../runtime/llm/json.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import { upsertSession } from "../../runtime/store/sessions.ts";
import { DATABASE_URL, dropPrefix, dropSchema, openTestRuntime, testConfig, uniquePrefix, uniqueSchema, type EventLog } from "../../test/helpers/bus.ts";
import { FakeLlmServer } from "../../test/llm/fake-llm-server.ts";
import { reasoningAgentsDir } from "../_shared/testing/agents-dir.ts";
import { computed, report } from "../_shared/testing/reports.ts";

const prefix = uniquePrefix("rsn-nul");
const schema = uniqueSchema("rsn_nul");
const agents = reasoningAgentsDir();
let server: FakeLlmServer;
let runtime: Runtime;
let events: EventLog;

beforeAll(async () => {
  server = await FakeLlmServer.start("openai");
  const llm = createLlmFactory(
    { provider: "openai_compatible", model: "local-model", apiKey: undefined, baseUrl: server.baseUrl, timeoutMs: 5000, sessionTokenBudget: 100_000, maxTokens: 500 },
    { usage: memoryUsage(), registry: schemaRegistry(), retry: { sleep: async () => {} } },
  );
  ({ runtime, events } = await openTestRuntime(prefix, { dbSchema: schema, config: testConfig(prefix, { agentsDir: agents.dir, dbSchema: schema, databaseUrl: DATABASE_URL }), llm }));
  expect(runtime.agents.broken).toEqual([]);
  runtime.startAgents(["reasoning_agent", "memory_agent"]);
});

afterAll(async () => {
  await runtime?.close();
  await server?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
  agents.remove();
});

beforeEach(() => {
  server.reset();
});

async function submitReport(): Promise<string> {
  const session = newSessionId();
  await upsertSession(runtime.store!.db, { sessionId: session, startedAt: new Date(Date.now() - 1000) });
  const env = buildEnvelope(
    {
      sender: { name: "dispatch_agent", type: "operational", abbr: "dispatch" },
      input: { source: "action_agent", content: null },
      output: { content_type: "dispatch_report", content: report([computed("t1", "2+2", 4)]) },
      next_agent: { name: "reasoning_agent", reason: "every task settled" },
      metadata: { session_id: session, request_id: newRequestId(), sequence_number: 1, parent_message_id: null },
    },
    { clock: systemClock, timezone: "UTC" },
  );
  expect(await runtime.bus.publish(env)).toMatchObject({ accepted: true });
  return session;
}

async function answerOf(session: string): Promise<Envelope> {
  const done = await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.session_id === session && (e.envelope as Envelope).agent.name === "reasoning_agent", 15_000);
  return done.envelope as Envelope;
}

describe("LLM output with NUL and lone surrogates", () => {
  it("escaped in the JSON (\\u0000, \\ud800): the answer arrives normalised, the envelope says so, the audit log has it", async () => {
    // JSON.stringify writes both as escapes, as a model's JSON would.
    server.replyJson({ answer: "2+2 is 4.\u0000 Sure\ud800.", findings: [{ statement: "4\u0000", task_ids: ["t1"] }], contradictions: [], confidence: 0.9 });
    const session = await submitReport();
    const answer = await answerOf(session);
    const content = answer.output.content as { answer: string };
    expect(content.answer).toBe("2+2 is 4. Sure\ufffd.");
    expect(answer.audit.compliance_notes).toContain("3 character(s) of the LLM's reply normalised");
    await runtime.store!.audit.flush();
    const rows = await runtime.store!.db.query(`SELECT 1 FROM "${schema}".audit_log WHERE envelope->>'message_id' = $1`, [answer.message_id]);
    expect(rows.rows.length).toBeGreaterThan(0);
  });

  it("raw in the reply text (a JSON string may not hold a raw NUL): still parsed, still answered", async () => {
    server.reply(`{"answer": "four\u0000 \ud800", "findings": [], "contradictions": [], "confidence": 0.9}`);
    const session = await submitReport();
    const content = (await answerOf(session)).output.content as { answer: string };
    expect(content.answer).toBe("four \ufffd");
  });
});

describe("parseJsonReply", () => {
  it("counts what it normalised", () => {
    const parsed = parseJsonReply('{"a": "x\\u0000y", "b\\udc00": ["\\ud800"]}');
    expect(parsed).toEqual({ ok: true, value: { a: "xy", "b\ufffd": ["\ufffd"] }, normalized_chars: 3 });
  });
});
