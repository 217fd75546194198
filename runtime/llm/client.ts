/**
 * The LLM a handler sees as `ctx.llm`, bound to one message: it builds the agent's system prompt,
 * checks the session's token budget before every call, records every call's usage, and turns
 * JSON replies into schema-valid content (one repair attempt, then LLM_OUTPUT_INVALID).
 */
import type { Logger } from "pino";
import { AgentbusError, summarize, type Issue } from "../errors/index.ts";
import type { ApprovedRule, GovernanceDoc } from "../agents/handler.ts";
import type { SchemaRegistry } from "../schemas/registry.ts";
import type { UsageRecord } from "../store/llm-usage.ts";
import { LlmError, outputInvalid } from "./errors.ts";
import { parseJsonReply } from "./json.ts";
import type { ChatRequest, ChatResponse, LlmClient, LlmProvider, ProviderName } from "./types.ts";

/** Where usage goes; `LlmUsageStore` (Postgres) in the runtime, `memoryUsage()` in tests. */
export interface UsageRecorder {
  /** Records one call; returns the session's new total. */
  record(usage: UsageRecord): Promise<number>;
  sessionTotal(sessionId: string): Promise<number>;
}

export const APPLICATION_CONTEXT = "context/application.md";
const MAX_ISSUES_IN_REPAIR = 20;

export interface SystemPromptParts {
  /** The spec body. */
  instructions: string;
  /** The agent's governance docs; only context/application.md goes into the prompt. */
  governance: readonly GovernanceDoc[];
  rules: readonly ApprovedRule[];
}

/** Spec body, then the application context, then the approved rules that target the agent. */
export function buildSystemPrompt(parts: SystemPromptParts): string {
  const sections = [parts.instructions.trim()];
  const app = parts.governance.find((d) => d.path === APPLICATION_CONTEXT);
  if (app && app.content.trim() !== "") sections.push(`# Application context (${app.path})\n\n${app.content.trim()}`);
  if (parts.rules.length > 0) {
    const lines = parts.rules.map((r) => `- [${r.rule_id}] When ${r.trigger_condition.trim()}: ${r.instruction.trim()}`);
    sections.push(`# Approved rules\n\nA person approved these rules for you. Apply each one when its condition holds.\n\n${lines.join("\n")}`);
  }
  return sections.filter((s) => s !== "").join("\n\n");
}

export interface LlmClientOptions {
  provider: LlmProvider;
  /** The full system prompt (see buildSystemPrompt). */
  system: string;
  registry: Pick<SchemaRegistry, "contentSchemaId" | "check" | "schemas">;
  usage: UsageRecorder;
  sessionId: string;
  messageId: string;
  agent: string;
  /** Tokens (input + output) the whole session may use. */
  budget: number;
  signal?: AbortSignal;
  logger?: Pick<Logger, "warn">;
}

export class MessageLlmClient implements LlmClient {
  readonly provider: ProviderName;
  readonly model: string;
  /** The session's total after this client's last call (other agents add to it too). */
  private lastTotal = 0;

  constructor(private readonly o: LlmClientOptions) {
    this.provider = o.provider.name;
    this.model = o.provider.model;
  }

  get system(): string {
    return this.o.system;
  }

  async text(request: { prompt: string; maxTokens?: number }): Promise<string> {
    const res = await this.call({ system: this.o.system, prompt: request.prompt, ...maxTokens(request) });
    return res.text;
  }

