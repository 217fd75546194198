/**
 * LLM failures as AgentbusErrors with stable codes. Each provider turns its SDK's errors into these;
 * the codes decide what is retried: rate limits, timeouts and unavailability are recoverable,
 * rejections (auth, bad request), invalid output and an exhausted budget are not.
 */
import { AgentbusError, type AgentbusErrorOptions, type Issue } from "../errors/index.ts";
import type { ProviderName } from "./types.ts";

export type LlmErrorCode = "LLM_RATE_LIMITED" | "LLM_TIMEOUT" | "LLM_UNAVAILABLE" | "LLM_REJECTED" | "LLM_OUTPUT_INVALID" | "BUDGET_EXCEEDED";

const RECOVERABLE: ReadonlySet<LlmErrorCode> = new Set(["LLM_RATE_LIMITED", "LLM_TIMEOUT", "LLM_UNAVAILABLE"]);

export interface LlmErrorOptions extends Omit<AgentbusErrorOptions, "recoverable"> {
  provider?: ProviderName;
  /** The provider's HTTP status, when it answered. */
  status?: number;
  /** How long the provider asked us to wait (Retry-After), in ms. */
  retryAfterMs?: number;
}

export class LlmError extends AgentbusError {
  override readonly code: LlmErrorCode;
  readonly provider: ProviderName | undefined;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: LlmErrorCode, message: string, options: LlmErrorOptions = {}) {
    const { provider, status, retryAfterMs, ...rest } = options;
    super(code, message, { ...rest, recoverable: RECOVERABLE.has(code) });
    this.code = code;
    this.provider = provider;
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

export function isLlmError(value: unknown): value is LlmError {
  return value instanceof LlmError;
}

/** What a provider knows about one failed HTTP exchange, independent of its SDK. */
export interface HttpFailure {
  provider: ProviderName;
  status: number;
  headers: Headers | undefined;
  /** The provider's own error message, if it gave one. */
  detail: string;
  /** The provider's error code (e.g. OpenAI's `insufficient_quota`). */
  errorCode?: string | null | undefined;
  cause: unknown;
}

/** 429 → rate limited; 408 → timeout; 409 and 5xx → unavailable; any other 4xx → rejected. */
export function fromHttpFailure(f: HttpFailure): LlmError {
  const base = { provider: f.provider, status: f.status, cause: f.cause };
  const what = `${f.provider} answered HTTP ${f.status}${f.detail ? `: ${f.detail}` : ""}`;
  if (f.status === 429) {
    // A spent quota is a 429 too, but waiting does not help.
    if (f.errorCode === "insufficient_quota") return new LlmError("LLM_REJECTED", `${what} (quota exhausted; check the account's billing)`, base);
    const retryAfterMs = retryAfter(f.headers);
    return new LlmError("LLM_RATE_LIMITED", `${what} (rate limited)`, { ...base, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  }
  if (f.status === 408) return new LlmError("LLM_TIMEOUT", what, base);
  if (f.status === 409 || f.status >= 500) {
    const retryAfterMs = retryAfter(f.headers);
    return new LlmError("LLM_UNAVAILABLE", what, { ...base, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  }
  const hint = f.status === 401 || f.status === 403 ? " (check the API key)" : f.status === 404 ? " (check the model name and base URL)" : "";
  return new LlmError("LLM_REJECTED", `${what}${hint}`, base);
}

export function timeoutError(provider: ProviderName, timeoutMs: number, cause: unknown): LlmError {
  return new LlmError("LLM_TIMEOUT", `${provider} did not answer within ${timeoutMs} ms`, { provider, cause });
}

export function connectionError(provider: ProviderName, where: string, cause: unknown): LlmError {
  const reason = describeCause(cause);
  return new LlmError("LLM_UNAVAILABLE", `cannot reach ${provider} at ${where}${reason ? `: ${reason}` : ""}`, { provider, cause });
}

export function outputInvalid(message: string, issues: Issue[]): LlmError {
  return new LlmError("LLM_OUTPUT_INVALID", message, { issues });
}

/** Retry-After as ms: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
export function retryAfter(headers: Headers | undefined, now: () => number = Date.now): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const raw = headers.get("retry-after");
  if (raw === null || raw.trim() === "") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}

function describeCause(cause: unknown): string {
  let c: unknown = cause;
  // fetch wraps the socket error (ECONNREFUSED …) in `cause`; show the innermost message.
  for (let depth = 0; depth < 4 && c instanceof Error && c.cause instanceof Error; depth++) c = c.cause;
  return c instanceof Error ? c.message : "";
}
