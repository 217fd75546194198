/** The end-to-end bench's breakdown of where a session's time goes, read from the audit log. */
import type pg from "pg";

type Queryable = Pick<pg.Pool, "query">;

export interface Stage {
  /** "queue → agent (content_type)": published → delivered; "agent handles content_type": delivered → its first reply recorded. */
  stage: string;
  /** How many of them a session has, on average. */
  per_session: number;
  mean_ms: number;
  p50_ms: number;
  p99_ms: number;
  /** per_session × mean_ms / mean recorded session latency; NaN for memory's stages, which run after the session finished. */
  share: number;
}

/**
 * Where a session's time goes, from the audit rows' recorded_at (taken when the bus reports the
 * event, before it acts): each message's wait in its queue (published → delivered), and each
 * agent's handling of it (delivered → the first reply it recorded: published, or completed when
 * addressed to COMPLETE).
 */
export async function sessionStages(poll: Queryable, auditTable: string, ids: readonly string[], meanLatencyMs: number): Promise<Stage[]> {
  const r = await poll.query<{ stage: string; n: number; mean: number; p50: number; p99: number }>(
    `WITH r AS (
       SELECT session_id, message_id, outcome, agent, recorded_at,
              envelope->'metadata'->>'parent_message_id' AS parent,
              envelope->'output'->>'content_type' AS ct,
              envelope->'next_agent'->>'name' AS next
       FROM ${auditTable} WHERE session_id = ANY($1::text[]) AND envelope IS NOT NULL
     ),
     waits AS (
       SELECT 'queue → ' || d.agent || ' (' || p.ct || ')' AS stage, d.recorded_at - p.recorded_at AS took, p.recorded_at AS at
       FROM r p JOIN r d ON d.message_id = p.message_id AND d.outcome = 'delivered'
       WHERE p.outcome = 'published'
     ),
     handled AS (
       SELECT d.agent || ' handles ' || d.ct AS stage, min(x.recorded_at) - d.recorded_at AS took, d.recorded_at AS at
       FROM r d JOIN r x ON x.parent = d.message_id AND x.outcome IN ('published', 'completed') AND x.session_id = d.session_id
       WHERE d.outcome = 'delivered'
       GROUP BY d.message_id, d.agent, d.ct, d.recorded_at
     ),
     s AS (SELECT stage, extract(epoch FROM took) * 1000 AS ms, at FROM waits UNION ALL SELECT stage, extract(epoch FROM took) * 1000, at FROM handled)
     SELECT stage, count(*)::int AS n, avg(ms)::float8 AS mean,
            (percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::float8 AS p50,
            (percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::float8 AS p99,
            min(at) AS first_at
     FROM s GROUP BY stage ORDER BY first_at`,
    [ids],
  );
  // Order by where the stage first happens in a session, not in the whole run.
  const order = (stage: string): number => {
    const at = ["planning_agent (user_request)", "planning_agent handles", "dispatch_agent (plan)", "dispatch_agent handles plan", "action_agent (task)", "action_agent handles", "dispatch_agent (action_result)", "dispatch_agent handles action_result", "reasoning_agent", "memory_agent"];
    const i = at.findIndex((a) => stage.includes(a));
    return i < 0 ? at.length : i;
  };
  return r.rows
    .map((x) => {
      const after = x.stage.includes("memory_agent"); // the session finished when reasoning's synthesis reached COMPLETE
      const perSessionCount = x.n / ids.length;
      return { stage: after ? `${x.stage} (after finish)` : x.stage, per_session: perSessionCount, mean_ms: x.mean, p50_ms: x.p50, p99_ms: x.p99, share: after ? Number.NaN : (perSessionCount * x.mean) / meanLatencyMs };
    })
    .sort((a, b) => order(a.stage) - order(b.stage));
}
