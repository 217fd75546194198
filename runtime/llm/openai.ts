/**
 * OpenAI chat completions through the official SDK, for OpenAI itself and for OpenAI-compatible
 * servers (vLLM, Ollama, LM Studio …) at OPENAI_BASE_URL. JSON is requested with a `json_schema`
 * response format (not strict: agentbus schemas use keywords strict mode refuses); the reply is
 * parsed tolerantly and validated by the client, so a server that ignores the format still works.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAIError } from "openai";
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { connectionError, fromHttpFailure, LlmError, timeoutError } from "./errors.ts";
import { formatName, schemaForModel, withJsonInstruction } from "./json.ts";
import { estimateTokens, tokenCount, type ProviderOptions } from "./options.ts";
import { withRetries } from "./retry.ts";
import type { ChatRequest, ChatResponse, LlmProvider } from "./types.ts";

export const OPENAI_BASE_URL = "https://api.openai.com/v1";

export class OpenAiProvider implements LlmProvider {
  readonly model: string;
  private readonly client: OpenAI;
  private readonly baseUrl: string;

  constructor(
    private readonly options: ProviderOptions,
    readonly name: "openai" | "openai_compatible" = "openai",
  ) {
    this.model = options.model;
    this.baseUrl = options.baseUrl ?? OPENAI_BASE_URL;
    this.client = new OpenAI({
      // Compatible servers often need no key; the SDK insists on one.
      apiKey: options.apiKey ?? "not-needed",
      baseURL: this.baseUrl,
      timeout: options.timeoutMs,
      maxRetries: 0,
    });
  }

  complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResponse> {
    return withRetries(`${this.name} ${this.model}`, () => this.once(request, signal), this.options.retry, signal);
  }

  private async once(request: ChatRequest, signal: AbortSignal | undefined): Promise<ChatResponse> {
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create(this.body(request), { ...(signal ? { signal } : {}), maxRetries: 0, timeout: this.options.timeoutMs });
    } catch (err) {
      throw this.toLlmError(err);
    }
    const choice = completion.choices[0];
    if (choice?.message.refusal) {
      throw new LlmError("LLM_REJECTED", `${this.name} ${this.model} refused: ${choice.message.refusal}`, { provider: this.name });
    }
    const text = choice?.message.content ?? "";
    const usage = completion.usage as { prompt_tokens?: unknown; completion_tokens?: unknown } | undefined;
    return {
      text,
      model: completion.model || this.model,
      usage: {
        input_tokens: tokenCount(usage?.prompt_tokens) ?? estimateTokens(request.system, request.prompt, ...(request.history ?? []).map((t) => t.content)),
        output_tokens: tokenCount(usage?.completion_tokens) ?? estimateTokens(text),
      },
    };
  }

  private body(request: ChatRequest): ChatCompletionCreateParamsNonStreaming {
    const messages: ChatCompletionMessageParam[] = [
      // A compatible server may ignore response_format: spell the schema out for it.
      { role: "system", content: withJsonInstruction(request, this.name === "openai_compatible") },
      ...(request.history ?? []).map((t): ChatCompletionMessageParam => ({ role: t.role, content: t.content })),
      { role: "user", content: request.prompt },
    ];
    const maxTokens = request.maxTokens ?? this.options.maxTokens;
    return {
      model: this.model,
      messages,
      // OpenAI's reasoning models take only max_completion_tokens; compatible servers know max_tokens.
      ...(this.name === "openai" ? { max_completion_tokens: maxTokens } : { max_tokens: maxTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.json
        ? { response_format: { type: "json_schema", json_schema: { name: formatName(request.json.name), schema: schemaForModel(request.json.schema), strict: false } } }
        : {}),
    };
  }

  private toLlmError(err: unknown): LlmError {
    if (err instanceof LlmError) return err;
    if (err instanceof APIConnectionTimeoutError) return timeoutError(this.name, this.options.timeoutMs, err);
    if (err instanceof APIUserAbortError) return new LlmError("LLM_TIMEOUT", `${this.name} call was aborted`, { provider: this.name, cause: err });
    if (err instanceof APIConnectionError) return connectionError(this.name, this.baseUrl, err);
    if (err instanceof APIError && typeof err.status === "number") {
      const body = err.error as { message?: unknown } | undefined;
      return fromHttpFailure({
        provider: this.name,
        status: err.status,
        headers: err.headers as Headers | undefined,
        detail: typeof body?.message === "string" ? body.message : err.message,
        errorCode: err.code,
        cause: err,
      });
    }
    // The SDK refused the request itself (bad options): sending it again would not help.
    if (err instanceof OpenAIError) return new LlmError("LLM_REJECTED", `${this.name} SDK refused the request: ${err.message}`, { provider: this.name, cause: err });
    return new LlmError("LLM_UNAVAILABLE", `${this.name} call failed: ${(err as Error).message}`, { provider: this.name, cause: err });
  }
}
