/**
 * Running one task with one capability, as the action agent does: look the capability up, check
 * the inputs against its input schema, run it under a deadline, check the outputs against its
 * output schema. Every way it can go wrong becomes a failure with a stable code and an honest
 * `recoverable` flag; nothing here throws for a failed task, so the caller can always report it.
 */
import type { Logger } from "pino";
import { isAgentbusError, type Issue } from "../errors/index.ts";
import { summarize } from "../errors/index.ts";
import type { Clock } from "../envelope/clock.ts";
import type { LlmClient } from "../llm/types.ts";
import { CapabilityError } from "./errors.ts";
import { checkInput, checkOutput } from "./registry.ts";
import type { Capability, CapabilityCatalog, CapabilityFailure } from "./types.ts";

export const DEFAULT_DEADLINE_MS = 30_000;
/** What `domain` may look like in an action_result (lowercase host name). */
const DOMAIN = /^[a-z0-9][a-z0-9.:-]{0,252}$/;
const CODE = /^[A-Z][A-Z0-9_]{1,63}$/;
const MAX_MESSAGE = 2000;
const MAX_RETRY_AFTER_MS = 86_400_000;

export interface TaskToRun {
  capability: string;
  inputs: Record<string, unknown>;
  /** Time budget in ms from the start of execution; DEFAULT_DEADLINE_MS when absent. */
  deadline_ms?: number;
}

export interface ExecuteOptions {
  clock: Clock;
  logger: Logger;
  llm: LlmClient | null;
  idempotencyKey?: string;
  defaultDeadlineMs?: number;
}

export interface TaskOutcome {
  /** The capability's outputs on success; {} on failure. */
  outputs: Record<string, unknown>;
  duration_ms: number;
  /** The remote host involved, when there is one and it is a valid host name. */
  domain?: string;
  error?: CapabilityFailure;
  /** Schema issues behind BAD_INPUT or OUTPUT_INVALID (pointers into the inputs or outputs). */
  issues?: Issue[];
}

export async function executeTask(catalog: CapabilityCatalog, task: TaskToRun, options: ExecuteOptions): Promise<TaskOutcome> {
  const started = options.clock.now();
  const cap = catalog.get(task.capability);
  const done = (outcome: Omit<TaskOutcome, "duration_ms">): TaskOutcome => ({ ...outcome, duration_ms: Math.max(0, Math.round(options.clock.now() - started)) });
  if (!cap) {
    const known = catalog.list().map((c) => c.name).join(", ") || "none";
    return done({ outputs: {}, error: failure("CAPABILITY_UNKNOWN", `no capability named "${task.capability}" (known: ${known})`, false) });
  }
  const inputDomain = domainOfInputs(cap, task.inputs);
  const inputIssues = checkInput(cap, task.inputs);
  if (inputIssues.length > 0) {
    const issues = inputIssues.map((i) => ({ ...i, pointer: `/inputs${i.pointer}` }));
    return done({ outputs: {}, issues, ...domainField(inputDomain), error: failure("BAD_INPUT", `inputs for ${cap.name} are invalid: ${summarize(issues)}`, false) });
  }
  let outputs: Record<string, unknown>;
  try {
    outputs = await withDeadline(cap, task, options);
  } catch (err) {
    const f = toFailure(err);
    return done({ outputs: {}, ...domainField(f.domain ?? inputDomain), error: f });
  }
  const outputDomain = typeof outputs.domain === "string" ? outputs.domain : undefined;
  const outputIssues = checkOutput(cap, outputs);
  if (outputIssues.length > 0) {
    const issues = outputIssues.map((i) => ({ ...i, pointer: `/outputs${i.pointer}` }));
    return done({ outputs: {}, issues, ...domainField(outputDomain ?? inputDomain), error: failure("OUTPUT_INVALID", `${cap.name} produced invalid outputs: ${summarize(issues)}`, false) });
  }
  return done({ outputs, ...domainField(outputDomain ?? inputDomain) });
}

async function withDeadline(cap: Capability, task: TaskToRun, options: ExecuteOptions): Promise<Record<string, unknown>> {
  const deadline = task.deadline_ms ?? options.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const err = new CapabilityError("TIMEOUT", `${cap.name} did not finish within the task's deadline of ${deadline} ms`, { recoverable: true });
      controller.abort(err);
      reject(err);
    }, deadline);
  });
  const running = cap.execute(task.inputs, {
    signal: controller.signal,
    clock: options.clock,
    logger: options.logger,
    llm: options.llm,
    ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
  });
  // A capability that ignores the signal may settle after the deadline; nobody is listening then.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function toFailure(err: unknown): CapabilityFailure {
  if (err instanceof CapabilityError) {
    const f = err.toFailure();
    return failure(f.code, f.message, f.recoverable, f.domain, f.retry_after_ms);
  }
  // Other runtime errors keep their code and flag, e.g. an LLM's LLM_RATE_LIMITED (recoverable).
  if (isAgentbusError(err)) return failure(err.code, err.message, err.recoverable);
  // An unexpected exception is a bug in the capability: retrying the same input will not help.
  const message = err instanceof Error ? err.message : String(err);
  return failure("CAPABILITY_FAILED", `the capability threw unexpectedly: ${message}`, false);
}

function failure(code: string, message: string, recoverable: boolean, domain?: string, retryAfterMs?: number): CapabilityFailure {
  const validCode = CODE.test(code);
  const text = validCode ? message : `${code}: ${message}`;
  return {
    code: validCode ? code : "CAPABILITY_FAILED",
    message: text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text,
    recoverable,
    ...(domain !== undefined ? { domain } : {}),
    ...(retryAfterMs !== undefined && Number.isFinite(retryAfterMs) ? { retry_after_ms: Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(retryAfterMs))) } : {}),
  };
}

function domainField(domain: string | undefined): { domain?: string } {
  const d = domain?.toLowerCase();
  return d !== undefined && DOMAIN.test(d) ? { domain: d } : {};
}

/** The host of the first input the capability declares as a "url", so failures before any request still name it. */
export function domainOfInputs(cap: Capability, inputs: Record<string, unknown>): string | undefined {
  for (const [field, type] of Object.entries(cap.consumes)) {
    const value = inputs[field];
    if (type !== "url" || typeof value !== "string") continue;
    try {
      return new URL(value).hostname.replace(/^\[|\]$/g, "");
    } catch {
      return undefined;
    }
  }
  return undefined;
}
