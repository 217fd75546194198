/** A CapabilityContext for running capabilities directly, outside the bus. */
import { silentLogger } from "../../runtime/log/logger.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { CapabilityContext } from "../../runtime/capabilities/types.ts";
import type { LlmClient } from "../../runtime/llm/types.ts";
import { parseFetchAllow } from "../../runtime/capabilities/builtin/fetch-guard.ts";

/**
 * Tests serve pages on loopback addresses and random ports, which fetch refuses by default: this is
 * the allow-list they run with (as a deployment would set AGENTBUS_FETCH_ALLOW).
 */
export const TEST_FETCH_ALLOW = parseFetchAllow("127.0.0.0/8,[::1]");

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
