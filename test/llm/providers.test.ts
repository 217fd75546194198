/**
 * The three providers through their real SDKs against local servers speaking each API: JSON for a
 * content type's schema, one repair, a clear error after that, retries of 429 / 5xx / timeouts,
 * and at-once rejection of auth failures.
 */
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { memoryUsage } from "../../runtime/llm/client.ts";
import { createLlmFactory, type LlmConfig } from "../../runtime/llm/config.ts";
import { isLlmError, type LlmError } from "../../runtime/llm/errors.ts";
import { schemaForModel } from "../../runtime/llm/json.ts";
import type { LlmClient } from "../../runtime/llm/types.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import { FakeLlmServer } from "./fake-llm-server.ts";
import { agent, APPLICATION, configFor, INSTRUCTIONS, message, newSessionId, recordingSleep, RULE, systemOf, turnsOf, VALID_SYNTHESIS, VARIANTS } from "./fixtures.ts";

const registry = schemaRegistry();
const synthesisSchema = registry.schemas().find((s) => s.id === registry.contentSchemaId("synthesis"))!.schema;

async function rejection(p: Promise<unknown>): Promise<LlmError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isLlmError(err)) throw new Error(`expected an LlmError, got ${String(err)}`);
  return err;
}

describe.each(VARIANTS)("$provider provider", (v) => {
  let server: FakeLlmServer;
  let usage: ReturnType<typeof memoryUsage>;
  let retry: ReturnType<typeof recordingSleep>;

  beforeAll(async () => {
    server = await FakeLlmServer.start(v.api);
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    server.reset();
    usage = memoryUsage();
    retry = recordingSleep();
  });

  function client(overrides: Partial<LlmConfig> = {}): LlmClient {
    const factory = createLlmFactory(configFor(v, server, overrides), { usage, registry, retry: { sleep: retry.sleep } });
    return factory(agent(), message(newSessionId()), [RULE])!;
  }

  it("returns schema-valid JSON and sends the model, the system prompt and the schema", async () => {
    server.replyJson(VALID_SYNTHESIS, { input: 321, output: 45 });
    const llm = client();
    expect(llm.provider).toBe(v.provider);
    expect(llm.model).toBe(v.model);

    await expect(llm.json({ prompt: "Results: t3 found 3 mentions of Redis.", contentType: "synthesis" })).resolves.toEqual(VALID_SYNTHESIS);

    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.body.model).toBe(v.model);
    const system = systemOf(req);
    expect(system).toContain(INSTRUCTIONS);
    expect(system).toContain(APPLICATION);
    expect(system).toContain(RULE.instruction);
    expect(system).toContain(RULE.trigger_condition);
    expect(system).not.toContain("AUDIT-DOC-NOT-IN-PROMPT");
    expect(turnsOf(req)).toEqual([{ role: "user", content: "Results: t3 found 3 mentions of Redis." }]);

    if (v.api === "openai") {
      expect(req.body.response_format).toEqual({ type: "json_schema", json_schema: { name: "synthesis", schema: schemaForModel(synthesisSchema), strict: false } });
      expect(req.headers.authorization).toBe(`Bearer ${v.apiKey ?? "not-needed"}`);
    } else {
      // SDK versions differ in the header that carries the key (x-api-key or a bearer token).
      expect(req.headers["x-api-key"] ?? req.headers.authorization?.replace(/^Bearer /, "")).toBe(v.apiKey);
      expect(req.body.max_tokens).toBe(1000);
    }
    if (v.provider === "openai") expect(req.body.max_completion_tokens).toBe(1000);
    if (v.provider === "openai_compatible") expect(req.body.max_tokens).toBe(1000);
    // Without a native JSON mode (or when a server may ignore it) the schema is in the system prompt.
    if (v.provider !== "openai") expect(system).toContain(JSON.stringify(schemaForModel(synthesisSchema)));
    expect(usage.records).toEqual([expect.objectContaining({ agent: "reasoning_agent", provider: v.provider, model: v.model, inputTokens: 321, outputTokens: 45 })]);
  });

  it("reads JSON wrapped in prose and code fences (a server that ignores JSON mode)", async () => {
    server.reply("Here is the synthesis:\n```json\n" + JSON.stringify(VALID_SYNTHESIS, null, 2) + "\n```\nHope it helps.");
    await expect(client().json({ prompt: "p", contentType: "synthesis" })).resolves.toEqual(VALID_SYNTHESIS);
  });

  it("repairs invalid JSON once, sending the problems back as JSON pointers", async () => {
    const { confidence: _c, ...missingConfidence } = VALID_SYNTHESIS;
    server.replyJson({ ...missingConfidence, findings: [{ statement: "", task_ids: ["t3"] }] }).replyJson(VALID_SYNTHESIS);

    await expect(client().json({ prompt: "Results: …", contentType: "synthesis" })).resolves.toEqual(VALID_SYNTHESIS);

    expect(server.requests).toHaveLength(2);
    const [first, repair] = [server.requests[0]!, server.requests[1]!];
    const turns = turnsOf(repair);
    expect(turns.map((t) => t.role)).toEqual(["user", "assistant", "user"]);
    expect(turns[0]!.content).toBe("Results: …");
    // The model sees its own invalid reply, then the problems.
    expect(JSON.parse(turns[1]!.content)).toEqual({ ...missingConfidence, findings: [{ statement: "", task_ids: ["t3"] }] });
    expect(turns[2]!.content).toContain("/confidence: is required");
    expect(turns[2]!.content).toContain("/findings/0/statement:");
    expect(systemOf(repair)).toBe(systemOf(first));
    expect(usage.records).toHaveLength(2);
  });

  it("fails with a clear, non-recoverable LLM_OUTPUT_INVALID when the repair is invalid too", async () => {
    server.reply("I think the page mentions Redis three times.").replyJson({ ...VALID_SYNTHESIS, confidence: 7 });

    const err = await rejection(client().json({ prompt: "p", contentType: "synthesis" }));
    expect(err.code).toBe("LLM_OUTPUT_INVALID");
    expect(err.recoverable).toBe(false);
    expect(err.message).toContain("reasoning_agent");
    expect(err.message).toContain("synthesis");
    expect(err.message).toContain("/confidence: must be <= 1");
    expect(err.issues).toEqual([expect.objectContaining({ pointer: "/confidence" })]);
    expect(turnsOf(server.requests[1]!)[2]!.content).toContain("is not valid JSON");
    // Both calls cost tokens and both are recorded.
    expect(usage.records).toHaveLength(2);
  });

  it("retries a 429 after the server's Retry-After, then succeeds", async () => {
    server.fail(429, "Rate limit reached", { "retry-after": "2" }).replyJson(VALID_SYNTHESIS);
    await expect(client().json({ prompt: "p", contentType: "synthesis" })).resolves.toEqual(VALID_SYNTHESIS);
    expect(server.requests).toHaveLength(2);
    expect(retry.sleeps).toEqual([2000]);
    expect(usage.records).toHaveLength(1);
  });

  it("gives up on a persistent 429 after three attempts with a recoverable LLM_RATE_LIMITED", async () => {
    server.fail(429, "slow down").fail(429, "slow down").fail(429, "slow down", { "retry-after-ms": "250" });
    const err = await rejection(client().text({ prompt: "p" }));
    expect(err).toMatchObject({ code: "LLM_RATE_LIMITED", recoverable: true, status: 429, retryAfterMs: 250 });
    expect(server.requests).toHaveLength(3);
    expect(retry.sleeps).toEqual([500, 1000]);
  });

  it("does not wait out a Retry-After longer than 30 s: the error surfaces at once with it", async () => {
    server.fail(429, "come back later", { "retry-after": "120" });
    const err = await rejection(client().text({ prompt: "p" }));
    expect(err).toMatchObject({ code: "LLM_RATE_LIMITED", recoverable: true, retryAfterMs: 120_000 });
    expect(server.requests).toHaveLength(1);
  });

  it("retries 5xx with exponential backoff, then succeeds", async () => {
    server.fail(500, "internal error").fail(503, "overloaded").reply("fine, thanks");
    await expect(client().text({ prompt: "How are you?" })).resolves.toBe("fine, thanks");
    expect(server.requests).toHaveLength(3);
    expect(retry.sleeps).toEqual([500, 1000]);
  });

  it("surfaces a persistent 5xx as a recoverable LLM_UNAVAILABLE", async () => {
    server.fail(500, "boom").fail(502, "bad gateway").fail(500, "boom");
    const err = await rejection(client().text({ prompt: "p" }));
    expect(err).toMatchObject({ code: "LLM_UNAVAILABLE", recoverable: true, status: 500 });
    expect(err.message).toContain("HTTP 500");
  });

  it("rejects a 401 at once, not recoverable, without retrying", async () => {
    server.fail(401, "Incorrect API key provided");
    const err = await rejection(client().json({ prompt: "p", contentType: "synthesis" }));
    expect(err).toMatchObject({ code: "LLM_REJECTED", recoverable: false, status: 401 });
    expect(err.message).toContain("Incorrect API key provided");
    expect(err.message).toContain("check the API key");
    expect(server.requests).toHaveLength(1);
    expect(retry.sleeps).toEqual([]);
    expect(usage.records).toEqual([]);
  });

  it("rejects a 400 (e.g. an unknown model) at once", async () => {
    server.fail(400, "model not found");
    await expect(rejection(client().text({ prompt: "p" }))).resolves.toMatchObject({ code: "LLM_REJECTED", recoverable: false });
    expect(server.requests).toHaveLength(1);
  });

  it("times out after the configured time (LLM_TIMEOUT, recoverable) and retries", async () => {
    server.hang(5000).reply("in time");
    const started = Date.now();
    await expect(client({ timeoutMs: 300 }).text({ prompt: "p" })).resolves.toBe("in time");
    expect(Date.now() - started).toBeLessThan(3000);
    expect(server.requests).toHaveLength(2);
    expect(retry.sleeps).toEqual([500]);
  });

  it("surfaces a server that keeps not answering as a recoverable LLM_TIMEOUT naming the limit", async () => {
    server.hang(5000).hang(5000).hang(5000);
    const err = await rejection(client({ timeoutMs: 150 }).text({ prompt: "p" }));
    expect(err).toMatchObject({ code: "LLM_TIMEOUT", recoverable: true });
    expect(err.message).toContain("150 ms");
    expect(server.requests).toHaveLength(3);
  });

  it("reports a server that cannot be reached as a recoverable LLM_UNAVAILABLE", async () => {
    const closedPort = await freePort();
    const base = v.api === "openai" ? `http://127.0.0.1:${closedPort}/v1` : `http://127.0.0.1:${closedPort}`;
    const err = await rejection(client({ baseUrl: base }).text({ prompt: "p" }));
    expect(err).toMatchObject({ code: "LLM_UNAVAILABLE", recoverable: true });
    expect(err.message).toContain(`127.0.0.1:${closedPort}`);
    expect(retry.sleeps).toEqual([500, 1000]);
  });

  it("estimates usage when the server reports none, so the budget still counts", async () => {
    server.reply("x".repeat(400), null);
    await client().text({ prompt: "p" });
    expect(usage.records[0]!.outputTokens).toBe(100);
    expect(usage.records[0]!.inputTokens).toBeGreaterThan(0);
  });
});

describe("OpenAI specifics", () => {
  let server: FakeLlmServer;
  beforeAll(async () => {
    server = await FakeLlmServer.start("openai");
  });
  afterAll(async () => {
    await server?.close();
  });

  it("treats a spent quota (429 insufficient_quota) as a rejection, not a rate limit", async () => {
    server.reset().fail(429, "You exceeded your current quota", {}, "insufficient_quota");
    const factory = createLlmFactory(configFor(VARIANTS[0]!, server), { usage: memoryUsage(), registry, retry: { sleep: async () => {} } });
    const err = await rejection(factory(agent(), message(newSessionId()), [])!.text({ prompt: "p" }));
    expect(err).toMatchObject({ code: "LLM_REJECTED", recoverable: false });
    expect(server.requests).toHaveLength(1);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
