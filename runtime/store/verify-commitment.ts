/**
 * Verifies the global commitment (merkle.ts): every leaf is recomputed from the rows it covers
 * (rows and retention stubs alike: stubs keep their hashes), the leaves must tile every chain from
 * seq 1 to its head in order, the tree's recorded size and root must be what the leaves give, and,
 * given a checkpoint (size N, root R), the first N leaves must reproduce R.
 *
 * The state verified is the tree as read at the start: leaves committed while this runs are left
 * for the next run (and only consulted to tell a chain that grew meanwhile from rows no leaf covers).
 */
import { table, type Db } from "./db.ts";
import { UNSESSIONED } from "./audit-hash.ts";
import { EMPTY_ROOT, MerkleBuilder, leafData, leafHash, type LeafRange } from "./merkle.ts";
import { DEFAULT_LIMIT } from "./verify-limits.ts";
import type { BrokenRow, CheckpointClaim, CommitmentStats, VerifyOptions } from "./verify-types.ts";

interface LeafRow {
  idx: string;
  ranges: Array<[string, number, number]>;
  leaf_hash: string;
}

export interface CommitmentResult {
  broken: BrokenRow[];
  commitment: CommitmentStats;
  checkpoint?: CheckpointClaim & { consistent: boolean };
}

const LEAF_PAGE = 50;

export async function verifyCommitment(db: Db, options: VerifyOptions = {}): Promise<CommitmentResult> {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const t = { tree: table(db, "audit_tree"), leaves: table(db, "audit_leaves"), log: table(db, "audit_log"), pruned: table(db, "audit_pruned"), heads: table(db, "chain_heads") };
  const broken: BrokenRow[] = [];
  const report = (b: Omit<BrokenRow, "id" | "seq" | "sessionId"> & Partial<BrokenRow>): void => {
    if (broken.length < limit) broken.push({ id: null, seq: null, sessionId: sessionOf(b.chainKey), ...b });
  };

  const treeRow = (await db.query<{ size: string; root: string }>(`SELECT size, root FROM ${t.tree} WHERE id = 1`)).rows[0];
  if (!treeRow) report({ problem: "tree_missing", chainKey: null, message: "the audit_tree row is gone: the commitment's recorded size and root cannot be compared" });
  // Without the tree row, every leaf there is is checked.
  const treeSize = treeRow ? Number(treeRow.size) : Number.MAX_SAFE_INTEGER;

  const builder = new MerkleBuilder();
  const against = options.against;
  let againstRoot: string | null = against?.size === 0 ? EMPTY_ROOT : null;
  /** Per chain: the seq the next leaf must start at. */
  const next = new Map<string, number>();
  let gap = false;
  /** A leaf within the checkpoint whose rows are gone: the checkpoint cannot be reproduced from the log. */
  let lost = false;

  for (let from = 0; ; ) {
    const page = await db.query<LeafRow>(`SELECT idx, ranges, leaf_hash FROM ${t.leaves} WHERE idx >= $1 AND idx < $2 ORDER BY idx LIMIT ${LEAF_PAGE}`, [from, treeSize]);
    if (page.rows.length === 0) break;
    const hashes = await rowHashes(db, t, page.rows.flatMap((l) => l.ranges));
    for (const leaf of page.rows) {
      const idx = Number(leaf.idx);
      if (idx !== builder.size) {
        report({ problem: "leaf_missing", chainKey: null, leaf: builder.size, message: `leaves ${builder.size}..${idx - 1} are gone: the commitment cannot be recomputed past them` });
        gap = true;
      }
      const ranges: LeafRange[] = [];
      let missing: string | null = null;
      for (const [chainKey, first, last] of leaf.ranges) {
        const expected = next.get(chainKey) ?? 1;
        if (first !== expected) {
          report({ problem: "range_mismatch", chainKey, leaf: idx, seq: first, message: `leaf ${idx} covers seq ${first}..${last} of this chain, but the leaves before it end at seq ${expected - 1}` });
        }
        next.set(chainKey, Math.max(expected, last + 1));
        const range: LeafRange = { chainKey, first, last, hashes: [] };
        for (let seq = first; seq <= last; seq++) {
          const h = hashes.get(rowKey(chainKey, seq));
          if (h === undefined) {
            missing ??= `seq ${seq} of ${chainKey}`;
            continue;
          }
          range.hashes.push(h);
        }
        ranges.push(range);
      }
      let recomputed: string | null = null;
      if (missing !== null) {
        const first = leaf.ranges.find(([k, f, l]) => [...Array(l - f + 1).keys()].some((i) => !hashes.has(rowKey(k, f + i))));
        report({ problem: "leaf_rows_missing", chainKey: first?.[0] ?? null, leaf: idx, message: `rows committed in leaf ${idx} are gone (first: ${missing})` });
        if (against && idx < against.size) lost = true;
      } else {
        recomputed = leafHash(leafData(ranges));
        if (recomputed !== leaf.leaf_hash) {
          report({ problem: "leaf_mismatch", chainKey: leaf.ranges[0]?.[0] ?? null, leaf: idx, message: `the rows of leaf ${idx} no longer hash to what was committed (rows rewritten and re-hashed?)` });
        }
      }
      // The root is built over what the rows give where they can, so a rewritten leaf hash alone cannot
      // hide a change; a leaf whose rows are gone keeps its stored hash (reported above, and it makes
      // a checkpoint that includes it irreproducible).
      builder.push(recomputed ?? leaf.leaf_hash);
      if (against && builder.size === against.size && !gap) againstRoot = builder.root();
    }
    from = Number(page.rows[page.rows.length - 1]?.idx) + 1;
  }

  const root = builder.root();
  if (treeRow) {
    if (builder.size !== treeSize && !gap) report({ problem: "tree_mismatch", chainKey: null, message: `audit_tree records ${treeSize} leaves but ${builder.size} are there` });
    else if (!gap && root !== treeRow.root) report({ problem: "tree_mismatch", chainKey: null, message: "audit_tree's root is not the root of the leaves" });
  }

  await compareWithHeads(db, t, next, treeSize, report);

  const result: CommitmentResult = { broken, commitment: { size: builder.size, root } };
  if (against) {
    const consistent = againstRoot === against.root && !lost;
    result.checkpoint = { ...against, consistent };
    if (against.size > builder.size) {
      report({ problem: "rollback", chainKey: null, message: `the checkpoint commits to ${against.size} leaves but the log holds ${builder.size}: it was truncated or restored to an older state` });
    } else if (!consistent) {
      report({ problem: "checkpoint_mismatch", chainKey: null, leaf: against.size - 1, message: `the first ${against.size} leaves do not reproduce the checkpoint's root: committed rows were removed or rewritten since it was signed` });
    }
  }
  return result;
}

