/** A CapabilityContext for running capabilities directly, outside the bus. */
import { silentLogger } from "../../runtime/log/logger.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { CapabilityContext } from "../../runtime/capabilities/types.ts";
import type { LlmClient } from "../../runtime/llm/types.ts";

export function capabilityContext(overrides: Partial<CapabilityContext> = {}): CapabilityContext {
  return { signal: new AbortController().signal, clock: systemClock, logger: silentLogger(), llm: null, ...overrides };
}

/** An LLM client that answers `text` with the given function and refuses `json`. */
export function fakeLlm(text: (prompt: string) => Promise<string>): LlmClient & { prompts: string[] } {
  const prompts: string[] = [];
  return {
    provider: "openai_compatible",
    model: "fake",
    prompts,
    text: async ({ prompt }) => {
      prompts.push(prompt);
      return text(prompt);
    },
    json: () => Promise.reject(new Error("json is not used by capabilities")),
  };
}
