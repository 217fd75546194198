/** Ids of the form <prefix>_<YYYYMMDD>_<N…>, unique across processes: one counter row per kind and day. */
import { AgentbusError } from "../errors/index.ts";
import { table, type Db, type Queryable } from "./db.ts";

export interface DailyIdKind {
  kind: string;
  prefix: string;
  /** Digits of the counter; ids past 10^digits - 1 in one day are refused. */
  digits: number;
}

export const RULE_IDS: DailyIdKind = { kind: "rule", prefix: "rule", digits: 2 };
export const BATCH_IDS: DailyIdKind = { kind: "batch", prefix: "batch", digits: 3 };

const DAY = /^[0-9]{8}$/;

/** `count` fresh ids for `day` (YYYYMMDD), in order. Use inside the transaction that stores them. */
export async function nextDailyIds(db: Pick<Db, "schema">, q: Queryable, id: DailyIdKind, day: string, count: number): Promise<string[]> {
  if (!DAY.test(day)) throw new AgentbusError("ID_DAY_INVALID", `the day for ${id.kind} ids must be YYYYMMDD, got ${JSON.stringify(day)}`);
  if (count <= 0) return [];
  const r = await q.query<{ last: number }>(
    `INSERT INTO ${table(db, "daily_ids")} (kind, day, last) VALUES ($1, $2, $3)
     ON CONFLICT (kind, day) DO UPDATE SET last = ${table(db, "daily_ids")}.last + EXCLUDED.last RETURNING last`,
    [id.kind, day, count],
  );
  const last = Number(r.rows[0]?.last);
  const max = 10 ** id.digits - 1;
  if (last > max) {
    throw new AgentbusError("IDS_EXHAUSTED", `more than ${max} ${id.kind} ids on ${day}: the id format ${id.prefix}_<YYYYMMDD>_<${"N".repeat(id.digits)}> has no room left today`);
  }
  return Array.from({ length: count }, (_, i) => `${id.prefix}_${day}_${String(last - count + 1 + i).padStart(id.digits, "0")}`);
}
