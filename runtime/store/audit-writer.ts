/**
 * Batched, append-only writer of the audit log.
 *
 * `append()` is synchronous: it snapshots the event (canonical JSON) into an in-memory buffer. The
 * buffer is written every `flushIntervalMs`, or as soon as `maxBatchRows` wait, in one transaction
 * with one multi-row INSERT (several past 5461 rows: Postgres takes at most 65535 parameters). Chain
 * positions are computed inside that transaction while the chains' `chain_heads` rows are locked
 * (SELECT ... FOR UPDATE, in key order), so any number of writers in any number of processes extend
 * each session's chain one after another.
 *
 * When Postgres is unreachable the rows stay buffered and the flush is retried with backoff. At
 * `maxBuffered` rows the writer stops accepting new work and says so loudly: `accepting` turns
 * false and `admit()` (which callers run before taking on a new request) throws AUDIT_BUFFER_FULL.
 * Work already in flight can still append, up to `hardLimit` rows, so its evidence is kept; past
 * that `append` throws too, and the caller must not carry out what it was about to record.
 * It accepts again once the buffer has drained below `resumeBelow`.
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { performance } from "node:perf_hooks";
import pino from "pino";
import { AgentbusError, InfrastructureError, type Issue } from "../errors/index.ts";
import { systemClock, type Clock } from "../envelope/clock.ts";
import { canonicalJson } from "./canonical.ts";
import { translate, type Db, type Logger } from "./db.ts";
import {
  AUDIT_OUTCOMES,
  UNSESSIONED,
  canonicalReasons,
  jsonbCanHold,
  storableText,
  usableId,
  type AuditContent,
  type AuditOutcome,
} from "./audit-hash.ts";
import { sessionHint } from "./session-projection.ts";
import { writeAuditBatch, type Batch, type PendingRow } from "./audit-batch.ts";

export interface AuditEvent {
  outcome: AuditOutcome;
  /** Who published or consumed the envelope. */
  agent: string;
  /** The envelope exactly as received, valid or not. */
  envelope: unknown;
  /** Why it was rejected or dead-lettered. */
  reasons?: readonly Issue[];
  /** Defaults to envelope.metadata.session_id when that is usable; null puts the row on the '_unsessioned' chain. */
  sessionId?: string | null;
  /** Defaults to envelope.message_id when usable. */
  messageId?: string | null;
}

export interface AuditWriterOptions {
  flushIntervalMs?: number;
  maxBatchRows?: number;
  maxBuffered?: number;
  /** Accept again once the buffer is at or below this many rows (default maxBuffered / 2). */
  resumeBelow?: number;
  /** Rows in-flight work may still buffer after refusing begins (default 2 × maxBuffered). */
  hardLimit?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  logger?: Logger;
  /** recorded_at comes from this clock: the runtime's, so a test's clock moves the audit log too. */
  clock?: Clock;
}

export interface AuditWriterStats {
  appended: number;
  written: number;
  buffered: number;
  flushes: number;
  flushErrors: number;
  /** Appends refused with AUDIT_BUFFER_FULL. */
  refused: number;
  accepting: boolean;
  lastError: string | null;
  lastFlushMs: number | null;
}

export interface AuditWriterEvents {
  flushed: [{ rows: number; ms: number; buffered: number }];
  flush_error: [{ error: unknown; attempt: number; retryInMs: number; buffered: number }];
  refusing: [{ buffered: number }];
  accepting: [{ buffered: number }];
}

export class AuditWriter extends EventEmitter<AuditWriterEvents> {
  private readonly db: Db;
  private readonly flushIntervalMs: number;
  private readonly maxBatchRows: number;
  private readonly maxBuffered: number;
  private readonly resumeBelow: number;
  private readonly hardLimit: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly logger: Logger;
  private readonly clock: Clock;

  // FIFO of rows not yet committed: queue[head..] (head advances instead of shifting the array).
  private queue: PendingRow[] = [];
  private head = 0;
  private inFlight: Batch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private serial: Promise<void> = Promise.resolve();
  private failures = 0;
  private closed = false;
  private counters = { appended: 0, written: 0, flushes: 0, flushErrors: 0, refused: 0 };
  private isAccepting = true;
  private lastError: string | null = null;
  private lastFlushMs: number | null = null;

