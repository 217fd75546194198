/** The LLM seam: configuration, providers (OpenAI, Anthropic, OpenAI-compatible), the per-message client. */
export type { ChatRequest, ChatResponse, ChatTurn, LlmClient, LlmProvider, ProviderName, TokenUsage } from "./types.ts";
export { LlmError, isLlmError, type LlmErrorCode } from "./errors.ts";
export { loadLlmConfig, describeLlmConfig, createProvider, createLlmFactory, DEFAULT_MODELS, PROVIDERS, type LlmConfig, type LlmFactory, type LlmFactoryOptions } from "./config.ts";
export { MessageLlmClient, buildSystemPrompt, memoryUsage, APPLICATION_CONTEXT, type LlmClientOptions, type SystemPromptParts, type UsageRecorder } from "./client.ts";
export { OpenAiProvider } from "./openai.ts";
export { AnthropicProvider } from "./anthropic.ts";
export { ScriptedProvider, type ScriptedReply } from "./scripted.ts";
export type { ProviderOptions } from "./options.ts";
export type { RetryOptions } from "./retry.ts";
