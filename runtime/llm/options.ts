/** What every provider is built from (besides its SDK), and helpers the providers share. */
import type { RetryOptions } from "./retry.ts";

export interface ProviderOptions {
  model: string;
  /** Absent for an OpenAI-compatible server that needs none. */
  apiKey?: string | undefined;
  /** Absent: the provider's public API. */
  baseUrl?: string | undefined;
  /** Per HTTP attempt. */
  timeoutMs: number;
  /** Reply length when the request does not say (Anthropic requires one). */
  maxTokens: number;
  retry?: RetryOptions;
}

/** ~4 characters per token: for servers that report no usage, so budgets still bite. */
export function estimateTokens(...texts: string[]): number {
  return Math.ceil(texts.reduce((n, t) => n + t.length, 0) / 4);
}

/** A count from a usage field, or undefined when the server sent none (or nonsense). */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
}
