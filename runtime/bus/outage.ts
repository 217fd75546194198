/**
 * Outages of the infrastructure a delivery needs (Postgres, Redis). A handler (or the store on its
 * behalf) that hits one is not failing: the worker host defers the message without using an
 * attempt, with a growing delay, and reports the outage here. This monitor logs each transition
 * once (down, back) instead of once per message, probes until the resource answers again, and keeps
 * a status the runtime shows (Runtime.health()).
 */
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { isAgentbusError } from "../errors/index.ts";
import type { Clock } from "../envelope/clock.ts";
import { systemClock } from "../envelope/clock.ts";

/** The resources whose absence makes a delivery wait instead of fail. */
export type Resource = "store" | "redis";

/** Error codes meaning "the infrastructure is away, the work is fine": never an attempt. */
const UNAVAILABLE: Record<string, Resource> = {
  STORE_UNAVAILABLE: "store",
  // The audit buffer is full only because Postgres has been away for long: the same outage.
  AUDIT_BUFFER_FULL: "store",
  REDIS_UNAVAILABLE: "redis",
};

/**
 * The resource an error says is away, or null for every other error (a handler's real bug, a
 * refused input...), which keeps using attempts. Looks through `cause` chains, since a handler may
 * wrap the store's error in its own.
 */
export function unavailableResource(err: unknown): Resource | null {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (isAgentbusError(current)) {
      const resource = UNAVAILABLE[current.code];
      if (resource && current.recoverable) return resource;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** 250 ms, doubling, capped at 5 s: quick to notice a blip, cheap during a long outage. */
export const DEFAULT_OUTAGE_BACKOFF: Backoff = { baseMs: 250, maxMs: 5000 };

export function backoffDelay(backoff: Backoff, step: number): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(Math.max(0, step), 20));
}

export interface ResourceStatus {
  available: boolean;
  /** When the current outage began (ISO), or null while available. */
  down_since: string | null;
  /** The error that began the current (or last) outage, one line. */
  last_error: string | null;
  /** Deliveries deferred during the current outage (without using an attempt). */
  deferred: number;
  /** Outages seen since start. */
  outages: number;
}

export interface OutageMonitorOptions {
  logger: Logger;
  /** Resolves when the resource answers; rejects while it does not. Without one, no probing. */
  probes?: Partial<Record<Resource, () => Promise<unknown>>>;
  backoff?: Backoff;
  clock?: Clock;
}

interface State {
  downAt: number | null;
  lastError: string | null;
  deferred: number;
  outages: number;
  probing: boolean;
}

const LABEL: Record<Resource, string> = { store: "Postgres", redis: "Redis" };

export interface OutageEvents {
  down: [resource: Resource];
  up: [resource: Resource];
}

export class OutageMonitor extends EventEmitter<OutageEvents> {
  private readonly states = new Map<Resource, State>();
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private closed = false;
  private timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: OutageMonitorOptions) {
    super();
    this.backoff = options.backoff ?? DEFAULT_OUTAGE_BACKOFF;
    this.clock = options.clock ?? systemClock;
  }

  isDown(resource: Resource): boolean {
    return this.state(resource).downAt !== null;
  }

  /** Whether this monitor can tell when `resource` is back (and so hosts may pause meanwhile). */
  canProbe(resource: Resource): boolean {
    return this.options.probes?.[resource] !== undefined;
  }

  /** A delivery was deferred because `resource` is away; the first report of an outage logs it. */
  report(resource: Resource, err: unknown): void {
    const s = this.state(resource);
    s.deferred += 1;
    if (s.downAt !== null) return;
    s.downAt = this.clock.now();
    s.lastError = oneLine(err);
    s.outages += 1;
    this.options.logger.error(
      { resource, cause: s.lastError },
      `${LABEL[resource]} unavailable: deliveries that need it wait (deferred, no attempt used) until it is back`,
    );
    this.emit("down", resource);
    this.probe(resource, 0);
  }

  /** Something that needed `resource` just worked: the outage (if any) is over. */
  recovered(resource: Resource): void {
    const s = this.state(resource);
    if (s.downAt === null) return;
    const ms = this.clock.now() - s.downAt;
    this.options.logger.warn({ resource, outage_ms: ms, deferred: s.deferred }, `${LABEL[resource]} is back after ${ms} ms; ${s.deferred} deferred deliveries resume`);
    s.downAt = null;
    s.deferred = 0;
    this.emit("up", resource);
  }

  status(): Record<Resource, ResourceStatus> {
    const one = (r: Resource): ResourceStatus => {
      const s = this.state(r);
      return {
        available: s.downAt === null,
        down_since: s.downAt === null ? null : new Date(s.downAt).toISOString(),
        last_error: s.lastError,
        deferred: s.deferred,
        outages: s.outages,
      };
    };
    return { store: one("store"), redis: one("redis") };
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private probe(resource: Resource, step: number): void {
    const probe = this.options.probes?.[resource];
    const s = this.state(resource);
    if (!probe || this.closed || s.probing || s.downAt === null) return;
    s.probing = true;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      probe().then(
        () => {
          s.probing = false;
          this.recovered(resource);
        },
        () => {
          s.probing = false;
          this.probe(resource, step + 1);
        },
      );
    }, backoffDelay(this.backoff, step));
    this.timers.add(timer);
  }

  private state(resource: Resource): State {
    let s = this.states.get(resource);
    if (!s) {
      s = { downAt: null, lastError: null, deferred: 0, outages: 0, probing: false };
      this.states.set(resource, s);
    }
    return s;
  }
}

/** `CODE: message`, on one line and bounded: never a whole client object in a log line. */
export function oneLine(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const text = `${typeof code === "string" ? `${code}: ` : ""}${message}`.replace(/\s+/g, " ");
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
