/**
 * Memory batches: which workflow records a summary covered. Claiming a batch marks every unclaimed
 * record finished before its cutoff with the batch id, in chunks, so no record is ever in two
 * batches and a claim interrupted half-way is finished by the next attempt (same batch, same
 * window). Records are then read back by batch in keyset pages: memory stays one page.
 */
import { AgentbusError } from "../errors/index.ts";
import { canonicalJson } from "./canonical.ts";
import { BATCH_IDS, nextDailyIds } from "./daily-ids.ts";
import { table, type Db } from "./db.ts";
import { toStored, type StoredWorkflowRecord, type WorkflowRecordRow } from "./workflow-records.ts";

export type BatchTrigger = "schedule" | "threshold" | "manual";
export type BatchState = "claiming" | "claimed" | "summarised";

export interface MemoryBatch {
  batch_id: string;
  trigger: BatchTrigger;
  state: BatchState;
  cutoff: Date;
  records: number;
  period_from: Date | null;
  period_to: Date | null;
  created_at: Date;
  summarised_at: Date | null;
}

export interface ClaimOptions {
  trigger: BatchTrigger;
  /** Records finished before this are in the window. */
  cutoff: Date;
  /** The day the batch id names (YYYYMMDD, in the configured zone). */
  day: string;
  /** Records claimed per transaction (default 5000). */
  chunk?: number;
}

/**
 * Opens a batch over every unclaimed record finished before `cutoff`, or resumes the one an
 * earlier attempt left claiming. Null when there is nothing to summarise.
 */
export async function claimBatch(db: Db, options: ClaimOptions): Promise<MemoryBatch | null> {
  const batches = table(db, "memory_batches");
  const records = table(db, "workflow_records");
  let batch = await db.transaction(async (tx) => {
    // One claimer at a time: two schedulers (two `start` processes) never split a window.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${db.schema}.memory_batches`]);
    const open = await tx.query<BatchRow>(`SELECT * FROM ${batches} WHERE state = 'claiming' ORDER BY created_at LIMIT 1`);
    if (open.rows[0]) return toBatch(open.rows[0]);
    const waiting = await tx.query(`SELECT 1 FROM ${records} WHERE batch_id IS NULL AND finished_at < $1 LIMIT 1`, [options.cutoff.toISOString()]);
    if (waiting.rowCount === 0) return null;
    const [id] = await nextDailyIds(db, tx, BATCH_IDS, options.day, 1);
    const r = await tx.query<BatchRow>(`INSERT INTO ${batches} (batch_id, trigger, state, cutoff) VALUES ($1, $2, 'claiming', $3) RETURNING *`, [id, options.trigger, options.cutoff.toISOString()]);
    return toBatch(r.rows[0] as BatchRow);
  });
  if (!batch) return null;
  const chunk = Math.max(1, options.chunk ?? 5000);
  for (;;) {
    const claimed = await db.query(
      `UPDATE ${records} SET batch_id = $1 WHERE session_id IN (
         SELECT session_id FROM ${records} WHERE batch_id IS NULL AND finished_at < $2
         ORDER BY finished_at, session_id LIMIT ${chunk} FOR UPDATE SKIP LOCKED)`,
      [batch.batch_id, batch.cutoff.toISOString()],
    );
    if ((claimed.rowCount ?? 0) === chunk) continue;
    // A short chunk may only mean another claimer holds the rest: close the window only when no
    // unclaimed record before the cutoff is left, so the count below is the batch's final one.
    const left = await db.query(`SELECT 1 FROM ${records} WHERE batch_id IS NULL AND finished_at < $1 LIMIT 1`, [batch.cutoff.toISOString()]);
    if (left.rowCount === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const closed = await db.query<BatchRow>(
    `UPDATE ${batches} b SET state = 'claimed', records = s.n, period_from = s.lo, period_to = s.hi
     FROM (SELECT count(*)::int AS n, min(finished_at) AS lo, max(finished_at) AS hi FROM ${records} WHERE batch_id = $1) s
     WHERE b.batch_id = $1 RETURNING b.*`,
    [batch.batch_id],
  );
  batch = toBatch(closed.rows[0] as BatchRow);
  return batch;
}

/** The batch's records in pages of `pageSize`, oldest first; one page in memory at a time. */
export async function* batchPages(db: Db, batchId: string, pageSize = 1000): AsyncGenerator<StoredWorkflowRecord[]> {
  const records = table(db, "workflow_records");
  let after: { finished_at: Date; session_id: string } | null = null;
  for (;;) {
    const params: unknown[] = [batchId];
    let cursor = "";
    if (after) {
      params.push(after.session_id);
      // The stored row's own timestamp: a JS Date would lose its microseconds.
      cursor = ` AND (finished_at, session_id) > (SELECT finished_at, session_id FROM ${records} WHERE session_id = $2)`;
    }
    const r = await db.query<WorkflowRecordRow>(`SELECT * FROM ${records} WHERE batch_id = $1${cursor} ORDER BY finished_at, session_id LIMIT ${Math.max(1, pageSize)}`, params);
    if (r.rows.length > 0) yield r.rows.map(toStored);
    const last = r.rows[r.rows.length - 1];
    if (!last || r.rows.length < pageSize) return;
    after = last;
  }
}

/** Stores the batch's summary; a second save (a redelivered build) keeps the first. */
export async function saveBatchSummary(db: Db, batchId: string, summary: object): Promise<void> {
  const r = await db.query(
    `UPDATE ${table(db, "memory_batches")} SET state = 'summarised', summary = COALESCE(summary, $2::jsonb), summarised_at = COALESCE(summarised_at, now()) WHERE batch_id = $1 AND state <> 'claiming'`,
    [batchId, canonicalJson(summary)],
  );
  if (r.rowCount === 0) throw new AgentbusError("BATCH_NOT_CLAIMED", `batch ${batchId} does not exist or is still being claimed`);
}

export async function getBatch(db: Db, batchId: string): Promise<(MemoryBatch & { summary: unknown }) | null> {
  const r = await db.query<BatchRow & { summary: unknown }>(`SELECT * FROM ${table(db, "memory_batches")} WHERE batch_id = $1`, [batchId]);
  const row = r.rows[0];
  return row ? { ...toBatch(row), summary: row.summary } : null;
}

export async function listBatches(db: Db, limit = 50): Promise<MemoryBatch[]> {
  const r = await db.query<BatchRow>(`SELECT * FROM ${table(db, "memory_batches")} ORDER BY created_at DESC, batch_id DESC LIMIT $1`, [Math.max(1, Math.min(limit, 1000))]);
  return r.rows.map(toBatch);
}

/** Batches claimed but not summarised (a build that stopped half-way): summarise these first. */
export async function unsummarisedBatches(db: Db): Promise<MemoryBatch[]> {
  const r = await db.query<BatchRow>(`SELECT * FROM ${table(db, "memory_batches")} WHERE state = 'claimed' ORDER BY created_at, batch_id`);
  return r.rows.map(toBatch);
}

/** How many finished records no batch has claimed yet (the threshold trigger reads this). */
export async function unbatchedRecords(db: Db): Promise<number> {
  const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table(db, "workflow_records")} WHERE batch_id IS NULL`);
  return Number(r.rows[0]?.n ?? 0);
}

type BatchRow = MemoryBatch;


function toBatch(row: BatchRow): MemoryBatch {
  const { batch_id, trigger, state, cutoff, records, period_from, period_to, created_at, summarised_at } = row;
  return { batch_id, trigger, state, cutoff, records, period_from, period_to, created_at, summarised_at };
}

