/** Shared pieces of the LLM tests: the three provider variants, an agent, a message, payloads. */
import { randomBytes } from "node:crypto";
import type { ApprovedRule } from "../../runtime/agents/handler.ts";
import type { LoadedAgent } from "../../runtime/agents/loader.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import { newSessionId } from "../../runtime/envelope/ids.ts";
import type { LlmConfig } from "../../runtime/llm/config.ts";
import type { ProviderName } from "../../runtime/llm/types.ts";
import type { Api, FakeLlmServer, ReceivedRequest } from "./fake-llm-server.ts";

export { newSessionId };

export interface Variant {
  provider: ProviderName;
  api: Api;
  model: string;
  apiKey: string | undefined;
}

export const VARIANTS: Variant[] = [
  { provider: "openai", api: "openai", model: "gpt-test-mini", apiKey: "sk-test-openai" },
  { provider: "anthropic", api: "anthropic", model: "claude-test-haiku", apiKey: "sk-ant-test" },
  { provider: "openai_compatible", api: "openai", model: "llama-test-8b", apiKey: undefined },
];

export function configFor(v: Variant, server: FakeLlmServer, overrides: Partial<LlmConfig> = {}): LlmConfig {
  return { provider: v.provider, model: v.model, apiKey: v.apiKey, baseUrl: server.baseUrl, timeoutMs: 5000, sessionTokenBudget: 200_000, maxTokens: 1000, ...overrides };
}

export const INSTRUCTIONS = "You are the reasoning agent. Write the answer from the task results only.";
export const APPLICATION = "This deployment is a general research assistant for web pages.";
export const RULE: ApprovedRule = {
  rule_id: "rule-0007",
  target_agent: "reasoning_agent",
  trigger_condition: "two sources disagree about a figure",
  instruction: "List both values with their task ids and lower the confidence.",
  path: "context/memory/rule-0007.md",
};

export function agent(name = "reasoning_agent"): LoadedAgent {
  return {
    name,
    abbr: name.slice(0, 3),
    instructions: INSTRUCTIONS,
    specPath: `agents/${name}/${name}.md`,
    governance: [
      { path: "context/application.md", content: APPLICATION },
      { path: "governance/audit.md", content: "AUDIT-DOC-NOT-IN-PROMPT" },
    ],
    spec: {} as LoadedAgent["spec"],
    handler: async () => null,
  };
}

let seq = 0;
/** Just the parts of an envelope the LLM factory reads. */
export function message(sessionId: string): Envelope {
  seq++;
  return { message_id: `msg-rea-20250101-120000-${seq}${randomBytes(2).toString("hex")}`, metadata: { session_id: sessionId } } as unknown as Envelope;
}

export const VALID_SYNTHESIS = {
  answer: "The page mentions Redis 3 times.",
  findings: [{ statement: "Redis is mentioned 3 times.", task_ids: ["t3"] }],
  contradictions: [],
  confidence: 0.8,
};

/** What a test asserts about a request, whichever API carried it. */
export function systemOf(req: ReceivedRequest): string {
  if (req.body.system !== undefined) return String(req.body.system);
  const first = req.body.messages[0];
  return first.role === "system" ? String(first.content) : "";
}

/** The conversation after the system prompt, as {role, content}. */
export function turnsOf(req: ReceivedRequest): Array<{ role: string; content: string }> {
  const messages = req.body.messages as Array<{ role: string; content: string }>;
  return messages.filter((m) => m.role !== "system").map((m) => ({ role: m.role, content: String(m.content) }));
}

export function recordingSleep(): { sleeps: number[]; sleep: (ms: number) => Promise<void> } {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms) => void sleeps.push(ms) };
}
