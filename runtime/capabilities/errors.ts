/**
 * How capabilities fail. A capability throws `CapabilityError` with a stable code and an honest
 * `recoverable` flag; the action agent turns it into an `action_result` with the error, and the
 * dispatch agent decides whether to retry. Declaring a capability wrongly is a different failure
 * (a deployment bug, found at registration): `CapabilityDeclarationError`.
 */
import { AgentbusError, domainCode, type Issue } from "../errors/index.ts";
import type { CapabilityFailure } from "./types.ts";

export interface CapabilityErrorOptions {
  recoverable: boolean;
  /** The remote host involved (fetch records it always), for error clustering. */
  domain?: string;
  /** When the remote side said when to come back (HTTP Retry-After), in milliseconds. */
  retry_after_ms?: number;
  cause?: unknown;
  issues?: Issue[];
}

export class CapabilityError extends AgentbusError {
  readonly domain: string | undefined;
  readonly retry_after_ms: number | undefined;

  constructor(code: string, message: string, options: CapabilityErrorOptions) {
    super(domainCode(code), message, { recoverable: options.recoverable, cause: options.cause, issues: options.issues ?? [] });
    this.domain = options.domain;
    this.retry_after_ms = options.retry_after_ms;
  }

  toFailure(): CapabilityFailure {
    return {
      code: this.code,
      message: this.message,
      recoverable: this.recoverable,
      ...(this.domain !== undefined ? { domain: this.domain } : {}),
      ...(this.retry_after_ms !== undefined ? { retry_after_ms: this.retry_after_ms } : {}),
    };
  }
}

/** A capability's declaration is wrong (duplicate name, schema that does not compile, …). */
export class CapabilityDeclarationError extends AgentbusError {
  readonly capability: string;
  constructor(capability: string, message: string, options: { cause?: unknown; issues?: Issue[] } = {}) {
    super("CAPABILITY_INVALID", `capability ${capability}: ${message}`, options);
    this.capability = capability;
  }
}

export function isCapabilityError(value: unknown): value is CapabilityError {
  return value instanceof CapabilityError;
}
