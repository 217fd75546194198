/**
 * A capability is one kind of work the action agent can do (fetch a page, extract its text, …).
 * It declares the artifact types it consumes and produces, so the planner can chain capabilities
 * from what a request gives to what it asks for, and JSON Schemas for its input and output, which
 * the action agent checks on every execution.
 */
import type { Logger } from "pino";
import type { Clock } from "../envelope/clock.ts";
import type { LlmClient } from "../llm/types.ts";

/** Names of the kinds of data that flow between tasks: "url", "html", "text", "terms", … */
export type ArtifactType = string;

export interface CapabilityContext {
  /** Aborted when the task's deadline passes. */
  signal: AbortSignal;
  clock: Clock;
  logger: Logger;
  /** Null without a configured LLM: capabilities that can use one fall back to deterministic work. */
  llm: LlmClient | null;
  /**
   * The incoming message's id: a capability with side effects keys them by this, so a redelivered
   * task does not repeat them. Absent when a capability is run outside the bus (tests, tools).
   */
  idempotencyKey?: string;
}

export interface Capability<I extends Record<string, unknown> = Record<string, unknown>, O extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  description: string;
  /** Input field name → the artifact type it takes. Required fields are the schema's `required`. */
  consumes: Readonly<Record<string, ArtifactType>>;
  /** Output field name → the artifact type it yields. */
  produces: Readonly<Record<string, ArtifactType>>;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown>;
  /**
   * How many tasks of this capability one process runs at once, in all and per domain (the host of
   * its url input). Slow I/O held within its lane leaves the action agent's other slots for cheap
   * work; a task that finds its lane full is put back for a moment (lanes.ts). Absent: no limit.
   */
  lanes?: CapabilityLanes;
  execute(input: I, ctx: CapabilityContext): Promise<O>;
}

export interface CapabilityLanes {
  /** Tasks of this capability at once in this process. */
  max: number;
  /** Tasks at once per domain (only for capabilities that consume a url). */
  perDomain?: number;
}

/** How a capability says it failed; `recoverable` must be honest (retrying could help). */
export interface CapabilityFailure {
  code: string;
  message: string;
  recoverable: boolean;
  /** The remote host involved, for error clustering (e.g. "example.org"). */
  domain?: string;
  /** When the remote side said when to come back (HTTP Retry-After). */
  retry_after_ms?: number;
}

export interface CapabilityCatalog {
  get(name: string): Capability | undefined;
  list(): Capability[];
}
