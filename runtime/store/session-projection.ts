/**
 * Sessions are a projection of the audit log, written in the same transaction as the audit rows
 * they come from: no extra round trip per message, and a session can never claim what the audit log
 * does not show.
 *
 * How a session ends: its first `completed` row (a message addressed to COMPLETE) finishes it with
 * that message's status and content as the answer; later completions (e.g. the memory agent's
 * record) change nothing. A `dead_lettered` row finishes it as failed with the reason, unless it
 * already completed; a completion after such a failure (the dead letter was fixed and replayed)
 * replaces the failure.
 */
import { jsonbCanHold, usableId } from "./audit-hash.ts";
import { table, type Db, type Queryable } from "./db.ts";
import type { AuditOutcome } from "./audit-hash.ts";

export interface SessionHint {
  sessionId: string;
  requestId: string | null;
  sequenceNumber: number | null;
  recordedAt: string;
  /** Set on a `completed` or `dead_lettered` row: how the session ended, its answer or error (JSON text). */
  final: Final | null;
}

interface Final {
  status: "success" | "failed" | "partial";
  answerJson: string | null;
  /** Set when the session ended in the dead-letter queue. */
  errorJson: string | null;
}

/** Reads what the sessions table needs from an envelope that may be invalid; null when it names no session. */
export function sessionHint(
  outcome: AuditOutcome,
  envelope: Record<string, unknown> | undefined,
  sessionId: string | null,
  recordedAt: string,
  reasons: readonly { message: string }[] = [],
): SessionHint | null {
  // A rule decision is not a message of a session: it never opens or finishes one.
  if (!sessionId || !envelope || outcome === "rule_decision") return null;
  const metadata = record(envelope.metadata);
  const seq = metadata?.sequence_number;
  let final: SessionHint["final"] = null;
  // Only valid envelopes are marked completed by the bus; rejected ones never finish a session.
  if (outcome === "completed") {
    const code = record(envelope.status)?.code;
    const status = code === "success" ? "success" : code === "partial" ? "partial" : "failed";
    const answerJson = jsonText(record(envelope.output)?.content);
    final = { status, answerJson, errorJson: null };
  } else if (outcome === "dead_lettered") {
    final = { status: "failed", answerJson: null, errorJson: jsonText({ dead_lettered: true, reasons: reasons.map((r) => r.message).slice(0, 10) }) };
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
    if (h.final && replaces(m.final, h.final)) {
      m.final = h.final;
      m.finishedAt = h.recordedAt;
    }
  }
  if (merged.size === 0) return;
  const rows = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)); // one lock order for all writers
  await tx.query(
    `INSERT INTO ${table(db, "sessions")} AS s (session_id, request_id, status, started_at, finished_at, answer, error, last_seq, updated_at)
     SELECT v.sid, v.rid, COALESCE(v.st, 'running'), v.started, v.fin, v.ans, v.err, v.seq, now()
     FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::jsonb[], $8::jsonb[], $7::integer[]) AS v(sid, rid, st, started, fin, ans, err, seq)
     ON CONFLICT (session_id) DO UPDATE SET
       request_id  = COALESCE(s.request_id, EXCLUDED.request_id),
       status      = CASE WHEN ${REPLACES} THEN EXCLUDED.status ELSE s.status END,
       finished_at = CASE WHEN ${REPLACES} THEN EXCLUDED.finished_at ELSE s.finished_at END,
       answer      = CASE WHEN ${REPLACES} THEN EXCLUDED.answer ELSE s.answer END,
       error       = CASE WHEN ${REPLACES} THEN EXCLUDED.error ELSE s.error END,
       started_at  = LEAST(s.started_at, EXCLUDED.started_at),
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
      rows.map(([, v]) => v.final?.errorJson ?? null),
    ],
  );
}

// The SQL form of `replaces`: an incoming end (EXCLUDED) wins over none, and a completion wins over
// a dead-letter failure; otherwise the first end stands.
const REPLACES = "(EXCLUDED.finished_at IS NOT NULL AND (s.finished_at IS NULL OR (s.error IS NOT NULL AND EXCLUDED.error IS NULL)))";

function replaces(current: Final | null, incoming: Final): boolean {
  return current === null || (current.errorJson !== null && incoming.errorJson === null);
}

function jsonText(value: unknown): string | null {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text !== undefined && jsonbCanHold(text) ? text : null;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
