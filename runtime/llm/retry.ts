/**
 * Bounded retries of recoverable provider failures, with exponential backoff that honours the
 * provider's Retry-After. The SDKs' own retries are off so that this loop is the only one: its
 * sleep is injectable (tests run without waiting) and what it does is logged.
 */
import type { Logger } from "pino";
import { isLlmError, LlmError } from "./errors.ts";

export interface RetryOptions {
  /** Retries after the first attempt (default 2: three attempts in all). */
  maxRetries?: number;
  /** First backoff (default 500 ms), doubled per retry. */
  baseDelayMs?: number;
  /**
   * Longest wait inside one call (default 30 s). A Retry-After beyond it is not waited out here:
   * the error surfaces at once, carrying `retryAfterMs`, so the caller can schedule a later attempt.
   */
  maxDelayMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  logger?: Pick<Logger, "warn">;
}

export async function withRetries<T>(what: string, attempt: () => Promise<T>, options: RetryOptions = {}, signal?: AbortSignal): Promise<T> {
  const maxRetries = options.maxRetries ?? 2;
  const base = options.baseDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? abortableSleep;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isLlmError(err) || !err.recoverable || retry >= maxRetries || signal?.aborted) throw err;
      const backoff = Math.min(base * 2 ** retry, cap);
      const delay = err.retryAfterMs ?? backoff;
      if (delay > cap) throw err;
      options.logger?.warn({ code: err.code, status: err.status, retry: retry + 1, of: maxRetries, delay_ms: delay }, `${what}: ${err.message}; retrying in ${delay} ms`);
      await sleep(delay, signal);
    }
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal | undefined): LlmError {
  return new LlmError("LLM_TIMEOUT", "the LLM call was aborted while waiting to retry", { cause: signal?.reason });
}
