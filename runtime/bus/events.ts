/**
 * What the bus reports about every message it touches. The audit log (runtime/audit) is one
 * observer; tests and the CLI can be others. Observers are told *before* the bus acts (enqueues,
 * hands to a handler, dead-letters), so nothing happens without its record. Observers must be quick;
 * one that throws vetoes the action (the audit log does so only when its buffer is past its hard
 * limit), and the caller sees the error.
 */
import type { Issue } from "../errors/index.ts";
import type { Envelope } from "../envelope/types.ts";

export type BusEventKind = "published" | "delivered" | "rejected" | "dead_lettered" | "completed";

export interface BusEvent {
  kind: BusEventKind;
  /** The envelope as it was (possibly invalid, so typed loosely). */
  envelope: unknown;
  /** Who acted: the publisher for published/rejected-on-send, the consuming agent otherwise. */
  agent: string | null;
  issues: Issue[];
  /** For dead letters from a failing handler: its error code and message. */
  error: { code: string; message: string } | null;
  /** Epoch ms from the bus's clock. */
  at: number;
}

export interface BusObserver {
  onEvent(event: BusEvent): void;
}

/** Asked before the bus takes on new work from outside (a publish); throws to refuse it. */
export interface AdmissionGate {
  admit(): void;
}

export function messageIdOf(value: unknown): string | null {
  const id = (value as { message_id?: unknown } | null)?.message_id;
  return typeof id === "string" ? id : null;
}


export type { Envelope };
