/**
 * LLM configuration from the environment, and the per-message client factory the runtime uses.
 * Nothing set means no LLM: agents run their deterministic logic.
 *
 *   OPENAI_API_KEY            → provider openai
 *   ANTHROPIC_API_KEY         → provider anthropic
 *   OPENAI_BASE_URL           → provider openai_compatible (key optional; AGENTBUS_LLM_MODEL required)
 *   AGENTBUS_LLM_PROVIDER     openai | anthropic | openai_compatible (when several are set)
 *   AGENTBUS_LLM_MODEL, AGENTBUS_SESSION_TOKEN_BUDGET (200000), AGENTBUS_LLM_TIMEOUT_MS (60000),
 *   AGENTBUS_LLM_MAX_TOKENS (4096), ANTHROPIC_BASE_URL (optional)
 */
import type { Logger } from "pino";
import { ConfigError } from "../errors/index.ts";
import type { ApprovedRule } from "../agents/handler.ts";
import type { LoadedAgent } from "../agents/loader.ts";
import type { Envelope } from "../envelope/types.ts";
import type { SchemaRegistry } from "../schemas/registry.ts";
import { AnthropicProvider } from "./anthropic.ts";
import { buildSystemPrompt, MessageLlmClient, type UsageRecorder } from "./client.ts";
import { OpenAiProvider } from "./openai.ts";
import type { RetryOptions } from "./retry.ts";
import type { LlmClient, LlmProvider, ProviderName } from "./types.ts";

/** Environment variables as loadConfig passes them (declared here, so config/ and llm/ do not import each other). */
type Env = Record<string, string | undefined>;

export interface LlmConfig {
  provider: ProviderName;
  model: string;
  /** Never logged or printed. */
  apiKey: string | undefined;
  baseUrl: string | undefined;
  timeoutMs: number;
  sessionTokenBudget: number;
  maxTokens: number;
}

export const PROVIDERS: readonly ProviderName[] = ["openai", "anthropic", "openai_compatible"];
export const DEFAULT_MODELS: Readonly<Record<Exclude<ProviderName, "openai_compatible">, string>> = {
  openai: "gpt-5-mini",
  anthropic: "claude-haiku-4-5",
};

/** The LLM configuration, or null when none is configured. Throws ConfigError naming the variable that is wrong. */
export function loadLlmConfig(env: Env): LlmConfig | null {
  const openaiKey = nonEmpty(env.OPENAI_API_KEY);
  const anthropicKey = nonEmpty(env.ANTHROPIC_API_KEY);
  const openaiBase = nonEmpty(env.OPENAI_BASE_URL);
  const explicit = nonEmpty(env.AGENTBUS_LLM_PROVIDER);
  const model = nonEmpty(env.AGENTBUS_LLM_MODEL);

  let provider: ProviderName;
  if (explicit !== undefined) {
    if (!(PROVIDERS as readonly string[]).includes(explicit)) {
      throw new ConfigError(`AGENTBUS_LLM_PROVIDER=${explicit} is not a provider (use one of: ${PROVIDERS.join(", ")})`);
    }
    provider = explicit as ProviderName;
  } else if (openaiBase) provider = "openai_compatible";
  else if (openaiKey) provider = "openai";
  else if (anthropicKey) provider = "anthropic";
  else {
    if (model) throw new ConfigError("AGENTBUS_LLM_MODEL is set but no LLM is configured: set OPENAI_API_KEY, ANTHROPIC_API_KEY or OPENAI_BASE_URL");
    return null;
  }

  const common = {
    timeoutMs: positiveInt(env, "AGENTBUS_LLM_TIMEOUT_MS", 60_000),
    sessionTokenBudget: positiveInt(env, "AGENTBUS_SESSION_TOKEN_BUDGET", 200_000),
    maxTokens: positiveInt(env, "AGENTBUS_LLM_MAX_TOKENS", 4096),
  };
  switch (provider) {
    case "openai":
      if (!openaiKey) throw new ConfigError("AGENTBUS_LLM_PROVIDER=openai needs OPENAI_API_KEY");
      return { provider, model: model ?? DEFAULT_MODELS.openai, apiKey: openaiKey, baseUrl: url(env, "OPENAI_BASE_URL"), ...common };
    case "anthropic":
      if (!anthropicKey) throw new ConfigError("AGENTBUS_LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY");
      return { provider, model: model ?? DEFAULT_MODELS.anthropic, apiKey: anthropicKey, baseUrl: url(env, "ANTHROPIC_BASE_URL"), ...common };
    case "openai_compatible":
      if (!openaiBase) throw new ConfigError("AGENTBUS_LLM_PROVIDER=openai_compatible needs OPENAI_BASE_URL (e.g. http://127.0.0.1:11434/v1)");
      if (!model) throw new ConfigError(`OPENAI_BASE_URL=${openaiBase} (an OpenAI-compatible server) needs AGENTBUS_LLM_MODEL: the name of a model that server serves`);
      return { provider, model, apiKey: openaiKey, baseUrl: url(env, "OPENAI_BASE_URL"), ...common };
  }
}

