/**
 * Sessions (one row per request) and traces (a session's audit rows in order).
 */
import { AgentbusError, type Issue } from "../errors/index.ts";
import { canonicalJson } from "./canonical.ts";
import { table, type Db } from "./db.ts";
import type { AuditOutcome } from "./audit-hash.ts";

export type SessionStatus = "running" | "success" | "failed" | "partial";

export interface Session {
  sessionId: string;
  requestId: string | null;
  status: SessionStatus;
  startedAt: Date;
  finishedAt: Date | null;
  answer: unknown;
  lastSeq: number;
  updatedAt: Date;
  /** Why the session failed when it ended in the dead-letter queue; null otherwise. */
  error: unknown;
  /** LLM tokens this session has used (the per-session budget is checked against it). */
  tokensUsed: number;
}

export interface SessionPatch {
  sessionId: string;
  requestId?: string;
  status?: SessionStatus;
  startedAt?: Date;
  finishedAt?: Date;
  /** The final answer (any JSON value). */
  answer?: unknown;
  /** Highest envelope sequence_number seen; only ever raised. */
  lastSeq?: number;
}

interface SessionRow {
  session_id: string;
  request_id: string | null;
  status: SessionStatus;
  started_at: Date;
  finished_at: Date | null;
  answer: unknown;
  last_seq: number;
  updated_at: Date;
  error: unknown;
  tokens_used: number;
}

/**
 * Creates or updates a session; absent fields keep their stored value. Safe under redelivery and
 * out-of-order calls: started_at is set once, last_seq only grows, and a late "running" does not
 * reopen a finished session.
 */
export async function upsertSession(db: Db, patch: SessionPatch): Promise<Session> {
  if (typeof patch.sessionId !== "string" || patch.sessionId.length === 0) {
    throw new AgentbusError("SESSION_INVALID", "a session needs a non-empty sessionId");
  }
  const sessions = table(db, "sessions");
  const result = await db.query<SessionRow>(
    `INSERT INTO ${sessions} AS s (session_id, request_id, status, started_at, finished_at, answer, last_seq, updated_at)
     VALUES ($1, $2, COALESCE($3, 'running'), COALESCE($4::timestamptz, now()), $5, $6::jsonb, COALESCE($7, 0), now())
     ON CONFLICT (session_id) DO UPDATE SET
       request_id  = COALESCE(EXCLUDED.request_id, s.request_id),
       status      = CASE WHEN $3::text IS NULL OR (s.finished_at IS NOT NULL AND $5::timestamptz IS NULL AND $3 = 'running')
                          THEN s.status ELSE $3 END,
       started_at  = LEAST(s.started_at, COALESCE($4::timestamptz, s.started_at)),
       finished_at = COALESCE($5::timestamptz, s.finished_at),
       answer      = COALESCE($6::jsonb, s.answer),
       last_seq    = GREATEST(s.last_seq, COALESCE($7, 0)),
       updated_at  = now()
     RETURNING *`,
    [
      patch.sessionId,
      patch.requestId ?? null,
      patch.status ?? null,
      patch.startedAt?.toISOString() ?? null,
      patch.finishedAt?.toISOString() ?? null,
      patch.answer === undefined ? null : canonicalJson(patch.answer),
      patch.lastSeq ?? null,
    ],
  );
  const row = result.rows[0];
  if (!row) throw new AgentbusError("SESSION_INVALID", `upsert of session ${patch.sessionId} returned nothing`);
  return toSession(row);
}

export async function getSession(db: Db, sessionId: string): Promise<Session | null> {
  const r = await db.query<SessionRow>(`SELECT * FROM ${table(db, "sessions")} WHERE session_id = $1`, [sessionId]);
  const row = r.rows[0];
  return row ? toSession(row) : null;
}

export interface TraceEntry {
  id: string;
  seqInChain: number;
  /** metadata.sequence_number of the envelope, when it has a numeric one. */
  sequenceNumber: number | null;
  outcome: AuditOutcome;
  agent: string;
  messageId: string | null;
  recordedAt: Date;
  reasons: Issue[] | null;
  envelope: unknown;
}

/**
 * The session's audit rows, ordered by the envelope's sequence_number, then by the time each was
 * recorded, then published before delivered before the rest (rows of one instant), then by id. Ids
 * alone do not order them: the publisher's and the consumer's writers flush in their own batches,
 * so a delivery can be written before the publish it follows. Rows without a usable sequence
 * number come last. Delivered rows removed by retention are not part of the trace.
 */
export async function getTrace(db: Db, sessionId: string): Promise<TraceEntry[]> {
  const entries = await readChain(db, sessionId, "0");
  // Sorted here, not in SQL: envelopes kept as text (see audit_log.envelope_text) have no jsonb to sort by.
  return entries.sort(
    (a, b) =>
      compareSeq(a.sequenceNumber, b.sequenceNumber) ||
      a.recordedAt.getTime() - b.recordedAt.getTime() ||
      OUTCOME_ORDER[a.outcome] - OUTCOME_ORDER[b.outcome] ||
      compareIds(a.id, b.id),
  );
}

/** Within one instant, the order events of one message happen in. */
const OUTCOME_ORDER: Record<AuditOutcome, number> = { published: 0, delivered: 1, rejected: 2, dead_lettered: 3, completed: 4, rule_decision: 5 };

/**
 * The session's audit rows recorded after row `afterId`, in the order they were written (for
 * following a session live: pass the last id seen). Pruned rows are not part of it.
 */
export async function getTraceAfter(db: Db, sessionId: string, afterId: string, limit = 500): Promise<TraceEntry[]> {
  return readChain(db, sessionId, afterId, limit);
}

async function readChain(db: Db, sessionId: string, afterId: string, limit?: number): Promise<TraceEntry[]> {
  const r = await db.query<{
    id: string;
    seq_in_chain: string;
    outcome: AuditOutcome;
    agent: string;
    message_id: string | null;
    recorded_at: Date;
    reasons: Issue[] | null;
    envelope: unknown;
    envelope_text: string | null;
  }>(
    `SELECT id, seq_in_chain, outcome, agent, message_id, recorded_at, reasons, envelope, envelope_text
     FROM ${table(db, "audit_log")} WHERE chain_key = $1 AND id > $2::bigint ORDER BY id${limit ? ` LIMIT ${Math.floor(limit)}` : ""}`,
    [sessionId, afterId],
  );
  return r.rows.map((row): TraceEntry => {
    const envelope: unknown = row.envelope_text !== null ? JSON.parse(row.envelope_text) : row.envelope;
    return {
      id: row.id,
      seqInChain: Number(row.seq_in_chain),
      sequenceNumber: sequenceNumberOf(envelope),
      outcome: row.outcome,
      agent: row.agent,
      messageId: row.message_id,
      recordedAt: row.recorded_at,
      reasons: row.reasons,
      envelope,
    };
  });
}

function compareSeq(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a - b;
}

function sequenceNumberOf(envelope: unknown): number | null {
  if (typeof envelope !== "object" || envelope === null) return null;
  const metadata = (envelope as { metadata?: unknown }).metadata;
  if (typeof metadata !== "object" || metadata === null) return null;
  const n = (metadata as { sequence_number?: unknown }).sequence_number;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0); // bigint ids as strings: shorter is smaller
}

function toSession(row: SessionRow): Session {
  return {
    sessionId: row.session_id,
    requestId: row.request_id,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    answer: row.answer,
    lastSeq: row.last_seq,
    updatedAt: row.updated_at,
    error: row.error ?? null,
    tokensUsed: row.tokens_used ?? 0,
  };
}