/**
 * Every chain head against the leaves' coverage: a head past the coverage means rows no leaf holds
 * (unless a leaf committed after the tree was read covers them); coverage of a chain without a head
 * means the chain was deleted.
 */
async function compareWithHeads(
  db: Db,
  t: { leaves: string; heads: string },
  next: Map<string, number>,
  treeSize: number,
  report: (b: Omit<BrokenRow, "id" | "seq" | "sessionId"> & Partial<BrokenRow>) => void,
): Promise<void> {
  const uncovered: Array<{ key: string; covered: number; head: number }> = [];
  for (let after = ""; ; ) {
    const page = await db.query<{ chain_key: string; last_seq: string }>(`SELECT chain_key, last_seq FROM ${t.heads} WHERE chain_key > $1 ORDER BY chain_key LIMIT 1000`, [after]);
    for (const h of page.rows) {
      const covered = (next.get(h.chain_key) ?? 1) - 1;
      next.delete(h.chain_key);
      if (Number(h.last_seq) > covered) uncovered.push({ key: h.chain_key, covered, head: Number(h.last_seq) });
    }
    const last = page.rows[page.rows.length - 1];
    if (!last || page.rows.length < 1000) break;
    after = last.chain_key;
  }
  if (uncovered.length > 0 && treeSize !== Number.MAX_SAFE_INTEGER) {
    // Leaves committed since the tree was read extend chains legitimately.
    const newer = await db.query<{ ranges: Array<[string, number, number]> }>(`SELECT ranges FROM ${t.leaves} WHERE idx >= $1 ORDER BY idx`, [treeSize]);
    const grown = new Map<string, number>();
    for (const l of newer.rows) for (const [k, , last] of l.ranges) grown.set(k, Math.max(grown.get(k) ?? 0, last));
    for (const u of uncovered) u.covered = Math.max(u.covered, grown.get(u.key) ?? 0);
  }
  for (const u of uncovered) {
    if (u.head <= u.covered) continue;
    report({ problem: "uncommitted_rows", chainKey: u.key, seq: u.covered + 1, message: `seq ${u.covered + 1}..${u.head} of this chain are in no leaf of the global commitment (written around the writer)` });
  }
  for (const [key, nextSeq] of next) {
    report({ problem: "chain_missing", chainKey: key, seq: 1, message: `the commitment holds ${nextSeq - 1} rows of this chain, but its chain head is gone (the chain was deleted)` });
  }
}

/** The hashes of every row and stub the ranges cover, keyed by rowKey. */
async function rowHashes(db: Db, t: { log: string; pruned: string }, ranges: Array<[string, number, number]>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (ranges.length === 0) return out;
  const r = await db.query<{ chain_key: string; seq: string; hash: string }>(
    `SELECT e.chain_key, e.seq, e.hash FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS r(k, f, l)
     CROSS JOIN LATERAL (
       SELECT chain_key, seq_in_chain AS seq, hash FROM ${t.log} WHERE chain_key = r.k AND seq_in_chain BETWEEN r.f AND r.l
       UNION ALL
       SELECT chain_key, seq, hash FROM ${t.pruned} WHERE chain_key = r.k AND seq BETWEEN r.f AND r.l
     ) e`,
    [ranges.map((x) => x[0]), ranges.map((x) => x[1]), ranges.map((x) => x[2])],
  );
  for (const row of r.rows) {
    const k = rowKey(row.chain_key, Number(row.seq));
    if (!out.has(k)) out.set(k, row.hash);
  }
  return out;
}

function rowKey(chainKey: string, seq: number): string {
  return `${seq}\u0000${chainKey}`;
}

function sessionOf(chainKey: string | null): string | null {
  return chainKey === null || chainKey === UNSESSIONED ? null : chainKey;
}
