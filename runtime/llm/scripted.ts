/**
 * A provider that answers from a script, for agents' tests: no network, and every request kept so
 * a test can check what the agent asked. Pair it with `memoryUsage()` and `MessageLlmClient`, or
 * pass it as `provider` to `createLlmFactory`.
 */
import type { ChatRequest, ChatResponse, LlmProvider, ProviderName } from "./types.ts";

/** A reply: text, a value sent as JSON, a function of the request, or an error to throw. */
export type ScriptedReply = string | { json: unknown } | Error | ((request: ChatRequest) => string | Error);

export class ScriptedProvider implements LlmProvider {
  readonly requests: ChatRequest[] = [];
  private readonly queue: ScriptedReply[];

  constructor(
    replies: readonly ScriptedReply[] = [],
    readonly model = "scripted-model",
    readonly name: ProviderName = "openai",
  ) {
    this.queue = [...replies];
  }

  /** Queue more replies. */
  push(...replies: ScriptedReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  get remaining(): number {
    return this.queue.length;
  }

  async complete(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const next = this.queue.shift();
    if (next === undefined) throw new Error(`ScriptedProvider: no reply scripted for request ${this.requests.length} (prompt: ${request.prompt.slice(0, 80)})`);
    const reply = typeof next === "function" ? next(request) : next;
    if (reply instanceof Error) throw reply;
    const text = typeof reply === "string" ? reply : JSON.stringify(reply.json);
    const input = [request.system, request.prompt, ...(request.history ?? []).map((t) => t.content)].join("");
    return { text, model: this.model, usage: { input_tokens: Math.ceil(input.length / 4), output_tokens: Math.ceil(text.length / 4) } };
  }
}
