/**
 * One error hierarchy for the whole runtime. Every error carries a stable `code` that scripts,
 * the CLI's exit paths and the dead-letter queue can rely on; messages are for people. The
 * runtime's codes are one typed list (./codes.ts) with each code's HTTP status and CLI exit code.
 */
import type { ErrorCode } from "./codes.ts";

export { ERROR_CODES, EXIT, exitCodeOf, httpStatusOf, isErrorCode, type ErrorCode, type ExitCode } from "./codes.ts";

/**
 * A code from the agents' own vocabulary (a capability's HTTP_429, a planner's PLAN_INVALID): not in
 * the runtime's list, so only the domain error classes below take one.
 */
export type DomainCode = string & { readonly __domain: unique symbol };

/** Marks a code as the agents' own (HandlerError, CapabilityError). */
export function domainCode(code: string): DomainCode {
  return code as DomainCode;
}

/** A reason something was rejected, located by JSON pointer (RFC 6901) into the offending document. */
export interface Issue {
  pointer: string;
  message: string;
  /** Which layer found it: structural guards, the JSON Schema, a cross-field rule, routing, or the handler. */
  rule: "guard" | "schema" | "content" | "cross_field" | "route" | "handler";
}

export interface AgentbusErrorOptions {
  recoverable?: boolean;
  cause?: unknown;
  issues?: Issue[];
}

export class AgentbusError extends Error {
  readonly code: string;
  readonly recoverable: boolean;
  readonly issues: Issue[];

  constructor(code: ErrorCode | DomainCode, message: string, options: AgentbusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.recoverable = options.recoverable ?? false;
    this.issues = options.issues ?? [];
  }

  toJSON(): { code: string; message: string; recoverable: boolean; issues: Issue[] } {
    return { code: this.code, message: this.message, recoverable: this.recoverable, issues: this.issues };
  }
}

/** An envelope broke the schema, a cross-field rule or a structural guard. */
export class EnvelopeValidationError extends AgentbusError {
  constructor(issues: Issue[], context = "envelope") {
    super("ENVELOPE_INVALID", `${context} is invalid: ${summarize(issues)}`, { issues });
  }
}

/** The sender may not send this content type to this receiver (agent specs' accepts/emits). */
export class RouteForbiddenError extends AgentbusError {
  constructor(issues: Issue[]) {
    super("ROUTE_FORBIDDEN", `route is not allowed: ${summarize(issues)}`, { issues });
  }
}

/** An agent folder could not be loaded: bad spec, missing worker, bad export. */
export class AgentLoadError extends AgentbusError {
  readonly file: string;
  constructor(file: string, message: string, options: AgentbusErrorOptions = {}) {
    super("AGENT_LOAD_FAILED", `${file}: ${message}`, options);
    this.file = file;
  }
}

/** Configuration (environment, topology, CLI flags) is wrong. */
export class ConfigError extends AgentbusError {
  constructor(message: string, options: AgentbusErrorOptions = {}) {
    super("CONFIG_INVALID", message, options);
  }
}

/** A piece of infrastructure (Redis, Postgres, a binary on PATH) is not available. */
export class InfrastructureError extends AgentbusError {
  constructor(code: "REDIS_UNAVAILABLE" | "STORE_UNAVAILABLE" | "BINARY_MISSING" | "PORT_IN_USE", message: string, options: AgentbusErrorOptions = {}) {
    super(code, message, { recoverable: true, ...options });
  }
}

/**
 * Not a failure: the work cannot be done yet (the store is away, a capability's lane is full). The
 * worker host puts the message back, delayed by `delayMs`, without using one of its attempts, so a
 * wait of any length never ends a session.
 */
export class DeferredError extends AgentbusError {
  readonly delayMs: number;
  constructor(reason: string, delayMs: number, options: AgentbusErrorOptions = {}) {
    super("DEFERRED", reason, { recoverable: true, ...options });
    this.delayMs = Math.max(1, Math.round(delayMs));
  }
}

export function isDeferredError(value: unknown): value is DeferredError {
  return value instanceof DeferredError;
}

/**
 * Codes for what fetch refuses to reach (runtime/capabilities/builtin/fetch-guard.ts). Never
 * recoverable: the same URL would be refused again.
 */
export const FETCH_REFUSED = {
  /** The host resolves to a loopback, private, link-local, metadata or reserved address not allowed. */
  address: "FETCH_ADDRESS_REFUSED",
  /** A redirect to anything but http(s): file:, ftp:, data:, … */
  scheme: "FETCH_SCHEME_REFUSED",
  /** A redirect back to a URL already visited. */
  redirectLoop: "FETCH_REDIRECT_LOOP",
  /** More redirects than the hop limit. */
  tooManyRedirects: "FETCH_TOO_MANY_REDIRECTS",
} as const;

/** Thrown by handlers (or the runtime on their behalf) to say how a failure should be treated. */
export class HandlerError extends AgentbusError {
  constructor(code: string, message: string, options: AgentbusErrorOptions = {}) {
    super(domainCode(code), message, options);
  }
}

/** Something that should exist does not (a dead letter, a session, an agent). */
/** A checkpoint or key of the audit log that cannot be used (malformed, wrong key, bad signature). */
export class CheckpointError extends AgentbusError {
  constructor(
    code: "CHECKPOINT_INVALID" | "CHECKPOINT_SIGNATURE_INVALID" | "AUDIT_KEY_INVALID" | "AUDIT_KEY_MISSING" | "AUDIT_ROLLBACK",
    message: string,
    options: AgentbusErrorOptions = {},
  ) {
    super(code, message, options);
  }
}

export class NotFoundError extends AgentbusError {
  constructor(what: string) {
    super("NOT_FOUND", `${what} not found`);
  }
}

export function summarize(issues: Issue[], max = 3): string {
  const shown = issues.slice(0, max).map((i) => `${i.pointer || "/"}: ${i.message}`);
  const more = issues.length > max ? ` (+${issues.length - max} more)` : "";
  return shown.join("; ") + more;
}

export function isAgentbusError(value: unknown): value is AgentbusError {
  return value instanceof AgentbusError;
}
