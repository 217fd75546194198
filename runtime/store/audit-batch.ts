/**
 * One audit batch, one transaction: lock the chains' heads (in key order, so writers cannot
 * deadlock), extend them, insert every row, project the sessions, then lock the global Merkle tree
 * (always after the heads: one lock order for every writer), append the batch as one leaf and
 * advance the heads and the tree, recording the batch id. A batch retried after an unacknowledged
 * commit is found in audit_batches and skipped.
 */
import { AgentbusError } from "../errors/index.ts";
import { table, type Db, type Queryable } from "./db.ts";
import { GENESIS_HASH, rowHash, type AuditContent } from "./audit-hash.ts";
import { appendLeaf, leafData, leafHash, rootOf, type LeafRange } from "./merkle.ts";
import { projectSessions, type SessionHint } from "./session-projection.ts";

export interface PendingRow {
  content: AuditContent;
  jsonb: boolean;
  session: SessionHint | null;
}

export interface Batch {
  id: string;
  rows: PendingRow[];
  /** An earlier attempt failed: it may have committed nonetheless. */
  retried: boolean;
}

export async function writeAuditBatch(tx: Queryable, db: Db, { id, rows: batch, retried }: Batch): Promise<void> {
  if (retried) {
    const done = await tx.query(`SELECT 1 FROM ${table(db, "audit_batches")} WHERE batch_id = $1`, [id]);
    if (done.rowCount !== 0) return; // the earlier attempt committed; only its acknowledgement was lost
  }
  const heads = table(db, "chain_heads");
  // Sorted keys: every writer locks chains in the same order, so two writers cannot deadlock.
  const keys = [...new Set(batch.map((r) => r.content.chainKey))].sort();
  await tx.query(`INSERT INTO ${heads} (chain_key, last_seq, last_hash) SELECT k, 0, $2 FROM unnest($1::text[]) AS k ON CONFLICT (chain_key) DO NOTHING`, [keys, GENESIS_HASH]);
  const locked = await tx.query<{ chain_key: string; last_seq: string; last_hash: string }>(
    `SELECT chain_key, last_seq, last_hash FROM ${heads} WHERE chain_key = ANY($1::text[]) ORDER BY chain_key FOR UPDATE`,
    [keys],
  );
  const tip = new Map(locked.rows.map((h) => [h.chain_key, { seq: Number(h.last_seq), hash: h.last_hash }]));
  const params: unknown[] = [];
  const ranges = new Map<string, LeafRange>(keys.map((k) => [k, { chainKey: k, first: (tip.get(k)?.seq ?? 0) + 1, last: 0, hashes: [] }]));
  for (const row of batch) {
    const c = row.content;
    const state = tip.get(c.chainKey);
    if (!state) throw new AgentbusError("AUDIT_CHAIN_HEAD_MISSING", `chain head for ${c.chainKey} vanished during a flush`);
    const seq = state.seq + 1;
    const hash = rowHash(c, seq, state.hash);
    params.push(
      c.chainKey,
      seq,
      c.sessionId,
      c.messageId,
      c.outcome,
      c.agent,
      c.reasonsJson === "null" ? null : c.reasonsJson,
      row.jsonb ? c.envelopeJson : null,
      row.jsonb ? null : c.envelopeJson,
      c.recordedAt,
      state.hash,
      hash,
    );
    state.seq = seq;
    state.hash = hash;
    const range = ranges.get(c.chainKey);
    if (range) {
      range.last = seq;
      range.hashes.push(hash);
    }
  }
  const target = table(db, "audit_log");
  // Multi-row INSERT … VALUES, 12 parameters a row: each value goes to Postgres as it is. (An
  // INSERT … SELECT FROM unnest(12 arrays) makes node-postgres build array literals, escaping every
  // quote of every envelope: twice the node CPU of the whole flush, most of its GC, and slower on
  // both backends.) Chunked at Postgres's limit of 65535 parameters a statement.
  for (let from = 0; from < batch.length; from += VALUES_MAX_ROWS) {
    const rows = Math.min(VALUES_MAX_ROWS, batch.length - from);
    const chunk = rows === batch.length ? params : params.slice(from * AUDIT_COLUMNS.length, (from + rows) * AUDIT_COLUMNS.length);
    await tx.query(valuesInsert(target, rows), chunk);
  }
  await projectSessions(tx, db, batch.map((r) => r.session));
  // The global lock is taken last and held only for the final statement and the commit.
  const tree = await tx.query<{ size: string; frontier: string[] }>(`SELECT size, frontier FROM ${table(db, "audit_tree")} WHERE id = 1 FOR UPDATE`);
  const state = tree.rows[0];
  if (!state) throw new AgentbusError("AUDIT_TREE_MISSING", "the audit_tree row is gone: the global commitment cannot be extended (run `agentbus audit verify`)");
  const size = Number(state.size);
  const leafRanges = [...ranges.values()]; // chains in key order, the order the leaf data lists them
  const leaf = leafHash(leafData(leafRanges));
  const frontier = appendLeaf(state.frontier, size, leaf);
  const root = rootOf(frontier);
  const ends = [...tip.entries()];
  await tx.query(
    `WITH batch AS (INSERT INTO ${table(db, "audit_batches")} (batch_id, row_count) VALUES ($4, $5)),
     leaf AS (INSERT INTO ${table(db, "audit_leaves")} (idx, ranges, row_count, leaf_hash, root) VALUES ($6::bigint, $7::jsonb, $5, $8, $9)),
     tree AS (UPDATE ${table(db, "audit_tree")} SET size = $6::bigint + 1, frontier = $10::text[], root = $9, updated_at = now() WHERE id = 1)
     UPDATE ${heads} AS h SET last_seq = v.seq, last_hash = v.hash, updated_at = now()
     FROM unnest($1::text[], $2::bigint[], $3::text[]) AS v(k, seq, hash)
     WHERE h.chain_key = v.k AND v.seq > h.last_seq`,
    [
      ends.map(([k]) => k),
      ends.map(([, s]) => s.seq),
      ends.map(([, s]) => s.hash),
      id,
      batch.length,
      size,
      JSON.stringify(leafRanges.map((r) => [r.chainKey, r.first, r.last])),
      leaf,
      root,
      frontier,
    ],
  );
}

