/**
 * The LLM wired into a running runtime (real Redis, real Postgres, a local OpenAI-compatible
 * server): a handler's ctx.llm is bound to its message, its system prompt is the spec body plus
 * context/application.md, usage lands in the session, and a spent budget dead-letters the message
 * with BUDGET_EXCEEDED instead of calling the model.
 */
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import { createLlmFactory } from "../../runtime/llm/config.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import { openStore, type Db } from "../../runtime/store/index.ts";
import { LlmUsageStore } from "../../runtime/store/llm-usage.ts";
import { DATABASE_URL, dropPrefix, dropSchema, openTestRuntime, testConfig, uniquePrefix, uniqueSchema, type EventLog } from "../helpers/bus.ts";
import { FakeLlmServer } from "./fake-llm-server.ts";
import { newSessionId, systemOf, turnsOf, VALID_SYNTHESIS } from "./fixtures.ts";

const prefix = uniquePrefix("llm");
const schema = uniqueSchema("llm_rt");
const BUDGET = 1000;
let server: FakeLlmServer;
let db: Db;
let usage: LlmUsageStore;
let runtime: Runtime;
let events: EventLog;

beforeAll(async () => {
  server = await FakeLlmServer.start("openai");
  // The usage store shares the runtime's schema (migrated here first).
  db = await openStore({ databaseUrl: DATABASE_URL, schema, logger: silentLogger(), poolSize: 2 });
  usage = new LlmUsageStore(db);
  const llm = createLlmFactory(
    { provider: "openai_compatible", model: "local-model", apiKey: undefined, baseUrl: server.baseUrl, timeoutMs: 5000, sessionTokenBudget: BUDGET, maxTokens: 500 },
    { usage, registry: schemaRegistry(), retry: { sleep: async () => {} } },
  );
  ({ runtime, events } = await openTestRuntime(prefix, {
    dbSchema: schema,
    config: testConfig(prefix, { agentsDir: join(PROJECT_ROOT, "test", "llm", "agents"), dbSchema: schema, databaseUrl: DATABASE_URL }),
    llm,
  }));
  runtime.startAgents(["llm_answer_agent"]);
});

afterAll(async () => {
  await runtime?.close();
  await db?.close();
  await server?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
});

beforeEach(() => {
  server.reset();
});

function request(text: string, sessionId?: string): Envelope {
  return buildRequest({ content_type: "user_request", content: { text }, to: "llm_answer_agent", ...(sessionId ? { session_id: sessionId } : {}) }, { clock: systemClock, timezone: "UTC" });
}

describe("ctx.llm in a running runtime", () => {
  it("answers through the configured provider and records the usage under the session and message", async () => {
    server.replyJson(VALID_SYNTHESIS, { input: 300, output: 40 });
    const req = request("How often does the page mention Redis?");
    await runtime.bus.publish(req);

    const done = await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.session_id === req.metadata.session_id);
    const reply = done.envelope as Envelope;
    expect(reply.output.content).toEqual(VALID_SYNTHESIS);
    expect(reply.audit.reasoning).toBe("written by openai_compatible local-model");

    const sent = server.requests[0]!;
    expect(sent.body.model).toBe("local-model");
    expect(systemOf(sent)).toContain("Answer the user's request in one synthesis.");
    expect(systemOf(sent)).toContain("general research assistant");
    expect(turnsOf(sent).at(-1)).toEqual({ role: "user", content: "How often does the page mention Redis?" });

    await expect(usage.forMessage(req.message_id)).resolves.toEqual({ inputTokens: 300, outputTokens: 40, calls: 1 });
    await expect(usage.sessionTotal(req.metadata.session_id)).resolves.toBe(340);
  });

  it("dead-letters the message with BUDGET_EXCEEDED, without calling the model, once the session's budget is spent", async () => {
    const session = newSessionId();
    await usage.record({ sessionId: session, messageId: "msg-earlier", agent: "planning_agent", provider: "openai_compatible", model: "local-model", inputTokens: BUDGET, outputTokens: 5 });
    server.replyJson(VALID_SYNTHESIS);
    const req = request("One more question", session);
    await runtime.bus.publish(req);

    const dead = await events.waitFor((e) => e.kind === "dead_lettered" && (e.envelope as Envelope).message_id === req.message_id);
    expect(dead.agent).toBe("llm_answer_agent");
    const letters = await runtime.bus.deadLetters.list();
    const letter = letters.find((l) => l.message_id === req.message_id);
    expect(letter?.error?.code).toBe("BUDGET_EXCEEDED");
    expect(letter?.error?.message).toContain(`${BUDGET + 5} of its ${BUDGET}`);
    expect(server.requests).toHaveLength(0);
  });
});
