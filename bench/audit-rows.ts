/**
 * The rows of the audit append benchmark: bus events captured from a real run (so the envelopes
 * are exactly what the bus produces), replayed under fresh session ids; the same rows precomputed
 * for a plain INSERT; and a Db wrapper that times the writer's statements.
 */
import type { QueryResult, QueryResultRow } from "pg";
import type { BusEvent, BusObserver } from "../runtime/bus/events.ts";
import type { Envelope } from "../runtime/envelope/types.ts";
import { GENESIS_HASH, UNSESSIONED, canonicalReasons, jsonbCanHold, rowHash, storableText, usableId, type AuditContent } from "../runtime/store/audit-hash.ts";
import { canonicalJson } from "../runtime/store/canonical.ts";
import type { Db, Queryable } from "../runtime/store/db.ts";

/** Keeps the bus events of one window (armed around one trial); costs one branch per event otherwise. */
export class EventCapture implements BusObserver {
  readonly events: BusEvent[] = [];
  private left = 0;

  arm(max: number): void {
    this.left = max;
  }

  disarm(): void {
    this.left = 0;
  }

  onEvent(event: BusEvent): void {
    if (this.left <= 0) return;
    this.left--;
    this.events.push(event);
  }
}

/**
 * `n` events cycling through the captured ones; copy k of a session gets the session id
 * `<id>-<tag>k<k>` (and request id likewise), so every repetition writes new chains and sessions,
 * interleaved the way the bus interleaved them.
 */
export function replayEvents(captured: readonly BusEvent[], n: number, tag: string): BusEvent[] {
  if (captured.length === 0) throw new Error("no captured bus events to replay");
  const out: BusEvent[] = [];
  for (let i = 0; i < n; i++) {
    const e = captured[i % captured.length] as BusEvent;
    const k = Math.floor(i / captured.length);
    const env = e.envelope as Envelope;
    const suffix = `-${tag}k${k}`;
    const metadata = { ...env.metadata, session_id: env.metadata.session_id + suffix, request_id: env.metadata.request_id + suffix };
    out.push({ ...e, envelope: { ...env, metadata } });
  }
  return out;
}

/** The 12 columns of audit_log the writer fills, in its INSERT's order. */
export const AUDIT_COLUMNS = ["chain_key", "seq_in_chain", "session_id", "message_id", "outcome", "agent", "reasons", "envelope", "envelope_text", "recorded_at", "prev_hash", "hash"] as const;
export type PlainRow = [string, number, string | null, string | null, string, string, string | null, string | null, string | null, string, string, string];

/**
 * The rows AuditWriter would write for these events, computed the way it computes them (canonical
 * JSON envelope, per-session chain from the genesis hash, sha256 row hash): for the plain INSERT,
 * prepared before its clock starts.
 */
export function plainRows(events: readonly BusEvent[]): PlainRow[] {
  const tips = new Map<string, { seq: number; hash: string }>();
  const recordedAt = new Date().toISOString();
  return events.map((e): PlainRow => {
    const env = e.envelope as Envelope;
    const sessionId = usableId(env.metadata.session_id);
    const envelopeJson = canonicalJson(env);
    const c: AuditContent = {
      chainKey: sessionId ?? UNSESSIONED,
      sessionId,
      messageId: usableId(env.message_id),
      outcome: e.kind,
      agent: storableText(e.agent ?? "unknown", 128),
      reasonsJson: canonicalReasons(e.issues),
      envelopeJson,
      recordedAt,
    };
    const tip = tips.get(c.chainKey) ?? { seq: 0, hash: GENESIS_HASH };
    const seq = tip.seq + 1;
    const hash = rowHash(c, seq, tip.hash);
    const row: PlainRow = [c.chainKey, seq, c.sessionId, c.messageId, c.outcome, c.agent, c.reasonsJson === "null" ? null : c.reasonsJson, jsonbCanHold(envelopeJson) ? envelopeJson : null, jsonbCanHold(envelopeJson) ? null : envelopeJson, recordedAt, tip.hash, hash];
    tips.set(c.chainKey, { seq, hash });
    return row;
  });
}

const TYPES = ["text", "bigint", "text", "text", "text", "text", "jsonb", "jsonb", "text", "timestamptz", "text", "text"];

/** One multi-row INSERT … VALUES ($1, …), (…) of `rows` (12 parameters a row). */
export function valuesInsert(table: string, rows: readonly PlainRow[]): { text: string; params: unknown[] } {
  const tuples: string[] = [];
  const params: unknown[] = [];
  for (const row of rows) {
    const base = params.length;
    tuples.push(`(${row.map((_, i) => `$${base + i + 1}`).join(", ")})`);
    params.push(...row);
  }
  return { text: `INSERT INTO ${table} (${AUDIT_COLUMNS.join(", ")}) VALUES ${tuples.join(", ")}`, params };
}

/** The same rows as the writer sends them: one INSERT … SELECT FROM unnest(12 arrays). */
export function unnestInsert(table: string, rows: readonly PlainRow[]): { text: string; params: unknown[] } {
  const params = AUDIT_COLUMNS.map((_, i) => rows.map((r) => r[i]));
  const arrays = TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(", ");
  return { text: `INSERT INTO ${table} (${AUDIT_COLUMNS.join(", ")}) SELECT * FROM unnest(${arrays})`, params };
}

/** What a statement of the writer's flush transaction does. */
function stage(sql: string): string {
  if (/audit_batches" WHERE batch_id/.test(sql)) return "retry check (audit_batches)";
  if (/FOR UPDATE/.test(sql)) return "chain heads: lock (SELECT … FOR UPDATE)";
  if (/^\s*INSERT INTO \S+"chain_heads"/.test(sql)) return "chain heads: insert missing (ON CONFLICT DO NOTHING)";
  if (/^\s*INSERT INTO \S+"audit_log"/.test(sql)) return "audit_log: multi-row INSERT (VALUES)";
  if (/^\s*WITH batch/.test(sql)) return "chain heads: advance + audit_batches row";
  if (/"sessions"/.test(sql)) return "sessions: projection upsert";
  return sql.trim().slice(0, 40);
}

export const TX_OVERHEAD = "connection checkout + BEGIN + COMMIT (WAL flush)";
export const TX_JS = "JS inside the transaction (row hashes, column arrays)";

/** A Db that adds up, per stage, the wall time of the transactions and statements that pass through it. */
export class TimedDb implements Db {
  readonly ms = new Map<string, number>();

  constructor(private readonly inner: Db) {}

  get schema(): string {
    return this.inner.schema;
  }

  get backend(): Db["backend"] {
    return this.inner.backend;
  }

  reset(): void {
    this.ms.clear();
  }

  private add(name: string, ms: number): void {
    this.ms.set(name, (this.ms.get(name) ?? 0) + ms);
  }

  query<R extends QueryResultRow = QueryResultRow>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.inner.query<R>(text, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const t0 = performance.now();
    let inside = 0;
    let statements = 0;
    try {
      return await this.inner.transaction(async (tx) => {
        const timed: Queryable = {
          query: async <R extends QueryResultRow = QueryResultRow>(text: string, params?: readonly unknown[]) => {
            const s0 = performance.now();
            try {
              return await tx.query<R>(text, params);
            } finally {
              const ms = performance.now() - s0;
              statements += ms;
              this.add(stage(text), ms);
            }
          },
        };
        const f0 = performance.now();
        try {
          return await fn(timed);
        } finally {
          inside = performance.now() - f0;
        }
      });
    } finally {
      this.add(TX_OVERHEAD, performance.now() - t0 - inside);
      this.add(TX_JS, inside - statements);
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
