/**
 * The LLM seam. Providers (OpenAI, Anthropic, OpenAI-compatible) implement `LlmProvider` through
 * their official SDKs; handlers get an `LlmClient` bound to their message, which builds the system
 * prompt, asks for JSON against a content type's schema with one bounded repair, records token
 * usage and enforces the session's token budget.
 */

export type ProviderName = "openai" | "anthropic" | "openai_compatible";

/** An earlier turn of the same conversation (e.g. the invalid reply a repair prompt answers). */
export interface ChatTurn {
  role: "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  system: string;
  /** Earlier turns, oldest first; `prompt` is the user turn that follows them. */
  history?: readonly ChatTurn[];
  prompt: string;
  maxTokens?: number;
  temperature?: number;
  /** Ask for JSON matching this schema; providers use their native JSON mode where they have one. */
  json?: { name: string; schema: Record<string, unknown> };
}

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
}

export interface ChatResponse {
  text: string;
  model: string;
  usage: TokenUsage;
}

/**
 * One provider behind one interface. Failures are AgentbusErrors with stable codes: LLM_RATE_LIMITED,
 * LLM_TIMEOUT and LLM_UNAVAILABLE (5xx, connection) are recoverable; LLM_REJECTED (4xx, auth) is not.
 */
export interface LlmProvider {
  readonly name: ProviderName;
  readonly model: string;
  complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse>;
}

/** What a handler sees as `ctx.llm` (null when no provider is configured: run deterministic logic). */
export interface LlmClient {
  readonly provider: ProviderName;
  readonly model: string;
  /** Free text. The system prompt (spec body, application context, approved rules) is added for you. */
  text(request: { prompt: string; maxTokens?: number }): Promise<string>;
  /**
   * JSON that satisfies a registered content type's schema. Invalid output gets one repair attempt
   * (the errors are sent back); still invalid → LLM_OUTPUT_INVALID, not recoverable.
   */
  json<T>(request: { prompt: string; contentType: string; maxTokens?: number }): Promise<T>;
}