  constructor(db: Db, options: AuditWriterOptions = {}) {
    super();
    this.db = db;
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.maxBatchRows = Math.max(1, options.maxBatchRows ?? 1000);
    this.maxBuffered = Math.max(1, options.maxBuffered ?? 100_000);
    this.resumeBelow = Math.min(options.resumeBelow ?? Math.floor(this.maxBuffered / 2), this.maxBuffered - 1);
    this.hardLimit = Math.max(this.maxBuffered, options.hardLimit ?? this.maxBuffered * 2);
    this.retryBaseMs = options.retryBaseMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 5000;
    this.logger = options.logger ?? pino({ name: "agentbus.audit" });
    this.clock = options.clock ?? systemClock;
  }

  get accepting(): boolean {
    return this.isAccepting && !this.closed;
  }

  get buffered(): number {
    return this.queue.length - this.head;
  }

  stats(): AuditWriterStats {
    return { ...this.counters, buffered: this.buffered, accepting: this.accepting, lastError: this.lastError, lastFlushMs: this.lastFlushMs };
  }

  /** The gate for new work: throws AUDIT_BUFFER_FULL while the writer is refusing. */
  admit(): void {
    if (this.closed) throw new AgentbusError("AUDIT_WRITER_CLOSED", "the audit writer is closed");
    if (!this.isAccepting) {
      this.counters.refused++;
      throw this.full();
    }
  }

  /**
   * Buffers one event; cheap and synchronous. Past `hardLimit` it throws AUDIT_BUFFER_FULL: the
   * caller must then not do what it meant to record, so nothing happens without evidence.
   */
  append(event: AuditEvent): void {
    if (this.closed) throw new AgentbusError("AUDIT_WRITER_CLOSED", "the audit writer is closed");
    if (this.buffered >= this.hardLimit) {
      this.counters.refused++;
      throw this.full();
    }
    this.queue.push(this.prepare(event));
    this.counters.appended++;
    if (this.buffered >= this.maxBuffered) this.refuse();
    this.schedule(this.buffered >= this.maxBatchRows ? 0 : this.flushIntervalMs);
  }

  /** Writes every row appended before this call; rejects if Postgres fails (rows stay buffered and are retried). */
  async flush(): Promise<void> {
    const target = this.counters.appended;
    while (this.counters.written < target) {
      await this.exclusive(() => this.writeBatch());
    }
  }

