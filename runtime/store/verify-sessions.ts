/**
 * Every session the database remembers must have its audit chain. Deleting a session's rows and its
 * chain head leaves no trace in the chains themselves; the `sessions` and `workflow_records` rows
 * that still name it do.
 */
import { table, type Db } from "./db.ts";
import { DEFAULT_LIMIT } from "./verify-limits.ts";
import type { BrokenRow, VerifyOptions } from "./verify-types.ts";

export async function sessionsWithoutChain(db: Db, options: VerifyOptions = {}): Promise<BrokenRow[]> {
  const t = { log: table(db, "audit_log"), pruned: table(db, "audit_pruned"), sessions: table(db, "sessions"), records: table(db, "workflow_records") };
  const params: unknown[] = [options.graceMs ?? 60_000, options.limit ?? DEFAULT_LIMIT];
  const only = options.sessionId !== undefined ? (params.push(options.sessionId), "AND s.session_id = $3") : "";
  // A session row is written right after its first publish, before the audit flush that carries
  // it: only rows older than the grace period are expected to have a chain already.
  const r = await db.query<{ source: string; session_id: string }>(
    `SELECT string_agg(s.source, ', ' ORDER BY s.source) AS source, s.session_id FROM (
       SELECT 'sessions' AS source, session_id, updated_at AS at FROM ${t.sessions}
       UNION ALL
       SELECT 'workflow_records', session_id, inserted_at FROM ${t.records}
     ) s
     WHERE s.at < now() - $1::integer * interval '1 millisecond' ${only}
       AND NOT EXISTS (SELECT 1 FROM ${t.log} a WHERE a.chain_key = s.session_id)
       AND NOT EXISTS (SELECT 1 FROM ${t.pruned} p WHERE p.chain_key = s.session_id)
     GROUP BY s.session_id ORDER BY s.session_id LIMIT $2`,
    params,
  );
  return r.rows.map((row) => ({
    problem: "session_without_chain",
    chainKey: row.session_id,
    sessionId: row.session_id,
    id: null,
    seq: null,
    message: `session ${row.session_id} is in ${row.source} but has no audit rows: its chain was deleted`,
  }));
}
