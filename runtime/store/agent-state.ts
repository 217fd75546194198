/**
 * Durable state an agent keeps per session, e.g. the dispatch agent's progress through a plan, so
 * that a worker restarted mid-plan carries on where the last one stopped. `update` runs the change
 * under a row lock: concurrent deliveries for one session apply one after another.
 */
import { AgentbusError } from "../errors/index.ts";
import { table, type Db } from "./db.ts";

export interface StateUpdate<T> {
  value: T;
  /** How many times this key has been written, this write included. */
  version: number;
}

export class AgentStateStore {
  constructor(private readonly db: Db) {}

  async get<T>(agent: string, sessionId: string, key: string): Promise<T | undefined> {
    const r = await this.db.query<{ value: T }>(`SELECT value FROM ${table(this.db, "agent_state")} WHERE agent = $1 AND session_id = $2 AND key = $3`, [agent, sessionId, key]);
    return r.rows[0]?.value;
  }

  /** Reads, changes and writes one key atomically; `fn` sees undefined the first time. */
  async update<T>(agent: string, sessionId: string, key: string, fn: (current: T | undefined) => T | Promise<T>): Promise<StateUpdate<T>> {
    const t = table(this.db, "agent_state");
    return this.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${t} (agent, session_id, key, value, version) VALUES ($1, $2, $3, 'null'::jsonb, 0) ON CONFLICT DO NOTHING`, [agent, sessionId, key]);
      const r = await tx.query<{ value: T | null; version: number }>(`SELECT value, version FROM ${t} WHERE agent = $1 AND session_id = $2 AND key = $3 FOR UPDATE`, [agent, sessionId, key]);
      const row = r.rows[0];
      if (!row) throw new AgentbusError("STATE_LOST", `state ${agent}/${sessionId}/${key} vanished inside its transaction`);
      const next = await fn(row.version === 0 ? undefined : (row.value as T));
      const version = row.version + 1;
      await tx.query(`UPDATE ${t} SET value = $4::jsonb, version = $5, updated_at = now() WHERE agent = $1 AND session_id = $2 AND key = $3`, [agent, sessionId, key, JSON.stringify(next), version]);
      return { value: next, version };
    });
  }
}
