/**
 * Token usage and the session budget, on the real Postgres store: every call's usage is recorded
 * per message and per session, and a session that has used its budget makes no further requests.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLlmFactory, type LlmConfig } from "../../runtime/llm/config.ts";
import { isLlmError } from "../../runtime/llm/errors.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import { openStore, type Db } from "../../runtime/store/index.ts";
import { LlmUsageStore } from "../../runtime/store/llm-usage.ts";
import { DATABASE_URL, dropSchema, uniqueSchema } from "../helpers/bus.ts";
import { FakeLlmServer } from "./fake-llm-server.ts";
import { agent, configFor, message, newSessionId, RULE, VALID_SYNTHESIS, VARIANTS, type Variant } from "./fixtures.ts";

const registry = schemaRegistry();
const schema = uniqueSchema("llm_usage");
let db: Db;
let usage: LlmUsageStore;

beforeAll(async () => {
  db = await openStore({ databaseUrl: DATABASE_URL, schema, logger: silentLogger(), poolSize: 2 });
  usage = new LlmUsageStore(db);
});
afterAll(async () => {
  await db?.close();
  await dropSchema(schema);
});

describe.each(VARIANTS)("$provider usage and budget", (v: Variant) => {
  let server: FakeLlmServer;
  beforeAll(async () => {
    server = await FakeLlmServer.start(v.api);
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    server.reset();
  });

  function factory(overrides: Partial<LlmConfig> = {}) {
    return createLlmFactory(configFor(v, server, overrides), { usage, registry, retry: { sleep: async () => {} } });
  }

  it("records each call's tokens per message and per session in Postgres", async () => {
    const session = newSessionId();
    const planning = message(session);
    const reasoning = message(session);
    // planning: one call; reasoning: an invalid reply and its repair (both count).
    server.reply("a plan in words", { input: 120, output: 30 });
    server.reply("not json", { input: 200, output: 10 }).replyJson(VALID_SYNTHESIS, { input: 260, output: 50 });

    const llm = factory();
    await llm(agent("planning_agent"), planning, [])!.text({ prompt: "plan this" });
    await llm(agent("reasoning_agent"), reasoning, [RULE])!.json({ prompt: "synthesize", contentType: "synthesis" });

    await expect(usage.forMessage(planning.message_id)).resolves.toEqual({ inputTokens: 120, outputTokens: 30, calls: 1 });
    await expect(usage.forMessage(reasoning.message_id)).resolves.toEqual({ inputTokens: 460, outputTokens: 60, calls: 2 });
    await expect(usage.sessionTotal(session)).resolves.toBe(120 + 30 + 460 + 60);
    const rows = await db.query<{ agent: string; provider: string; model: string }>(
      `SELECT agent, provider, model FROM "${schema}".llm_usage WHERE session_id = $1 ORDER BY id`,
      [session],
    );
    expect(rows.rows).toEqual([
      { agent: "planning_agent", provider: v.provider, model: v.model },
      { agent: "reasoning_agent", provider: v.provider, model: v.model },
      { agent: "reasoning_agent", provider: v.provider, model: v.model },
    ]);
  });

  it("records the usage of calls whose output stayed invalid", async () => {
    const session = newSessionId();
    const msg = message(session);
    server.reply("nope", { input: 10, output: 2 }).reply("still nope", { input: 20, output: 3 });
    const err = await factory()(agent(), msg, [])!.json({ prompt: "p", contentType: "synthesis" }).catch((e: unknown) => e);
    expect(isLlmError(err) && err.code).toBe("LLM_OUTPUT_INVALID");
    await expect(usage.forMessage(msg.message_id)).resolves.toEqual({ inputTokens: 30, outputTokens: 5, calls: 2 });
  });

  it("stops the session with BUDGET_EXCEEDED once a call pushes it over the budget, without sending a request", async () => {
    const session = newSessionId();
    const llm = factory({ sessionTokenBudget: 150 });
    const first = llm(agent("planning_agent"), message(session), [])!;
    server.reply("ok", { input: 100, output: 60 }).reply("never sent");

    await expect(first.text({ prompt: "p" })).resolves.toBe("ok");
    const again = await first.text({ prompt: "p" }).catch((e: unknown) => e);
    // Another agent, another message of the same session: the total is the session's, in Postgres.
    const other = await llm(agent("reasoning_agent"), message(session), [])!.json({ prompt: "p", contentType: "synthesis" }).catch((e: unknown) => e);

    for (const err of [again, other]) {
      expect(isLlmError(err)).toBe(true);
      expect(err).toMatchObject({ code: "BUDGET_EXCEEDED", recoverable: false });
      expect((err as Error).message).toContain("160 of its 150");
      expect((err as Error).message).toContain(session);
    }
    expect(server.requests).toHaveLength(1);
    await expect(usage.sessionTotal(session)).resolves.toBe(160);
  });

  it("does not send the repair when the first reply used up the budget", async () => {
    const session = newSessionId();
    server.reply("not json", { input: 90, output: 20 }).replyJson(VALID_SYNTHESIS);
    const err = await factory({ sessionTokenBudget: 100 })(agent(), message(session), [])!
      .json({ prompt: "p", contentType: "synthesis" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "BUDGET_EXCEEDED" });
    expect(server.requests).toHaveLength(1);
  });

  it("leaves other sessions alone", async () => {
    const spent = newSessionId();
    await usage.record({ sessionId: spent, messageId: "m-x", agent: "planning_agent", provider: v.provider, model: v.model, inputTokens: 500, outputTokens: 0 });
    server.reply("fresh");
    const llm = factory({ sessionTokenBudget: 400 });
    await expect(llm(agent(), message(spent), [])!.text({ prompt: "p" })).rejects.toMatchObject({ code: "BUDGET_EXCEEDED" });
    await expect(llm(agent(), message(newSessionId()), [])!.text({ prompt: "p" })).resolves.toBe("fresh");
    expect(server.requests).toHaveLength(1);
  });
});
