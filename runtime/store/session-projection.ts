/**
 * Sessions are a projection of the audit log, written in the same transaction as the audit rows
 * they come from: no extra round trip per message, and a session can never claim what the audit log
 * does not show. A `completed` row (a message addressed to COMPLETE) finishes its session.
 */
import { jsonbCanHold, usableId } from "./audit-hash.ts";
import { table, type Db, type Queryable } from "./db.ts";
import type { AuditOutcome } from "./audit-hash.ts";

export interface SessionHint {
  sessionId: string;
  requestId: string | null;
  sequenceNumber: number | null;
  recordedAt: string;
  /** Set on a `completed` row: how the session ended and its answer (JSON text). */
  final: { status: "success" | "failed" | "partial"; answerJson: string | null } | null;
}

/** Reads what the sessions table needs from an envelope that may be invalid; null when it names no session. */
export function sessionHint(outcome: AuditOutcome, envelope: Record<string, unknown> | undefined, sessionId: string | null, recordedAt: string): SessionHint | null {
  if (!sessionId || !envelope) return null;
  const metadata = record(envelope.metadata);
  const seq = metadata?.sequence_number;
  let final: SessionHint["final"] = null;
  // Only valid envelopes are marked completed by the bus; rejected ones never finish a session.
  if (outcome === "completed") {
    const code = record(envelope.status)?.code;
    const status = code === "success" ? "success" : code === "partial" ? "partial" : "failed";
    const answer = record(envelope.output)?.content;
    const answerJson = answer === undefined ? null : JSON.stringify(answer);
    final = { status, answerJson: answerJson !== undefined && answerJson !== null && jsonbCanHold(answerJson) ? answerJson : null };
  }
  return {
    sessionId,
    requestId: usableId(metadata?.request_id),
    sequenceNumber: typeof seq === "number" && Number.isInteger(seq) && seq > 0 && seq < 2 ** 31 ? seq : null,
    recordedAt,
    final,
  };
}

/** One multi-row upsert for every session a batch touched. */
export async function projectSessions(tx: Queryable, db: Db, hints: readonly (SessionHint | null)[]): Promise<void> {
  const merged = new Map<string, { requestId: string | null; startedAt: string; lastSeq: number; final: SessionHint["final"]; finishedAt: string | null }>();
  for (const h of hints) {
    if (!h) continue;
    const m = merged.get(h.sessionId);
    if (!m) {
      merged.set(h.sessionId, { requestId: h.requestId, startedAt: h.recordedAt, lastSeq: h.sequenceNumber ?? 0, final: h.final, finishedAt: h.final ? h.recordedAt : null });
      continue;
    }
    m.requestId ??= h.requestId;
    if (h.recordedAt < m.startedAt) m.startedAt = h.recordedAt;
    m.lastSeq = Math.max(m.lastSeq, h.sequenceNumber ?? 0);
    if (h.final) {
      m.final = h.final;
      m.finishedAt = h.recordedAt;
    }
  }
  if (merged.size === 0) return;
  const rows = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)); // one lock order for all writers
  await tx.query(
    `INSERT INTO ${table(db, "sessions")} AS s (session_id, request_id, status, started_at, finished_at, answer, last_seq, updated_at)
     SELECT v.sid, v.rid, COALESCE(v.st, 'running'), v.started, v.fin, v.ans, v.seq, now()
     FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::jsonb[], $7::integer[]) AS v(sid, rid, st, started, fin, ans, seq)
     ON CONFLICT (session_id) DO UPDATE SET
       request_id  = COALESCE(s.request_id, EXCLUDED.request_id),
       status      = CASE WHEN EXCLUDED.finished_at IS NOT NULL THEN EXCLUDED.status ELSE s.status END,
       started_at  = LEAST(s.started_at, EXCLUDED.started_at),
       finished_at = COALESCE(EXCLUDED.finished_at, s.finished_at),
       answer      = COALESCE(EXCLUDED.answer, s.answer),
       last_seq    = GREATEST(s.last_seq, EXCLUDED.last_seq),
       updated_at  = now()`,
    [
      rows.map(([k]) => k),
      rows.map(([, v]) => v.requestId),
      rows.map(([, v]) => v.final?.status ?? null),
      rows.map(([, v]) => v.startedAt),
      rows.map(([, v]) => v.finishedAt),
      rows.map(([, v]) => v.final?.answerJson ?? null),
      rows.map(([, v]) => v.lastSeq),
    ],
  );
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
