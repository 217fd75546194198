/**
 * Anthropic's messages API through the official SDK. JSON is asked for in the system prompt, with
 * the schema spelled out (no prefill: newer models refuse a trailing assistant turn); the reply is
 * parsed tolerantly and validated by the client.
 */
import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, AnthropicError } from "@anthropic-ai/sdk";
import type { MessageCreateParamsNonStreaming, MessageParam } from "@anthropic-ai/sdk/resources/messages/messages";
import { connectionError, fromHttpFailure, LlmError, timeoutError } from "./errors.ts";
import { withJsonInstruction } from "./json.ts";
import { estimateTokens, tokenCount, type ProviderOptions } from "./options.ts";
import { withRetries } from "./retry.ts";
import type { ChatRequest, ChatResponse, LlmProvider } from "./types.ts";

export const ANTHROPIC_BASE_URL = "https://api.anthropic.com";

export class AnthropicProvider implements LlmProvider {
  readonly name = "anthropic" as const;
  readonly model: string;
  private readonly client: Anthropic;
  private readonly baseUrl: string;

  constructor(private readonly options: ProviderOptions) {
    this.model = options.model;
    this.baseUrl = options.baseUrl ?? ANTHROPIC_BASE_URL;
    this.client = new Anthropic({
      apiKey: options.apiKey ?? null,
      // Only the configured key: never a stray ANTHROPIC_AUTH_TOKEN from the environment.
      authToken: null,
      baseURL: this.baseUrl,
      timeout: options.timeoutMs,
      maxRetries: 0,
    });
  }

  complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse> {
    return withRetries(`${this.name} ${this.model}`, () => this.once(request, signal), this.options.retry, signal);
  }

  private async once(request: ChatRequest, signal: AbortSignal | undefined): Promise<ChatResponse> {
    let message: Anthropic.Messages.Message;
    try {
      message = await this.client.messages.create(this.body(request), { ...(signal ? { signal } : {}), maxRetries: 0, timeout: this.options.timeoutMs });
    } catch (err) {
      throw this.toLlmError(err);
    }
    if (message.stop_reason === "refusal") {
      throw new LlmError("LLM_REJECTED", `${this.name} ${this.model} refused to answer`, { provider: this.name });
    }
    const text = message.content.map((block) => (block.type === "text" ? block.text : "")).join("");
    const usage = message.usage as { input_tokens?: unknown; output_tokens?: unknown; cache_creation_input_tokens?: unknown; cache_read_input_tokens?: unknown } | undefined;
    const input = tokenCount(usage?.input_tokens);
    return {
      text,
      model: message.model || this.model,
      usage: {
        // Cached input is billed too: it counts against the budget.
        input_tokens:
          input === undefined
            ? estimateTokens(request.system, request.prompt, ...(request.history ?? []).map((t) => t.content))
            : input + (tokenCount(usage?.cache_creation_input_tokens) ?? 0) + (tokenCount(usage?.cache_read_input_tokens) ?? 0),
        output_tokens: tokenCount(usage?.output_tokens) ?? estimateTokens(text),
      },
    };
  }

  private body(request: ChatRequest): MessageCreateParamsNonStreaming {
    const messages: MessageParam[] = [...(request.history ?? []).map((t): MessageParam => ({ role: t.role, content: t.content })), { role: "user", content: request.prompt }];
    return {
      model: this.model,
      system: withJsonInstruction(request, true),
      messages,
      max_tokens: request.maxTokens ?? this.options.maxTokens,
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    };
  }

  private toLlmError(err: unknown): LlmError {
    if (err instanceof LlmError) return err;
    if (err instanceof APIConnectionTimeoutError) return timeoutError(this.name, this.options.timeoutMs, err);
    if (err instanceof APIUserAbortError) return new LlmError("LLM_TIMEOUT", `${this.name} call was aborted`, { provider: this.name, cause: err });
    if (err instanceof APIConnectionError) return connectionError(this.name, this.baseUrl, err);
    if (err instanceof APIError && typeof err.status === "number") {
      return fromHttpFailure({
        provider: this.name,
        status: err.status,
        headers: err.headers as Headers | undefined,
        detail: err.apiMessage ?? err.message,
        errorCode: err.errorCode,
        cause: err,
      });
    }
    // The SDK refused the request itself (bad options): sending it again would not help.
    if (err instanceof AnthropicError) return new LlmError("LLM_REJECTED", `${this.name} SDK refused the request: ${err.message}`, { provider: this.name, cause: err });
    return new LlmError("LLM_UNAVAILABLE", `${this.name} call failed: ${(err as Error).message}`, { provider: this.name, cause: err });
  }
}