/** The columns the writer fills, in the order of its INSERT's parameters. */
const AUDIT_COLUMNS = ["chain_key", "seq_in_chain", "session_id", "message_id", "outcome", "agent", "reasons", "envelope", "envelope_text", "recorded_at", "prev_hash", "hash"] as const;
/** A statement takes at most 65535 parameters: 5461 rows of 12. */
const VALUES_MAX_ROWS = Math.floor(65535 / AUDIT_COLUMNS.length);

/**
 * The placeholder tuples `($1,…,$12),($13,…)` of the largest INSERT built so far, and where each
 * tuple ends: the text for n rows is a prefix of the text for more.
 */
let tuples = "";
const tupleEnds: number[] = [];

/** `INSERT INTO target (…) VALUES ($1, …, $12), ($13, …), …` for `rows` rows. */
function valuesInsert(target: string, rows: number): string {
  for (let r = tupleEnds.length; r < rows; r++) {
    const base = r * AUDIT_COLUMNS.length;
    let tuple = r === 0 ? "(" : ",(";
    for (let i = 1; i <= AUDIT_COLUMNS.length; i++) tuple += i === 1 ? `$${base + i}` : `,$${base + i}`;
    tuples += tuple + ")";
    tupleEnds.push(tuples.length);
  }
  return `INSERT INTO ${target} (${AUDIT_COLUMNS.join(", ")}) VALUES ${tuples.slice(0, tupleEnds[rows - 1])}`;
}

