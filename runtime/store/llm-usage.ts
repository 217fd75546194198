/** Token usage per LLM call, and the per-session total that budgets are checked against. */
import { table, type Db } from "./db.ts";

export interface UsageRecord {
  sessionId: string;
  messageId: string;
  agent: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
}

export class LlmUsageStore {
  constructor(private readonly db: Db) {}

  /** Records one call and returns the session's new total. */
  async record(u: UsageRecord): Promise<number> {
    const total = u.inputTokens + u.outputTokens;
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO ${table(this.db, "llm_usage")} (session_id, message_id, agent, provider, model, input_tokens, output_tokens) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [u.sessionId, u.messageId, u.agent, u.provider, u.model, u.inputTokens, u.outputTokens],
      );
      // The session row may not be projected yet (audit rows are batched): create it if need be.
      const r = await tx.query<{ tokens_used: number }>(
        `INSERT INTO ${table(this.db, "sessions")} AS s (session_id, tokens_used) VALUES ($1, $2)
         ON CONFLICT (session_id) DO UPDATE SET tokens_used = s.tokens_used + EXCLUDED.tokens_used
         RETURNING tokens_used`,
        [u.sessionId, total],
      );
      return r.rows[0]?.tokens_used ?? total;
    });
  }

  async sessionTotal(sessionId: string): Promise<number> {
    const r = await this.db.query<{ tokens_used: number }>(`SELECT tokens_used FROM ${table(this.db, "sessions")} WHERE session_id = $1`, [sessionId]);
    return r.rows[0]?.tokens_used ?? 0;
  }

  async forMessage(messageId: string): Promise<{ inputTokens: number; outputTokens: number; calls: number }> {
    const r = await this.db.query<{ i: string | null; o: string | null; n: string }>(
      `SELECT sum(input_tokens) AS i, sum(output_tokens) AS o, count(*) AS n FROM ${table(this.db, "llm_usage")} WHERE message_id = $1`,
      [messageId],
    );
    const row = r.rows[0];
    return { inputTokens: Number(row?.i ?? 0), outputTokens: Number(row?.o ?? 0), calls: Number(row?.n ?? 0) };
  }
}