  async json<T>(request: { prompt: string; contentType: string; maxTokens?: number }): Promise<T> {
    const { id, schema } = this.schemaOf(request.contentType);
    const base: ChatRequest = { system: this.o.system, prompt: request.prompt, json: { name: request.contentType, schema }, ...maxTokens(request) };
    const first = await this.call(base);
    const firstCheck = this.check(id, first.text);
    if (firstCheck.ok) return firstCheck.value as T;

    this.o.logger?.warn(
      { agent: this.o.agent, message_id: this.o.messageId, content_type: request.contentType, issues: firstCheck.issues.slice(0, 5) },
      `${this.o.agent}: ${this.provider} reply is not a valid ${request.contentType}; asking once for a repair`,
    );
    const repair = await this.call({
      ...base,
      history: [...(base.history ?? []), { role: "user", content: request.prompt }, { role: "assistant", content: first.text }],
      prompt: repairPrompt(request.contentType, firstCheck.issues),
    });
    const second = this.check(id, repair.text);
    if (second.ok) return second.value as T;
    throw outputInvalid(
      `${this.o.agent}: ${this.provider} ${this.model} gave no valid ${request.contentType} after one repair attempt: ${summarize(second.issues)}`,
      second.issues,
    );
  }

  private async call(request: ChatRequest): Promise<ChatResponse> {
    await this.ensureBudget();
    const res = await this.o.provider.complete(request, this.o.signal);
    this.lastTotal = await this.o.usage.record({
      sessionId: this.o.sessionId,
      messageId: this.o.messageId,
      agent: this.o.agent,
      provider: this.provider,
      model: res.model || this.model,
      inputTokens: res.usage.input_tokens,
      outputTokens: res.usage.output_tokens,
    });
    return res;
  }

  /** Stops before a call once the session has used its budget (no request is sent). */
  private async ensureBudget(): Promise<void> {
    const used = this.lastTotal >= this.o.budget ? this.lastTotal : await this.o.usage.sessionTotal(this.o.sessionId);
    if (used >= this.o.budget) {
      throw new LlmError(
        "BUDGET_EXCEEDED",
        `session ${this.o.sessionId} has used ${used} of its ${this.o.budget} LLM tokens (AGENTBUS_SESSION_TOKEN_BUDGET); ${this.o.agent} makes no further LLM calls`,
        { provider: this.provider },
      );
    }
  }

  private schemaOf(contentType: string): { id: string; schema: Record<string, unknown> } {
    const id = this.o.registry.contentSchemaId(contentType);
    const record = id === undefined ? undefined : this.o.registry.schemas().find((s) => s.id === id);
    if (id === undefined || !record) {
      throw new AgentbusError("CONTENT_TYPE_UNKNOWN", `ctx.llm.json: content type "${contentType}" has no schema in schemas/content/`);
    }
    return { id, schema: record.schema };
  }

  private check(schemaId: string, text: string): { ok: true; value: unknown } | { ok: false; issues: Issue[] } {
    const parsed = parseJsonReply(text);
    if (!parsed.ok) return parsed;
    const issues = this.o.registry.check(schemaId, parsed.value);
    return issues.length === 0 ? parsed : { ok: false, issues };
  }
}

function maxTokens(request: { maxTokens?: number }): { maxTokens?: number } {
  return request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens };
}

function repairPrompt(contentType: string, issues: Issue[]): string {
  const shown = issues.slice(0, MAX_ISSUES_IN_REPAIR).map((i) => `- ${i.pointer || "/"}: ${i.message}`);
  if (issues.length > shown.length) shown.push(`- … and ${issues.length - shown.length} more`);
  return [
    `Your reply is not a valid ${contentType}. These problems were found (JSON pointers into your reply):`,
    ...shown,
    "Reply again with the corrected JSON object only.",
  ].join("\n");
}

/** Usage kept in memory: for tests and for runs without a store. */
export function memoryUsage(): UsageRecorder & { records: UsageRecord[] } {
  const records: UsageRecord[] = [];
  const totals = new Map<string, number>();
  return {
    records,
    record: async (u) => {
      records.push(u);
      const total = (totals.get(u.sessionId) ?? 0) + u.inputTokens + u.outputTokens;
      totals.set(u.sessionId, total);
      return total;
    },
    sessionTotal: async (sessionId) => totals.get(sessionId) ?? 0,
  };
}
