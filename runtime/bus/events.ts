/**
 * What the bus reports about every message it touches. The audit log (runtime/store) is one
 * observer; tests and the CLI can be others. Observers must be quick and must not throw.
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
  /** Epoch ms from the bus's clock. */
  at: number;
}

export interface BusObserver {
  onEvent(event: BusEvent): void;
}

export function messageIdOf(value: unknown): string | null {
  const id = (value as { message_id?: unknown } | null)?.message_id;
  return typeof id === "string" ? id : null;
}

export function sessionIdOf(value: unknown): string | null {
  const id = (value as { metadata?: { session_id?: unknown } } | null)?.metadata?.session_id;
  return typeof id === "string" ? id : null;
}

export type { Envelope };