/** One line for start-up logs: what is used, never the key. */
export function describeLlmConfig(config: LlmConfig | null): string {
  if (!config) return "LLM: none configured (agents run deterministically; set OPENAI_API_KEY, ANTHROPIC_API_KEY or OPENAI_BASE_URL)";
  const where = config.baseUrl ? ` at ${config.baseUrl}` : "";
  return `LLM: ${config.provider} ${config.model}${where}, session budget ${config.sessionTokenBudget} tokens, timeout ${config.timeoutMs} ms`;
}

export function createProvider(config: LlmConfig, retry?: RetryOptions): LlmProvider {
  const options = {
    model: config.model,
    apiKey: config.apiKey,
    baseUrl: config.baseUrl,
    timeoutMs: config.timeoutMs,
    maxTokens: config.maxTokens,
    ...(retry ? { retry } : {}),
  };
  return config.provider === "anthropic" ? new AnthropicProvider(options) : new OpenAiProvider(options, config.provider);
}

export type LlmFactory = (agent: LoadedAgent, message: Envelope, rules: readonly ApprovedRule[]) => LlmClient | null;

export interface LlmFactoryOptions {
  /** `new LlmUsageStore(db)` in the runtime. */
  usage: UsageRecorder;
  registry: Pick<SchemaRegistry, "contentSchemaId" | "check" | "schemas">;
  logger?: Logger;
  /** Retry tuning (tests pass a sleep that does not wait). */
  retry?: RetryOptions;
  /** Use this provider instead of building one from the config (tests: a scripted provider). */
  provider?: LlmProvider;
}

/** What RuntimeOptions.llm expects: a client per message, or null for every message when config is null. */
export function createLlmFactory(config: LlmConfig | null, options: LlmFactoryOptions): LlmFactory {
  if (!config) return () => null;
  const retry: RetryOptions = { ...(options.logger ? { logger: options.logger } : {}), ...options.retry };
  const provider = options.provider ?? createProvider(config, retry);
  // The system prompt depends on the agent and its rules only; rules change rarely.
  const prompts = new Map<string, { rules: readonly ApprovedRule[]; system: string }>();
  const systemFor = (agent: LoadedAgent, rules: readonly ApprovedRule[]): string => {
    const cached = prompts.get(agent.name);
    if (cached && sameRules(cached.rules, rules)) return cached.system;
    const system = buildSystemPrompt({ instructions: agent.instructions, governance: agent.governance, rules });
    prompts.set(agent.name, { rules, system });
    return system;
  };
  return (agent, message, rules) =>
    new MessageLlmClient({
      provider,
      system: systemFor(agent, rules),
      registry: options.registry,
      usage: options.usage,
      sessionId: message.metadata.session_id,
      messageId: message.message_id,
      agent: agent.name,
      budget: config.sessionTokenBudget,
      ...(options.logger ? { logger: options.logger } : {}),
    });
}

function sameRules(a: readonly ApprovedRule[], b: readonly ApprovedRule[]): boolean {
  return a === b || (a.length === b.length && a.every((r, i) => r.rule_id === b[i]?.rule_id && r.instruction === b[i]?.instruction && r.trigger_condition === b[i]?.trigger_condition));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function url(env: Env, name: string): string | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name}=${raw} is not a URL (e.g. http://127.0.0.1:8000/v1)`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new ConfigError(`${name}=${raw} must be an http:// or https:// URL`);
  return raw.replace(/\/+$/, "");
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`${name}=${raw} must be a positive whole number`);
  return n;
}
