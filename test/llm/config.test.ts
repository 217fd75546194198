/**
 * LLM configuration from the environment, the per-message factory, the system prompt, and the
 * small pieces the providers share (Retry-After, tolerant JSON). No network.
 */
import { describe, expect, it } from "vitest";
import { isAgentbusError } from "../../runtime/errors/index.ts";
import { buildSystemPrompt, memoryUsage } from "../../runtime/llm/client.ts";
import { createLlmFactory, describeLlmConfig, loadLlmConfig, type LlmConfig } from "../../runtime/llm/config.ts";
import { retryAfter } from "../../runtime/llm/errors.ts";
import { parseJsonReply } from "../../runtime/llm/json.ts";
import { ScriptedProvider } from "../../runtime/llm/scripted.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import { agent, APPLICATION, INSTRUCTIONS, message, newSessionId, RULE, VALID_SYNTHESIS } from "./fixtures.ts";

function configError(env: Record<string, string>): string {
  try {
    loadLlmConfig(env);
  } catch (err) {
    if (isAgentbusError(err) && err.code === "CONFIG_INVALID") return err.message;
    throw err;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe("loadLlmConfig", () => {
  it("is null when nothing is configured: agents run deterministically", () => {
    expect(loadLlmConfig({})).toBeNull();
    expect(loadLlmConfig({ OPENAI_API_KEY: " ", ANTHROPIC_API_KEY: "" })).toBeNull();
  });

  it("picks the provider from the key that is set, with defaults", () => {
    expect(loadLlmConfig({ OPENAI_API_KEY: "sk-1" })).toEqual({
      provider: "openai",
      model: "gpt-5-mini",
      apiKey: "sk-1",
      baseUrl: undefined,
      timeoutMs: 60_000,
      sessionTokenBudget: 200_000,
      maxTokens: 4096,
    });
    expect(loadLlmConfig({ ANTHROPIC_API_KEY: "sk-ant" })).toMatchObject({ provider: "anthropic", model: "claude-haiku-4-5", apiKey: "sk-ant" });
  });

  it("uses an OpenAI-compatible server at OPENAI_BASE_URL, key optional, model required", () => {
    expect(loadLlmConfig({ OPENAI_BASE_URL: "http://127.0.0.1:11434/v1/", AGENTBUS_LLM_MODEL: "llama3.1" })).toMatchObject({
      provider: "openai_compatible",
      model: "llama3.1",
      apiKey: undefined,
      baseUrl: "http://127.0.0.1:11434/v1",
    });
    expect(configError({ OPENAI_BASE_URL: "http://127.0.0.1:8000/v1" })).toContain("AGENTBUS_LLM_MODEL");
  });

  it("honours AGENTBUS_LLM_PROVIDER and the tuning variables", () => {
    const env = { OPENAI_API_KEY: "sk-1", ANTHROPIC_API_KEY: "sk-ant", AGENTBUS_LLM_PROVIDER: "anthropic", AGENTBUS_LLM_MODEL: "claude-sonnet-4-5", AGENTBUS_SESSION_TOKEN_BUDGET: "5000", AGENTBUS_LLM_TIMEOUT_MS: "1500" };
    expect(loadLlmConfig(env)).toMatchObject({ provider: "anthropic", model: "claude-sonnet-4-5", apiKey: "sk-ant", sessionTokenBudget: 5000, timeoutMs: 1500 });
  });

  it("names the variable when the configuration is inconsistent", () => {
    expect(configError({ AGENTBUS_LLM_PROVIDER: "anthropic", OPENAI_API_KEY: "sk-1" })).toContain("ANTHROPIC_API_KEY");
    expect(configError({ AGENTBUS_LLM_PROVIDER: "openai" })).toContain("OPENAI_API_KEY");
    expect(configError({ AGENTBUS_LLM_PROVIDER: "openai_compatible", AGENTBUS_LLM_MODEL: "m" })).toContain("OPENAI_BASE_URL");
    expect(configError({ AGENTBUS_LLM_PROVIDER: "mistral", OPENAI_API_KEY: "sk-1" })).toMatch(/AGENTBUS_LLM_PROVIDER=mistral.*openai, anthropic, openai_compatible/);
    expect(configError({ AGENTBUS_LLM_MODEL: "gpt-5" })).toContain("no LLM is configured");
    expect(configError({ OPENAI_API_KEY: "sk-1", AGENTBUS_SESSION_TOKEN_BUDGET: "lots" })).toContain("AGENTBUS_SESSION_TOKEN_BUDGET=lots");
    expect(configError({ OPENAI_API_KEY: "sk-1", AGENTBUS_LLM_TIMEOUT_MS: "0" })).toContain("AGENTBUS_LLM_TIMEOUT_MS");
    expect(configError({ OPENAI_BASE_URL: "localhost:8000", AGENTBUS_LLM_MODEL: "m" })).toContain("OPENAI_BASE_URL=localhost:8000");
  });

  it("describes itself without the key", () => {
    const config = loadLlmConfig({ OPENAI_API_KEY: "sk-secret" });
    expect(describeLlmConfig(config)).toBe("LLM: openai gpt-5-mini, session budget 200000 tokens, timeout 60000 ms");
    expect(describeLlmConfig(null)).toContain("none configured");
  });
});

describe("createLlmFactory", () => {
  const registry = schemaRegistry();
  const config: LlmConfig = { provider: "openai", model: "scripted-model", apiKey: "k", baseUrl: undefined, timeoutMs: 1000, sessionTokenBudget: 10_000, maxTokens: 100 };

  it("gives every message null when no LLM is configured", () => {
    expect(createLlmFactory(null, { usage: memoryUsage(), registry })(agent(), message(newSessionId()), [])).toBeNull();
  });

  it("binds a client to the message: its agent's system prompt, its session and message for usage", async () => {
    const provider = new ScriptedProvider([{ json: VALID_SYNTHESIS }]);
    const usage = memoryUsage();
    const msg = message(newSessionId());
    const llm = createLlmFactory(config, { usage, registry, provider })(agent(), msg, [RULE])!;

    await expect(llm.json({ prompt: "p", contentType: "synthesis" })).resolves.toEqual(VALID_SYNTHESIS);
    expect(provider.requests[0]!.system).toBe(buildSystemPrompt({ instructions: INSTRUCTIONS, governance: agent().governance, rules: [RULE] }));
    expect(provider.requests[0]!.json?.name).toBe("synthesis");
    expect(usage.records).toEqual([expect.objectContaining({ sessionId: msg.metadata.session_id, messageId: msg.message_id, agent: "reasoning_agent", provider: "openai" })]);
  });

  it("refuses a content type that has no schema", async () => {
    const llm = createLlmFactory(config, { usage: memoryUsage(), registry, provider: new ScriptedProvider() })(agent(), message(newSessionId()), [])!;
    await expect(llm.json({ prompt: "p", contentType: "poem" })).rejects.toMatchObject({ code: "CONTENT_TYPE_UNKNOWN" });
  });
});

describe("the system prompt", () => {
  it("is the spec body, then context/application.md, then the approved rules, and nothing else", () => {
    const prompt = buildSystemPrompt({ instructions: INSTRUCTIONS, governance: agent().governance, rules: [RULE] });
    expect(prompt.indexOf(INSTRUCTIONS)).toBe(0);
    expect(prompt.indexOf(APPLICATION)).toBeGreaterThan(prompt.indexOf(INSTRUCTIONS));
    expect(prompt.indexOf(RULE.instruction)).toBeGreaterThan(prompt.indexOf(APPLICATION));
    expect(prompt).toContain(`[${RULE.rule_id}] When ${RULE.trigger_condition}: ${RULE.instruction}`);
    expect(prompt).not.toContain("AUDIT-DOC-NOT-IN-PROMPT");
    expect(buildSystemPrompt({ instructions: INSTRUCTIONS, governance: [], rules: [] })).toBe(INSTRUCTIONS);
  });
});

describe("shared pieces", () => {
  it("reads Retry-After in ms, seconds or as an HTTP date", () => {
    expect(retryAfter(new Headers({ "retry-after-ms": "1500" }))).toBe(1500);
    expect(retryAfter(new Headers({ "retry-after": "3" }))).toBe(3000);
    expect(retryAfter(new Headers({ "retry-after": "Wed, 01 Jan 2025 00:00:10 GMT" }), () => Date.parse("2025-01-01T00:00:00Z"))).toBe(10_000);
    expect(retryAfter(new Headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(retryAfter(undefined)).toBeUndefined();
  });

  it("finds JSON in a reply, or says why there is none", () => {
    expect(parseJsonReply('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonReply('Sure! ```json\n{"a":1}\n``` done')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonReply('The result: {"a": {"b": 2}} — ok?')).toEqual({ ok: true, value: { a: { b: 2 } } });
    expect(parseJsonReply("")).toMatchObject({ ok: false, issues: [{ pointer: "", message: expect.stringContaining("empty") }] });
    expect(parseJsonReply("{not json")).toMatchObject({ ok: false, issues: [{ pointer: "", message: expect.stringContaining("is not valid JSON") }] });
  });
});
