/**
 * Retention of delivered-message audit rows.
 *
 * Only `delivered` rows are pruned: they duplicate the `published` row of the same message, while
 * published, rejected, dead-lettered and completed rows are the evidence that stays. Deleting rows
 * from the middle of a hash chain would break it, and only whole prefixes could be cut cleanly; but
 * every chain starts with a published row, so a prefix of delivered rows is almost always empty.
 * Instead each pruned row leaves a stub in `audit_pruned` (chain, seq, prev_hash, hash, who, when),
 * written in the same statement that deletes it (prune_delivered(), migration 0001). Verification
 * walks rows and stubs together: every link of every chain is still checked, and the remaining rows'
 * content still is; only the pruned rows' content is gone. The stub costs ~200 bytes instead of the
 * envelope.
 */
import { Duration } from "luxon";
import { ConfigError } from "../errors/index.ts";
import { table, type Db } from "./db.ts";

export interface RetentionOptions {
  /** Prune delivered rows recorded before this instant. */
  olderThan: Date;
  /** Rows per transaction (default 5000): keeps each transaction short. */
  batchSize?: number;
}

/** Prunes delivered rows older than the cutoff; returns how many rows became stubs. */
export async function applyRetention(db: Db, options: RetentionOptions): Promise<{ pruned: number }> {
  const batchSize = Math.max(1, options.batchSize ?? 5000);
  const cutoff = options.olderThan.toISOString();
  let pruned = 0;
  for (;;) {
    const r = await db.query<{ n: number }>(`SELECT ${table(db, "prune_delivered")}($1::timestamptz, $2::integer) AS n`, [cutoff, batchSize]);
    const n = r.rows[0]?.n ?? 0;
    pruned += n;
    if (n < batchSize) break;
  }
  // Batch ids only matter while a writer may still retry that batch (seconds); they are not evidence.
  await db.query(`DELETE FROM ${table(db, "audit_batches")} WHERE committed_at < $1`, [cutoff]);
  return { pruned };
}

/** The cutoff for a retention period given as an ISO-8601 duration ("P30D", "PT12H"). */
export function retentionCutoff(period: string, now: Date = new Date()): Date {
  const duration = Duration.fromISO(period);
  if (!duration.isValid || duration.toMillis() <= 0) {
    throw new ConfigError(`audit retention period ${JSON.stringify(period)} is not a positive ISO-8601 duration (e.g. P30D)`);
  }
  return new Date(now.getTime() - duration.toMillis());
}