  /** Stops accepting, flushes (retrying until `timeoutMs`) and stops the timers. Rejects with AUDIT_UNFLUSHED if rows remain. */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closed = true;
    this.clearTimer();
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      try {
        await this.flush();
        break;
      } catch (err) {
        if (Date.now() >= deadline) {
          this.logger.error({ buffered: this.buffered, err }, "audit writer closed with rows it could not write");
          throw new AgentbusError("AUDIT_UNFLUSHED", `${this.buffered} audit rows could not be written before close`, { recoverable: true, cause: err });
        }
        await sleep(Math.min(this.backoff(), Math.max(0, deadline - Date.now())));
      }
    }
    this.clearTimer();
  }

  private prepare(event: AuditEvent): PendingRow {
    if (!(AUDIT_OUTCOMES as readonly string[]).includes(event.outcome)) {
      throw new AgentbusError("AUDIT_EVENT_INVALID", `unknown audit outcome ${JSON.stringify(event.outcome)}`);
    }
    let envelopeJson: string;
    try {
      // Snapshot now: the caller may mutate or reuse the object after append returns.
      envelopeJson = canonicalJson(event.envelope);
    } catch (err) {
      throw new AgentbusError("AUDIT_EVENT_INVALID", `envelope cannot be recorded as JSON: ${String(err)}`, { cause: err });
    }
    const envelope = asRecord(event.envelope);
    const metadata = asRecord(envelope?.metadata);
    const sessionId = usableId(event.sessionId !== undefined ? event.sessionId : metadata?.session_id);
    const messageId = usableId(event.messageId !== undefined ? event.messageId : envelope?.message_id);
    const content: AuditContent = {
      chainKey: sessionId ?? UNSESSIONED,
      sessionId,
      messageId,
      outcome: event.outcome,
      agent: storableText(String(event.agent), 128),
      reasonsJson: canonicalReasons(event.reasons),
      envelopeJson,
      recordedAt: new Date(this.clock.now()).toISOString(),
    };
    return { content, jsonb: jsonbCanHold(envelopeJson), session: sessionHint(event.outcome, envelope, sessionId, content.recordedAt, event.reasons) };
  }

  /**
   * One batch, one transaction: lock the chains' heads, extend them, insert all rows in one
   * statement. A batch that failed is retried as the same batch (same id, same rows): if the failure
   * hid a commit (connection lost after COMMIT was sent), the id is found in audit_batches and the
   * rows are not written twice.
   */
  private async writeBatch(): Promise<void> {
    const batch = this.inFlight ?? { id: randomUUID(), rows: this.queue.slice(this.head, this.head + this.maxBatchRows), retried: false };
    if (batch.rows.length === 0) return;
    this.inFlight = batch;
    const started = performance.now();
    try {
      await this.db.transaction((tx) => writeAuditBatch(tx, this.db, batch));
    } catch (err) {
      batch.retried = true;
      this.failed(err);
      throw translate(err);
    }
    this.inFlight = undefined;
    this.head += batch.rows.length;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.failures = 0;
    this.counters.written += batch.rows.length;
    this.counters.flushes++;
    this.lastFlushMs = performance.now() - started;
    this.emit("flushed", { rows: batch.rows.length, ms: this.lastFlushMs, buffered: this.buffered });
    if (!this.isAccepting && this.buffered <= this.resumeBelow) {
      this.isAccepting = true;
      this.logger.warn({ buffered: this.buffered }, "audit log reachable again: accepting new work");
      this.emit("accepting", { buffered: this.buffered });
    }
    if (this.buffered > 0) this.schedule(this.buffered >= this.maxBatchRows || !this.isAccepting ? 0 : this.flushIntervalMs);
  }

  private full(): AgentbusError {
    return new AgentbusError("AUDIT_BUFFER_FULL", `audit buffer is full (${this.buffered} rows waiting for Postgres): refusing new work rather than losing evidence`, { recoverable: true });
  }

  private failed(err: unknown): void {
    this.failures++;
    this.counters.flushErrors++;
    this.lastError = err instanceof Error ? err.message : String(err);
    const retryInMs = this.backoff();
    const unreachable = translate(err) instanceof InfrastructureError;
    // Unreachable is expected to pass; any other failure is a bug or a schema problem and will not.
    this.logger[unreachable ? "warn" : "error"]({ err, attempt: this.failures, retryInMs, buffered: this.buffered }, "audit flush failed; rows stay buffered and will be retried");
    this.emit("flush_error", { error: err, attempt: this.failures, retryInMs, buffered: this.buffered });
    if (!this.closed) this.schedule(retryInMs, true);
  }

  private refuse(): void {
    if (!this.isAccepting) return;
    this.isAccepting = false;
    this.logger.error(
      { buffered: this.buffered, maxBuffered: this.maxBuffered, lastError: this.lastError },
      "AUDIT BUFFER FULL: Postgres has not taken audit rows for a while; refusing new work until it drains",
    );
    this.emit("refusing", { buffered: this.buffered });
  }

  private schedule(delayMs: number, afterFailure = false): void {
    if (this.closed) return;
    // While a retry is pending, new appends neither shorten its backoff nor add timers.
    if (!afterFailure && this.failures > 0) return;
    const due = Date.now() + delayMs;
    if (this.timer && !afterFailure && this.timerDue <= due) return;
    this.clearTimer();
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.exclusive(() => this.writeBatch()).catch(() => undefined); // failures are counted, logged and retried in writeBatch
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private backoff(): number {
    const exp = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.max(0, this.failures - 1));
    return Math.round(exp * (0.5 + Math.random() / 2)); // jitter: writers in many processes do not retry in step
  }

  /** Batches never overlap: a timer flush and an explicit flush() queue behind each other. */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.serial.then(fn);
    this.serial = run.catch(() => undefined);
    return run;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
