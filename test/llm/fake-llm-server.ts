/**
 * A local HTTP server speaking the OpenAI chat completions API or the Anthropic messages API,
 * answering from a per-test script and keeping every request it received, so tests drive the
 * real SDKs and check what they sent. Listens on 127.0.0.1 on an ephemeral port.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Api = "openai" | "anthropic";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON body the test inspects freely
  body: any;
}

type Step =
  | { kind: "reply"; text: string; usage: { input: number; output: number } | null }
  | { kind: "fail"; status: number; message: string; headers: Record<string, string>; code?: string }
  | { kind: "hang"; ms: number };

export class FakeLlmServer {
  readonly requests: ReceivedRequest[] = [];
  private script: Step[] = [];
  private constructor(
    readonly api: Api,
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(api: Api): Promise<FakeLlmServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const fake = new FakeLlmServer(api, server, (server.address() as AddressInfo).port);
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => fake.handle(req.method ?? "", req.url ?? "", req.headers, Buffer.concat(chunks).toString("utf8"), res));
    });
    return fake;
  }

  /** Where the SDK should point: the OpenAI SDK's base URL includes /v1, the Anthropic SDK's does not. */
  get baseUrl(): string {
    return this.api === "openai" ? `http://127.0.0.1:${this.port}/v1` : `http://127.0.0.1:${this.port}`;
  }

  /** Forget the previous test's script and requests. */
  reset(): this {
    this.script = [];
    this.requests.length = 0;
    return this;
  }

  /** A successful completion with this text and this usage (null: the server reports none). */
  reply(text: string, usage: { input: number; output: number } | null = { input: 100, output: 20 }): this {
    this.script.push({ kind: "reply", text, usage });
    return this;
  }

  replyJson(value: unknown, usage?: { input: number; output: number }): this {
    return this.reply(JSON.stringify(value), usage);
  }

  fail(status: number, message: string, headers: Record<string, string> = {}, code?: string): this {
    this.script.push({ kind: "fail", status, message, headers, ...(code ? { code } : {}) });
    return this;
  }

  /** Answer nothing for `ms` (a client timeout fires first). */
  hang(ms: number): this {
    this.script.push({ kind: "hang", ms });
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(method: string, path: string, headers: IncomingHttpHeaders, raw: string, res: ServerResponse): void {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    this.requests.push({ method, path, headers, body });
    const expected = this.api === "openai" ? "/v1/chat/completions" : "/v1/messages";
    if (method !== "POST" || path !== expected) return this.send(res, 404, this.errorBody(404, `no route ${method} ${path}`));
    const step = this.script.shift();
    if (!step) return this.send(res, 418, this.errorBody(418, "the test scripted no reply for this request"));
    const model = (body as { model?: string }).model ?? "unknown";
    switch (step.kind) {
      case "reply":
        return this.send(res, 200, this.api === "openai" ? openAiCompletion(model, step.text, step.usage) : anthropicMessage(model, step.text, step.usage));
      case "fail":
        return this.send(res, step.status, this.errorBody(step.status, step.message, step.code), step.headers);
      case "hang": {
        const timer = setTimeout(() => this.send(res, 200, this.errorBody(200, "too late")), step.ms);
        res.on("close", () => clearTimeout(timer));
        return;
      }
    }
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  }

  private errorBody(status: number, message: string, code?: string): unknown {
    if (this.api === "openai") return { error: { message, type: status === 429 ? "rate_limit_error" : "api_error", code: code ?? null, param: null } };
    const type = status === 429 ? "rate_limit_error" : status === 401 ? "authentication_error" : status >= 500 ? "api_error" : "invalid_request_error";
    return { type: "error", error: { type, message } };
  }
}

function openAiCompletion(model: string, text: string, usage: { input: number; output: number } | null): unknown {
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, finish_reason: "stop", logprobs: null }],
    ...(usage ? { usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } } : {}),
  };
}

function anthropicMessage(model: string, text: string, usage: { input: number; output: number } | null): unknown {
  return {
    id: "msg_test",
    type: "message",
    role: "assistant",
    model,
    content: [{ type: "text", text }],
    stop_reason: "end_turn",
    stop_sequence: null,
    ...(usage ? { usage: { input_tokens: usage.input, output_tokens: usage.output } } : {}),
  };
}
